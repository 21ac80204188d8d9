//! Paging covers every object exactly once at several page sizes.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use tenantry::simulator::{Kind, TenantPatch};

use crate::common::*;

fn props(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn assert_once(ids: &[String], expected: usize, what: &str) {
    let set: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len(), "{what}: an object appeared twice");
    assert_eq!(ids.len(), expected, "{what}: wrong number of objects");
}

#[tokio::test]
async fn managed_devices_every_page_size() {
    let env = env(50, 257, true).await;
    let token = app_token(&env).await;
    // Overlay changes: one removed, one added.
    let gone = env
        .ctl
        .list_objects(env.tid(), Kind::Device, 100, 1)
        .expect("list")[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    env.ctl
        .delete_object(env.tid(), Kind::Device, &gone, true)
        .expect("delete");
    env.ctl
        .create_object(
            env.tid(),
            Kind::Device,
            props(json!({"deviceName": "NEW-PC", "serialNumber": "ABC123"})),
        )
        .expect("create");
    for top in [1usize, 7, 100, 256, 257, 1000, 5000] {
        let items = list_all(
            &env,
            &format!(
                "{}/deviceManagement/managedDevices?$top={top}&$select=id,deviceName,serialNumber",
                env.graph()
            ),
            &token,
        )
        .await;
        let ids = ids(&items);
        assert_once(&ids, 257, &format!("managedDevices $top={top}"));
        assert!(!ids.contains(&gone));
    }
    let items = list_all(
        &env,
        &format!("{}/deviceManagement/managedDevices", env.graph()),
        &token,
    )
    .await;
    assert_eq!(items.len(), 257);
    let r = get(
        &env,
        &format!("{}/deviceManagement/managedDevices?$top=0", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn users_delta_every_page_size() {
    let env = env(120, 0, true).await;
    let token = app_token(&env).await;
    let victim = env
        .ctl
        .list_objects(env.tid(), Kind::User, 50, 1)
        .expect("list")[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    env.ctl
        .delete_object(env.tid(), Kind::User, &victim, false)
        .expect("delete");
    env.ctl
        .create_object(
            env.tid(),
            Kind::User,
            props(json!({"displayName": "A", "userPrincipalName": "a@x.example"})),
        )
        .expect("create");
    env.ctl
        .create_object(
            env.tid(),
            Kind::User,
            props(json!({"displayName": "B", "userPrincipalName": "b@x.example"})),
        )
        .expect("create");
    for size in [1usize, 7, 50, 119, 120, 121, 999] {
        env.ctl
            .update_tenant(
                env.tid(),
                TenantPatch {
                    delta_page_size: Some(size),
                    ..Default::default()
                },
            )
            .expect("patch");
        let (items, link, pages) = round(
            &env,
            &format!("{}/users/delta?$select=displayName", env.graph()),
            &token,
            &[],
        )
        .await;
        assert_once(&ids(&items), 121, &format!("users/delta page size {size}"));
        assert!(!link.is_empty());
        assert!(pages >= 121_usize.div_ceil(size));
    }
    // Prefer: odata.maxpagesize on the first request sets the page size for the round.
    let (items, _, pages) = round(
        &env,
        &format!("{}/users/delta", env.graph()),
        &token,
        &[("Prefer", "odata.maxpagesize=30")],
    )
    .await;
    assert_once(&ids(&items), 121, "maxpagesize 30");
    assert_eq!(pages, 5);
}

#[tokio::test]
async fn registration_report_every_page_size() {
    let env = env(75, 0, true).await;
    without_rate_limits(&env);
    let token = app_token(&env).await;
    for top in [1usize, 10, 74, 999] {
        let items = list_all(
            &env,
            &format!(
                "{}/reports/authenticationMethods/userRegistrationDetails?$top={top}",
                env.graph()
            ),
            &token,
        )
        .await;
        assert_once(
            &ids(&items),
            75,
            &format!("userRegistrationDetails $top={top}"),
        );
    }
}

#[tokio::test]
async fn page_tokens_are_bound_to_the_tenant() {
    let env = env(30, 30, true).await;
    let token_a = app_token(&env).await;
    let b = env
        .ctl
        .create_tenant(tenantry::simulator::TenantSpec {
            name: "Other".into(),
            users: 5,
            devices: 5,
            intune: true,
            ..Default::default()
        })
        .expect("b");
    env.ctl.grant_consent(&b.id, CLIENT_ID).expect("consent");
    let (s, v) = token_request(
        &env,
        &b.id,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let token_b = v["access_token"].as_str().expect("token").to_string();
    let r = get(
        &env,
        &format!("{}/deviceManagement/managedDevices?$top=5", env.graph()),
        &token_a,
        &[],
    )
    .await;
    let next = r.json()["@odata.nextLink"]
        .as_str()
        .expect("nextLink")
        .to_string();
    let r = get(&env, &next, &token_b, &[]).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "tenant A's page token must not work with tenant B's token"
    );
    let r = get(
        &env,
        &format!("{}/organization", env.graph()),
        &token_b,
        &[],
    )
    .await;
    assert_eq!(r.json()["value"][0]["id"], b.id.as_str());
}

#[tokio::test]
async fn replays_and_empty_pages_when_enabled() {
    let env = env(25, 0, true).await;
    let token = app_token(&env).await;
    env.ctl
        .update_tenant(
            env.tid(),
            TenantPatch {
                delta_page_size: Some(10),
                delta_replays: Some(true),
                delta_empty_pages: Some(true),
                ..Default::default()
            },
        )
        .expect("patch");
    let (items, link, pages) = round(
        &env,
        &format!("{}/users/delta?$select=displayName", env.graph()),
        &token,
        &[],
    )
    .await;
    let all = ids(&items);
    let distinct: BTreeSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), 25, "every user still appears");
    assert_eq!(
        all.len(),
        27,
        "two page boundaries, one replayed object each"
    );
    assert_eq!(pages, 5, "3 data pages + 2 empty pages");
    assert!(!link.is_empty());
}
