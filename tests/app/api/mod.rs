//! The JSON API over real HTTP: bearer-token auth, companies end to end with their audit
//! entries, every kind of bad input getting a JSON 4xx with a stable `code`, admin-only
//! endpoints, and the cross-company lists, audit, jobs, users, tokens and schedules.

use crate::helpers::*;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use tenantry::model::{Role, Trigger};

mod admin;
mod asset_merge;
mod audit;
mod bad_input;
mod companies;
mod docs;
mod lists;
mod roles;
mod tokens;
mod types;

/// A request with a bearer token.
async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Response {
    let mut rb = app.client.request(method, app.at(path)).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    rb.send().await.expect("request")
}

/// Assert the status and the JSON error `code`, and return the body.
async fn expect_error(r: Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "status of {}", r.url());
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("application/json"), "JSON error, got {ct:?}");
    let v: Value = r.json().await.expect("JSON body");
    assert_eq!(v["code"], code, "code in {v}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a human message in {v}"
    );
    v
}

async fn ok_json(r: Response, status: u16) -> Value {
    let url = r.url().to_string();
    let got = r.status().as_u16();
    let text = r.text().await.expect("body");
    assert_eq!(got, status, "status of {url}: {text}");
    serde_json::from_str(&text).expect("JSON body")
}

async fn technician_token(app: &TestApp) -> String {
    app.services()
        .create_api_token(
            tenantry::domain::authority::AdminActor::system(),
            "tech",
            Role::Technician,
        )
        .await
        .expect("token")
        .0
}

async fn create_company(app: &TestApp, token: &str, name: &str) -> u64 {
    let r = call(
        app,
        token,
        Method::POST,
        "/api/v1/companies",
        Some(json!({"name": name})),
    )
    .await;
    ok_json(r, 201).await["id"].as_u64().expect("id")
}
