//! Evidence reads: pacing of Conditional Access, `$batch` steps throttled on their own, and
//! the SHA-256 fingerprint of every page as received.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::fake::{Canned, Fake, TENANT};

#[tokio::test]
async fn conditional_access_reads_wait_for_one_request_per_second_per_tenant() {
    let fake = Fake::start().await;
    let path = "/v1.0/identity/conditionalAccess/policies";
    fake.script(path, vec![Canned::ok(r#"{"value":[]}"#)]);
    let client = fake.client();
    for _ in 0..3 {
        client
            .conditional_access_policies_hashed(TENANT)
            .await
            .expect("policies");
    }
    let hits = fake.hits(path);
    assert_eq!(hits.len(), 3);
    for pair in hits.windows(2) {
        assert!(
            pair[1].at.duration_since(pair[0].at) >= Duration::from_secs(1),
            "CA allows one request per second per tenant and sends no Retry-After"
        );
    }
    fake.stop().await;
}

#[tokio::test]
async fn a_throttled_batch_step_is_sent_again_and_the_others_kept() {
    let fake = Fake::start().await;
    let first = r##"{"responses":[
        {"id":"0","status":200,"headers":{},"body":{"value":[{"@odata.type":"#microsoft.graph.passwordAuthenticationMethod","id":"p"}]}},
        {"id":"1","status":429,"headers":{"Retry-After":"1"},"body":{"error":{"code":"TooManyRequests","message":"Please retry later."}}}]}"##;
    let second = r##"{"responses":[
        {"id":"1","status":200,"headers":{},"body":{"value":[{"@odata.type":"#microsoft.graph.passwordAuthenticationMethod","id":"p"},{"@odata.type":"#microsoft.graph.fido2AuthenticationMethod","id":"f"}]}}]}"##;
    fake.script("/v1.0/$batch", vec![Canned::ok(first), Canned::ok(second)]);
    let client = fake.client();
    let ids = vec!["u0".to_string(), "u1".to_string()];
    let (results, digest) = client
        .users_authentication_methods(TENANT, &ids)
        .await
        .expect("batch");
    let strong: Vec<bool> = results
        .iter()
        .map(|r| {
            r.as_ref()
                .expect("step answered")
                .iter()
                .any(|m| m.is_strong())
        })
        .collect();
    assert_eq!(strong, vec![false, true], "password only; then FIDO2");
    let hits = fake.hits("/v1.0/$batch");
    assert_eq!(hits.len(), 2, "only the throttled step went again");
    assert!(hits[1].at.duration_since(hits[0].at) >= Duration::from_secs(1));
    assert_eq!(digest.pages, 2);
    let mut h = Sha256::new();
    h.update(first);
    h.update(second);
    assert_eq!(digest.sha256, hex::encode(h.finalize()));
    fake.stop().await;
}

#[tokio::test]
async fn every_report_page_is_fingerprinted_in_order() {
    let fake = Fake::start().await;
    let path = "/v1.0/reports/authenticationMethods/userRegistrationDetails";
    let next = fake.url(&format!("{path}?$skiptoken=2"));
    let page1 =
        format!(r#"{{"value":[{{"id":"a","isMfaRegistered":true}}],"@odata.nextLink":"{next}"}}"#);
    let page2 = r#"{"value":[{"id":"b","isMfaRegistered":false}]}"#;
    fake.script(path, vec![Canned::ok(page1.clone())]);
    fake.script(&format!("{path}?$skiptoken=2"), vec![Canned::ok(page2)]);
    let client = fake.client();
    let mut pages = client.user_registration_pages(TENANT);
    let mut ids = Vec::new();
    while let Some(rows) = pages
        .next_page::<tenantry::graph::UserRegistrationDetails>()
        .await
        .expect("page")
    {
        ids.extend(rows.into_iter().map(|r| r.id));
    }
    assert_eq!(ids, vec!["a", "b"]);
    let d = pages.finish();
    let mut h = Sha256::new();
    h.update(page1.as_bytes());
    h.update(page2.as_bytes());
    assert_eq!(d.sha256, hex::encode(h.finalize()));
    assert_eq!((d.pages, d.status), (2, 200));
    assert!(d.request_id.is_some(), "the first page's request-id");
    fake.stop().await;
}
