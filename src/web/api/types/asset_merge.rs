//! The Level.io merge's review queue and decisions as the API shows them.

use crate::model;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A pair of records (one Intune device, one Level device) that may be the same machine and
/// that no merge rule could decide.
#[derive(Debug, Serialize)]
pub struct ReviewPair {
    /// The company both records belong to.
    pub company_id: u64,
    /// The pair's key as the pages' forms send it: `<intune_id>|<level_id>`.
    pub key: String,
    /// The Intune device id.
    pub intune_id: String,
    /// The Level device id.
    pub level_id: String,
    /// Why it needs a person (stable): `serial_match_but_host_and_platform_differ`,
    /// `serial_shared_by_many`, `hostname_tie`, `hostname_match_serials_differ`.
    pub reason: model::ReviewReason,
    /// The reason in words.
    pub reason_text: &'static str,
    /// The asset holding the Intune record; null when not written yet.
    pub intune_asset_id: Option<u64>,
    /// The asset holding the Level record; null when not written yet.
    pub level_asset_id: Option<u64>,
    /// What Intune reports.
    pub intune_hostname: String,
    pub intune_serial: String,
    /// What Level reports.
    pub level_hostname: String,
    pub level_serial: String,
    /// When the pair was first sent to review.
    pub since: DateTime<Utc>,
}

impl From<model::OpenReview> for ReviewPair {
    fn from(r: model::OpenReview) -> Self {
        Self {
            key: r.key(),
            company_id: r.company_id,
            reason_text: r.reason.describe(),
            reason: r.reason,
            intune_id: r.intune_id,
            level_id: r.level_id,
            intune_asset_id: r.intune_asset,
            level_asset_id: r.level_asset,
            intune_hostname: r.intune_hostname,
            intune_serial: r.intune_serial,
            level_hostname: r.level_hostname,
            level_serial: r.level_serial,
            since: r.since,
        }
    }
}

/// `POST /companies/{id}/assets/merge`: exactly two asset ids of the company, one holding an
/// Intune record only and one a Level record only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    pub asset_ids: Vec<u64>,
}

/// `POST /companies/{id}/assets/keep-apart`: an open review pair, by its two device ids.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeepApartBody {
    pub intune_id: String,
    pub level_id: String,
}

/// What a merge did.
#[derive(Debug, Serialize)]
pub struct MergeResult {
    /// The asset that holds both records now.
    pub asset_id: u64,
    /// The asset that went inactive (`absorbed_into` points at `asset_id`).
    pub absorbed_asset_id: u64,
}

/// What an unmerge did.
#[derive(Debug, Serialize)]
pub struct UnmergeResult {
    /// The asset that keeps the Intune record (the one unmerged).
    pub intune_asset_id: u64,
    /// The asset that holds the Level record now.
    pub level_asset_id: u64,
}

/// A company's gap and review counts.
#[derive(Debug, Serialize)]
pub struct AssetGaps {
    pub company_id: u64,
    /// Computers in Intune without a Level agent (`GET …/assets?sources=no_agent` lists them).
    pub no_agent: u64,
    /// Machines in Level that Intune does not manage (`…/assets?sources=level_only`).
    pub unmanaged: u64,
    /// Open review pairs (`GET …/assets/review`).
    pub review: u64,
    /// Active assets with both records (`…/assets?sources=merged`).
    pub merged: u64,
}

impl AssetGaps {
    pub fn new(company_id: u64, g: model::GapCounts) -> Self {
        Self {
            company_id,
            no_agent: g.no_agent,
            unmanaged: g.unmanaged,
            review: g.review,
            merged: g.merged,
        }
    }
}
