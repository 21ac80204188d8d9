//! The client, the listing-to-records step and the merge rules together over the simulator's
//! overlapping estates: what a sync would decide for a mapped client.

use std::collections::BTreeMap;

use tenantry::domain::assets::{MergeInput, merge};
use tenantry::domain::levelio::records::level_records;
use tenantry::levelio::{ApiKey, LevelClient};
use tenantry::model::{IntuneRecord, MatchRule, ReviewReason};
use tenantry::simulator::collection::Kind;
use tenantry::simulator::{SimOptions, Simulator, TenantSpec};

#[tokio::test]
async fn a_mapped_client_merges_its_mirrored_desktops_and_reviews_the_vm_pair() {
    let sim = Simulator::start(SimOptions::default())
        .await
        .expect("start");
    let ctl = sim.control();
    let t = ctl
        .create_tenant(TenantSpec {
            name: "Contoso Dental".into(),
            intune: true,
            users: 40,
            devices: 80,
            ..Default::default()
        })
        .expect("tenant");
    ctl.levelio_set_api_key("k");
    ctl.levelio_generate(&["Contoso Dental".into(), "Other Client".into()], 40);
    let http = tenantry::http_client::default_client().expect("http");
    let c = LevelClient::new(http, &format!("{}/v2", sim.levelio_url()), ApiKey::new("k"));
    let groups = c.groups().await.expect("groups");
    let devices = c.devices().await.expect("devices");
    let fields = c.custom_fields().await.expect("fields");
    let warranty = fields
        .iter()
        .find(|f| f.name == "Warranty Expiry")
        .expect("field");
    let values = c.custom_field_values(&warranty.id).await.expect("values");
    let root = groups
        .iter()
        .find(|g| g.name == "Contoso Dental" && g.parent_id.is_none())
        .expect("root");
    let map = BTreeMap::from([(root.id.clone(), 7u64)]);
    let listing = level_records(&devices, &groups, &map, &values, false);
    assert_eq!(
        listing.unmapped, 40,
        "the other client's devices are ignored and counted"
    );
    let level = listing.per_company.get(&7).cloned().unwrap_or_default();
    assert_eq!(level.len(), 40);
    assert!(
        level.iter().all(|r| r.warranty.is_some()),
        "organisation default at least"
    );
    assert!(
        !listing.unreadable_warranties.is_empty(),
        "prose values are flagged"
    );
    let intune: Vec<IntuneRecord> = ctl
        .list_objects(&t.id, Kind::Device, 0, 1000)
        .expect("intune")
        .into_iter()
        .map(|d| {
            let s = |k: &str| {
                d.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            IntuneRecord {
                company_id: 7,
                id: s("id"),
                hostname: s("deviceName"),
                serial_number: s("serialNumber"),
                os: s("operatingSystem"),
                compliance_state: s("complianceState"),
                ..Default::default()
            }
        })
        .collect();
    let out = merge(&MergeInput {
        now: chrono::DateTime::UNIX_EPOCH,
        intune: &intune,
        level: &level,
        existing: &[],
        decisions: &[],
    });
    let merged = out
        .assets
        .iter()
        .filter(|a| a.intune_id.is_some() && a.level_id.is_some())
        .count();
    let by_hostname = out
        .assets
        .iter()
        .filter(|a| a.rule == MatchRule::Hostname)
        .count();
    assert!(merged >= 25, "most mirrored desktops merge: {merged}");
    assert!(
        by_hostname >= 1,
        "a junk-serial pair is resolved by hostname"
    );
    let vm_reviews: Vec<_> = out
        .review
        .iter()
        .filter(|r| r.reason == ReviewReason::SerialSharedByMany)
        .collect();
    assert_eq!(vm_reviews.len(), 2, "the cloned VM pair: {:?}", out.review);
    // Every Level record and every Intune record is in exactly one asset.
    let level_ids = out.assets.iter().filter(|a| a.level_id.is_some()).count();
    let intune_ids = out.assets.iter().filter(|a| a.intune_id.is_some()).count();
    assert_eq!(level_ids, 40);
    assert_eq!(intune_ids, intune.len());
    // Phones stay Intune-only; servers stay Level-only.
    for a in &out.assets {
        let os = a
            .fields
            .get("os")
            .map(|f| f.value.as_str())
            .unwrap_or_default();
        if matches!(os, "iOS" | "Android") {
            assert!(a.level_id.is_none(), "phone merged: {a:?}");
        }
        if a.fields
            .get("role")
            .is_some_and(|f| f.value != "workstation")
        {
            assert!(a.intune_id.is_none(), "server merged: {a:?}");
        }
    }
    sim.stop().await;
}
