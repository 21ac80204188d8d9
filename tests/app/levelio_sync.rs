//! The Level.io phase of the identity job end to end, against the simulator: connect Level,
//! map a group, sync → the exact merges; a hostname changed in Level and a serial changed in
//! Intune keep the links; unmerge and a manual merge from the review queue stick across
//! syncs; a device retired in Intune keeps its Level record; Level throttling then failing
//! makes a partial job with audit rows while the Entra data stays; an archived company syncs
//! neither.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use tenantry::domain::DomainError;
use tenantry::domain::authority::AdminActor;
use tenantry::domain::levelio::LevelInput;
use tenantry::model::{
    Actor, Asset, AuditEvent, GapKind, JobState, ListQuery, MergeState, Outcome, SourcesFilter,
};
use tenantry::simulator::{Fault, FaultKind, Kind};

use crate::sync_helpers::*;

const KEY: &str = "lvl-sync-key-91ab";
/// The Level-only client whose groups hold the crafted devices (not a tenant's name, so the
/// generator mirrors nothing).
const LEVEL_CLIENT: &str = "Crafted Level Estate";

struct World {
    env: SyncEnv,
    tid: String,
    company: u64,
    /// The Intune devices as the simulator lists them: (id, deviceName, serialNumber).
    intune: Vec<(String, String, String)>,
    /// Level device ids by role in the estate.
    level: BTreeMap<&'static str, String>,
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

/// A tenant with Intune devices, its company synced once (Level not connected yet), and a
/// crafted Level estate in a group mapped to the company.
async fn world() -> World {
    let env = sync_env_with(|_| {}).await;
    let t = env.tenant("Level Sync Dental", 5, 6, true);
    let tid = t.id.clone();
    let (company, job) = env.connect("Level Sync Dental", &tid).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let intune: Vec<(String, String, String)> = env
        .ctl
        .list_objects(&tid, Kind::Device, 0, 100)
        .expect("devices")
        .iter()
        .map(|d| {
            let d = Value::Object(d.clone());
            (s(&d, "id"), s(&d, "deviceName"), s(&d, "serialNumber"))
        })
        .collect();
    assert_eq!(intune.len(), 6);
    // The crafted pairs need real serials, each on one device (the generator also makes
    // junk ones): those devices first.
    let key = tenantry::domain::assets::identity::serial_key;
    let usable = |serial: &str| {
        key(serial).is_some_and(|k| {
            intune
                .iter()
                .filter(|(_, _, x)| key(x).as_ref() == Some(&k))
                .count()
                == 1
        })
    };
    let mut sorted = intune.clone();
    sorted.sort_by_key(|(_, _, serial)| !usable(serial));
    let intune = sorted;
    assert!(usable(&intune[0].2) && usable(&intune[2].2), "{intune:?}");
    // Level: one generated client for its groups, its devices replaced by crafted ones.
    env.ctl.levelio_set_api_key(KEY);
    env.ctl.levelio_generate(&[LEVEL_CLIENT.into()], 3);
    for d in env.ctl.level().devices() {
        let id = d["id"].as_str().unwrap_or_default().to_string();
        assert!(env.ctl.levelio_delete_device(&id));
    }
    let groups: Value = reqwest::Client::new()
        .get(format!("{}/v2/groups?limit=100", env.sim.levelio_url()))
        .header("Authorization", KEY)
        .send()
        .await
        .expect("groups")
        .json()
        .await
        .expect("json");
    let root = groups["data"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["name"] == LEVEL_CLIENT && g["parent_id"].is_null())
        .map(|g| s(g, "id"))
        .expect("root group");
    let dev = |host: &str, serial: &str, platform: &str, role: &str| {
        obj(
            json!({"hostname": host, "serial_number": serial, "platform": platform,
            "role": role, "group_id": root, "online": true}),
        )
    };
    let (_, h0, s0) = &intune[0];
    let (_, h1, _) = &intune[1];
    let (_, _, s2) = &intune[2];
    let mut level = BTreeMap::new();
    let mut add = |role: &'static str, m: Map<String, Value>| {
        let d = env.ctl.levelio_add_device(m);
        level.insert(role, s(&Value::Object(d), "id"));
    };
    // Same serial in another case and spacing, hostname in another case with a DNS suffix.
    let spaced = format!(" {} ", s0.to_lowercase());
    add(
        "serial",
        dev(
            &format!("{}.levelsync.example", h0.to_uppercase()),
            &spaced,
            "Windows",
            "workstation",
        ),
    );
    // A junk serial: the hostname decides.
    add(
        "hostname",
        dev(
            &h1.to_lowercase(),
            "To be filled by O.E.M.",
            "Windows",
            "workstation",
        ),
    );
    // A server only Level knows.
    add("server", dev("LSD-SRV-01", "SRV0001", "Linux", "server"));
    // Two cloned VMs reporting the serial of an Intune device: no rule decides.
    add("vdi0", dev("LSD-VDI-00", s2, "Windows", "workstation"));
    add("vdi1", dev("LSD-VDI-01", s2, "Windows", "workstation"));
    // Connect Level and map the root group to the company.
    let url = format!("{}/v2", env.sim.levelio_url());
    env.services()
        .connect_level(
            AdminActor::system(),
            LevelInput {
                api_key: KEY.into(),
                api_url: url,
                ..Default::default()
            },
        )
        .await
        .expect("level connected");
    env.services().level_groups().await.expect("groups read");
    env.services()
        .set_company_level_groups(AdminActor::system(), company, vec![root])
        .await
        .expect("mapped");
    World {
        env,
        tid,
        company,
        intune,
        level,
    }
}

