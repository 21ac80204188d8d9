//! One company's merge, read and written in one write transaction: the Intune records and
//! links the store holds, the Level listing just read, the remembered decisions → the merge →
//! assets, links, review pairs (and, through the index, the Sources lists and gap counters).
//!
//! WHY inside the write transaction rather than read, merge, then write: a staff decision
//! (merge, unmerge, keep apart) committed between the read and the write would be overwritten
//! by a merge that never saw it. The merge is pure and fast (see BENCHMARKS.md), so holding
//! the writer for it costs little.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::merge::{MergeInput, merge};
use super::stored::{apply_records, changed, deactivate, intune_record};
use crate::model::{
    Asset, ExistingAsset, IntuneRecord, LevelRecord, MatchRule, OpenReview, PairDecision,
};
use crate::store::{StoreError, Writer, keys};

/// What one company's merge changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct MergeCounts {
    pub created: u64,
    pub updated: u64,
    /// Assets holding both records after the merge.
    pub merged: u64,
    /// Assets no source sees any more (inactive, kept).
    pub retired: u64,
    /// Duplicate assets that joined another (inactive, with a pointer).
    pub absorbed: u64,
    /// Open review pairs after the merge.
    pub review: u64,
}

/// The round stamp the Intune sweep gives a device it retired (see `apply::retire_unlisted_devices`).
const RETIRED_ROUND: u64 = u64::MAX;

/// The Intune records a company's store holds now: every linked device the sweep has not
/// retired, as its asset says Intune reported it.
fn intune_records(w: &mut Writer, company_id: u64) -> Result<Vec<IntuneRecord>, StoreError> {
    let links = w.asset_devices(company_id)?;
    let marks = w.device_marks(company_id, links.iter().map(|(d, _)| d.as_str()))?;
    let mut out = Vec::with_capacity(links.len());
    for ((device, asset_id), mark) in links.iter().zip(marks) {
        if mark.is_some_and(|(_, round)| round == RETIRED_ROUND) {
            continue;
        }
        let Some(a) = w.asset(company_id, *asset_id)? else {
            continue;
        };
        if let Some(r) = intune_record(&a).filter(|r| r.id == *device) {
            out.push(r);
        }
    }
    Ok(out)
}

