//! Graph error bodies, malformed JSON, expired delta links and transport failures become
//! typed errors an audit entry can show.

use tenantry::graph::users::DeltaUser;
use tenantry::graph::{FailureReason, GraphErrorKind, error::TransportFailure};

use crate::fake::{Canned, Fake, TENANT};

const FORBIDDEN: &str = include_str!("fixtures/graph_error_403.json");
const DELTA_EXPIRED: &str = include_str!("fixtures/delta_expired.json");
const NO_INTUNE: &str = include_str!("fixtures/intune_not_applicable.json");
const UNLICENSED: &str = include_str!("fixtures/registration_unlicensed.json");

#[tokio::test]
async fn a_graph_error_body_becomes_a_graph_error_with_code_message_and_request_id() {
    let fake = Fake::start().await;
    fake.script("/v1.0/organization", vec![Canned::json(403, FORBIDDEN)]);
    let client = fake.client();
    let err = client.organization(TENANT).await.expect_err("403");
    assert_eq!(err.kind, GraphErrorKind::Http);
    assert_eq!(err.status, Some(403));
    assert_eq!(err.code.as_deref(), Some("Authorization_RequestDenied"));
    assert_eq!(
        err.message.as_deref(),
        Some("Insufficient privileges to complete the operation.")
    );
    assert_eq!(
        err.request_id.as_deref(),
        Some("req-1"),
        "header request-id"
    );
    assert_eq!(
        err.date.as_deref(),
        Some("2026-03-02T10:17:06"),
        "innerError.date"
    );
    assert!(err.client_request_id.is_some());
    assert_eq!(err.reason(), FailureReason::PermissionDenied);
    assert_eq!(err.path.as_deref(), Some("/v1.0/organization"));
    let shown = err.to_string();
    assert_eq!(
        shown,
        format!(
            "Graph /v1.0/organization failed: HTTP 403 Authorization_RequestDenied: \
             Insufficient privileges to complete the operation. [request-id req-1, \
             client-request-id {}, date 2026-03-02T10:17:06]",
            err.client_request_id.as_deref().unwrap_or_default()
        )
    );
    fake.stop().await;
}

#[tokio::test]
async fn without_a_request_id_header_the_body_request_id_is_used() {
    let fake = Fake::start().await;
    // Empty header value: the client must fall back on innerError's request-id.
    fake.script(
        "/v1.0/organization",
        vec![Canned::json(403, FORBIDDEN).header("request-id", "")],
    );
    let err = fake.client().organization(TENANT).await.expect_err("403");
    assert_eq!(
        err.request_id.as_deref(),
        Some("93b6f17e-c05d-4f45-ad2a-6665c708d8a0")
    );
    fake.stop().await;
}

#[tokio::test]
async fn malformed_json_becomes_a_decode_error_with_an_excerpt() {
    let fake = Fake::start().await;
    fake.script(
        "/v1.0/organization",
        vec![Canned::ok(
            r#"{"value": [ {"id": "x", "displayName": "trunc"#,
        )],
    );
    let err = fake
        .client()
        .organization(TENANT)
        .await
        .expect_err("decode");
    assert_eq!(err.kind, GraphErrorKind::Decode);
    assert_eq!(err.status, Some(200));
    assert_eq!(
        err.body_excerpt.as_deref(),
        Some(r#"{"value": [ {"id": "x", "displayName": "trunc"#)
    );
    assert!(
        err.detail.as_deref().is_some_and(|d| d.contains("EOF")),
        "{err:?}"
    );
    assert!(err.request_id.is_some());
    assert!(err.to_string().contains("body: {\"value\""), "{err}");
    fake.stop().await;
}

#[tokio::test]
async fn a_page_without_value_is_a_decode_error_not_an_empty_page() {
    let fake = Fake::start().await;
    fake.script("/v1.0/organization", vec![Canned::ok(r#"{"id":"x"}"#)]);
    let err = fake
        .client()
        .organization(TENANT)
        .await
        .expect_err("decode");
    assert_eq!(err.kind, GraphErrorKind::Decode);
    fake.stop().await;
}

#[tokio::test]
async fn an_expired_delta_link_is_its_own_error() {
    let fake = Fake::start().await;
    fake.script(
        "/v1.0/users/delta?$deltatoken=old",
        vec![Canned::json(400, DELTA_EXPIRED)],
    );
    let client = fake.client();
    let link = fake.url("/v1.0/users/delta?$deltatoken=old");
    let err = client
        .users_delta_page(TENANT, Some(&link))
        .await
        .expect_err("expired");
    assert!(err.is_delta_expired(), "{err:?}");
    assert_eq!(err.kind, GraphErrorKind::DeltaExpired { location: None });
    assert_eq!(err.code.as_deref(), Some("syncStateNotFound"));
    assert_eq!(err.reason(), FailureReason::DeltaExpired);
    assert!(err.to_string().contains("full resync"), "{err}");
    fake.stop().await;
}

#[tokio::test]
async fn a_410_gone_with_location_is_an_expired_delta_link_too() {
    let fake = Fake::start().await;
    let fresh = fake.url("/v1.0/users/delta?$deltatoken=");
    fake.script(
        "/v1.0/users/delta?$deltatoken=reset",
        vec![
            Canned::json(
                410,
                r#"{"error":{"code":"resyncRequired","message":"Resync required."}}"#,
            )
            .header("Location", &fresh),
        ],
    );
    let client = fake.client();
    let err = client
        .get_page::<DeltaUser>(TENANT, &fake.url("/v1.0/users/delta?$deltatoken=reset"))
        .await
        .expect_err("gone");
    assert_eq!(
        err.kind,
        GraphErrorKind::DeltaExpired {
            location: Some(fresh)
        }
    );
    fake.stop().await;
}

#[tokio::test]
async fn licence_and_intune_answers_are_classified() {
    let fake = Fake::start().await;
    let client = fake.client();
    fake.script(
        client.managed_devices_url().trim_start_matches(&fake.base),
        vec![Canned::json(400, NO_INTUNE)],
    );
    let err = client.managed_devices(TENANT).await.expect_err("no intune");
    assert_eq!(err.reason(), FailureReason::IntuneNotAvailable);
    assert_eq!(err.code.as_deref(), Some("BadRequest"));

    fake.script(
        "/v1.0/reports/authenticationMethods/userRegistrationDetails",
        vec![Canned::json(403, UNLICENSED)],
    );
    let err = client
        .user_registration_details(TENANT)
        .await
        .expect_err("no p1");
    assert_eq!(err.reason(), FailureReason::NotLicensed);
    fake.stop().await;
}

#[tokio::test]
async fn an_unreachable_host_is_a_transport_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let http = tenantry::http_client::default_client().expect("http");
    let client = tenantry::graph::GraphClient::new(
        http,
        crate::fake::CLIENT_ID,
        tenantry::graph::Credential::ClientSecret(tenantry::graph::ClientSecret::new("s")),
    )
    .with_base_urls(&base, &base)
    .with_retry_policy(crate::fake::fast_retry());
    let err = client.organization(TENANT).await.expect_err("no server");
    assert_eq!(
        err.kind,
        GraphErrorKind::Transport(TransportFailure::Connect)
    );
    assert_eq!(err.attempts, 3, "connect failures are retried");
    assert!(
        !err.to_string().contains(&base),
        "no URL in the message: {err}"
    );
}
