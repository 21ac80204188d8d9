//! Sign in with Microsoft through the simulator: an appliance whose MSP tenant is connected
//! and registered redirect URIs point at it, and helpers that walk the real redirects
//! (appliance → simulator `/authorize` → appliance `/auth/callback`).
#![allow(dead_code)]

use crate::helpers::*;
use crate::sync_helpers::*;
use serde_json::Value;
use tenantry::model::{Actor, AuditEvent, AuditFilter};
use tenantry::simulator::{IdTokenFault, Kind, SimApp, TenantInfo};

pub struct SsoEnv {
    pub env: SyncEnv,
    pub msp: TenantInfo,
}

/// A simulator + appliance with the MSP tenant connected and staff SSO on.
pub async fn sso_env() -> SsoEnv {
    sso_env_clocked(None).await
}

/// The same, the appliance on a clock the test controls (`None`: the system clock).
pub async fn sso_env_clocked(clock: Option<tenantry::clock::SharedClock>) -> SsoEnv {
    let env = sync_env_clocked(|_| {}, clock).await;
    let msp = env.tenant("Northwind IT", 8, 0, false);
    let url = env.app.url.clone();
    env.ctl
        .register_app(SimApp {
            client_id: CLIENT_ID.into(),
            client_secret: SECRET.into(),
            redirect_uris: vec![
                format!("{url}/connect/callback"),
                format!("{url}/auth/callback"),
            ],
            name: "Tenantry SSO tests".into(),
            secret_expired: false,
        })
        .expect("app re-registered with our redirect URIs");
    let s = env.services();
    s.connect_msp_tenant(Actor::system(), &msp.id)
        .await
        .expect("MSP tenant connects");
    s.update_staff_sso(
        tenantry::domain::authority::AdminActor::system(),
        tenantry::domain::sso::StaffSso {
            enabled: true,
            ..Default::default()
        },
    )
    .await
    .expect("staff SSO on");
    SsoEnv { env, msp }
}

impl SsoEnv {
    pub fn app(&self) -> &TestApp {
        &self.env.app
    }

    /// The `n`th user of a simulated tenant.
    pub fn user(&self, tid: &str, n: usize) -> serde_json::Map<String, Value> {
        self.env
            .ctl
            .list_objects(tid, Kind::User, 0, n + 1)
            .expect("users")
            .into_iter()
            .nth(n)
            .expect("enough users")
    }

    pub fn set_fault(&self, fault: Option<IdTokenFault>) {
        let mut l = self.env.ctl.login_settings();
        l.id_token_fault = fault;
        self.env.ctl.set_login_settings(l);
    }

    /// The log as an admin sees it once summaries are written: refusals counted toward their
    /// minute's summary are flushed first.
    pub async fn audit(&self, kind: &str) -> Vec<AuditEvent> {
        self.env
            .services()
            .flush_all_refusal_summaries()
            .await
            .expect("summaries written");
        self.env
            .services()
            .audit_page(
                AuditFilter {
                    kind: Some(kind.into()),
                    ..Default::default()
                },
                1,
                100,
            )
            .await
            .expect("audit")
            .items
    }
}

pub fn upn(u: &serde_json::Map<String, Value>) -> String {
    u["userPrincipalName"].as_str().expect("upn").to_string()
}

/// What happened at the simulator's `/authorize`: a redirect back to us, or a page.
pub enum AtMicrosoft {
    Callback(String),
    Page(String),
}

/// Follow Microsoft's URL as the user `login_hint` would (the simulator skips its account
/// picker when given a hint).
pub async fn at_microsoft(authorize_url: &str, login_hint: &str) -> AtMicrosoft {
    let browser = client();
    let sep = if authorize_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let hint: String = url_encode(login_hint);
    let r = browser
        .get(format!("{authorize_url}{sep}login_hint={hint}"))
        .send()
        .await
        .expect("authorize");
    if r.status().is_redirection() {
        AtMicrosoft::Callback(location(&r))
    } else {
        AtMicrosoft::Page(r.text().await.expect("page"))
    }
}

pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Press "Sign in with Microsoft" on the staff login page; returns Microsoft's URL.
pub async fn start_staff(app: &TestApp) -> String {
    let r = app
        .post_form("/login", "/auth/microsoft", &[("next", "/companies")])
        .await;
    assert_eq!(r.status(), 303, "sign-in starts with a redirect");
    let to = location(&r);
    assert!(to.contains("/oauth2/v2.0/authorize"), "to Microsoft: {to}");
    to
}

/// Staff sign-in end to end as `login_hint`; returns the appliance's answer to the callback.
pub async fn staff_sign_in(app: &TestApp, login_hint: &str) -> reqwest::Response {
    let to = start_staff(app).await;
    match at_microsoft(&to, login_hint).await {
        AtMicrosoft::Callback(cb) => app.client.get(cb).send().await.expect("callback"),
        AtMicrosoft::Page(p) => panic!("Microsoft showed a page instead of redirecting: {p}"),
    }
}

/// Press "Sign in with Microsoft" on the portal at `slug`; returns Microsoft's URL.
pub async fn start_portal(app: &TestApp, slug: &str) -> String {
    let page = format!("/portal/{slug}");
    let r = app
        .post_form(&page, &format!("/portal/{slug}/signin"), &[])
        .await;
    assert_eq!(r.status(), 303, "portal sign-in starts with a redirect");
    location(&r)
}

/// Portal sign-in end to end as `login_hint`; returns the appliance's answer to the callback.
pub async fn portal_sign_in(app: &TestApp, slug: &str, login_hint: &str) -> reqwest::Response {
    let to = start_portal(app, slug).await;
    match at_microsoft(&to, login_hint).await {
        AtMicrosoft::Callback(cb) => app.client.get(cb).send().await.expect("callback"),
        AtMicrosoft::Page(p) => panic!("Microsoft showed a page instead of redirecting: {p}"),
    }
}

/// A second browser on the same appliance (its own cookie jar).
pub fn second_browser(app: &TestApp) -> TestApp {
    TestApp {
        app: None,
        url: app.url.clone(),
        dir: tempfile::tempdir().expect("tempdir"),
        config: app.config.clone(),
        client: client(),
    }
}