/// Merge `company_id`'s Level records (one *complete* listing) with its Intune records and
/// write the outcome. A Level device missing from the listing leaves its asset (retired from
/// the Level side only); an asset neither source sees goes inactive.
pub fn merge_company(
    w: &mut Writer,
    company_id: u64,
    level: Vec<LevelRecord>,
    now: DateTime<Utc>,
) -> Result<MergeCounts, StoreError> {
    let intune = intune_records(w, company_id)?;
    let mut by_asset: BTreeMap<u64, ExistingAsset> = BTreeMap::new();
    let slot = |m: &mut BTreeMap<u64, ExistingAsset>, id: u64| {
        m.entry(id)
            .or_insert_with(|| ExistingAsset {
                company_id,
                asset_id: id,
                ..ExistingAsset::default()
            })
            .asset_id
    };
    let intune_links = w.asset_devices(company_id)?;
    for (d, a) in &intune_links {
        slot(&mut by_asset, *a);
        if let Some(e) = by_asset.get_mut(a) {
            e.intune_id.get_or_insert_with(|| d.clone());
        }
    }
    let level_links = w.level_devices(company_id)?;
    for (d, a) in &level_links {
        slot(&mut by_asset, *a);
        if let Some(e) = by_asset.get_mut(a) {
            e.level_id.get_or_insert_with(|| d.clone());
        }
    }
    let existing: Vec<ExistingAsset> = by_asset.into_values().collect();
    let decisions: Vec<PairDecision> = w
        .pair_decisions(company_id)?
        .into_iter()
        .map(|((i, l), d)| PairDecision {
            company_id,
            intune_id: i,
            level_id: l,
            kind: d.kind,
        })
        .collect();
    let outcome = merge(&MergeInput {
        now,
        intune: &intune,
        level: &level,
        existing: &existing,
        decisions: &decisions,
    });
    let by_i: HashMap<&str, &IntuneRecord> = intune.iter().map(|r| (r.id.as_str(), r)).collect();
    let by_l: HashMap<&str, &LevelRecord> = level.iter().map(|r| (r.id.as_str(), r)).collect();
    let held_i: HashSet<&str> = outcome
        .review
        .iter()
        .map(|r| r.intune_id.as_str())
        .collect();
    let held_l: HashSet<&str> = outcome.review.iter().map(|r| r.level_id.as_str()).collect();
    let linked_i: HashMap<&str, u64> = intune_links.iter().map(|(d, a)| (d.as_str(), *a)).collect();
    let linked_l: HashMap<&str, u64> = level_links.iter().map(|(d, a)| (d.as_str(), *a)).collect();
    let mut counts = MergeCounts::default();
    // Where each record lives after the merge (for the review pairs).
    let mut home_i: HashMap<String, u64> = HashMap::new();
    let mut home_l: HashMap<String, u64> = HashMap::new();
    for m in &outcome.assets {
        let i = m.intune_id.as_deref().and_then(|x| by_i.get(x).copied());
        let l = m.level_id.as_deref().and_then(|x| by_l.get(x).copied());
        let in_review = i.is_some_and(|i| held_i.contains(i.id.as_str()))
            || l.is_some_and(|l| held_l.contains(l.id.as_str()));
        let found = match m.asset_id {
            Some(id) => w.asset(company_id, id)?,
            None => None,
        };
        let fresh = found.is_none();
        let mut a = match found {
            Some(a) => a,
            None => blank(company_id, w.next_id(keys::seq::ASSET)?, now),
        };
        let before = a.clone();
        // A pair that stays linked keeps the rule that first joined it (what the page shows).
        let rule = match (m.rule, a.merge.rule) {
            (MatchRule::Linked, Some(r)) if i.is_some() && l.is_some() => r,
            (r, _) => r,
        };
        apply_records(&mut a, i, l, rule, in_review, now);
        if fresh || changed(&before, &a) {
            a.updated_at = now;
            w.put_asset(&a)?;
            if fresh {
                counts.created += 1;
            } else {
                counts.updated += 1;
            }
        }
        if i.is_some() && l.is_some() {
            counts.merged += 1;
        }
        if let Some(i) = i {
            if linked_i.get(i.id.as_str()) != Some(&a.id) {
                w.link_intune_device(company_id, &i.id, a.id)?;
            }
            home_i.insert(i.id.clone(), a.id);
        }
        if let Some(l) = l {
            if linked_l.get(l.id.as_str()) != Some(&a.id) {
                w.link_level_device(company_id, &l.id, a.id)?;
            }
            home_l.insert(l.id.clone(), a.id);
        }
    }
    for (from, into) in &outcome.absorbed {
        if let Some(mut a) = w.asset(company_id, *from)?.filter(|a| a.active) {
            deactivate(&mut a, Some(*into));
            a.updated_at = now;
            w.put_asset(&a)?;
            counts.absorbed += 1;
        }
    }
    for id in &outcome.retired {
        if let Some(mut a) = w.asset(company_id, *id)?.filter(|a| a.active) {
            deactivate(&mut a, None);
            a.updated_at = now;
            w.put_asset(&a)?;
            counts.retired += 1;
        }
    }
    // The queue becomes exactly this merge's open pairs; a pair already open keeps its date.
    let old: HashMap<(String, String), OpenReview> = w
        .review_items(company_id)?
        .into_iter()
        .map(|r| ((r.intune_id.clone(), r.level_id.clone()), r))
        .collect();
    let wanted: HashSet<(String, String)> = outcome
        .review
        .iter()
        .map(|r| (r.intune_id.clone(), r.level_id.clone()))
        .collect();
    for (i, l) in old.keys().filter(|k| !wanted.contains(*k)) {
        w.remove_review_item(company_id, i, l)?;
    }
    for r in &outcome.review {
        let (Some(i), Some(l)) = (
            by_i.get(r.intune_id.as_str()),
            by_l.get(r.level_id.as_str()),
        ) else {
            continue;
        };
        let item = OpenReview {
            company_id,
            intune_id: r.intune_id.clone(),
            level_id: r.level_id.clone(),
            reason: r.reason,
            intune_asset: home_i.get(&r.intune_id).copied(),
            level_asset: home_l.get(&r.level_id).copied(),
            intune_hostname: i.hostname.clone(),
            intune_serial: i.serial_number.clone(),
            level_hostname: l.hostname.clone(),
            level_serial: l.serial_number.clone(),
            since: old
                .get(&(r.intune_id.clone(), r.level_id.clone()))
                .map_or(now, |o| o.since),
        };
        let same = old
            .get(&(r.intune_id.clone(), r.level_id.clone()))
            .is_some_and(|o| *o == item);
        if !same {
            w.put_review_item(&item)?;
        }
        counts.review += 1;
    }
    Ok(counts)
}

/// A new asset before its records are applied.
pub(super) fn blank(company_id: u64, id: u64, now: DateTime<Utc>) -> Asset {
    Asset {
        id,
        company_id,
        hostname: String::new(),
        os: String::new(),
        os_version: String::new(),
        serial_number: String::new(),
        compliance_state: String::new(),
        last_check_in: None,
        primary_user_contact_id: None,
        active: true,
        sources: Vec::new(),
        updated_at: now,
        merge: Default::default(),
    }
}
