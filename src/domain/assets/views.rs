//! What the asset pages read about merging: the review queue (paged by key), the gap reports
//! and their counts (the Sources lists' counters), and an asset's provenance.

use std::collections::BTreeMap;

use crate::domain::{DomainError, DomainResult, Services};
use crate::model::{
    Asset, AssetFilter, FieldValue, GapCounts, GapKind, ListQuery, OpenReview, Page, SourcesFilter,
};
use crate::store::{PairDecisionRow, Reader, StoreError};

/// A company's gap and review counts from their counters, inside a caller's read.
pub(crate) fn gap_counts(r: &Reader, company_id: u64) -> Result<GapCounts, StoreError> {
    let n = |f| r.asset_sources_count(Some(company_id), f);
    Ok(GapCounts {
        no_agent: n(SourcesFilter::NoAgent)?,
        unmanaged: n(SourcesFilter::LevelOnly)?,
        merged: n(SourcesFilter::Merged)?,
        review: r.review_count(company_id)?,
    })
}

/// The longest review page a caller gets.
pub const REVIEW_PAGE_MAX: usize = 200;

/// One page of a company's review queue.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReviewPage {
    pub items: Vec<OpenReview>,
    /// Open pairs in all (a counter).
    pub total: u64,
    /// Pass as `after` for the next page (`<intune id>|<level id>`); None on the last page.
    pub next: Option<String>,
}

/// An asset with where each of its fields came from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AssetProvenance {
    pub asset: Asset,
    /// Field → value, source (`intune`/`level`) and when that source saw it. Empty for an
    /// asset the Level phase never merged (an Intune-only asset from before Level).
    pub fields: BTreeMap<String, FieldValue>,
    /// Open review pairs naming one of its records.
    pub review: Vec<OpenReview>,
    /// The remembered decision about its pair, when it has both records or was split.
    pub decisions: Vec<PairDecisionRow>,
}

/// `<intune id>|<level id>` → the pair.
pub fn parse_pair_key(key: &str) -> DomainResult<(String, String)> {
    match key.split_once('|') {
        Some((i, l)) if !i.is_empty() && !l.is_empty() && !l.contains('|') => {
            Ok((i.to_string(), l.to_string()))
        }
        _ => Err(crate::model::ValidationError::new(
            "pair",
            "must be <intune id>|<level id> as the review list gives it",
        )
        .into()),
    }
}

impl Services {
    /// A company's open review pairs, `limit` (1–200) at a time after the pair `after` names.
    pub async fn asset_review_page(
        &self,
        company_id: u64,
        after: Option<String>,
        limit: usize,
    ) -> DomainResult<ReviewPage> {
        let after = after.as_deref().map(parse_pair_key).transpose()?;
        let limit = limit.clamp(1, REVIEW_PAGE_MAX);
        self.store
            .read(move |r| {
                r.company(company_id)?
                    .ok_or(DomainError::NotFound("company"))?;
                let mut items = r.review_page(
                    company_id,
                    after.as_ref().map(|(i, l)| (i.as_str(), l.as_str())),
                    limit + 1,
                )?;
                let next = if items.len() > limit {
                    items.truncate(limit);
                    items.last().map(OpenReview::key)
                } else {
                    None
                };
                Ok(ReviewPage {
                    items,
                    total: r.review_count(company_id)?,
                    next,
                })
            })
            .await
    }

    /// One page of a gap report: "in Intune but not in Level" (`NoAgent`: computers without
    /// an agent) or "in Level but not in Intune" (`Unmanaged`). Sorted by hostname or last
    /// check-in; costs the page (an index walk), the total is a counter.
    pub async fn asset_gap_page(
        &self,
        company_id: u64,
        gap: GapKind,
        q: ListQuery,
    ) -> DomainResult<Page<Asset>> {
        let filter = AssetFilter {
            sources: Some(gap.filter()),
            ..AssetFilter::default()
        };
        self.assets_filtered(Some(company_id), q, filter).await
    }

    /// A company's gap and review counts (the company page), four counter reads.
    pub async fn asset_gap_counts(&self, company_id: u64) -> DomainResult<GapCounts> {
        self.store
            .read(move |r| {
                r.company(company_id)?
                    .ok_or(DomainError::NotFound("company"))?;
                Ok(gap_counts(r, company_id)?)
            })
            .await
    }

    /// An asset of `company_id` (404 for another company's) with its fields' provenance, the
    /// review pairs it is in and the decisions remembered about its records.
    pub async fn asset_provenance(
        &self,
        company_id: u64,
        asset_id: u64,
    ) -> DomainResult<AssetProvenance> {
        self.store
            .read(move |r| {
                let asset = r
                    .asset(company_id, asset_id)?
                    .ok_or(DomainError::NotFound("asset"))?;
                let ids: Vec<&str> = asset
                    .sources
                    .iter()
                    .map(|s| s.external_id.as_str())
                    .collect();
                // A company's queue and decisions are what staff act on: short lists.
                let review = r
                    .review_items(company_id)?
                    .into_iter()
                    .filter(|p| {
                        ids.contains(&p.intune_id.as_str()) || ids.contains(&p.level_id.as_str())
                    })
                    .collect();
                let decisions = r
                    .pair_decisions(company_id)?
                    .into_iter()
                    .filter(|((i, l), _)| ids.contains(&i.as_str()) || ids.contains(&l.as_str()))
                    .collect();
                Ok(AssetProvenance {
                    fields: asset.merge.fields.clone(),
                    asset,
                    review,
                    decisions,
                })
            })
            .await
    }
}
