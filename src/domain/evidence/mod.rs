//! Compliance evidence: collect (a durable `evidence_sync` job per company, every 6 h at :15),
//! keep immutable dated snapshots, evaluate controls (pure functions), map them to frameworks.
//!
//! - `collect`: the job — Graph reads, licence decisions, throttles, the snapshot write.
//! - `evaluate`: snapshot (+ previous snapshot) → control results. No I/O, no clock.
//! - `frameworks`: the embedded, reviewed mapping of controls to framework controls; scores.
//! - `read`: what the pages, the API and the exports ask for (assessment, history, overview).
//!
//! The public surface below is the contract between those parts and the web layer.

pub mod evaluate;
pub mod frameworks;

use super::{DomainResult, Services};
use crate::model::{
    Actor, Assessment, EvidenceSettings, EvidenceSnapshot, FrameworkInfo, HistoryPoint, ListQuery,
    OverviewRow, Page, SnapshotSummary, Trigger,
};

/// Every framework Tenantry maps to, in display order.
pub fn frameworks() -> Vec<FrameworkInfo> {
    frameworks::all()
}

impl Services {
    /// "Collect evidence now" on a company (button, API): queue an `evidence_sync` job for
    /// `requested_by`. Archived or unconnected companies are refused with the reason
    /// (`DomainError::Conflict`), exactly as identity sync is; one active job per company.
    pub async fn queue_evidence_collection(
        &self,
        requested_by: Actor,
        company_id: u64,
        trigger: Trigger,
    ) -> DomainResult<super::jobs::Queued> {
        let _ = (requested_by, company_id, trigger);
        todo!("contract: collect")
    }

    /// "Collect evidence now" for every connected, active company; returns how many were
    /// queued (companies with a collection already queued or running are skipped).
    pub async fn queue_evidence_collection_all(
        &self,
        requested_by: Actor,
        trigger: Trigger,
    ) -> DomainResult<usize> {
        let _ = (requested_by, trigger);
        todo!("contract: collect")
    }

    /// The latest complete snapshot of a company evaluated (against its previous one for
    /// drift), filtered to `framework` (None: the company's chosen frameworks). `Ok(None)`:
    /// no evidence collected yet. Unknown framework id → `DomainError::Invalid`.
    pub async fn compliance(
        &self,
        company_id: u64,
        framework: Option<&str>,
    ) -> DomainResult<Option<Assessment>> {
        let _ = (company_id, framework);
        todo!("contract: read")
    }

    /// A company's snapshots, newest first, paged.
    pub async fn evidence_snapshots(
        &self,
        company_id: u64,
        q: ListQuery,
    ) -> DomainResult<Page<SnapshotSummary>> {
        let _ = (company_id, q);
        todo!("contract: read")
    }

    /// One snapshot with its facts (404 when it belongs to another company).
    pub async fn evidence_snapshot(
        &self,
        company_id: u64,
        snapshot_id: u64,
    ) -> DomainResult<EvidenceSnapshot> {
        let _ = (company_id, snapshot_id);
        todo!("contract: read")
    }

    /// One snapshot evaluated (as `compliance` does for the latest one).
    pub async fn assessment_of(
        &self,
        company_id: u64,
        snapshot_id: u64,
        framework: Option<&str>,
    ) -> DomainResult<Assessment> {
        let _ = (company_id, snapshot_id, framework);
        todo!("contract: read")
    }

    /// The history chart's points, oldest first (at most `limit`, the newest ones).
    pub async fn compliance_history(
        &self,
        company_id: u64,
        limit: usize,
    ) -> DomainResult<Vec<HistoryPoint>> {
        let _ = (company_id, limit);
        todo!("contract: read")
    }

    /// The MSP-wide overview: every active, connected company with its latest statuses,
    /// worst first (most failing, then most not collected, then name).
    pub async fn compliance_overview(&self) -> DomainResult<Vec<OverviewRow>> {
        todo!("contract: read")
    }

    pub async fn evidence_settings(&self, company_id: u64) -> DomainResult<EvidenceSettings> {
        let _ = company_id;
        todo!("contract: read")
    }

    /// Save a company's frameworks and thresholds (audited as a setting change). Unknown
    /// framework ids or thresholds outside 1..=100 are refused with the reason.
    pub async fn set_evidence_settings(
        &self,
        actor: Actor,
        company_id: u64,
        settings: EvidenceSettings,
    ) -> DomainResult<EvidenceSettings> {
        let _ = (actor, company_id, settings);
        todo!("contract: read")
    }
}
