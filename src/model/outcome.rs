//! One verdict for a sync, wherever it is shown (jobs, audit log, company page, company
//! list, Entra page, API): *succeeded*, *succeeded with warnings* or *failed*. A licence the
//! tenant does not have (no Intune, no Entra ID P1) is a warning in a neutral tone with its
//! reason, never a failure: nothing went wrong, there was simply nothing to read.
//!
//! The pages only render a [`Verdict`]; this file alone decides it.

use super::{AuditEvent, Job, JobState, Outcome};
use serde::{Deserialize, Serialize};

/// The outcome of a finished sync, in its stable API spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    Succeeded,
    SucceededWithWarnings,
    Failed,
}

impl SyncOutcome {
    /// The API and URL spelling: `succeeded`, `succeeded_with_warnings`, `failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SyncOutcome::Succeeded => "succeeded",
            SyncOutcome::SucceededWithWarnings => "succeeded_with_warnings",
            SyncOutcome::Failed => "failed",
        }
    }
    /// The same, as people read it.
    pub fn words(&self) -> &'static str {
        match self {
            SyncOutcome::Succeeded => "Succeeded",
            SyncOutcome::SucceededWithWarnings => "Succeeded with warnings",
            SyncOutcome::Failed => "Failed",
        }
    }
}

/// What kind of warning a sync ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The tenant has no Intune licence (or Intune is not set up): devices not synced.
    IntuneNotLicensed,
    /// The tenant has no Entra ID P1: evidence that needs it is not collected.
    P1NotLicensed,
    /// Anything else that left part of the sync undone (permission, throttling...).
    Other,
}

/// A warning a sync ended with, and its reason in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncWarning {
    pub kind: WarningKind,
    pub message: String,
}

impl SyncWarning {
    pub fn intune_not_licensed() -> Self {
        Self {
            kind: WarningKind::IntuneNotLicensed,
            message: "Intune not licensed — devices not synced".into(),
        }
    }
    pub fn p1_not_licensed() -> Self {
        Self {
            kind: WarningKind::P1NotLicensed,
            message: "Entra ID P1 not licensed — its evidence not collected".into(),
        }
    }
    pub fn other(message: impl Into<String>) -> Self {
        Self {
            kind: WarningKind::Other,
            message: message.into(),
        }
    }
    /// A state of the tenant's licences rather than something that went wrong.
    pub fn is_licence(&self) -> bool {
        matches!(
            self.kind,
            WarningKind::IntuneNotLicensed | WarningKind::P1NotLicensed
        )
    }
}

/// How a verdict is coloured: a licence state is neutral, not a warning or a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    Success,
    Neutral,
    Warning,
    Failure,
}

impl Tone {
    /// The badge class the stylesheet colours.
    pub fn as_str(&self) -> &'static str {
        match self {
            Tone::Success => "success",
            Tone::Neutral => "neutral",
            Tone::Warning => "warning",
            Tone::Failure => "failure",
        }
    }
}

/// A sync's verdict: its outcome, its colour, and why (empty when it simply succeeded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub outcome: SyncOutcome,
    pub tone: Tone,
    pub reason: String,
}

impl Verdict {
    /// The one rule: a failure fails; warnings make "succeeded with warnings", in a neutral
    /// tone when every one of them is a licence state.
    pub fn decide(failed: bool, warnings: &[SyncWarning], error: Option<&str>) -> Self {
        if failed {
            return Self {
                outcome: SyncOutcome::Failed,
                tone: Tone::Failure,
                reason: error.unwrap_or_default().to_string(),
            };
        }
        if warnings.is_empty() {
            return Self {
                outcome: SyncOutcome::Succeeded,
                tone: Tone::Success,
                reason: String::new(),
            };
        }
        let tone = if warnings.iter().all(SyncWarning::is_licence) {
            Tone::Neutral
        } else {
            Tone::Warning
        };
        let reason = warnings
            .iter()
            .map(|w| w.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            outcome: SyncOutcome::SucceededWithWarnings,
            tone,
            reason,
        }
    }

