//! `POST /api/v1/companies/sync`: the body and the answer.

use crate::domain::bulk_sync::BulkSyncLine;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
pub struct SyncSelected {
    /// Company ids (at most 500).
    pub ids: Vec<u64>,
}

/// One company's line of a bulk sync.
#[derive(Debug, Serialize)]
pub struct BulkSyncResult {
    /// The company.
    pub company_id: u64,
    /// Its name.
    pub name: String,
    /// `queued`, `already_queued` (a sync was queued or running) or `skipped`.
    pub outcome: &'static str,
    /// The sync job, when one was queued or already queued.
    pub job_id: Option<u64>,
    /// Why it was skipped (archived, not connected), in words.
    pub reason: Option<String>,
}

impl From<BulkSyncLine> for BulkSyncResult {
    fn from(l: BulkSyncLine) -> Self {
        let outcome = match (l.skipped(), l.created()) {
            (Some(_), _) => "skipped",
            (None, true) => "queued",
            (None, false) => "already_queued",
        };
        Self {
            company_id: l.company_id,
            outcome,
            job_id: l.job_id(),
            reason: l.skipped().map(str::to_string),
            name: l.name,
        }
    }
}

/// The lines of a bulk sync, in the order asked.
#[derive(Debug, Serialize)]
pub struct BulkSyncResults {
    /// One per company.
    pub companies: Vec<BulkSyncResult>,
}
