//! The Level client against the simulator's Level API over real HTTP: cursor paging, include
//! flags, custom field values, `Retry-After` on 429, 500 after bounded retries, 401.

use std::time::{Duration, Instant};

use tenantry::levelio::{ApiKey, LevelClient, LevelError, LevelRetry};
use tenantry::simulator::{Fault, FaultKind, SimOptions, Simulator};

mod estate_merge;

const KEY: &str = "lvl-test-key-9f3a";

async fn sim(devices_per_client: usize) -> Simulator {
    let sim = Simulator::start(SimOptions::default())
        .await
        .expect("start");
    let ctl = sim.control();
    ctl.levelio_set_api_key(KEY);
    ctl.levelio_generate(
        &["Contoso Dental".into(), "Fabrikam Bakery".into()],
        devices_per_client,
    );
    sim
}

fn client(sim: &Simulator, key: &str) -> LevelClient {
    let http = tenantry::http_client::default_client().expect("http");
    LevelClient::new(http, &format!("{}/v2", sim.levelio_url()), ApiKey::new(key)).with_retry(
        LevelRetry {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(5),
        },
    )
}

fn fault(endpoint: &str, kind: FaultKind, nth: u64, times: u32) -> Fault {
    Fault {
        kind,
        endpoint: Some(endpoint.into()),
        nth,
        times,
        seen: 0,
    }
}

#[tokio::test]
async fn pages_with_limit_100_until_has_more_is_false_and_asks_for_every_include() {
    let sim = sim(130).await; // 260 devices: pages of 100, 100, 60
    let c = client(&sim, KEY);
    let devices = c.devices().await.expect("devices");
    assert_eq!(devices.len(), 260);
    let ids: std::collections::BTreeSet<_> = devices.iter().map(|d| d.id.clone()).collect();
    assert_eq!(ids.len(), 260, "every device once");
    assert_eq!(sim.control().levelio_counts().get("devices"), Some(&3));
    assert!(devices.iter().all(|d| d.operating_system.is_some()));
    assert!(devices.iter().any(|d| d.last_seen_at.is_none()), "optional");
    assert!(
        devices
            .iter()
            .any(|d| d.tag_names().contains(&"server".to_string()))
    );
    let groups = c.groups().await.expect("groups");
    assert_eq!(groups.len(), 8);
    let fields = c.custom_fields().await.expect("fields");
    let warranty = fields
        .iter()
        .find(|f| f.name == "Warranty Expiry")
        .expect("warranty field");
    let values = c.custom_field_values(&warranty.id).await.expect("values");
    assert!(
        values.len() > 100,
        "one listing, all pages: {}",
        values.len()
    );
    assert!(
        values
            .iter()
            .all(|v| v.custom_field_id.as_deref() == Some(warranty.id.as_str()))
    );
    assert_eq!(c.tags().await.expect("tags").len(), 4);
    sim.stop().await;
}

#[tokio::test]
async fn waits_what_retry_after_asks_on_429_then_succeeds() {
    let sim = sim(30).await;
    let throttle = FaultKind::Throttle {
        retry_after: Some("1".into()),
    };
    sim.control()
        .levelio_set_faults(vec![fault("devices", throttle, 1, 1)]);
    let started = Instant::now();
    let devices = client(&sim, KEY).devices().await.expect("after one 429");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited Retry-After"
    );
    assert_eq!(devices.len(), 60);
    assert_eq!(sim.control().levelio_counts().get("devices"), Some(&2));
    sim.stop().await;
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_ends_the_call_as_throttled() {
    let sim = sim(5).await;
    let throttle = FaultKind::Throttle {
        retry_after: Some("600".into()),
    };
    sim.control()
        .levelio_set_faults(vec![fault("devices", throttle, 1, 0)]);
    let err = client(&sim, KEY).devices().await.expect_err("throttled");
    assert!(
        matches!(
            err,
            LevelError::Throttled {
                status: 429,
                retry_after_secs: Some(600)
            }
        ),
        "{err:?}"
    );
    assert_eq!(sim.control().levelio_counts().get("devices"), Some(&1));
    sim.stop().await;
}

#[tokio::test]
async fn a_500_is_retried_a_bounded_number_of_times_then_reported_with_its_body() {
    let sim = sim(5).await;
    let boom = FaultKind::Error {
        status: 500,
        code: "internal".into(),
        message: "database unavailable".into(),
        retry_after: None,
    };
    sim.control()
        .levelio_set_faults(vec![fault("groups", boom.clone(), 1, 0)]);
    let err = client(&sim, KEY).groups().await.expect_err("500");
    assert_eq!(err.status(), Some(500));
    assert!(err.body().contains("database unavailable"), "{err}");
    assert_eq!(sim.control().levelio_counts().get("groups"), Some(&3));
    // A single 500 is absorbed by the retry.
    sim.control()
        .levelio_set_faults(vec![fault("groups", boom, 1, 1)]);
    assert_eq!(client(&sim, KEY).groups().await.expect("retried").len(), 8);
    sim.stop().await;
}

#[tokio::test]
async fn a_wrong_key_is_rejected_without_retries_and_never_shown() {
    let sim = sim(5).await;
    let err = client(&sim, "wrong-key-1234")
        .devices()
        .await
        .expect_err("401");
    assert!(
        matches!(err, LevelError::KeyRejected { status: 401, .. }),
        "{err:?}"
    );
    assert!(err.body().contains("Access denied"));
    assert_eq!(sim.control().levelio_counts().get("devices"), Some(&1));
    let shown = format!("{err} {err:?} {:?}", ApiKey::new("wrong-key-1234"));
    assert!(!shown.contains("wrong-key"), "{shown}");
    assert!(shown.contains("1234"), "last four only");
    sim.stop().await;
}

#[tokio::test]
async fn an_unreachable_host_is_a_transport_error() {
    let http = tenantry::http_client::default_client().expect("http");
    let c =
        LevelClient::new(http, "http://127.0.0.1:9/v2", ApiKey::new(KEY)).with_retry(LevelRetry {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
            max_retry_after: Duration::from_secs(1),
        });
    let err = c.groups().await.expect_err("refused");
    assert!(matches!(err, LevelError::Transport { .. }), "{err:?}");
    assert!(!err.to_string().contains(KEY));
}
