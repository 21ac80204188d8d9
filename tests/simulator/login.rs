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

#[tokio::test]
async fn auth_code_pkce_round_trip_verifies_against_jwks() {
    let env = env(30, 0, true).await;
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let issuer = IssuerUrl::new(format!("{}/{}/v2.0", env.login(), env.tid())).expect("issuer");
    let md = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        md,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).expect("redirect"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    // Without login_hint: the account picker lists the tenant's users as plain links.
    let picker = env.http.get(url.clone()).send().await.expect("picker");
    assert_eq!(picker.status(), StatusCode::OK);
    let html = picker.text().await.expect("html");
    assert!(
        html.contains("class=\"account\"") && html.contains(&admin_upn(&env)),
        "{html}"
    );
    // The picker link for the admin is the authorize URL + login_hint.
    let r = env
        .http
        .get(format!("{url}&login_hint={}", admin_upn(&env)))
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::FOUND);
    let q = query_of(&location(&r));
    assert_eq!(q.get("state"), Some(csrf.secret()));
    let code = q.get("code").expect("code").clone();
    let tok = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange");
    let idt = openidconnect::TokenResponse::id_token(&tok).expect("id_token");
    let claims = idt
        .claims(&client.id_token_verifier(), &nonce)
        .expect("id_token verifies");
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str().to_string()),
        Some(admin_upn(&env))
    );
    assert_eq!(
        claims.email().map(|e| e.as_str().to_string()),
        Some(admin_upn(&env))
    );
    // Entra claims beyond the standard set.
    let payload = idt
        .to_string()
        .split('.')
        .nth(1)
        .map(str::to_string)
        .expect("payload");
    let raw: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("b64"),
    )
    .expect("json");
    let admin = env
        .ctl
        .list_objects(env.tid(), tenantry::simulator::Kind::User, 0, 1)
        .expect("users");
    assert_eq!(raw["oid"], admin[0]["id"]);
    assert_eq!(raw["tid"], env.tid());
    assert_eq!(raw["ver"], "2.0");
    assert_eq!(raw["iss"], format!("{}/{}/v2.0", env.login(), env.tid()));
    assert_eq!(raw["aud"], CLIENT_ID);
    for c in ["sub", "name", "nonce", "iat", "nbf", "exp"] {
        assert!(raw.get(c).is_some(), "missing claim {c}: {raw}");
    }
}

