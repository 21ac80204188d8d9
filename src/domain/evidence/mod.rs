//! Compliance evidence: collect (a durable `evidence_sync` job per company, every 6 h at :15),
//! keep immutable dated snapshots, evaluate controls (pure functions), map them to frameworks.
//!
//! - `collect`: the job — Graph reads, licence decisions, throttles, the snapshot write.
//! - `evaluate`: snapshot (+ previous snapshot) → control results. No I/O, no clock.
//! - `frameworks`: the embedded, reviewed mapping of controls to framework controls; scores.
//! - `read`: what the pages, the API and the exports ask for (assessment, history, overview).
//!
//! The public surface below is the contract between those parts and the web layer.

mod collect;
pub mod evaluate;
pub mod facts;
pub mod frameworks;
mod names;
pub mod read;
mod registration;

use super::{DomainError, DomainResult, Services};
use crate::model::{
    Actor, Assessment, ControlStatus, EvidenceSettings, EvidenceSnapshot, FrameworkInfo,
    HistoryPoint, JobKind, ListQuery, NewAuditEvent, OverviewRow, Page, SnapshotSummary, Trigger,
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
        let company = self.company(company_id).await?;
        if company.is_archived() {
            return Err(DomainError::Conflict(format!(
                "{} is archived; restore the company first to collect evidence",
                company.name
            )));
        }
        if !company.syncs() {
            return Err(DomainError::Conflict(format!(
                "{} is not connected to a Microsoft 365 tenant yet; connect it first",
                company.name
            )));
        }
        self.enqueue(
            requested_by,
            JobKind::EVIDENCE_SYNC,
            Some(company_id),
            trigger,
            serde_json::Value::Null,
        )
        .await
    }

    /// "Collect evidence now" for every connected, active company; returns how many were
    /// queued (companies with a collection already queued or running are skipped).
    pub async fn queue_evidence_collection_all(
        &self,
        requested_by: Actor,
        trigger: Trigger,
    ) -> DomainResult<usize> {
        let companies = self.store.read(|r| r.all_companies()).await?;
        let mut queued = 0;
        for c in companies.into_iter().filter(|c| c.syncs()) {
            let q = self
                .enqueue(
                    requested_by.clone(),
                    JobKind::EVIDENCE_SYNC,
                    Some(c.id),
                    trigger,
                    serde_json::Value::Null,
                )
                .await?;
            queued += usize::from(q.created);
        }
        Ok(queued)
    }

    /// The latest complete snapshot of a company evaluated (against its previous one for
    /// drift), filtered to `framework` (None: the company's chosen frameworks). `Ok(None)`:
    /// no evidence collected yet. Unknown framework id → `DomainError::Validation`.
    pub async fn compliance(
        &self,
        company_id: u64,
        framework: Option<&str>,
    ) -> DomainResult<Option<Assessment>> {
        let settings = self.evidence_settings(company_id).await?;
        let frameworks = read::frameworks_for(framework, &settings)?;
        let found = self
            .store
            .read(move |r| {
                let Some(latest) = r.latest_evidence(company_id)? else {
                    return Ok(None);
                };
                let Some(current) = r.evidence_snapshot(company_id, latest.id)? else {
                    return Ok(None);
                };
                let previous = r.evidence_snapshot_before(company_id, latest.id)?;
                Ok::<_, DomainError>(Some((current, previous)))
            })
            .await?;
        Ok(found.map(|(current, previous)| {
            frameworks::assess(&current, previous.as_ref(), &frameworks)
        }))
    }

    /// A company's snapshots, newest first, paged.
    pub async fn evidence_snapshots(
        &self,
        company_id: u64,
        q: ListQuery,
    ) -> DomainResult<Page<SnapshotSummary>> {
        self.company(company_id).await?;
        let (page, per_page) = (q.page.max(1), q.per_page.clamp(1, ListQuery::MAX_PER_PAGE));
        let offset = (page - 1).saturating_mul(per_page);
        let (items, total) = self
            .store
            .read(move |r| r.evidence_summaries(company_id, offset, per_page))
            .await?;
        // A company keeps at most a few thousand snapshots: numbered pages, no cursor.
        Ok(Page {
            items,
            total,
            page,
            per_page,
            next_cursor: None,
            total_is_lower_bound: false,
        })
    }

    /// One snapshot with its facts (404 when it belongs to another company).
    pub async fn evidence_snapshot(
        &self,
        company_id: u64,
        snapshot_id: u64,
    ) -> DomainResult<EvidenceSnapshot> {
        self.store
            .read(move |r| r.evidence_snapshot(company_id, snapshot_id))
            .await?
            .ok_or(DomainError::NotFound("evidence snapshot"))
    }

    /// One snapshot evaluated (as `compliance` does for the latest one).
    pub async fn assessment_of(
        &self,
        company_id: u64,
        snapshot_id: u64,
        framework: Option<&str>,
    ) -> DomainResult<Assessment> {
        let settings = self.evidence_settings(company_id).await?;
        let frameworks = read::frameworks_for(framework, &settings)?;
        let (current, previous) = self
            .store
            .read(move |r| {
                let current = r.evidence_snapshot(company_id, snapshot_id)?;
                let previous = r.evidence_snapshot_before(company_id, snapshot_id)?;
                Ok::<_, DomainError>((current, previous))
            })
            .await?;
        let current = current.ok_or(DomainError::NotFound("evidence snapshot"))?;
        Ok(frameworks::assess(&current, previous.as_ref(), &frameworks))
    }

    /// The history chart's points, oldest first (at most `limit`, the newest ones).
    pub async fn compliance_history(
        &self,
        company_id: u64,
        limit: usize,
    ) -> DomainResult<Vec<HistoryPoint>> {
        let limit = limit.clamp(1, 5000);
        let (mut items, _) = self
            .store
            .read(move |r| r.evidence_summaries(company_id, 0, limit))
            .await?;
        items.reverse();
        Ok(items
            .into_iter()
            .map(|s| HistoryPoint {
                snapshot_id: s.id,
                collected_at: s.collected_at,
                mfa_registration_pct: s.mfa_registration_pct,
                device_compliance_pct: s.device_compliance_pct,
                scores: s.scores,
                drift: s.drift,
            })
            .collect())
    }

    /// The MSP-wide overview: every active, connected company with its latest statuses,
    /// worst first (most failing, then most not collected, then name).
    pub async fn compliance_overview(&self) -> DomainResult<Vec<OverviewRow>> {
        let (companies, latest) = self
            .store
            .read(|r| Ok::<_, DomainError>((r.all_companies()?, r.all_latest_evidence()?)))
            .await?;
        let latest: std::collections::HashMap<u64, SnapshotSummary> =
            latest.into_iter().map(|s| (s.company_id, s)).collect();
        let mut rows: Vec<OverviewRow> = companies
            .into_iter()
            .filter(|c| c.syncs())
            .map(|c| {
                let s = latest.get(&c.id);
                let statuses = s.map(|s| s.statuses.clone()).unwrap_or_default();
                let count = |want: ControlStatus| {
                    u32::try_from(statuses.values().filter(|v| **v == want).count())
                        .unwrap_or(u32::MAX)
                };
                OverviewRow {
                    company_id: c.id,
                    company_name: c.name.clone(),
                    collected_at: s.map(|s| s.collected_at),
                    failing: count(ControlStatus::Fail),
                    not_collected: count(ControlStatus::NotCollected),
                    statuses,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.failing
                .cmp(&a.failing)
                .then(b.not_collected.cmp(&a.not_collected))
                .then(
                    a.company_name
                        .to_lowercase()
                        .cmp(&b.company_name.to_lowercase()),
                )
                .then(a.company_id.cmp(&b.company_id))
        });
        Ok(rows)
    }

    pub async fn evidence_settings(&self, company_id: u64) -> DomainResult<EvidenceSettings> {
        Ok(self
            .store
            .read(move |r| r.evidence_settings(company_id))
            .await?
            .unwrap_or_default())
    }

    /// Save a company's frameworks and thresholds (audited as a setting change). Unknown
    /// framework ids or thresholds outside 1..=100 are refused with the reason.
    pub async fn set_evidence_settings(
        &self,
        actor: Actor,
        company_id: u64,
        settings: EvidenceSettings,
    ) -> DomainResult<EvidenceSettings> {
        let settings = read::validate_settings(&settings)?;
        let company = self.company(company_id).await?;
        // Archived companies are read-only until restored, their evidence settings included.
        if company.is_archived() {
            return Err(DomainError::Conflict(format!(
                "{} is archived: restore it before changing its compliance settings.",
                company.name
            )));
        }
        let now = self.now();
        let saved = settings.clone();
        self.store
            .write(move |w| {
                let before = w.evidence_settings(company_id)?.unwrap_or_default();
                w.put_evidence_settings(company_id, &saved)?;
                let frameworks = if saved.frameworks.is_empty() {
                    "all frameworks".to_string()
                } else {
                    saved.frameworks.join(", ")
                };
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        actor,
                        "settings.evidence",
                        format!(
                            "Evidence settings of {}: {frameworks}; MFA registration ≥ {}%, device compliance ≥ {}%",
                            company.name,
                            saved.thresholds.mfa_registration_pct,
                            saved.thresholds.device_compliance_pct
                        ),
                    )
                    .company(company_id)
                    .details(serde_json::json!({"before": before, "after": saved})),
                )?;
                Ok::<_, DomainError>(())
            })
            .await?;
        Ok(settings)
    }
}
