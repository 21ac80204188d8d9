//! `GET /metrics`: off by default, guarded by allow-list or token, parses as Prometheus text,
//! and its counters move after a sync.

use super::prom_text::{Exposition, parse};
use crate::helpers::*;
use crate::sync_helpers::*;
use tenantry::simulator::{Fault, FaultKind};

const TOKEN: &str = "metrics-scrape-token-0123456789";

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(app.at("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("GET /metrics")
}

async fn scraped(app: &TestApp) -> Exposition {
    let r = scrape(app, Some(TOKEN)).await;
    assert_eq!(r.status(), 200);
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let body = r.text().await.expect("body");
    parse(&body).unwrap_or_else(|e| panic!("not Prometheus text: {e}\n{body}"))
}

#[tokio::test]
async fn metrics_are_off_by_default() {
    let app = spawn_app().await;
    assert_eq!(scrape(&app, None).await.status(), 404);
}

#[tokio::test]
async fn metrics_need_an_allowed_address_or_the_token_and_move_after_a_sync() {
    // Nobody is allowed by address: only the token opens it (loopback is the default list,
    // which would let this test's client in without one).
    let env = sync_env_with(|c| {
        c.metrics.enabled = true;
        c.metrics.allow_from = vec!["192.0.2.0/24".into()];
        c.metrics.token = TOKEN.into();
    })
    .await;
    assert_eq!(scrape(&env.app, None).await.status(), 403);
    assert_eq!(
        scrape(&env.app, Some("wrong-token-wrong-token-wrong"))
            .await
            .status(),
        403
    );

    let before = scraped(&env.app).await;
    let ok_before = before
        .value("tenantry_graph_requests_total", &[("class", "2xx")])
        .expect("2xx series");
    assert_eq!(
        before.value("tenantry_graph_throttled_total", &[]),
        Some(0.0)
    );
    assert_eq!(
        before.value("tenantry_sync_attempts_total", &[("kind", "identity_sync")]),
        None,
        "no sync has run yet"
    );
    assert!(
        before
            .value("tenantry_database_size_bytes", &[])
            .unwrap_or(0.0)
            > 0.0
    );
    assert!(
        before
            .value("process_resident_memory_bytes", &[])
            .unwrap_or(0.0)
            > 0.0
    );
    assert_eq!(before.value("tenantry_jobs_queued", &[]), Some(0.0));

    // One throttled answer on the first users page: the client waits its Retry-After.
    let t = env.tenant("Metrics Ltd", 12, 3, true);
    env.ctl
        .set_faults(
            &t.id,
            vec![Fault {
                kind: FaultKind::Throttle {
                    retry_after: Some("0.25".into()),
                },
                endpoint: Some("users/delta".into()),
                nth: 1,
                times: 1,
                seen: 0,
            }],
        )
        .expect("fault set");
    let (_, job) = env.connect("Metrics Ltd", &t.id).await;
    assert_eq!(job.state, tenantry::model::JobState::Succeeded, "{job:?}");

    let after = scraped(&env.app).await;
    assert_eq!(
        after.value(
            "tenantry_sync_attempts_total",
            &[("kind", "identity_sync"), ("outcome", "succeeded")]
        ),
        Some(1.0)
    );
    assert_eq!(
        after.value(
            "tenantry_sync_duration_seconds_count",
            &[("kind", "identity_sync")]
        ),
        Some(1.0)
    );
    let ok_after = after
        .value("tenantry_graph_requests_total", &[("class", "2xx")])
        .expect("2xx series");
    assert!(ok_after > ok_before, "{ok_before} → {ok_after}");
    assert_eq!(
        after.value("tenantry_graph_requests_total", &[("class", "4xx")]),
        Some(1.0),
        "the one 429"
    );
    assert_eq!(
        after.value("tenantry_graph_throttled_total", &[]),
        Some(1.0)
    );
    let waited = after
        .value("tenantry_graph_retry_after_seconds_total", &[])
        .expect("retry-after series");
    assert!((0.25..1.0).contains(&waited), "{waited}");
    assert_eq!(after.value("tenantry_jobs_queued", &[]), Some(0.0));
    env.stop().await;
}
