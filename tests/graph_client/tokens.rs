//! Client-credentials tokens: cached per tenant, refreshed before expiry, replaced on 401,
//! and AADSTS errors typed.

use std::time::Duration;

use tenantry::graph::{FailureReason, GraphErrorKind};

use crate::fake::{Canned, Fake, TENANT};

const ORG: &str = include_str!("fixtures/organization.json");

#[tokio::test]
async fn one_token_request_serves_several_graph_calls() {
    let fake = Fake::start().await;
    fake.script("/v1.0/organization", vec![Canned::ok(ORG)]);
    let client = fake.client();

    for _ in 0..3 {
        client.organization(TENANT).await.expect("organization");
    }
    // Concurrent callers for the same tenant share one token request too.
    let (a, b, c) = tokio::join!(
        client.organization(TENANT),
        client.organization(TENANT),
        client.organization(TENANT)
    );
    assert!(a.is_ok() && b.is_ok() && c.is_ok());
    assert_eq!(fake.token_requests(), 1);

    let hits = fake.hits("/v1.0/organization");
    assert_eq!(hits.len(), 6);
    let mut ids: Vec<_> = hits
        .iter()
        .map(|h| h.client_request_id.clone().expect("client-request-id sent"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "a fresh client-request-id per request");
    fake.stop().await;
}

#[tokio::test]
async fn each_tenant_gets_its_own_token() {
    let fake = Fake::start().await;
    fake.script("/v1.0/organization", vec![Canned::ok(ORG)]);
    let client = fake.client();
    client.organization(TENANT).await.expect("tenant a");
    client
        .organization("northwindtraders.onmicrosoft.com")
        .await
        .expect("tenant b");
    client.organization(TENANT).await.expect("tenant a again");
    assert_eq!(fake.token_requests(), 2);
    fake.stop().await;
}

#[tokio::test]
async fn token_is_renewed_shortly_before_it_expires() {
    let fake = Fake::start().await;
    fake.script("/v1.0/organization", vec![Canned::ok(ORG)]);
    // A 1 s lifetime: renewed after half of it.
    fake.set_expires_in(1);
    let client = fake.client();
    client.organization(TENANT).await.expect("first");
    client.organization(TENANT).await.expect("cached");
    assert_eq!(fake.token_requests(), 1);
    tokio::time::sleep(Duration::from_millis(700)).await;
    client.organization(TENANT).await.expect("renewed");
    assert_eq!(fake.token_requests(), 2);
    fake.stop().await;
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once_on_401() {
    let fake = Fake::start().await;
    fake.script("/v1.0/organization", vec![Canned::ok(ORG)]);
    let client = fake.client();
    client.organization(TENANT).await.expect("first");
    fake.revoke_tokens();
    let org = client
        .organization(TENANT)
        .await
        .expect("after a new token");
    assert_eq!(org.id, TENANT);
    assert_eq!(fake.token_requests(), 2);
    fake.stop().await;
}

#[tokio::test]
async fn a_bad_client_secret_is_an_auth_error_with_the_aadsts_details() {
    let fake = Fake::start().await;
    fake.script("/v1.0/organization", vec![Canned::ok(ORG)]);
    let client = fake.client_with("the-secret-id-not-its-value", crate::fake::fast_retry());

    let err = client.organization(TENANT).await.expect_err("refused");
    let GraphErrorKind::Auth(t) = &err.kind else {
        panic!("expected Auth, got {err:?}");
    };
    assert_eq!(t.error, "invalid_client");
    assert_eq!(t.error_codes, vec![7000215]);
    assert_eq!(t.aadsts(), Some(7000215));
    assert_eq!(t.trace_id.as_deref(), Some("0d6b4f1e-..."));
    assert_eq!(t.correlation_id.as_deref(), Some("7a2e9c3d-..."));
    assert!(
        t.summary()
            .starts_with("AADSTS7000215: Invalid client secret provided.")
    );
    assert_eq!(err.status, Some(401));
    assert_eq!(err.code.as_deref(), Some("invalid_client"));
    assert_eq!(err.request_id.as_deref(), Some("0d6b4f1e-..."));
    assert_eq!(err.reason(), FailureReason::CredentialsRejected);

    let shown = err.to_string();
    assert!(shown.contains("invalid_client"), "{shown}");
    assert!(shown.contains("AADSTS7000215"), "{shown}");
    assert!(shown.contains("trace-id 0d6b4f1e-..."), "{shown}");
    assert!(shown.ends_with("(HTTP 401)"), "{shown}");
    assert_eq!(
        shown.matches("0d6b4f1e").count(),
        1,
        "ids shown once: {shown}"
    );
    assert!(
        !shown.contains("Trace ID:"),
        "only the description's first line: {shown}"
    );
    assert!(
        !shown.contains("the-secret-id"),
        "never the secret: {shown}"
    );

    // Not retried: a wrong secret stays wrong. Graph was never called.
    assert_eq!(fake.token_requests(), 1);
    assert!(fake.hits("/v1.0/organization").is_empty());
    fake.stop().await;
}

#[tokio::test]
async fn secrets_do_not_show_in_debug_output() {
    let fake = Fake::start().await;
    let client = fake.client();
    let debug = format!("{client:?}");
    assert!(!debug.contains(crate::fake::SECRET), "{debug}");
    assert!(debug.contains("ClientSecret(***)"), "{debug}");
    fake.stop().await;
}

#[tokio::test]
async fn a_throttled_token_endpoint_is_retried_and_reported_as_throttled_not_auth() {
    let fake = Fake::start().await;
    fake.script("/v1.0/organization", vec![Canned::ok(ORG)]);
    let token_path = format!("/{TENANT}/oauth2/v2.0/token");
    let busy = r#"{"error":"temporarily_unavailable","error_description":"AADSTS90055: Too many requests.","error_codes":[90055]}"#;
    fake.script(
        &token_path,
        vec![Canned::json(429, busy).header("Retry-After", "0.05")],
    );
    let client = fake.client(); // three attempts
    let err = client.organization(TENANT).await.expect_err("throttled");
    assert_eq!(err.kind, GraphErrorKind::Throttled);
    assert_eq!(err.reason(), FailureReason::Throttled);
    assert_eq!(err.attempts, 3);
    assert_eq!(err.code.as_deref(), Some("temporarily_unavailable"));
    assert_eq!(fake.token_requests(), 3);
    assert!(err.to_string().starts_with("Token endpoint"), "{err}");

    // Once the STS recovers, the same client gets its token.
    fake.script(&token_path, vec![]);
    client.organization(TENANT).await.expect("recovered");
    fake.stop().await;
}
