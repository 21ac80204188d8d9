//! Shared test helpers: start the simulator on port 0 and talk to it like a client would.

use std::collections::{BTreeMap, HashMap};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenantry::simulator::{SimControl, Simulator, TenantInfo, TenantSpec};

pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const SECRET: &str = "test-secret-value";
pub const REDIRECT: &str = "http://127.0.0.1:9/auth/callback";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

pub struct Env {
    pub sim: Simulator,
    pub ctl: SimControl,
    pub http: reqwest::Client,
    pub tenant: TenantInfo,
}

impl Env {
    pub fn login(&self) -> String {
        self.sim.login_url()
    }
    pub fn graph(&self) -> String {
        format!("{}/v1.0", self.sim.graph_url())
    }
    pub fn tid(&self) -> &str {
        &self.tenant.id
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Starts a simulator with one consented tenant.
/// Turn off Microsoft's per-tenant report and CA limits (on by default in the simulator) for
/// tests that read the same report many times to check paging or filters; the limits
/// themselves are tested in faults.rs.
pub fn without_rate_limits(env: &Env) {
    env.ctl
        .update_tenant(
            env.tid(),
            tenantry::simulator::TenantPatch {
                enforce_rate_limits: Some(false),
                ..Default::default()
            },
        )
        .expect("patch");
}

pub async fn env(users: usize, devices: usize, licensed: bool) -> Env {
    let (sim, ctl) = crate::support::sim::simulator(
        7,
        crate::support::sim::TestRegistration {
            client_id: CLIENT_ID,
            secret: SECRET,
            redirect_uris: vec![REDIRECT.into()],
            name: "Tenantry tests",
        },
    )
    .await;
    let tenant = ctl
        .create_tenant(TenantSpec {
            name: "Contoso Test".into(),
            users,
            devices,
            intune: licensed,
            p1: licensed,
            ..Default::default()
        })
        .expect("tenant");
    ctl.grant_consent(&tenant.id, CLIENT_ID).expect("consent");
    Env {
        sim,
        ctl,
        http: client(),
        tenant,
    }
}

/// POSTs a form to the token endpoint; returns status and JSON.
pub async fn token_request(env: &Env, tenant: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = env
        .http
        .post(format!("{}/{tenant}/oauth2/v2.0/token", env.login()))
        .form(form)
        .send()
        .await
        .expect("token");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// App-only token for the env tenant.
pub async fn app_token(env: &Env) -> String {
    let tid = env.tid().to_string();
    let (s, v) = token_request(
        env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", self.text))
    }
    pub fn header(&self, k: &str) -> Option<String> {
        self.headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub async fn get(env: &Env, url: &str, token: &str, headers: &[(&str, &str)]) -> Resp {
    let mut rb = env.http.get(url).bearer_auth(token);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().await.expect("GET");
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Resp {
        status,
        headers,
        text,
    }
}

/// Follows nextLinks from `url` to the deltaLink; returns (items, deltaLink, pages).
pub async fn round(
    env: &Env,
    url: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> (Vec<Value>, String, usize) {
    let mut items = Vec::new();
    let mut url = url.to_string();
    let mut pages = 0;
    loop {
        let r = get(env, &url, token, headers).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text);
        let v = r.json();
        pages += 1;
        items.extend(v["value"].as_array().cloned().unwrap_or_default());
        let next = v.get("@odata.nextLink").and_then(Value::as_str);
        let delta = v.get("@odata.deltaLink").and_then(Value::as_str);
        assert!(
            !(next.is_some() && delta.is_some()),
            "a page never has both links"
        );
        match (next, delta) {
            (Some(n), None) => url = n.to_string(),
            (None, Some(d)) => return (items, d.to_string(), pages),
            (None, None) => return (items, String::new(), pages),
            _ => unreachable!(),
        }
    }
}

/// Follows nextLinks of a plain list; returns all items.
pub async fn list_all(env: &Env, url: &str, token: &str) -> Vec<Value> {
    round(env, url, token, &[]).await.0
}

pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|v| v["id"].as_str().map(str::to_string))
        .collect()
}

pub fn counts(env: &Env) -> BTreeMap<String, u64> {
    env.ctl.request_counts(env.tid()).expect("counts")
}

/// Query parameters of a URL.
pub fn query_of(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map(|x| x.1).unwrap_or_default();
    serde_urlencoded::from_str(q).unwrap_or_default()
}

/// Body of a control API call.
pub async fn control(
    env: &Env,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut rb = env
        .http
        .request(method, format!("{}/_sim/{path}", env.login()));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("control");
    let s = r.status();
    (s, r.json().await.unwrap_or(json!(null)))
}