    /// A finished job's verdict; none while it is queued or running.
    pub fn of_job(job: &Job) -> Option<Self> {
        match job.state {
            JobState::Queued | JobState::Running => None,
            JobState::Succeeded => Some(Self::decide(false, &job.warnings, None)),
            JobState::Failed => Some(Self::decide(true, &[], job.error.as_deref())),
        }
    }

    /// An audit entry's verdict, from its outcome and the warnings in its details.
    pub fn of_audit(e: &AuditEvent) -> Self {
        let warnings = audit_warnings(&e.details);
        match e.outcome {
            Outcome::Failure => Self::decide(true, &[], None),
            Outcome::Success if warnings.is_empty() => Self::decide(false, &[], None),
            // A warning entry written without its reasons still reads as a warning.
            Outcome::Success | Outcome::Warning if warnings.is_empty() => {
                Self::decide(false, &[SyncWarning::other("see the details")], None)
            }
            Outcome::Success | Outcome::Warning => Self::decide(false, &warnings, None),
        }
    }

    /// "Succeeded with warnings".
    pub fn words(&self) -> &'static str {
        self.outcome.words()
    }
    /// The badge class: `success`, `neutral`, `warning`, `failure`.
    pub fn class(&self) -> &'static str {
        self.tone.as_str()
    }
}

/// The warnings an audit entry carries in `details.warnings` (none when absent or unreadable).
pub fn audit_warnings(details: &serde_json::Value) -> Vec<SyncWarning> {
    details
        .get("warnings")
        .and_then(|w| serde_json::from_value(w.clone()).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_licence_state_is_a_neutral_warning_never_a_failure() {
        let v = Verdict::decide(false, &[SyncWarning::intune_not_licensed()], None);
        assert_eq!(v.outcome, SyncOutcome::SucceededWithWarnings);
        assert_eq!(v.tone, Tone::Neutral);
        assert_eq!(v.reason, "Intune not licensed — devices not synced");
        assert_eq!(v.words(), "Succeeded with warnings");
        assert_eq!(v.outcome.as_str(), "succeeded_with_warnings");
    }

    #[test]
    fn other_warnings_colour_the_verdict_and_failures_fail() {
        let w = [
            SyncWarning::intune_not_licensed(),
            SyncWarning::other("no permission"),
        ];
        let v = Verdict::decide(false, &w, None);
        assert_eq!(
            (v.outcome, v.tone),
            (SyncOutcome::SucceededWithWarnings, Tone::Warning)
        );
        assert!(v.reason.contains("no permission"));
        let f = Verdict::decide(true, &w, Some("users: 403"));
        assert_eq!(
            (f.outcome, f.tone, f.reason.as_str()),
            (SyncOutcome::Failed, Tone::Failure, "users: 403")
        );
        let ok = Verdict::decide(false, &[], None);
        assert_eq!(
            (ok.outcome, ok.tone),
            (SyncOutcome::Succeeded, Tone::Success)
        );
    }

    #[test]
    fn an_audit_entry_reads_its_warnings_from_its_details() {
        let e = AuditEvent {
            id: 1,
            at: chrono::DateTime::UNIX_EPOCH,
            actor: "system".into(),
            kind: "sync.identity".into(),
            company_id: Some(1),
            outcome: Outcome::Warning,
            summary: String::new(),
            details: serde_json::json!({"warnings": [SyncWarning::intune_not_licensed()]}),
        };
        let v = Verdict::of_audit(&e);
        assert_eq!(
            (v.outcome, v.tone),
            (SyncOutcome::SucceededWithWarnings, Tone::Neutral)
        );
        let bare = AuditEvent {
            details: serde_json::Value::Null,
            ..e.clone()
        };
        assert_eq!(Verdict::of_audit(&bare).tone, Tone::Warning);
        let failed = AuditEvent {
            outcome: Outcome::Failure,
            ..e
        };
        assert_eq!(Verdict::of_audit(&failed).outcome, SyncOutcome::Failed);
    }
}
