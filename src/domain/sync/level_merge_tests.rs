//! The Level merge (`assets::outcome`) against a real store: the Intune sweep writes assets, `merge_company`
//! merges a Level listing into them, staff decisions stick across merges, the Sources lists
//! and gap counters follow, and the indexes stay consistent.

use chrono::{DateTime, Duration, Utc};

use super::apply::{apply_device_page, retire_unlisted_devices};
use crate::crypto::SecretBox;
use crate::domain::DomainError;
use crate::domain::assets::decide::{keep_apart_in, merge_assets_in, unmerge_asset_in};
use crate::domain::assets::outcome::{MergeCounts, merge_company};
use crate::model::{
    Actor, Asset, DeviceRecord, LevelRecord, MergeState, ReviewReason, SourcesFilter,
};
use crate::store::{Store, Writer};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let s = Store::open(&dir.path().join("t.redb"), SecretBox::from_key([5; 32]))
        .unwrap_or_else(|e| panic!("open: {e}"));
    (dir, s)
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
}

fn intune(id: &str, host: &str, serial: &str, os: &str) -> DeviceRecord {
    DeviceRecord {
        device_id: id.into(),
        hostname: host.into(),
        os: os.into(),
        os_version: "10.0".into(),
        serial_number: serial.into(),
        compliance_state: "compliant".into(),
        last_check_in: Some(t0() - Duration::hours(2)),
        ..Default::default()
    }
}

fn level(id: &str, host: &str, serial: &str, platform: &str) -> LevelRecord {
    LevelRecord {
        company_id: 1,
        id: id.into(),
        hostname: host.into(),
        serial_number: serial.into(),
        platform: platform.into(),
        role: "workstation".into(),
        last_seen: Some(t0() - Duration::hours(1)),
        warranty: Some("2027-01-31".into()),
        ..Default::default()
    }
}

/// One complete Intune sweep.
fn sweep(s: &Store, round: u64, devices: Vec<DeviceRecord>) {
    s.write_blocking(|w| {
        apply_device_page(w, 1, round, devices, t0())?;
        retire_unlisted_devices(w, 1, round, t0())
    })
    .unwrap_or_else(|e: crate::store::StoreError| panic!("sweep: {e}"));
}

fn merge_level(s: &Store, records: Vec<LevelRecord>) -> MergeCounts {
    s.write_blocking(|w| merge_company(w, 1, records, t0()))
        .unwrap_or_else(|e| panic!("merge: {e}"))
}

fn assets(s: &Store) -> Vec<Asset> {
    s.read_blocking(|r| r.assets_of(1))
        .unwrap_or_else(|e| panic!("read: {e}"))
}

/// (hostname, intune id, level id, state) of every active asset, sorted.
fn shape(s: &Store) -> Vec<(String, Option<String>, Option<String>, MergeState)> {
    let id = |a: &Asset, src: &str| {
        a.sources
            .iter()
            .find(|x| x.source == src)
            .map(|x| x.external_id.clone())
    };
    let mut v: Vec<_> = assets(s)
        .into_iter()
        .filter(|a| a.active)
        .map(|a| {
            (
                a.hostname.to_lowercase(),
                id(&a, "intune"),
                id(&a, "levelio"),
                a.merge.state,
            )
        })
        .collect();
    v.sort();
    v
}

fn count(s: &Store, f: SourcesFilter) -> u64 {
    s.read_blocking(|r| r.asset_sources_count(Some(1), f))
        .unwrap_or_else(|e| panic!("count: {e}"))
}

fn asset_of_level(s: &Store, level_id: &str) -> u64 {
    s.read_blocking(|r| r.asset_id_by_level_device(1, level_id))
        .unwrap_or_else(|e| panic!("read: {e}"))
        .unwrap_or_else(|| panic!("{level_id} not linked"))
}

fn write<T>(
    s: &Store,
    f: impl FnOnce(&mut Writer) -> Result<T, DomainError>,
) -> Result<T, DomainError> {
    s.write_blocking(f)
}

fn check_indexes(s: &Store) {
    let check = s.verify_indexes().unwrap_or_else(|e| panic!("verify: {e}"));
    assert!(check.problems.is_empty(), "{:?}", check.problems);
}

