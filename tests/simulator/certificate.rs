//! Certificate credentials at the simulated token endpoint: registered certificates, and a
//! `client_assertion` checked the way Entra checks it (thumbprint, signature, iss/sub, aud,
//! time), with Entra's AADSTS codes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use serde_json::{Value, json};
use sha2::Sha256;
use tenantry::graph::ClientCertificate;

use crate::common::*;

const CERT: &str = include_str!("../fixtures/certs/test-only-cert.pem");
const KEY: &str = include_str!("../fixtures/certs/test-only-key.pem");
const OTHER_CERT: &str = include_str!("../fixtures/certs/test-only-other-cert.pem");
const OTHER_KEY: &str = include_str!("../fixtures/certs/test-only-other-key.pem");
/// From `openssl x509 -fingerprint -sha1` (tests/fixtures/certs/README.md).
const THUMBPRINT: &str = "8367F828B44B05A221D250AFAED16ACDA292C090";
const X5T: &str = "g2f4KLRLBaIh0lCvrtFqzaKSwJA";
const X5T_S256: &str = "XXmkWbe8KZXFfDE2ruogSFkHLdOUtue4iEWxSZoZ1CQ";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn pair(key: &str, cert: &str) -> ClientCertificate {
    ClientCertificate::from_pem(key, cert).expect("fixture pair")
}

fn token_url(env: &Env) -> String {
    format!("{}/{}/oauth2/v2.0/token", env.login(), env.tid())
}

/// An env whose app has the fixture certificate registered (next to its secret).
async fn cert_env() -> Env {
    let env = env(3, 0, false).await;
    let view = env
        .ctl
        .add_app_certificate(CLIENT_ID, CERT)
        .expect("upload certificate");
    assert_eq!(view.thumbprint, THUMBPRINT);
    env
}

async fn with_assertion(env: &Env, assertion: &str) -> (StatusCode, Value) {
    let tid = env.tid().to_string();
    token_request(
        env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await
}

/// A JWT with any header and claims, signed by `key_pem` (PS256 or RS256 per the header).
fn hand_made(header: &Value, claims: &Value, key_pem: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = RsaPrivateKey::from_pkcs8_pem(key_pem).expect("key");
    let sig = if header["alg"] == "RS256" {
        rsa::pkcs1v15::SigningKey::<Sha256>::new(key)
            .sign(input.as_bytes())
            .to_vec()
    } else {
        rsa::pss::BlindedSigningKey::<Sha256>::new(key)
            .sign_with_rng(&mut rsa::rand_core::OsRng, input.as_bytes())
            .to_vec()
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn claims(env: &Env) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "aud": token_url(env), "iss": CLIENT_ID, "sub": CLIENT_ID,
        "jti": uuid::Uuid::new_v4().to_string(), "nbf": now, "iat": now, "exp": now + 600,
    })
}

fn assert_aad(v: &Value, status: StatusCode, want: StatusCode, error: &str, code: u64) {
    assert_eq!(status, want, "{v}");
    assert_eq!(v["error"], error, "{v}");
    assert_eq!(v["error_codes"][0].as_u64(), Some(code), "{v}");
    let desc = v["error_description"].as_str().unwrap_or_default();
    assert!(desc.starts_with(&format!("AADSTS{code}:")), "{desc}");
}

#[tokio::test]
async fn a_registered_certificate_gets_a_token_graph_accepts() {
    let env = cert_env().await;
    let jwt = pair(KEY, CERT)
        .assertion(CLIENT_ID, &token_url(&env), Utc::now())
        .expect("sign");
    let (s, v) = with_assertion(&env, &jwt).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let token = v["access_token"].as_str().expect("access_token");
    let org = get(&env, &format!("{}/organization", env.graph()), token, &[]).await;
    assert_eq!(org.status, StatusCode::OK, "{}", org.text);

    // The client secret keeps working for an app that has both.
    let token = app_token(&env).await;
    assert!(!token.is_empty());
}

