//! What staff decide about merged assets (docs/levelio.md#merge-rules, rule 6): merge two
//! assets (from the review queue or by hand), keep a reviewed pair apart, unmerge an asset.
//! Each takes effect at once, in one write transaction with its audit entry, and is
//! remembered as a pair decision so the next sync's merge keeps it.

use chrono::{DateTime, Utc};

use super::stored::{apply_records, changed, deactivate, intune_record, level_record};
use crate::domain::companies::editable_company;
use crate::domain::{DomainError, DomainResult, Services};
use crate::model::{
    Actor, Asset, MatchRule, MergeState, NewAuditEvent, PairDecisionKind, StoredDecision,
    ValidationError,
};
use crate::store::{Writer, keys};

/// What a merge did: the asset that holds both records now, and the one that went inactive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Merged {
    pub asset_id: u64,
    pub absorbed: u64,
}

/// What an unmerge did: the asset that keeps the Intune record, and the one that holds the
/// Level record now (a new asset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Unmerged {
    pub intune_asset: u64,
    pub level_asset: u64,
}

fn active_asset(w: &Writer, company_id: u64, id: u64) -> DomainResult<Asset> {
    let a = w
        .asset(company_id, id)?
        .ok_or(DomainError::NotFound("asset"))?;
    if !a.active {
        return Err(DomainError::Conflict(format!(
            "asset {id} ({}) is inactive: no source sees it now",
            a.hostname
        )));
    }
    Ok(a)
}

fn remember(
    w: &mut Writer,
    company_id: u64,
    intune_id: &str,
    level_id: &str,
    kind: PairDecisionKind,
    by: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let d = StoredDecision {
        kind,
        by: by.0.clone(),
        at: now,
    };
    w.put_pair_decision(company_id, intune_id, level_id, &d)?;
    Ok(())
}

/// Close every review pair naming `intune_id` or `level_id` (settled now) and put the other
/// assets of those pairs back to their plain state when nothing else holds them in review.
fn close_reviews_of(
    w: &mut Writer,
    company_id: u64,
    intune_id: &str,
    level_id: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let open = w.review_items(company_id)?;
    let mut touched = Vec::new();
    for r in open
        .iter()
        .filter(|r| r.intune_id == intune_id || r.level_id == level_id)
    {
        w.remove_review_item(company_id, &r.intune_id, &r.level_id)?;
        touched.extend(w.asset_id_by_device(company_id, &r.intune_id)?);
        touched.extend(w.asset_id_by_level_device(company_id, &r.level_id)?);
    }
    touched.sort_unstable();
    touched.dedup();
    for id in touched {
        refresh_review_state(w, company_id, id, now)?;
    }
    Ok(())
}

/// An asset marked *needs review* whose records are in no open pair any more goes back to
/// single or merged.
pub(super) fn refresh_review_state(
    w: &mut Writer,
    company_id: u64,
    asset_id: u64,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let Some(mut a) = w.asset(company_id, asset_id)? else {
        return Ok(());
    };
    if a.merge.state != MergeState::NeedsReview {
        return Ok(());
    }
    let ids: Vec<String> = a.sources.iter().map(|s| s.external_id.clone()).collect();
    let still = w
        .review_items(company_id)?
        .iter()
        .any(|r| ids.contains(&r.intune_id) || ids.contains(&r.level_id));
    if !still {
        a.merge.state = if a.has_source("intune") && a.has_source("levelio") {
            MergeState::Merged
        } else {
            MergeState::Single
        };
        a.updated_at = now;
        w.put_asset(&a)?;
    }
    Ok(())
}