#[tokio::test]
async fn wrong_verifier_reused_code_and_wrong_redirect_are_refused() {
    let env = env(5, 0, true).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let upn = admin_upn(&env);
    // Wrong verifier.
    let code = authorize(&env, challenge.as_str(), REDIRECT, &upn).await;
    let (s, v) = redeem(
        &env,
        &code,
        "not-the-verifier-0123456789-0123456789-xyz",
        REDIRECT,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_grant", 501481);
    // Wrong redirect URI at redemption.
    let (s, v) = redeem(&env, &code, verifier.secret(), "http://127.0.0.1:9/other").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_grant", 500112);
    // Correct, then reused.
    let (s, v) = redeem(&env, &code, verifier.secret(), REDIRECT).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["id_token"].is_string() && v["access_token"].is_string());
    let (s, v) = redeem(&env, &code, verifier.secret(), REDIRECT).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_grant", 54005);
    // Unknown code.
    let (s, v) = redeem(&env, "1.bogus", verifier.secret(), REDIRECT).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_grant", 70008);
    // Unregistered redirect URI at /authorize: Microsoft's error page, no redirect.
    let r = env
        .http
        .get(format!(
            "{}/{}/oauth2/v2.0/authorize",
            env.login(),
            env.tid()
        ))
        .query(&[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", "https://evil.example/cb"),
            ("code_challenge", "x"),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.expect("body").contains("AADSTS50011"));
    // Missing PKCE: error redirect.
    let r = env
        .http
        .get(format!(
            "{}/{}/oauth2/v2.0/authorize",
            env.login(),
            env.tid()
        ))
        .query(&[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
            ("login_hint", &upn),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        query_of(&location(&r)).get("error").map(String::as_str),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn client_credentials_and_its_errors() {
    let env = env(3, 0, true).await;
    let tid = env.tid().to_string();
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_i64().is_some_and(|e| e > 300));
    assert!(v.get("refresh_token").is_none());
    // Wrong secret.
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", "nope"),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_aad(&v, "invalid_client", 7000215);
    // Unknown app.
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", "99999999-0000-0000-0000-000000000000"),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "unauthorized_client", 700016);
    // Unknown tenant.
    let (s, v) = token_request(
        &env,
        "0badc0de-0000-4000-8000-000000000000",
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_tenant", 90002);
    // Wrong scope.
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "User.Read"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_scope", 70011);
    // /common is refused for client credentials.
    let (s, v) = token_request(
        &env,
        "common",
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_request", 9001023);
    // The tenant's verified domain works as the path segment.
    let domain = env.tenant.domain.clone();
    let (s, _) = token_request(
        &env,
        &domain,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(counts(&env).get("token:client_credentials"), Some(&2));
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

#[tokio::test]
async fn admin_consent_approve_and_deny() {
    let env = env(3, 0, true).await;
    let other = env
        .ctl
        .create_tenant(TenantSpec {
            name: "New Client".into(),
            users: 4,
            ..Default::default()
        })
        .expect("tenant");
    let cc = [
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
        ("grant_type", "client_credentials"),
        ("scope", GRAPH_SCOPE),
    ];
    let (s, v) = token_request(&env, &other.id, &cc).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "unauthorized_client", 700016);
    let page = |seg: String| {
        let http = env.http.clone();
        let login = env.login();
        async move {
            http.get(format!("{login}/{seg}/v2.0/adminconsent"))
                .query(&[
                    ("client_id", CLIENT_ID),
                    ("scope", GRAPH_SCOPE),
                    ("redirect_uri", REDIRECT),
                    ("state", "c0nn3ct"),
                ])
                .send()
                .await
                .expect("consent page")
                .text()
                .await
                .expect("html")
        }
    };
    // Deny.
    let html = page(other.id.clone()).await;
    let loc = follow_link(&env, &html, "cancel").await;
    assert!(loc.starts_with(REDIRECT));
    let q = query_of(&loc);
    assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(q.get("error_subcode").map(String::as_str), Some("cancel"));
    assert_eq!(q.get("state").map(String::as_str), Some("c0nn3ct"));
    assert!(
        q.get("error_description")
            .is_some_and(|d| d.starts_with("AADSTS65004"))
    );
    assert_eq!(
        token_request(&env, &other.id, &cc).await.0,
        StatusCode::BAD_REQUEST
    );
    // Approve.
    let html = page(other.id.clone()).await;
    let q = query_of(&follow_link(&env, &html, "accept").await);
    assert_eq!(q.get("admin_consent").map(String::as_str), Some("True"));
    assert_eq!(q.get("tenant"), Some(&other.id));
    assert_eq!(q.get("state").map(String::as_str), Some("c0nn3ct"));
    assert!(!q.contains_key("error"));
    assert_eq!(token_request(&env, &other.id, &cc).await.0, StatusCode::OK);
    // organizations: one Accept per tenant.
    let html = page("organizations".into()).await;
    assert!(html.contains(&format!("accept-{}", other.id)));
    // Unregistered redirect URI: error page, no redirect.
    let r = env
        .http
        .get(format!("{}/{}/v2.0/adminconsent", env.login(), other.id))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", "https://evil.example/cb"),
        ])
        .send()
        .await
        .expect("consent");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn consent_revoked_refuses_tokens_and_graph() {
    let env = env(3, 0, true).await;
    let token = app_token(&env).await;
    env.ctl
        .revoke_consent(env.tid(), CLIENT_ID)
        .expect("revoke");
    let r = get(&env, &format!("{}/organization", env.graph()), &token, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "Authorization_RequestDenied");
    let tid = env.tid().to_string();
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "unauthorized_client", 700016);
}

#[tokio::test]
async fn discovery_documents_and_key_rotation() {
    let env = env(2, 0, true).await;
    let d: Value = env
        .http
        .get(format!(
            "{}/organizations/v2.0/.well-known/openid-configuration",
            env.login()
        ))
        .send()
        .await
        .expect("d")
        .json()
        .await
        .expect("j");
    assert_eq!(d["issuer"], format!("{}/{{tenantid}}/v2.0", env.login()));
    assert!(d.get("code_challenge_methods_supported").is_none());
    let d: Value = env
        .http
        .get(format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            env.login(),
            env.tenant.domain
        ))
        .send()
        .await
        .expect("d")
        .json()
        .await
        .expect("j");
    assert_eq!(d["issuer"], format!("{}/{}/v2.0", env.login(), env.tid()));
    let r = env
        .http
        .get(format!(
            "{}/nosuch.example/v2.0/.well-known/openid-configuration",
            env.login()
        ))
        .send()
        .await
        .expect("d");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let jwks_url = d["jwks_uri"].as_str().expect("jwks_uri").to_string();
    let kids = |v: Value| {
        v["keys"]
            .as_array()
            .map(|k| {
                k.iter()
                    .filter_map(|x| x["kid"].as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let before = kids(
        env.http
            .get(&jwks_url)
            .send()
            .await
            .expect("j")
            .json()
            .await
            .expect("j"),
    );
    assert_eq!(before.len(), 1);
    env.ctl.rotate_keys();
    let after = kids(
        env.http
            .get(&jwks_url)
            .send()
            .await
            .expect("j")
            .json()
            .await
            .expect("j"),
    );
    assert_eq!(after.len(), 2);
    assert!(
        after.contains(&before[0]),
        "the previous key stays published during roll-over"
    );
    // New id_tokens are signed with the new key.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = authorize(&env, challenge.as_str(), REDIRECT, &admin_upn(&env)).await;
    let (_, v) = redeem(&env, &code, verifier.secret(), REDIRECT).await;
    let header = v["id_token"]
        .as_str()
        .and_then(|t| t.split('.').next())
        .expect("jwt");
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(header["kid"].as_str(), Some(after[0].as_str()));
    assert_ne!(after[0], before[0]);
}

#[tokio::test]
async fn organizations_authority_form_post_and_id_token_faults() {
    let env = env(8, 0, true).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let r = env
        .http
        .get(format!(
            "{}/organizations/oauth2/v2.0/authorize",
            env.login()
        ))
        .query(&[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("response_mode", "form_post"),
            ("scope", "openid profile"),
            ("state", "fp"),
            ("nonce", "n"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("login_hint", &admin_upn(&env)),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("html");
    assert!(html.contains("method=\"POST\"") && html.contains(&format!("action=\"{REDIRECT}\"")));
    let code = html
        .split("name=\"code\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("code")
        .to_string();
    let (s, v) = token_request(
        &env,
        "organizations",
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.secret()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let payload = v["id_token"]
        .as_str()
        .and_then(|t| t.split('.').nth(1))
        .expect("jwt");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(
        claims["iss"],
        format!("{}/{}/v2.0", env.login(), env.tid()),
        "concrete issuer even via organizations"
    );
    assert!(
        claims.get("email").is_none(),
        "no email claim without the email scope"
    );

    // id_token fault knob: unknown kid is rejected by a standard verifier.
    env.ctl
        .set_login_settings(tenantry::simulator::LoginSettings {
            token_lifetime_secs: 3599,
            id_token_fault: Some(tenantry::simulator::IdTokenFault::UnknownKid),
        });
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let issuer = IssuerUrl::new(format!("{}/{}/v2.0", env.login(), env.tid())).expect("issuer");
    let md = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        md,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).expect("redirect"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let r = env
        .http
        .get(format!("{url}&login_hint={}", admin_upn(&env)))
        .send()
        .await
        .expect("authorize");
    let code = query_of(&location(&r)).get("code").cloned().expect("code");
    let tok = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("ep")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token");
    let idt = openidconnect::TokenResponse::id_token(&tok).expect("id_token");
    assert!(
        idt.claims(&client.id_token_verifier(), &nonce).is_err(),
        "a token signed with an unpublished key must not verify"
    );
}
