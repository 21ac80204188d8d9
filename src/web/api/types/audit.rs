//! The audit log: every sync, consent, sign-in and setting change, with its outcome.

use crate::model;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One audit log entry.
#[derive(Debug, Serialize)]
pub struct AuditEvent {
    /// The entry's id; later entries have larger ids.
    pub id: u64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it: `staff:{email}`, `api:{token name}`, `portal:{email}`, `scheduler`,
    /// `system` or `anonymous:{address}`.
    pub actor: String,
    /// Dotted kind, e.g. `company.archive`, `staff.sign_in`, `sync.identity`.
    pub kind: String,
    /// The company it concerns; null for appliance-wide events.
    pub company_id: Option<u64>,
    /// `success` or `failure`.
    pub outcome: Outcome,
    /// One line for people.
    pub summary: String,
    /// Structured details (counts, Graph status, request id, error body, ...): an open
    /// object whose keys depend on `kind`, or null.
    pub details: serde_json::Value,
}

impl From<model::AuditEvent> for AuditEvent {
    fn from(e: model::AuditEvent) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor: e.actor,
            kind: e.kind,
            company_id: e.company_id,
            outcome: e.outcome.into(),
            summary: e.summary,
            details: e.details,
        }
    }
}

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It worked.
    Success,
    /// It was refused or failed; `details` says why.
    Failure,
    /// It was done with warnings (a sync that could not read everything); `details.warnings`
    /// says what and why, each with a `kind` (`intune_not_licensed` is a licence state).
    Warning,
}

impl From<model::Outcome> for Outcome {
    fn from(o: model::Outcome) -> Self {
        match o {
            model::Outcome::Success => Self::Success,
            model::Outcome::Failure => Self::Failure,
            model::Outcome::Warning => Self::Warning,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::golden::{assert_json, at};
    use super::*;
    use serde_json::json;

    #[test]
    fn an_audit_event_has_a_fixed_shape() {
        let e = model::AuditEvent {
            id: 20,
            at: at(0),
            actor: "api:ci".into(),
            kind: "portal.settings".into(),
            company_id: Some(1),
            outcome: model::Outcome::Failure,
            summary: "Support portal of Contoso: Microsoft sign-in on".into(),
            details: json!({"slug": "contoso", "allowed_groups": [3]}),
        };
        let golden = r#"
{
  "id": 20,
  "at": "2026-01-31T08:00:00Z",
  "actor": "api:ci",
  "kind": "portal.settings",
  "company_id": 1,
  "outcome": "failure",
  "summary": "Support portal of Contoso: Microsoft sign-in on",
  "details": {
    "allowed_groups": [
      3
    ],
    "slug": "contoso"
  }
}"#;
        assert_json(&AuditEvent::from(e), golden);
        let ok = serde_json::to_value(Outcome::from(model::Outcome::Success)).unwrap();
        assert_eq!(ok, "success");
    }
}
