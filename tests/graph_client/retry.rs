//! Throttling: `Retry-After` honoured (whole and fractional seconds), bounded attempts, and a
//! typed `Throttled` error carrying Microsoft's request-id when they run out.

use std::time::{Duration, Instant};

use tenantry::graph::{FailureReason, GraphErrorKind, RetryPolicy};

use crate::fake::{Canned, Fake, TENANT};

const ORG: &str = include_str!("fixtures/organization.json");
const THROTTLED: &str = r#"{"error":{"code":"TooManyRequests","message":"Please retry again later.","innerError":{"code":"429","date":"2020-08-18T12:51:51","message":"Please retry after","request-id":"94fb3b52-452a-4535-a601-69e0a90e3aa2","status":"429"}}}"#;

/// A policy whose backoff is far longer than any `Retry-After` used here, so a test can tell
/// "waited what the header said" from "ignored the header and backed off".
fn slow_backoff() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_secs(6),
        max_delay: Duration::from_secs(6),
        max_retry_after: Duration::from_secs(10),
    }
}

fn gap(fake: &Fake, path: &str) -> Duration {
    let hits = fake.hits(path);
    assert_eq!(hits.len(), 2, "one throttled attempt and one retry");
    hits[1].at.duration_since(hits[0].at)
}

#[tokio::test]
async fn a_429_with_retry_after_2_waits_at_least_2_seconds() {
    let fake = Fake::start().await;
    fake.script(
        "/v1.0/organization",
        vec![
            Canned::json(429, THROTTLED).header("Retry-After", "2"),
            Canned::ok(ORG),
        ],
    );
    let client = fake.client_with(crate::fake::SECRET, slow_backoff());
    let started = Instant::now();
    let org = client
        .organization(TENANT)
        .await
        .expect("succeeds after the wait");
    assert_eq!(org.id, TENANT);
    let waited = gap(&fake, "/v1.0/organization");
    assert!(waited >= Duration::from_secs(2), "waited only {waited:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "used Retry-After, not the 6 s backoff"
    );
    fake.stop().await;
}

#[tokio::test]
async fn a_fractional_retry_after_is_honoured() {
    let fake = Fake::start().await;
    fake.script(
        "/v1.0/organization",
        vec![
            Canned::json(503, "{}").header("Retry-After", "0.5"),
            Canned::ok(ORG),
        ],
    );
    let client = fake.client_with(crate::fake::SECRET, slow_backoff());
    client.organization(TENANT).await.expect("succeeds");
    let waited = gap(&fake, "/v1.0/organization");
    assert!(
        waited >= Duration::from_millis(500),
        "waited only {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(2),
        "0.5 was parsed, not replaced by backoff: {waited:?}"
    );
    fake.stop().await;
}

#[tokio::test]
async fn an_http_date_retry_after_is_measured_against_the_response_date() {
    let fake = Fake::start().await;
    // One second after the server's own Date: our clock (years later) must not matter.
    fake.script(
        "/v1.0/organization",
        vec![
            Canned::json(503, "{}")
                .header("Date", "Mon, 02 Mar 2026 10:00:00 GMT")
                .header("Retry-After", "Mon, 02 Mar 2026 10:00:01 GMT"),
            Canned::ok(ORG),
        ],
    );
    let client = fake.client_with(crate::fake::SECRET, slow_backoff());
    client.organization(TENANT).await.expect("succeeds");
    let waited = gap(&fake, "/v1.0/organization");
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert!(
        waited < Duration::from_secs(3),
        "date parsed, not backoff: {waited:?}"
    );
    fake.stop().await;
}

#[tokio::test]
async fn without_retry_after_the_client_backs_off_and_retries() {
    let fake = Fake::start().await;
    fake.script(
        "/v1.0/organization",
        vec![Canned::json(504, "gateway timeout"), Canned::ok(ORG)],
    );
    let client = fake.client();
    client.organization(TENANT).await.expect("succeeds");
    assert_eq!(fake.hits("/v1.0/organization").len(), 2);
    fake.stop().await;
}

#[tokio::test]
async fn bounded_retries_end_in_a_throttled_error_with_the_request_id() {
    let fake = Fake::start().await;
    fake.script(
        "/v1.0/organization",
        vec![Canned::json(429, THROTTLED).header("Retry-After", "0.1")],
    );
    let client = fake.client(); // three attempts
    let err = client.organization(TENANT).await.expect_err("gives up");
    assert_eq!(err.kind, GraphErrorKind::Throttled);
    assert_eq!(err.reason(), FailureReason::Throttled);
    assert_eq!(err.status, Some(429));
    assert_eq!(err.attempts, 3);
    assert_eq!(err.retry_after, Some(Duration::from_millis(100)));
    assert_eq!(err.code.as_deref(), Some("TooManyRequests"));
    assert_eq!(err.inner_code, None, "the numeric inner code adds nothing");
    // The header's request-id (the fake numbers them per request) wins over the body's.
    assert_eq!(err.request_id.as_deref(), Some("req-3"));
    assert!(err.client_request_id.is_some());
    assert_eq!(fake.hits("/v1.0/organization").len(), 3);
    let shown = err.to_string();
    assert!(shown.contains("HTTP 429"), "{shown}");
    assert!(shown.contains("request-id req-3"), "{shown}");
    assert!(shown.contains("3 attempts"), "{shown}");
    fake.stop().await;
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_fails_at_once_without_waiting_less() {
    let fake = Fake::start().await;
    fake.script(
        "/v1.0/organization",
        vec![Canned::json(429, THROTTLED).header("Retry-After", "315")],
    );
    let client = fake.client();
    let started = Instant::now();
    let err = client.organization(TENANT).await.expect_err("gives up");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.kind, GraphErrorKind::Throttled);
    assert_eq!(err.retry_after, Some(Duration::from_secs(315)));
    assert_eq!(fake.hits("/v1.0/organization").len(), 1);
    fake.stop().await;
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let fake = Fake::start().await;
    fake.script(
        "/v1.0/organization",
        vec![Canned::json(
            404,
            r#"{"error":{"code":"Request_ResourceNotFound","message":"gone"}}"#,
        )],
    );
    let client = fake.client();
    let err = client.organization(TENANT).await.expect_err("404");
    assert_eq!(err.kind, GraphErrorKind::Http);
    assert_eq!(fake.hits("/v1.0/organization").len(), 1);
    fake.stop().await;
}