fn estate() -> (Vec<DeviceRecord>, Vec<LevelRecord>) {
    let intune = vec![
        intune("i1", "con-lt-0001", "ab12cd34", "Windows"),
        intune("i2", "con-lt-0002", "Default string", "Windows"),
        intune("i3", "con-ph-0001", "F2LXYZ", "iOS"),
        intune("i4", "con-ws-0004", "VMW-1", "Windows"),
        intune("i5", "con-lt-0005", "NOAGENT5", "Windows"),
    ];
    let level = vec![
        level("l1", "CON-LT-0001.contoso.example", "AB12 CD34", "Windows"),
        level("l2", "CON-LT-0002", "To be filled by O.E.M.", "Windows"),
        level("l3", "CON-SRV-01", "SRV1", "Linux"),
        level("l4", "CON-VDI-00", "VMW-1", "Windows"),
        level("l5", "CON-VDI-01", "VMW-1", "Windows"),
    ];
    (intune, level)
}

#[test]
fn a_level_listing_merges_into_the_intune_assets_and_the_lists_follow() {
    let (_d, s) = store();
    let (i, l) = estate();
    sweep(&s, 1, i);
    let c = merge_level(&s, l.clone());
    assert_eq!((c.created, c.merged, c.review), (3, 2, 2), "{c:?}");
    let some = |x: &str| Some(x.to_string());
    assert_eq!(
        shape(&s),
        vec![
            (
                "con-lt-0001.contoso.example".into(),
                some("i1"),
                some("l1"),
                MergeState::Merged
            ),
            (
                "con-lt-0002".into(),
                some("i2"),
                some("l2"),
                MergeState::Merged
            ),
            ("con-lt-0005".into(), some("i5"), None, MergeState::Single),
            ("con-ph-0001".into(), some("i3"), None, MergeState::Single),
            ("con-srv-01".into(), None, some("l3"), MergeState::Single),
            (
                "con-vdi-00".into(),
                None,
                some("l4"),
                MergeState::NeedsReview
            ),
            (
                "con-vdi-01".into(),
                None,
                some("l5"),
                MergeState::NeedsReview
            ),
            (
                "con-ws-0004".into(),
                some("i4"),
                None,
                MergeState::NeedsReview
            ),
        ]
    );
    assert_eq!(count(&s, SourcesFilter::Merged), 2);
    assert_eq!(count(&s, SourcesFilter::IntuneOnly), 3);
    assert_eq!(
        count(&s, SourcesFilter::NoAgent),
        2,
        "i4 and i5; the phone is no gap"
    );
    assert_eq!(count(&s, SourcesFilter::LevelOnly), 3);
    assert_eq!(count(&s, SourcesFilter::NeedsReview), 3);
    let review = s.read_blocking(|r| r.review_items(1)).unwrap_or_default();
    assert_eq!(review.len(), 2);
    assert!(
        review
            .iter()
            .all(|r| r.reason == ReviewReason::SerialSharedByMany && r.intune_id == "i4")
    );
    assert_eq!(s.read_blocking(|r| r.review_count(1)).unwrap_or(0), 2);
    // The merged asset kept Intune's compliance and user side and took Level's warranty.
    let a = assets(&s)
        .into_iter()
        .find(|a| a.merge.state == MergeState::Merged && a.hostname.starts_with("CON-LT-0001"))
        .unwrap_or_else(|| panic!("merged"));
    assert_eq!(a.compliance_state, "compliant");
    assert_eq!(
        a.merge.warranty_end.map(|d| d.to_string()).as_deref(),
        Some("2027-01-31")
    );
    assert_eq!(
        a.merge.fields.get("compliance_state").map(|f| f.source),
        Some(crate::model::SourceKind::Intune)
    );
    assert_eq!(
        a.merge.fields.get("hostname").map(|f| f.source),
        Some(crate::model::SourceKind::Level)
    );
    // A second merge of the same listing changes nothing.
    let again = merge_level(&s, l);
    assert_eq!((again.created, again.updated), (0, 0), "{again:?}");
    check_indexes(&s);
}

