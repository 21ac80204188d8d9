//! Login host: discovery, JWKS, auth code + PKCE, token errors, admin consent.

use base64::Engine;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    PkceCodeChallenge, RedirectUrl, Scope,
};
use reqwest::StatusCode;
use serde_json::Value;
use tenantry::simulator::TenantSpec;

use crate::common::*;

mod app_tokens;
mod code_flow;
mod pages;

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Runs /authorize with login_hint and returns the code.
async fn authorize(env: &Env, challenge: &str, redirect: &str, hint: &str) -> String {
    let url = format!("{}/{}/oauth2/v2.0/authorize", env.login(), env.tid());
    let r = env
        .http
        .get(&url)
        .query(&[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", "openid profile email"),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("login_hint", hint),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::FOUND);
    let q = query_of(&location(&r));
    assert_eq!(q.get("state").map(String::as_str), Some("st-1"));
    q.get("code").cloned().expect("code")
}

fn admin_upn(env: &Env) -> String {
    format!("admin@{}", env.tenant.domain)
}

async fn redeem(env: &Env, code: &str, verifier: &str, redirect: &str) -> (StatusCode, Value) {
    let tid = env.tid().to_string();
    token_request(
        env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
            ("scope", "openid profile email"),
        ],
    )
    .await
}

fn assert_aad(v: &Value, error: &str, code: u64) {
    assert_eq!(v["error"], error, "{v}");
    assert_eq!(v["error_codes"][0].as_u64(), Some(code), "{v}");
    let desc = v["error_description"].as_str().unwrap_or_default();
    assert!(desc.starts_with(&format!("AADSTS{code}:")), "{desc}");
    assert!(
        v["trace_id"].is_string() && v["correlation_id"].is_string() && v["timestamp"].is_string()
    );
}

async fn follow_link(env: &Env, html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} in {html}"));
    let rest = &html[at..];
    let href = rest
        .split("href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("href")
        .replace("&amp;", "&");
    let r = env.http.get(href).send().await.expect("follow");
    assert_eq!(r.status(), StatusCode::FOUND);
    location(&r)
}
