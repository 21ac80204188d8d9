//! Between stored assets and the merge's records: what a stored asset says each source
//! reported, and how a merge decision is written back onto an asset.
//!
//! WHY the Intune record is kept in the Intune source's `details`: once merged, an asset's
//! top-level hostname or serial may be Level's (provenance rule 5), so the top level no longer
//! tells what Intune said. The Level phase therefore writes Intune's own values into the
//! Intune source (`hostname`, `serialNumber`, `os`, ...). The Intune sweep rewrites that
//! source without those keys whenever the device changed, and then sets the top level from
//! Intune: so "no `hostname` key" means "the top level is Intune's, fresh from the sweep".

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::provenance::{fields, level_seen};
use crate::model::{
    Asset, AssetSource, FieldValue, IntuneRecord, LevelRecord, MatchRule, MergeState, SourceKind,
};

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The Intune record an asset holds, if any.
pub fn intune_record(a: &Asset) -> Option<IntuneRecord> {
    let s = a
        .sources
        .iter()
        .find(|s| s.source == SourceKind::Intune.as_str())?;
    let d = &s.details;
    let snap = d.get("hostname").is_some();
    let pick = |key: &str, top: &str| {
        if snap {
            text(d, key).unwrap_or_default()
        } else {
            top.to_string()
        }
    };
    Some(IntuneRecord {
        company_id: a.company_id,
        id: s.external_id.clone(),
        hostname: pick("hostname", &a.hostname),
        serial_number: pick("serialNumber", &a.serial_number),
        os: pick("os", &a.os),
        os_version: pick("osVersion", &a.os_version),
        compliance_state: text(d, "complianceState").unwrap_or_else(|| a.compliance_state.clone()),
        enrolled_at: None,
        primary_user: None,
        manufacturer: text(d, "manufacturer").unwrap_or_default(),
        model: text(d, "model").unwrap_or_default(),
        last_seen: s.last_seen,
    })
}

/// The Level record an asset holds, if any (kept whole in the Level source's details).
pub fn level_record(a: &Asset) -> Option<LevelRecord> {
    let s = a
        .sources
        .iter()
        .find(|s| s.source == SourceKind::Level.as_str())?;
    serde_json::from_value(s.details.clone()).ok()
}

/// Write a merge's decision onto `a`: its sources, its top-level fields from the provenance,
/// its merge state and warranty. `a.id`, `a.company_id` and the primary user stay.
pub fn apply_records(
    a: &mut Asset,
    i: Option<&IntuneRecord>,
    l: Option<&LevelRecord>,
    rule: MatchRule,
    in_review: bool,
    now: DateTime<Utc>,
) {
    let f = fields(i, l, now);
    let get = |k: &str| f.get(k).map(|v| v.value.clone()).unwrap_or_default();
    let old_intune = a
        .sources
        .iter()
        .find(|s| s.source == SourceKind::Intune.as_str())
        .cloned();
    let mut sources = Vec::new();
    if let Some(i) = i {
        let mut details = old_intune
            .map(|s| s.details)
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        if let Some(m) = details.as_object_mut() {
            for (k, v) in [
                ("hostname", &i.hostname),
                ("serialNumber", &i.serial_number),
                ("os", &i.os),
                ("osVersion", &i.os_version),
                ("complianceState", &i.compliance_state),
                ("manufacturer", &i.manufacturer),
                ("model", &i.model),
            ] {
                m.insert(k.into(), json!(v));
            }
        }
        sources.push(AssetSource {
            source: SourceKind::Intune.as_str().into(),
            external_id: i.id.clone(),
            last_seen: i.last_seen,
            details,
        });
    }
    if let Some(l) = l {
        sources.push(AssetSource {
            source: SourceKind::Level.as_str().into(),
            external_id: l.id.clone(),
            last_seen: level_seen(l, now),
            details: serde_json::to_value(l).unwrap_or(Value::Null),
        });
    }
    sources.sort_by(|x, y| x.source.cmp(&y.source));
    a.sources = sources;
    a.hostname = get("hostname");
    a.serial_number = get("serial_number");
    a.os = get("os");
    a.os_version = get("os_version");
    a.compliance_state = i.map(|i| i.compliance_state.clone()).unwrap_or_default();
    a.last_check_in = [
        i.and_then(|i| i.last_seen),
        l.and_then(|l| level_seen(l, now)),
    ]
    .into_iter()
    .flatten()
    .max();
    if i.is_none() {
        // The primary user is Intune's: a Level-only asset has none.
        a.primary_user_contact_id = None;
    }
    a.active = true;
    let warranty = f.get("warranty_end").map(|v| v.value.clone());
    a.merge.warranty_end = warranty
        .as_deref()
        .and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok());
    a.merge.warranty_text = warranty.filter(|_| a.merge.warranty_end.is_none());
    a.merge.state = if in_review {
        MergeState::NeedsReview
    } else if i.is_some() && l.is_some() {
        MergeState::Merged
    } else {
        MergeState::Single
    };
    a.merge.rule = Some(rule);
    a.merge.absorbed_into = None;
    a.merge.fields = f;
}