#[test]
fn decisions_stick_across_merges_and_removals_keep_the_other_record() {
    let (_d, s) = store();
    let (i, l) = estate();
    sweep(&s, 1, i.clone());
    merge_level(&s, l.clone());
    let by = Actor::staff("tech@msp.example");
    // Unmerge i1/l1: the Level record gets an asset of its own, and keeps it.
    let merged = asset_of_level(&s, "l1");
    let u =
        write(&s, |w| unmerge_asset_in(w, 1, merged, &by, t0())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(u.intune_asset, merged);
    for _ in 0..2 {
        merge_level(&s, l.clone());
        assert_eq!(asset_of_level(&s, "l1"), u.level_asset, "unmerge sticks");
    }
    // Unmerging an asset with one record is refused with a reason.
    let again = write(&s, |w| unmerge_asset_in(w, 1, merged, &by, t0()));
    assert!(
        matches!(again, Err(DomainError::Validation(_))),
        "{again:?}"
    );
    // Keep i4/l4 apart; merge i4 with l5 by hand: the queue empties, both stick.
    write(&s, |w| keep_apart_in(w, 1, "i4", "l4", &by, t0())).unwrap_or_else(|e| panic!("{e}"));
    let i4 = s
        .read_blocking(|r| r.asset_id_by_device(1, "i4"))
        .unwrap_or_default()
        .unwrap_or_default();
    let l5 = asset_of_level(&s, "l5");
    let m =
        write(&s, |w| merge_assets_in(w, 1, i4, l5, &by, t0())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.asset_id, i4.min(l5));
    assert_eq!(s.read_blocking(|r| r.review_count(1)).unwrap_or(9), 0);
    let absorbed = s
        .read_blocking(|r| r.asset(1, m.absorbed))
        .unwrap_or_default()
        .unwrap_or_else(|| panic!("absorbed"));
    assert_eq!(
        (absorbed.active, absorbed.merge.absorbed_into),
        (false, Some(m.asset_id))
    );
    for _ in 0..2 {
        let c = merge_level(&s, l.clone());
        assert_eq!(
            c.review, 0,
            "kept apart and merged pairs are not reviewed again"
        );
        assert_eq!(asset_of_level(&s, "l5"), m.asset_id, "manual merge sticks");
    }
    // A bad merge is refused: two Intune assets.
    let i3 = s
        .read_blocking(|r| r.asset_id_by_device(1, "i3"))
        .unwrap_or_default()
        .unwrap_or_default();
    let bad = write(&s, |w| merge_assets_in(w, 1, i3, merged, &by, t0()));
    assert!(matches!(bad, Err(DomainError::Validation(_))), "{bad:?}");
    // i2 leaves Intune: its asset keeps the Level record. l3 leaves Level: the server's asset
    // goes inactive (no source sees it), kept.
    let srv = asset_of_level(&s, "l3");
    let mut fewer = i.clone();
    fewer.retain(|d| d.device_id != "i2");
    sweep(&s, 2, fewer);
    let mut lfewer = l.clone();
    lfewer.retain(|d| d.id != "l3");
    merge_level(&s, lfewer);
    let a2 = s
        .read_blocking(|r| r.asset(1, asset_of_level(&s, "l2")))
        .unwrap_or_default()
        .unwrap_or_else(|| panic!("l2"));
    assert!(
        a2.active && a2.has_source("levelio") && !a2.has_source("intune"),
        "{a2:?}"
    );
    let gone = s
        .read_blocking(|r| r.asset(1, srv))
        .unwrap_or_default()
        .unwrap_or_else(|| panic!("srv"));
    assert_eq!(
        (gone.active, gone.merge.state),
        (false, MergeState::Inactive)
    );
    check_indexes(&s);
}

#[test]
fn existing_duplicates_merge_on_the_next_sync() {
    let (_d, s) = store();
    // Level first sees a machine Intune does not list yet: a Level-only asset.
    merge_level(&s, vec![level("l1", "CON-LT-0001", "AB12CD34", "Windows")]);
    let level_asset = asset_of_level(&s, "l1");
    // Intune lists it later: the sweep makes an Intune-only asset, the merge joins them.
    sweep(
        &s,
        1,
        vec![intune("i1", "con-lt-0001", "ab12cd34", "Windows")],
    );
    let intune_asset = s
        .read_blocking(|r| r.asset_id_by_device(1, "i1"))
        .unwrap_or_default()
        .unwrap_or_default();
    assert_ne!(level_asset, intune_asset);
    let c = merge_level(&s, vec![level("l1", "CON-LT-0001", "AB12CD34", "Windows")]);
    assert_eq!((c.merged, c.absorbed), (1, 1), "{c:?}");
    let keep = level_asset.min(intune_asset);
    assert_eq!(asset_of_level(&s, "l1"), keep);
    assert_eq!(
        s.read_blocking(|r| r.asset_id_by_device(1, "i1"))
            .unwrap_or_default(),
        Some(keep)
    );
    assert_eq!(count(&s, SourcesFilter::Merged), 1);
    assert_eq!(
        count(&s, SourcesFilter::LevelOnly) + count(&s, SourcesFilter::IntuneOnly),
        0
    );
    check_indexes(&s);
}