async fn assets(w: &World) -> Vec<Asset> {
    snapshot(w.env.services(), w.company).await.assets
}

fn source_id<'a>(a: &'a Asset, src: &str) -> Option<&'a str> {
    a.sources
        .iter()
        .find(|x| x.source == src)
        .map(|x| x.external_id.as_str())
}

async fn asset_of_level(w: &World, role: &str) -> Asset {
    let id = &w.level[role];
    assets(w)
        .await
        .into_iter()
        .find(|a| a.active && source_id(a, "levelio") == Some(id.as_str()))
        .unwrap_or_else(|| panic!("no active asset holds Level device {role}"))
}

async fn asset_of_intune(w: &World, i: usize) -> Asset {
    let id = &w.intune[i].0;
    assets(w)
        .await
        .into_iter()
        .find(|a| a.active && source_id(a, "intune") == Some(id.as_str()))
        .unwrap_or_else(|| panic!("no active asset holds Intune device {i}"))
}

async fn sync_ok(w: &World) -> tenantry::model::Job {
    let job = w.env.sync(w.company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    job
}

async fn level_audit(w: &World) -> Vec<AuditEvent> {
    w.env.audit(w.company, "sync.identity.level").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_merges_exactly_and_decisions_and_links_stick() {
    let w = world().await;
    let job = sync_ok(&w).await;
    assert!(job.warnings.is_empty(), "{:?}", job.warnings);
    // What it cost Level: the company's subtree in one page, no per-device calls.
    let calls = w.env.ctl.levelio_counts();
    assert_eq!(calls.get("devices"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("devices/{id}"), None, "{calls:?}");
    assert_eq!(
        calls.get("custom_field_values"),
        None,
        "no warranty field set: {calls:?}"
    );
    assert_eq!(job.counts.get("level_merged"), Some(&2), "{:?}", job.counts);
    assert_eq!(job.counts.get("level_review"), Some(&2), "{:?}", job.counts);

    // The exact assets: two merged, one Level-only server, the VM pair and its Intune device
    // in review, three Intune-only.
    let by_serial = asset_of_level(&w, "serial").await;
    assert_eq!(
        source_id(&by_serial, "intune"),
        Some(w.intune[0].0.as_str())
    );
    assert_eq!(by_serial.merge.state, MergeState::Merged);
    let by_host = asset_of_level(&w, "hostname").await;
    assert_eq!(source_id(&by_host, "intune"), Some(w.intune[1].0.as_str()));
    let server = asset_of_level(&w, "server").await;
    assert_eq!(
        (source_id(&server, "intune"), server.merge.state),
        (None, MergeState::Single)
    );
    for role in ["vdi0", "vdi1"] {
        let a = asset_of_level(&w, role).await;
        assert_eq!(
            (source_id(&a, "intune"), a.merge.state),
            (None, MergeState::NeedsReview)
        );
    }
    assert_eq!(
        asset_of_intune(&w, 2).await.merge.state,
        MergeState::NeedsReview
    );
    let active: Vec<Asset> = assets(&w).await.into_iter().filter(|a| a.active).collect();
    assert_eq!(active.len(), 9, "6 Intune + 5 Level - 2 merged");
    // Intune owns compliance; the page's provenance says which source gave each field.
    let p = w
        .env
        .services()
        .asset_provenance(w.company, by_serial.id)
        .await
        .expect("provenance");
    assert_eq!(
        p.fields["compliance_state"].source,
        tenantry::model::SourceKind::Intune
    );
    assert_eq!(p.fields["role"].value, "workstation");
    // The review queue, the gap counts and lists.
    let review = w
        .env
        .services()
        .asset_review_page(w.company, None, 1)
        .await
        .expect("review");
    assert_eq!((review.items.len(), review.total), (1, 2));
    let rest = w
        .env
        .services()
        .asset_review_page(w.company, review.next.clone(), 10)
        .await
        .expect("review page 2");
    assert_eq!((rest.items.len(), rest.next), (1, None));
    assert!(
        review
            .items
            .iter()
            .chain(&rest.items)
            .all(|r| r.intune_id == w.intune[2].0)
    );
    let gaps = w
        .env
        .services()
        .asset_gap_counts(w.company)
        .await
        .expect("gaps");
    assert_eq!(
        (gaps.merged, gaps.review, gaps.unmanaged),
        (2, 2, 3),
        "{gaps:?}"
    );
    let unmanaged = w
        .env
        .services()
        .asset_gap_page(w.company, GapKind::Unmanaged, ListQuery::default())
        .await
        .expect("gap page");
    assert_eq!(unmanaged.total, 3);
    assert!(
        unmanaged
            .items
            .iter()
            .all(|a| !a.has_source("intune") && a.has_source("levelio"))
    );

    // Hostname changed in Level, serial changed in Intune: the links hold.
    assert!(
        w.env
            .ctl
            .levelio_update_device(&w.level["serial"], obj(json!({"hostname": "RENAMED-01"})))
    );
    w.env
        .ctl
        .update_object(
            &w.tid,
            Kind::Device,
            &w.intune[1].0,
            obj(json!({"serialNumber": "NEWSERIAL99"})),
        )
        .expect("serial changed");
    sync_ok(&w).await;
    assert_eq!(asset_of_level(&w, "serial").await.id, by_serial.id);
    assert_eq!(asset_of_level(&w, "hostname").await.id, by_host.id);
    assert_eq!(
        asset_of_level(&w, "serial").await.hostname,
        "RENAMED-01",
        "Level saw it last"
    );

    // Unmerge sticks across two syncs.
    let u = w
        .env
        .services()
        .unmerge_asset(Actor::staff("tech@msp.example"), w.company, by_host.id)
        .await
        .expect("unmerged");
    for _ in 0..2 {
        sync_ok(&w).await;
        let l = asset_of_level(&w, "hostname").await;
        assert_eq!((l.id, source_id(&l, "intune")), (u.level_asset, None));
        assert_eq!(source_id(&asset_of_intune(&w, 1).await, "levelio"), None);
    }
    // A manual merge from the review queue sticks, and the queue empties.
    let m = w
        .env
        .services()
        .merge_review_pair(
            Actor::staff("tech@msp.example"),
            w.company,
            &w.intune[2].0,
            &w.level["vdi0"],
        )
        .await
        .expect("merged");
    for _ in 0..2 {
        let job = sync_ok(&w).await;
        assert_eq!(job.counts.get("level_review"), Some(&0), "{:?}", job.counts);
        let a = asset_of_level(&w, "vdi0").await;
        assert_eq!(
            (a.id, source_id(&a, "intune")),
            (m.asset_id, Some(w.intune[2].0.as_str()))
        );
    }
    // A device retired in Intune keeps its Level record on its asset.
    w.env
        .ctl
        .delete_object(&w.tid, Kind::Device, &w.intune[0].0, true)
        .expect("device removed");
    sync_ok(&w).await;
    let kept = asset_of_level(&w, "serial").await;
    assert_eq!((kept.id, source_id(&kept, "intune")), (by_serial.id, None));
    assert_eq!(kept.merge.state, MergeState::Single);
    // Every decision is audited.
    for kind in ["asset.unmerge", "asset.merge"] {
        let rows = w.env.audit(w.company, kind).await;
        assert_eq!(rows.len(), 1, "{kind}");
        assert_eq!(rows[0].outcome, Outcome::Success);
    }
    assert!(
        level_audit(&w)
            .await
            .iter()
            .all(|e| e.outcome == Outcome::Success)
    );
    let check = w
        .env
        .services()
        .store_handle()
        .verify_indexes()
        .expect("verify");
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    let _ = SourcesFilter::ALL;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn level_throttling_then_failing_makes_a_partial_job_and_keeps_entra() {
    let w = world().await;
    let contacts_before = snapshot(w.env.services(), w.company).await.contacts.len();
    // The device listing is throttled once (Retry-After: 1, waited), then answers 500 to
    // every retry.
    w.env.ctl.levelio_set_faults(vec![
        Fault {
            kind: FaultKind::Throttle {
                retry_after: Some("1".into()),
            },
            endpoint: Some("devices".into()),
            nth: 1,
            times: 1,
            seen: 0,
        },
        Fault {
            kind: FaultKind::Error {
                status: 500,
                code: "error".into(),
                message: "level is having a bad day".into(),
                retry_after: None,
            },
            endpoint: Some("devices".into()),
            nth: 2,
            times: 0,
            seen: 0,
        },
    ]);
    let started = std::time::Instant::now();
    let job = sync_ok(&w).await;
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After waited"
    );
    assert_eq!(
        w.env.ctl.levelio_counts().get("devices"),
        Some(&4),
        "bounded: 4 attempts"
    );
    assert_eq!(job.warnings.len(), 1, "{:?}", job.warnings);
    assert!(
        job.warnings[0].message.contains("HTTP 500"),
        "{:?}",
        job.warnings
    );
    let rows = level_audit(&w).await;
    let row = rows.last().expect("level audited");
    assert_eq!(row.outcome, Outcome::Warning);
    assert_eq!(row.details["status"], 500);
    assert!(
        row.details["body"]
            .as_str()
            .unwrap_or_default()
            .contains("bad day"),
        "{row:?}"
    );
    let sync_row = w.env.audit(w.company, "sync.identity").await;
    assert!(
        sync_row.iter().any(|e| e.kind == "sync.identity" && e.summary.contains("Level.io devices not synced")),
        "both stories told"
    );
    // Entra and Intune data intact, nothing merged from the failed listing.
    let snap = snapshot(w.env.services(), w.company).await;
    assert_eq!(snap.contacts.len(), contacts_before);
    assert!(snap.assets.iter().all(|a| !a.has_source("levelio")));
    // Level answers again: the next sync merges.
    w.env.ctl.levelio_set_faults(Vec::new());
    let job = sync_ok(&w).await;
    assert!(job.warnings.is_empty(), "{:?}", job.warnings);
    assert_eq!(job.counts.get("level_merged"), Some(&2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_company_syncs_neither_entra_nor_level_and_refuses_decisions() {
    let w = world().await;
    sync_ok(&w).await;
    let merged = asset_of_level(&w, "serial").await;
    w.env
        .services()
        .archive_company(Actor::system(), w.company)
        .await
        .expect("archived");
    let listed = w.env.ctl.levelio_counts().get("devices").copied();
    let queued = w
        .env
        .services()
        .queue_company_sync(Actor::system(), w.company, tenantry::model::Trigger::Manual)
        .await;
    assert!(queued.is_err(), "an archived company is not synced");
    assert_eq!(
        w.env.ctl.levelio_counts().get("devices").copied(),
        listed,
        "Level not listed"
    );
    let refused = w
        .env
        .services()
        .unmerge_asset(Actor::staff("tech@msp.example"), w.company, merged.id)
        .await;
    assert!(
        matches!(refused, Err(DomainError::Conflict(ref m)) if m.contains("archived")),
        "{refused:?}"
    );
    let rows = w.env.audit(w.company, "asset.unmerge").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outcome, Outcome::Failure, "refusals are audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demos_first_sync_merges_contoso_dentals_two_estates() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let demo = tenantry::demo::start(format!("127.0.0.1:{port}"))
        .await
        .expect("demo starts");
    let s = &demo.app.services;
    let contoso = s
        .companies(
            tenantry::domain::companies::CompanyFilter::Active,
            ListQuery::default(),
        )
        .await
        .expect("companies")
        .items
        .into_iter()
        .find(|c| c.name == "Contoso Dental")
        .expect("Contoso Dental")
        .id;
    let g = s.asset_gap_counts(contoso).await.expect("counts");
    assert!(
        demo.info.level.starts_with(&format!("{} merged", g.merged)),
        "{}",
        demo.info.level
    );
    assert!(
        g.merged >= 10,
        "most Windows and Mac devices are in both: {g:?}"
    );
    assert!(
        g.review >= 2,
        "the cloned VMs' shared serial is sent to review: {g:?}"
    );
    assert!(g.unmanaged >= 2, "Level-only servers: {g:?}");
    let all = s
        .assets_filtered(
            Some(contoso),
            ListQuery::new(Some(1), Some(500), None, None, None),
            tenantry::model::AssetFilter::default(),
        )
        .await
        .expect("assets")
        .items;
    // Intune-only phones, warranty dates read (one expired at least), a junk-serial pair
    // merged by hostname.
    assert!(all.iter().any(|a| a.active
        && a.has_source("intune")
        && !a.has_source("levelio")
        && matches!(a.os.as_str(), "iOS" | "Android")));
    let today = chrono::Utc::now().date_naive();
    assert!(
        all.iter()
            .any(|a| a.merge.warranty_end.is_some_and(|d| d < today)),
        "an expired warranty"
    );
    assert!(
        all.iter()
            .any(|a| a.merge.warranty_end.is_some_and(|d| d >= today))
    );
    assert!(
        all.iter().any(|a| a.merge.state == MergeState::Merged
            && a.merge.rule == Some(tenantry::model::MatchRule::Hostname)),
        "a junk serial pair merged by hostname"
    );
    demo.stop().await;
}
