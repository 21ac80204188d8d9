//! The Intune sweep's storage side: paged listings, fingerprints, retirement; and objects
//! repeated within one batch.

use super::apply::*;
use super::tests::{store, user};
use crate::clock::Clock as _;
use crate::model::DeviceRecord;
use crate::store::Store;

/// One complete sweep of round `round`, listed as one page.
fn apply_devices(
    w: &mut crate::store::Writer,
    company_id: u64,
    round: u64,
    devices: Vec<DeviceRecord>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<crate::model::ChangeCounts, crate::store::StoreError> {
    let mut c = apply_device_page(w, company_id, round, devices, now)?;
    c.deactivated += retire_unlisted_devices(w, company_id, round, now)?;
    Ok(c)
}

#[test]
fn devices_write_only_changed_rows_and_keep_vanished_ones_inactive() {
    let (_d, s) = store();
    let now = crate::clock::SystemClock.now();
    let dev = |id: &str, state: &str| DeviceRecord {
        device_id: id.into(),
        hostname: format!("PC-{id}"),
        os: "Windows".into(),
        os_version: "10.0.22631".into(),
        serial_number: format!("SN{id}"),
        compliance_state: state.into(),
        ..Default::default()
    };
    let c = s
        .write_blocking(|w| {
            apply_devices(
                w,
                1,
                1,
                vec![dev("1", "compliant"), dev("2", "noncompliant")],
                now,
            )
        })
        .expect("apply");
    assert_eq!((c.created, c.updated, c.deactivated), (2, 0, 0));
    let c = s
        .write_blocking(|w| {
            apply_devices(
                w,
                1,
                2,
                vec![dev("1", "compliant"), dev("2", "noncompliant")],
                now,
            )
        })
        .expect("apply");
    assert_eq!(
        (c.created, c.updated, c.deactivated),
        (0, 0, 0),
        "unchanged devices are not rewritten"
    );
    let c = s
        .write_blocking(|w| apply_devices(w, 1, 3, vec![dev("1", "inGracePeriod")], now))
        .expect("apply");
    assert_eq!((c.created, c.updated, c.deactivated), (0, 1, 1));
    let assets = s.read_blocking(|r| r.assets_of(1)).expect("read");
    assert_eq!(assets.len(), 2);
}

fn device(id: &str, state: &str) -> DeviceRecord {
    DeviceRecord {
        device_id: id.into(),
        hostname: format!("PC-{id}"),
        os: "Windows".into(),
        os_version: "10.0.22631".into(),
        serial_number: format!("SN{id}"),
        compliance_state: state.into(),
        ..Default::default()
    }
}

fn active_device_ids(s: &Store) -> Vec<String> {
    let mut ids: Vec<String> = s
        .read_blocking(|r| r.assets_of(1))
        .expect("read")
        .into_iter()
        .filter(|a| a.active)
        .map(|a| a.sources[0].external_id.clone())
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_sweep_over_several_pages_retires_only_the_devices_no_page_listed() {
    let (_d, s) = store();
    let now = crate::clock::SystemClock.now();
    let all: Vec<DeviceRecord> = (1..=6)
        .map(|i| device(&i.to_string(), "compliant"))
        .collect();
    s.write_blocking(|w| apply_devices(w, 1, 1, all.clone(), now))
        .expect("first sweep");
    // Round 2 lists devices 1–5 over two pages committed apart; 6 is gone.
    let c1 = s
        .write_blocking(|w| apply_device_page(w, 1, 2, all[..3].to_vec(), now))
        .expect("page 1");
    let c2 = s
        .write_blocking(|w| apply_device_page(w, 1, 2, all[3..5].to_vec(), now))
        .expect("page 2");
    assert_eq!(
        (c1, c2),
        Default::default(),
        "unchanged devices are skipped"
    );
    let retired = s
        .write_blocking(|w| retire_unlisted_devices(w, 1, 2, now))
        .expect("retire");
    assert_eq!(retired, 1);
    assert_eq!(active_device_ids(&s), ["1", "2", "3", "4", "5"]);
    // Round 3 reads only its first page before the listing fails: no retirement is run, so
    // nothing changes; a later complete round retires what is really gone.
    s.write_blocking(|w| apply_device_page(w, 1, 3, all[..2].to_vec(), now))
        .expect("page 1 of a cut listing");
    assert_eq!(active_device_ids(&s), ["1", "2", "3", "4", "5"]);
    let retired = s
        .write_blocking(|w| {
            apply_device_page(w, 1, 4, all[..2].to_vec(), now)?;
            apply_device_page(w, 1, 4, all[3..4].to_vec(), now)?;
            retire_unlisted_devices(w, 1, 4, now)
        })
        .expect("round 4");
    assert_eq!(retired, 2, "3 and 5; 6 is not retired twice");
    assert_eq!(active_device_ids(&s), ["1", "2", "4"]);
    // A retired device that comes back is made active again.
    let c = s
        .write_blocking(|w| {
            apply_devices(
                w,
                1,
                5,
                vec![
                    all[0].clone(),
                    all[1].clone(),
                    all[3].clone(),
                    all[5].clone(),
                ],
                now,
            )
        })
        .expect("round 5");
    assert_eq!((c.created, c.updated, c.deactivated), (0, 1, 0));
    assert_eq!(active_device_ids(&s), ["1", "2", "4", "6"]);
}

#[test]
fn an_unchanged_device_is_skipped_by_fingerprint_and_one_without_a_mark_is_compared() {
    let (_d, s) = store();
    let now = crate::clock::SystemClock.now();
    // An asset synced before marks existed: indexed, no mark.
    s.write_blocking(|w| {
        let id = w.next_id(crate::store::keys::seq::ASSET)?;
        w.index_asset(1, "legacy", id)?;
        let mut a = crate::model::Asset {
            id,
            company_id: 1,
            hostname: "PC-legacy".into(),
            os: "Windows".into(),
            os_version: "10.0.22631".into(),
            serial_number: "SNlegacy".into(),
            compliance_state: "compliant".into(),
            last_check_in: None,
            primary_user_contact_id: None,
            active: true,
            sources: vec![],
            updated_at: now,
            merge: Default::default(),
        };
        a.sources.push(crate::model::AssetSource {
            source: "intune".into(),
            external_id: "legacy".into(),
            last_seen: None,
            details: serde_json::json!({"model": "", "manufacturer": "", "complianceState": "compliant", "isEncrypted": null, "jailBroken": null}),
        });
        w.put_asset(&a)
    })
    .expect("legacy asset");
    let c = s
        .write_blocking(|w| apply_devices(w, 1, 1, vec![device("legacy", "compliant")], now))
        .expect("first sweep");
    assert_eq!(
        (c.created, c.updated, c.deactivated),
        (0, 0, 0),
        "compared field by field: equal, not rewritten"
    );
    // Change the stored asset behind the sync's back: a device whose Intune data did not
    // change is not even read, so the asset stays as it is.
    s.write_blocking(|w| {
        let mut a = w.assets_of(1)?.remove(0);
        a.hostname = "EDITED".into();
        w.put_asset(&a)
    })
    .expect("edit");
    let c = s
        .write_blocking(|w| apply_devices(w, 1, 2, vec![device("legacy", "compliant")], now))
        .expect("second sweep");
    assert_eq!((c.created, c.updated, c.deactivated), (0, 0, 0));
    let a = s.read_blocking(|r| r.assets_of(1)).expect("read").remove(0);
    assert_eq!(
        a.hostname, "EDITED",
        "skipped by fingerprint, asset not read"
    );
    // Intune's data changes: applied in full.
    let c = s
        .write_blocking(|w| apply_devices(w, 1, 3, vec![device("legacy", "noncompliant")], now))
        .expect("third sweep");
    assert_eq!((c.created, c.updated, c.deactivated), (0, 1, 0));
    let a = s.read_blocking(|r| r.assets_of(1)).expect("read").remove(0);
    assert_eq!(
        (a.hostname.as_str(), a.compliance_state.as_str()),
        ("PC-legacy", "noncompliant")
    );
}

#[test]
fn an_object_twice_in_one_batch_is_stored_once_as_last_sent() {
    let (_d, s) = store();
    let now = crate::clock::SystemClock.now();
    let c = s
        .write_blocking(|w| {
            apply_users(
                w,
                1,
                1,
                vec![
                    user("a", "First", None),
                    user("b", "B", None),
                    user("a", "Second", None),
                ],
                SyncPolicy::default(),
                now,
            )
        })
        .expect("users");
    assert_eq!((c.created, c.updated), (2, 1));
    let contacts = s.read_blocking(|r| r.contacts_of(1)).expect("read");
    assert_eq!(contacts.len(), 2);
    let a = s
        .read_blocking(|r| r.contact_by_oid(1, "a"))
        .expect("read")
        .expect("a")
        .0;
    assert_eq!(a.display_name, "Second");
    // A new id for every new contact, none given twice (the next batch continues after).
    s.write_blocking(|w| {
        apply_users(
            w,
            1,
            1,
            vec![user("c", "C", None)],
            SyncPolicy::default(),
            now,
        )
    })
    .expect("users");
    let mut ids: Vec<u64> = s
        .read_blocking(|r| r.contacts_of(1))
        .expect("read")
        .iter()
        .map(|c| c.id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);

    let c = s
        .write_blocking(|w| {
            apply_devices(
                w,
                1,
                1,
                vec![
                    device("1", "compliant"),
                    device("2", "compliant"),
                    device("1", "noncompliant"),
                ],
                now,
            )
        })
        .expect("devices");
    assert_eq!((c.created, c.updated, c.deactivated), (2, 0, 0));
    let assets = s.read_blocking(|r| r.assets_of(1)).expect("read");
    assert_eq!(assets.len(), 2);
    assert!(
        assets
            .iter()
            .any(|a| a.hostname == "PC-1" && a.compliance_state == "noncompliant")
    );
}

#[test]
fn fingerprints_differ_when_any_applied_field_or_the_primary_user_differs() {
    let base = device("1", "compliant");
    let f = device_fingerprint(&base, None);
    assert_eq!(f, device_fingerprint(&base.clone(), None), "stable");
    assert_ne!(f, 0);
    let variants = [
        DeviceRecord {
            hostname: "PC-2".into(),
            ..base.clone()
        },
        DeviceRecord {
            os_version: "10.0.1".into(),
            ..base.clone()
        },
        DeviceRecord {
            serial_number: "X".into(),
            ..base.clone()
        },
        DeviceRecord {
            compliance_state: "noncompliant".into(),
            ..base.clone()
        },
        DeviceRecord {
            model: "M".into(),
            ..base.clone()
        },
        DeviceRecord {
            manufacturer: "Acme".into(),
            ..base.clone()
        },
        DeviceRecord {
            is_encrypted: Some(true),
            ..base.clone()
        },
        DeviceRecord {
            jail_broken: Some("False".into()),
            ..base.clone()
        },
        DeviceRecord {
            last_check_in: Some(crate::clock::SystemClock.now()),
            ..base.clone()
        },
        // A character moved from one field to the next.
        DeviceRecord {
            hostname: "PC-1W".into(),
            os: "indows".into(),
            ..base.clone()
        },
    ];
    for v in &variants {
        assert_ne!(device_fingerprint(v, None), f, "{v:?}");
    }
    assert_ne!(device_fingerprint(&base, Some(7)), f, "primary user");
}
