//! Level.io API (`last_seen_at` is optional, see levelio_estate.rs): raw-key auth, cursor paging, groups tree, custom field values.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;
use tenantry::simulator::{SimOptions, Simulator};

async fn level_get(http: &reqwest::Client, url: &str, key: &str) -> (StatusCode, Value) {
    let r = http
        .get(url)
        .header("Authorization", key)
        .send()
        .await
        .expect("GET");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_level_api_answers_as_level_documents_it() {
    let sim = Simulator::start(SimOptions::default())
        .await
        .expect("start");
    let ctl = sim.control();
    ctl.levelio_set_api_key("k-123");
    ctl.levelio_generate(&["Contoso Dental".into(), "Fabrikam Bakery".into()], 23);
    let http = reqwest::Client::new();
    let base = format!("{}/v2", sim.levelio_url());
    let (s, v) = level_get(&http, &format!("{base}/devices"), "Bearer k-123").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "raw key only, no Bearer");
    assert_eq!(v["error"], "Access denied");
    let (s, _) = level_get(&http, &format!("{base}/devices"), "wrong").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Cursor paging covers every device once.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let url = match &after {
            Some(a) => format!("{base}/devices?limit=7&starting_after={a}"),
            None => format!("{base}/devices?limit=7"),
        };
        let (s, v) = level_get(&http, &url, "k-123").await;
        assert_eq!(s, StatusCode::OK);
        let data = v["data"].as_array().cloned().expect("data");
        assert!(data.len() <= 7);
        for d in &data {
            for f in [
                "id",
                "hostname",
                "role",
                "group_id",
                "online",
                "last_reboot_time",
                "serial_number",
                "platform",
            ] {
                assert!(d.get(f).is_some(), "missing {f}");
            }
            assert!(
                d.get("operating_system").is_none(),
                "only with include_operating_system"
            );
            seen.push(d["id"].as_str().expect("id").to_string());
        }
        if v["has_more"] != true {
            break;
        }
        after = seen.last().cloned();
    }
    assert_eq!(seen.len(), 46);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 46);
    let (_, v) = level_get(&http, &format!("{base}/devices?limit=100"), "k-123").await;
    assert_eq!(v["data"].as_array().map(Vec::len), Some(46));
    assert_eq!(v["has_more"], false);
    let (s, _) = level_get(&http, &format!("{base}/devices?limit=101"), "k-123").await;
    assert!(s.is_client_error());
    // Groups tree: roots per client, nested children.
    let (_, g) = level_get(&http, &format!("{base}/groups?limit=100"), "k-123").await;
    let groups = g["data"].as_array().cloned().expect("groups");
    let root = groups
        .iter()
        .find(|x| x["parent_id"].is_null() && x["name"] == "Contoso Dental")
        .expect("root");
    let root_id = root["id"].as_str().expect("id");
    let (_, v) = level_get(
        &http,
        &format!(
            "{base}/devices?limit=100&ancestor_group_id={root_id}&include_operating_system=true"
        ),
        "k-123",
    )
    .await;
    let devs = v["data"].as_array().cloned().expect("devices");
    assert_eq!(devs.len(), 23);
    assert!(
        devs.iter()
            .all(|d| d["operating_system"]["full_operating_system"].is_string())
    );
    let (_, v) = level_get(
        &http,
        &format!("{base}/devices?limit=100&group_id={root_id}"),
        "k-123",
    )
    .await;
    assert_eq!(
        v["data"].as_array().map(Vec::len),
        Some(0),
        "group_id is direct membership only"
    );
    // Warranty dates in custom field values.
    let (_, f) = level_get(&http, &format!("{base}/custom_fields"), "k-123").await;
    assert!(
        f["data"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["name"] == "Warranty Expiry"))
    );
    let dev = &devs[1];
    let (_, one) = level_get(
        &http,
        &format!("{base}/devices/{}", dev["id"].as_str().expect("id")),
        "k-123",
    )
    .await;
    assert_eq!(one["id"], dev["id"]);
    let (_, vals) = level_get(
        &http,
        &format!("{base}/custom_field_values?limit=100"),
        "k-123",
    )
    .await;
    assert!(vals["data"].as_array().is_some_and(|a| {
        a.iter()
            .any(|x| x["custom_field_name"] == "Warranty Expiry" && x["value"].is_string())
    }));
    let counts = ctl.levelio_counts();
    assert!(counts.get("devices").is_some_and(|c| *c >= 7));
    sim.stop().await;
}

#[tokio::test]
async fn levelio_throttling_with_retry_after() {
    let sim = Simulator::start(SimOptions::default())
        .await
        .expect("start");
    let ctl = sim.control();
    ctl.levelio_set_api_key("k");
    ctl.levelio_generate(&["A".into()], 3);
    ctl.levelio_set_faults(vec![tenantry::simulator::Fault {
        kind: tenantry::simulator::FaultKind::Throttle {
            retry_after: Some("3".into()),
        },
        endpoint: Some("devices".into()),
        nth: 2,
        times: 1,
        seen: 0,
    }]);
    let http = reqwest::Client::new();
    let url = format!("{}/v2/devices", sim.levelio_url());
    assert_eq!(level_get(&http, &url, "k").await.0, StatusCode::OK);
    let r = http
        .get(&url)
        .header("Authorization", "k")
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("3")
    );
    assert_eq!(level_get(&http, &url, "k").await.0, StatusCode::OK);
    sim.stop().await;
}
