//! Checks behind the read side (framework ids, settings) and evidence retention. Snapshots are
//! evaluated on demand (evaluation is pure and cheap); the summary stored with each snapshot
//! (`frameworks::summarize`) serves lists, history and the overview.

use super::frameworks;
use crate::domain::{DomainError, DomainResult};
use crate::model::{EvidenceSettings, ValidationError};

/// Check a framework id against the embedded list.
pub fn check_framework(id: &str) -> DomainResult<()> {
    if frameworks::all().iter().any(|f| f.id == id) {
        Ok(())
    } else {
        let known: Vec<String> = frameworks::all().into_iter().map(|f| f.id).collect();
        Err(DomainError::Validation(ValidationError::new(
            "framework",
            format!("unknown framework {id:?}; known: {}", known.join(", ")),
        )))
    }
}

/// Which frameworks to assess: the one asked for, else the company's choice (all when none).
pub fn frameworks_for(
    framework: Option<&str>,
    settings: &EvidenceSettings,
) -> DomainResult<Vec<String>> {
    match framework.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => {
            check_framework(f)?;
            Ok(vec![f.to_string()])
        }
        None => Ok(settings.frameworks.clone()),
    }
}

/// Refuse settings outside what the controls can use.
pub fn validate_settings(s: &EvidenceSettings) -> DomainResult<EvidenceSettings> {
    let mut s = s.clone();
    for f in &s.frameworks {
        check_framework(f)?;
    }
    s.frameworks.sort();
    s.frameworks.dedup();
    for (field, v) in [
        ("mfa_registration_pct", s.thresholds.mfa_registration_pct),
        ("device_compliance_pct", s.thresholds.device_compliance_pct),
    ] {
        if !(1..=100).contains(&v) {
            return Err(DomainError::Validation(ValidationError::new(
                field,
                format!("must be a percentage from 1 to 100, not {v}"),
            )));
        }
    }
    Ok(s)
}

/// Snapshots removed per write transaction, so the writer lock is released between batches.
const PRUNE_BATCH: usize = 500;

impl crate::domain::Services {
    /// Remove snapshots older than `retention_days` (each company's latest stays); returns
    /// how many went, and records one system audit entry when any did.
    pub async fn prune_evidence(&self, retention_days: u32) -> DomainResult<usize> {
        let now = self.now();
        let cutoff = now - chrono::Duration::days(i64::from(retention_days));
        let removed = self
            .remove_in_batches(PRUNE_BATCH as u64, move |w| {
                Ok(w.prune_evidence(cutoff, PRUNE_BATCH)? as u64)
            })
            .await? as usize;
        if removed > 0 {
            self.record(
                crate::model::NewAuditEvent::new(
                    now,
                    crate::model::Actor::system(),
                    "evidence.prune",
                    format!(
                        "Removed {removed} evidence snapshot(s) older than {retention_days} days"
                    ),
                )
                .details(serde_json::json!({"removed": removed, "retention_days": retention_days})),
            )
            .await?;
        }
        Ok(removed)
    }
}