/// A stored asset's provenance as the asset page shows it: field → value, source, seen.
pub fn provenance(a: &Asset) -> BTreeMap<String, FieldValue> {
    a.merge.fields.clone()
}

/// Mark `a` inactive (kept with its history): no source sees it, or it joined `into`.
pub fn deactivate(a: &mut Asset, into: Option<u64>) {
    a.active = false;
    a.merge.state = MergeState::Inactive;
    a.merge.absorbed_into = into;
}

/// Does the asset differ from `before` in anything but its `updated_at`?
pub fn changed(before: &Asset, after: &Asset) -> bool {
    let mut b = before.clone();
    b.updated_at = after.updated_at;
    b != *after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap_or_default()
    }

    fn asset() -> Asset {
        Asset {
            id: 1,
            company_id: 1,
            hostname: "con-lt-0001".into(),
            os: "Windows".into(),
            os_version: "10.0".into(),
            serial_number: "ab12cd34".into(),
            compliance_state: "compliant".into(),
            last_check_in: Some(t(0)),
            primary_user_contact_id: Some(3),
            active: true,
            sources: vec![AssetSource {
                source: "intune".into(),
                external_id: "i1".into(),
                last_seen: Some(t(0)),
                details: json!({"model": "Latitude", "manufacturer": "Dell", "complianceState": "compliant"}),
            }],
            updated_at: t(0),
            merge: Default::default(),
        }
    }

    #[test]
    fn intune_values_survive_a_level_hostname_and_a_fresh_sweep_wins_again() {
        let mut a = asset();
        let i = intune_record(&a).unwrap_or_default();
        assert_eq!(
            (i.hostname.as_str(), i.serial_number.as_str()),
            ("con-lt-0001", "ab12cd34")
        );
        let l = LevelRecord {
            company_id: 1,
            id: "l1".into(),
            hostname: "CON-LT-0001.contoso.example".into(),
            serial_number: "AB12 CD34".into(),
            platform: "Windows".into(),
            last_seen: Some(t(60)),
            warranty: Some("2027-03-14".into()),
            ..Default::default()
        };
        apply_records(&mut a, Some(&i), Some(&l), MatchRule::Serial, false, t(100));
        assert_eq!(
            a.hostname, "CON-LT-0001.contoso.example",
            "Level saw it last"
        );
        assert_eq!(a.merge.state, MergeState::Merged);
        assert_eq!(a.merge.warranty_end, NaiveDate::from_ymd_opt(2027, 3, 14));
        assert_eq!(a.primary_user_contact_id, Some(3));
        assert_eq!(a.last_check_in, Some(t(60)));
        // What Intune said is still read back as Intune's.
        let again = intune_record(&a).unwrap_or_default();
        assert_eq!(again, i);
        assert_eq!(level_record(&a), Some(l));
        // The sweep rewrites the Intune source without the snapshot and the top level from
        // Intune: the record follows the top level again.
        a.hostname = "con-lt-0009".into();
        for s in a.sources.iter_mut().filter(|s| s.source == "intune") {
            s.details = json!({"model": "Latitude"});
        }
        assert_eq!(
            intune_record(&a).map(|r| r.hostname),
            Some("con-lt-0009".into())
        );
    }

    #[test]
    fn an_unreadable_warranty_is_kept_as_text_and_a_level_only_asset_has_no_user() {
        let mut a = asset();
        let l = LevelRecord {
            company_id: 1,
            id: "l1".into(),
            hostname: "srv".into(),
            warranty: Some("see invoice".into()),
            ..Default::default()
        };
        apply_records(&mut a, None, Some(&l), MatchRule::Single, true, t(0));
        assert_eq!(a.merge.warranty_end, None);
        assert_eq!(a.merge.warranty_text.as_deref(), Some("see invoice"));
        assert_eq!(a.merge.state, MergeState::NeedsReview);
        assert_eq!(a.primary_user_contact_id, None);
        assert_eq!(a.compliance_state, "");
        assert!(!a.has_source("intune"));
        deactivate(&mut a, Some(7));
        assert_eq!(
            (a.active, a.merge.state, a.merge.absorbed_into),
            (false, MergeState::Inactive, Some(7))
        );
    }
}