/// Merge two assets of a company: one holding only an Intune record, the other only a Level
/// record. The older asset (lower id) survives; the other goes inactive pointing at it.
pub fn merge_assets_in(
    w: &mut Writer,
    company_id: u64,
    a: u64,
    b: u64,
    by: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<Merged> {
    if a == b {
        return Err(ValidationError::new("asset_ids", "name two different assets").into());
    }
    let (x, y) = (
        active_asset(w, company_id, a)?,
        active_asset(w, company_id, b)?,
    );
    let only = |s: &Asset, src: &str| s.has_source(src) && s.sources.len() == 1;
    let (ia, la) = if only(&x, "intune") && only(&y, "levelio") {
        (&x, &y)
    } else if only(&x, "levelio") && only(&y, "intune") {
        (&y, &x)
    } else {
        return Err(ValidationError::new(
            "asset_ids",
            "name one asset with only an Intune record and one with only a Level record",
        )
        .into());
    };
    let (Some(i), Some(l)) = (intune_record(ia), level_record(la)) else {
        return Err(
            ValidationError::new("asset_ids", "an asset's source record is unreadable").into(),
        );
    };
    let (keep, gone) = if a < b {
        (x.clone(), y)
    } else {
        (y, x.clone())
    };
    let mut keep = keep;
    remember(
        w,
        company_id,
        &i.id,
        &l.id,
        PairDecisionKind::Merge,
        by,
        now,
    )?;
    apply_records(&mut keep, Some(&i), Some(&l), MatchRule::Manual, false, now);
    keep.updated_at = now;
    let mut gone = gone;
    deactivate(&mut gone, Some(keep.id));
    gone.updated_at = now;
    w.put_asset(&keep)?;
    w.put_asset(&gone)?;
    w.link_intune_device(company_id, &i.id, keep.id)?;
    w.link_level_device(company_id, &l.id, keep.id)?;
    close_reviews_of(w, company_id, &i.id, &l.id, now)?;
    Ok(Merged {
        asset_id: keep.id,
        absorbed: gone.id,
    })
}

/// Split a merged asset back into its Intune and Level records, remembered as *keep apart*:
/// the asset keeps the Intune record, a new asset takes the Level record.
pub fn unmerge_asset_in(
    w: &mut Writer,
    company_id: u64,
    asset_id: u64,
    by: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<Unmerged> {
    let mut a = active_asset(w, company_id, asset_id)?;
    let (Some(i), Some(l)) = (intune_record(&a), level_record(&a)) else {
        return Err(ValidationError::new(
            "asset_id",
            "holds only one source's record: there is nothing to unmerge",
        )
        .into());
    };
    remember(
        w,
        company_id,
        &i.id,
        &l.id,
        PairDecisionKind::KeepApart,
        by,
        now,
    )?;
    let before = a.clone();
    apply_records(&mut a, Some(&i), None, MatchRule::Single, false, now);
    if changed(&before, &a) {
        a.updated_at = now;
    }
    w.put_asset(&a)?;
    let id = w.next_id(keys::seq::ASSET)?;
    let mut split = super::outcome::blank(company_id, id, now);
    apply_records(&mut split, None, Some(&l), MatchRule::Single, false, now);
    w.put_asset(&split)?;
    w.link_level_device(company_id, &l.id, id)?;
    Ok(Unmerged {
        intune_asset: a.id,
        level_asset: id,
    })
}

/// Keep a reviewed pair apart: remembered, the pair leaves the queue.
pub fn keep_apart_in(
    w: &mut Writer,
    company_id: u64,
    intune_id: &str,
    level_id: &str,
    by: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    if w.review_item(company_id, intune_id, level_id)?.is_none() {
        return Err(DomainError::NotFound("review pair"));
    }
    remember(
        w,
        company_id,
        intune_id,
        level_id,
        PairDecisionKind::KeepApart,
        by,
        now,
    )?;
    w.remove_review_item(company_id, intune_id, level_id)?;
    for id in [
        w.asset_id_by_device(company_id, intune_id)?,
        w.asset_id_by_level_device(company_id, level_id)?,
    ]
    .into_iter()
    .flatten()
    {
        refresh_review_state(w, company_id, id, now)?;
    }
    Ok(())
}

impl Services {
    /// Audit a refused decision (what was asked and why not) and hand the refusal back.
    async fn refused<T>(
        &self,
        by: &Actor,
        company_id: u64,
        kind: &str,
        what: String,
        e: DomainError,
    ) -> DomainResult<T> {
        if !matches!(e, DomainError::Store(_) | DomainError::Internal(_)) {
            let _ = self
                .record(
                    NewAuditEvent::new(
                        self.now(),
                        by.clone(),
                        kind,
                        format!("{what} refused: {e}"),
                    )
                    .company(company_id)
                    .failed(),
                )
                .await;
        }
        Err(e)
    }

    /// Merge two assets of a company (`POST …/assets/merge`): one Intune-only, one Level-only.
    /// Remembered: the pair stays merged across syncs. Audited (`asset.merge`).
    pub async fn merge_assets(
        &self,
        by: Actor,
        company_id: u64,
        a: u64,
        b: u64,
    ) -> DomainResult<Merged> {
        let now = self.now();
        let actor = by.clone();
        let done = self
            .store
            .write(move |w| {
                let company = editable_company(w, company_id)?;
                let m = merge_assets_in(w, company_id, a, b, &actor, now)?;
                w.append_audit(
                    NewAuditEvent::new(now, actor, "asset.merge", format!(
                        "Assets {a} and {b} of {} merged by hand into asset {} (remembered)",
                        company.name, m.asset_id
                    ))
                    .company(company_id)
                    .details(serde_json::json!({"asset_ids": [a, b], "asset_id": m.asset_id, "absorbed": m.absorbed})),
                )?;
                Ok::<_, DomainError>(m)
            })
            .await;
        match done {
            Ok(m) => Ok(m),
            Err(e) => {
                self.refused(
                    &by,
                    company_id,
                    "asset.merge",
                    format!("Merging assets {a} and {b}"),
                    e,
                )
                .await
            }
        }
    }

    /// Merge the two records of an open review pair (the Review tab's *Merge*).
    pub async fn merge_review_pair(
        &self,
        by: Actor,
        company_id: u64,
        intune_id: &str,
        level_id: &str,
    ) -> DomainResult<Merged> {
        let (i, l) = (intune_id.to_string(), level_id.to_string());
        let pair = self
            .store
            .read(move |r| pair_assets_r(r, company_id, &i, &l))
            .await;
        match pair {
            Ok((a, b)) => self.merge_assets(by, company_id, a, b).await,
            Err(e) => {
                self.refused(
                    &by,
                    company_id,
                    "asset.merge",
                    format!("Merging review pair {intune_id}|{level_id}"),
                    e,
                )
                .await
            }
        }
    }

    /// Keep an open review pair apart (the Review tab's *Keep apart*): remembered, never
    /// reviewed or auto-merged again. Audited (`asset.keep_apart`).
    pub async fn keep_assets_apart(
        &self,
        by: Actor,
        company_id: u64,
        intune_id: &str,
        level_id: &str,
    ) -> DomainResult<()> {
        let now = self.now();
        let actor = by.clone();
        let (i, l) = (intune_id.to_string(), level_id.to_string());
        let done =
            self.store
                .write(move |w| {
                    let company = editable_company(w, company_id)?;
                    keep_apart_in(w, company_id, &i, &l, &actor, now)?;
                    w.append_audit(
                    NewAuditEvent::new(now, actor, "asset.keep_apart", format!(
                        "Intune device {i} and Level device {l} of {} kept apart (remembered)",
                        company.name
                    ))
                    .company(company_id)
                    .details(serde_json::json!({"intune_id": i, "level_id": l})),
                )?;
                    Ok::<_, DomainError>(())
                })
                .await;
        match done {
            Ok(()) => Ok(()),
            Err(e) => {
                self.refused(
                    &by,
                    company_id,
                    "asset.keep_apart",
                    format!("Keeping {intune_id}|{level_id} apart"),
                    e,
                )
                .await
            }
        }
    }

    /// Split a merged asset into its Intune and Level records (`POST …/assets/{id}/unmerge`),
    /// remembered as keep apart. Audited (`asset.unmerge`).
    pub async fn unmerge_asset(
        &self,
        by: Actor,
        company_id: u64,
        asset_id: u64,
    ) -> DomainResult<Unmerged> {
        let now = self.now();
        let actor = by.clone();
        let done = self
            .store
            .write(move |w| {
                let company = editable_company(w, company_id)?;
                let u = unmerge_asset_in(w, company_id, asset_id, &actor, now)?;
                w.append_audit(
                    NewAuditEvent::new(now, actor, "asset.unmerge", format!(
                        "Asset {asset_id} of {} unmerged: its Level record is asset {} now (kept apart from now on)",
                        company.name, u.level_asset
                    ))
                    .company(company_id)
                    .details(serde_json::json!({"asset_id": asset_id, "intune_asset": u.intune_asset, "level_asset": u.level_asset})),
                )?;
                Ok::<_, DomainError>(u)
            })
            .await;
        match done {
            Ok(u) => Ok(u),
            Err(e) => {
                self.refused(
                    &by,
                    company_id,
                    "asset.unmerge",
                    format!("Unmerging asset {asset_id}"),
                    e,
                )
                .await
            }
        }
    }
}

fn pair_assets_r(
    r: &crate::store::Reader,
    company_id: u64,
    i: &str,
    l: &str,
) -> DomainResult<(u64, u64)> {
    if r.review_item(company_id, i, l)?.is_none() {
        return Err(DomainError::NotFound("review pair"));
    }
    match (
        r.asset_id_by_device(company_id, i)?,
        r.asset_id_by_level_device(company_id, l)?,
    ) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(DomainError::Conflict(
            "the pair's assets are not written yet; sync the company first".into(),
        )),
    }
}