#[tokio::test]
async fn legacy_rs256_with_sha1_x5t_and_domain_audience_are_accepted() {
    let env = cert_env().await;
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": X5T});
    let mut c = claims(&env);
    // Entra accepts the tenant's token endpoint named by a verified domain too.
    c["aud"] = json!(format!(
        "{}/{}/oauth2/v2.0/token",
        env.login(),
        env.tenant.domain
    ));
    let (s, v) = with_assertion(&env, &hand_made(&header, &c, KEY)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // x5t#S256 alone is enough as well.
    let header = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": X5T_S256});
    let (s, v) = with_assertion(&env, &hand_made(&header, &claims(&env), KEY)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn an_unregistered_certificate_is_700027() {
    let env = cert_env().await;
    let jwt = pair(OTHER_KEY, OTHER_CERT)
        .assertion(CLIENT_ID, &token_url(&env), Utc::now())
        .expect("sign");
    let (s, v) = with_assertion(&env, &jwt).await;
    assert_aad(&v, s, StatusCode::UNAUTHORIZED, "invalid_client", 700027);
    let desc = v["error_description"].as_str().unwrap_or_default();
    assert!(desc.contains("The key was not found"), "{desc}");
    assert!(
        desc.contains("5F83A35543D34AF3F14186D480223DF9D1D73D8F"),
        "{desc}"
    );
}

#[tokio::test]
async fn a_registered_thumbprint_signed_with_the_wrong_key_is_700027() {
    let env = cert_env().await;
    let header = json!({"alg": "PS256", "typ": "JWT", "x5t": X5T, "x5t#S256": X5T_S256});
    let (s, v) = with_assertion(&env, &hand_made(&header, &claims(&env), OTHER_KEY)).await;
    assert_aad(&v, s, StatusCode::UNAUTHORIZED, "invalid_client", 700027);
    let desc = v["error_description"].as_str().unwrap_or_default();
    assert!(desc.contains("signature value did not match"), "{desc}");
    // A tampered claim set breaks the right key's signature too.
    let good = pair(KEY, CERT)
        .assertion(CLIENT_ID, &token_url(&env), Utc::now())
        .expect("sign");
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut c: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).expect("b64")).expect("json");
    c["exp"] = json!(c["exp"].as_i64().expect("exp") + 86_400);
    parts[1] = URL_SAFE_NO_PAD.encode(c.to_string());
    let (s, v) = with_assertion(&env, &parts.join(".")).await;
    assert_aad(&v, s, StatusCode::UNAUTHORIZED, "invalid_client", 700027);
}

#[tokio::test]
async fn an_expired_assertion_is_700024() {
    let env = cert_env().await;
    // Signed an hour ago: exp was 50 minutes ago, well past the 5-minute skew.
    let jwt = pair(KEY, CERT)
        .assertion(CLIENT_ID, &token_url(&env), Utc::now() - Duration::hours(1))
        .expect("sign");
    let (s, v) = with_assertion(&env, &jwt).await;
    assert_aad(&v, s, StatusCode::UNAUTHORIZED, "invalid_client", 700024);
    // Not yet valid (nbf an hour ahead) is the same error.
    let jwt = pair(KEY, CERT)
        .assertion(CLIENT_ID, &token_url(&env), Utc::now() + Duration::hours(1))
        .expect("sign");
    let (s, v) = with_assertion(&env, &jwt).await;
    assert_aad(&v, s, StatusCode::UNAUTHORIZED, "invalid_client", 700024);
    // Two minutes of clock skew are tolerated.
    let jwt = pair(KEY, CERT)
        .assertion(
            CLIENT_ID,
            &token_url(&env),
            Utc::now() + Duration::minutes(2),
        )
        .expect("sign");
    let (s, v) = with_assertion(&env, &jwt).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn a_wrong_audience_is_700023() {
    let env = cert_env().await;
    let other = env
        .ctl
        .create_tenant(tenantry::simulator::TenantSpec {
            name: "Fabrikam Other".into(),
            ..Default::default()
        })
        .expect("tenant");
    let cert = pair(KEY, CERT);
    for aud in [
        // Another tenant's endpoint.
        format!("{}/{}/oauth2/v2.0/token", env.login(), other.id),
        // The real cloud's endpoint for this tenant (a different host).
        format!(
            "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
            env.tid()
        ),
        // The authority, not the token endpoint.
        format!("{}/{}/v2.0", env.login(), env.tid()),
    ] {
        let jwt = cert.assertion(CLIENT_ID, &aud, Utc::now()).expect("sign");
        let (s, v) = with_assertion(&env, &jwt).await;
        assert_aad(&v, s, StatusCode::UNAUTHORIZED, "invalid_client", 700023);
    }
}

#[tokio::test]
async fn issuer_subject_and_assertion_type_are_checked() {
    let env = cert_env().await;
    let cert = pair(KEY, CERT);
    // iss = sub = another app.
    let jwt = cert
        .assertion(
            "99999999-2222-3333-4444-555555555555",
            &token_url(&env),
            Utc::now(),
        )
        .expect("sign");
    let (s, v) = with_assertion(&env, &jwt).await;
    assert_aad(&v, s, StatusCode::UNAUTHORIZED, "invalid_client", 700021);
    // sub differs from iss.
    let header = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": X5T_S256});
    let mut c = claims(&env);
    c["sub"] = json!("someone-else");
    let (s, v) = with_assertion(&env, &hand_made(&header, &c, KEY)).await;
    assert_aad(&v, s, StatusCode::UNAUTHORIZED, "invalid_client", 50048);
    // Garbage and an unsupported algorithm.
    let (s, v) = with_assertion(&env, "not.a-jwt").await;
    assert_aad(&v, s, StatusCode::BAD_REQUEST, "invalid_request", 50027);
    let header = json!({"alg": "HS256", "typ": "JWT", "x5t#S256": X5T_S256});
    let (s, v) = with_assertion(&env, &hand_made(&header, &claims(&env), KEY)).await;
    assert_aad(&v, s, StatusCode::BAD_REQUEST, "invalid_request", 50027);
    // Wrong client_assertion_type.
    let tid = env.tid().to_string();
    let jwt = cert
        .assertion(CLIENT_ID, &token_url(&env), Utc::now())
        .expect("sign");
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ),
            ("client_assertion", &jwt),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_aad(&v, s, StatusCode::BAD_REQUEST, "invalid_request", 90011);
}

#[tokio::test]
async fn certificates_are_managed_through_the_control_api() {
    let env = env(0, 0, false).await;
    let base = format!("{}/_sim", env.login());
    // A certificate-only app registered with its certificate in one call.
    let only = "22222222-2222-3333-4444-555555555555";
    let r = env
        .http
        .post(format!("{base}/apps"))
        .json(&json!({"client_id": only, "redirect_uris": [], "certificates": [CERT]}))
        .send()
        .await
        .expect("post app");
    assert_eq!(r.status(), StatusCode::OK);
    let listed: Value = env
        .http
        .get(format!("{base}/apps/{only}/certificates"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed[0]["thumbprint"], THUMBPRINT, "{listed}");
    assert_eq!(listed[0]["x5t"], X5T);
    assert_eq!(listed[0]["x5t#S256"], X5T_S256);
    assert_eq!(listed[0]["subject"], "CN=tenantry-test");
    env.ctl.grant_consent(env.tid(), only).expect("consent");
    let tid = env.tid().to_string();
    let jwt = pair(KEY, CERT)
        .assertion(only, &token_url(&env), Utc::now())
        .expect("sign");
    let form = [
        ("client_id", only),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", jwt.as_str()),
        ("grant_type", "client_credentials"),
        ("scope", GRAPH_SCOPE),
    ];
    let (s, v) = token_request(&env, &tid, &form).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // No secret exists, so any secret is wrong.
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", only),
            ("client_secret", "guess"),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_aad(&v, s, StatusCode::UNAUTHORIZED, "invalid_client", 7000215);
    // Removing the certificate (by thumbprint) makes the same assertion unknown.
    let r = env
        .http
        .delete(format!(
            "{base}/apps/{only}/certificates?thumbprint={THUMBPRINT}"
        ))
        .send()
        .await
        .expect("delete");
    let removed: Value = r.json().await.expect("json");
    assert_eq!(removed["removed"], 1);
    let (s, v) = token_request(&env, &tid, &form).await;
    assert_aad(&v, s, StatusCode::UNAUTHORIZED, "invalid_client", 700027);
    // A key is not a certificate.
    let r = env
        .http
        .post(format!("{base}/apps/{only}/certificates"))
        .json(&json!({"pem": KEY}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
