//! 100,000 users and devices generated lazily and served page by page, each exactly once.
//! (How much memory that takes is a benchmark's question, not a test's: the process's RSS
//! also counts every test running beside this one. See BENCHMARKS.md.)

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;
use tenantry::simulator::{SimApp, SimOptions, Simulator, TenantSpec};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_thousand_users_page_by_page() {
    let sim = Simulator::start(SimOptions {
        seed: 99,
        ..Default::default()
    })
    .await
    .expect("start");
    let ctl = sim.control();
    ctl.register_app(SimApp {
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        redirect_uris: vec![REDIRECT.into()],
        name: "t".into(),
        secret_expired: false,
    })
    .expect("app");
    let t = ctl
        .create_tenant(TenantSpec {
            name: "Huge".into(),
            users: 100_000,
            devices: 100_000,
            intune: true,
            p1: true,
            ..Default::default()
        })
        .expect("tenant");
    ctl.grant_consent(&t.id, CLIENT_ID).expect("consent");
    let http = client();
    let tok: Value = http
        .post(format!("{}/{}/oauth2/v2.0/token", sim.login_url(), t.id))
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = tok["access_token"].as_str().expect("token").to_string();
    let mut seen: HashSet<String> = HashSet::with_capacity(100_000);
    let mut url = format!(
        "{}/v1.0/users/delta?$select=id,displayName,userPrincipalName",
        sim.graph_url()
    );
    let mut pages = 0;
    loop {
        let r = http
            .get(&url)
            .bearer_auth(&token)
            .header("Prefer", "odata.maxpagesize=999")
            .send()
            .await
            .expect("page");
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.expect("json");
        let items = v["value"].as_array().expect("value");
        assert!(items.len() <= 999);
        for u in items {
            assert!(
                seen.insert(u["id"].as_str().expect("id").to_string()),
                "duplicate id"
            );
        }
        pages += 1;
        match v["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => {
                assert!(v["@odata.deltaLink"].is_string());
                break;
            }
        }
    }
    assert_eq!(seen.len(), 100_000);
    assert_eq!(pages, 101);
    // Devices: $top=1000 (Intune's page size), same lazily generated path.
    let mut devices = 0usize;
    let mut url = format!(
        "{}/v1.0/deviceManagement/managedDevices?$top=1000&$select=id,serialNumber",
        sim.graph_url()
    );
    loop {
        let v: Value = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("json");
        devices += v["value"].as_array().map(Vec::len).unwrap_or(0);
        match v["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    assert_eq!(devices, 100_000);
    sim.stop().await;
}
