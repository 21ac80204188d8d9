//! "Sync selected" on the Companies list and its API twin: queue an identity sync for each
//! chosen company, skipping (with the reason) the ones that cannot sync, so one archived or
//! unconnected company never stops the others.

use super::{DomainError, DomainResult, Services};
use crate::model::{Actor, Trigger, ValidationError};

/// The most companies one bulk sync takes (a page of the list at its largest).
pub const MAX_SELECTED: usize = 500;

/// What a bulk sync will do, or did, for one company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkSyncLine {
    pub company_id: u64,
    pub name: String,
    pub outcome: BulkSyncOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkSyncOutcome {
    /// Will sync (plan) / a sync was queued, or one was already queued or running (done).
    Sync { job_id: Option<u64>, created: bool },
    /// Not synced, and why, in words.
    Skipped(String),
}

impl BulkSyncLine {
    pub fn skipped(&self) -> Option<&str> {
        match &self.outcome {
            BulkSyncOutcome::Skipped(r) => Some(r),
            BulkSyncOutcome::Sync { .. } => None,
        }
    }
    pub fn job_id(&self) -> Option<u64> {
        match &self.outcome {
            BulkSyncOutcome::Sync { job_id, .. } => *job_id,
            BulkSyncOutcome::Skipped(_) => None,
        }
    }
    /// False when a sync of this company was already queued or running.
    pub fn created(&self) -> bool {
        matches!(self.outcome, BulkSyncOutcome::Sync { created: true, .. })
    }
}

/// The ids, deduplicated in their order, checked for count.
fn selection(ids: &[u64]) -> DomainResult<Vec<u64>> {
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<u64> = ids.iter().copied().filter(|i| seen.insert(*i)).collect();
    if ids.is_empty() {
        return Err(ValidationError::new("ids", "select at least one company").into());
    }
    if ids.len() > MAX_SELECTED {
        return Err(ValidationError::new(
            "ids",
            format!("select at most {MAX_SELECTED} companies at once"),
        )
        .into());
    }
    Ok(ids)
}

impl Services {
    /// What "Sync selected" would do for each company, for the confirmation page.
    pub async fn plan_bulk_sync(&self, ids: &[u64]) -> DomainResult<Vec<BulkSyncLine>> {
        let ids = selection(ids)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let c = self.company(id).await?;
            let outcome = if c.is_archived() {
                BulkSyncOutcome::Skipped("Archived: restore it first.".into())
            } else if !c.syncs() {
                BulkSyncOutcome::Skipped("Not connected to Microsoft 365.".into())
            } else {
                BulkSyncOutcome::Sync {
                    job_id: None,
                    created: true,
                }
            };
            out.push(BulkSyncLine {
                company_id: c.id,
                name: c.name,
                outcome,
            });
        }
        Ok(out)
    }

    /// Queue a sync of each company for `actor`; the ones that cannot sync are skipped with
    /// the reason (an unknown id is an error: nothing is queued).
    pub async fn bulk_sync(
        &self,
        actor: Actor,
        ids: &[u64],
        trigger: Trigger,
    ) -> DomainResult<Vec<BulkSyncLine>> {
        let mut plan = self.plan_bulk_sync(ids).await?;
        for line in &mut plan {
            if line.skipped().is_some() {
                continue;
            }
            line.outcome = match self
                .queue_company_sync(actor.clone(), line.company_id, trigger)
                .await
            {
                Ok(q) => BulkSyncOutcome::Sync {
                    job_id: Some(q.job.id),
                    created: q.created,
                },
                // Archived or disconnected between the plan and now.
                Err(DomainError::Conflict(why)) => BulkSyncOutcome::Skipped(why),
                Err(e) => return Err(e),
            };
        }
        Ok(plan)
    }
}
