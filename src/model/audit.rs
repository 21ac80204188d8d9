//! Audit events: every sync, consent, sign-in and setting change, with its outcome.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    /// Done, with warnings (a sync that could not read everything); the reasons are in the
    /// details' `warnings` (see [`super::Verdict::of_audit`]).
    Warning,
    Failure,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Warning => "warning",
            Outcome::Failure => "failure",
        }
    }
}

/// Who did it: a staff member, an API token, the scheduler, or the system itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor(pub String);

impl Actor {
    pub fn staff(email: &str) -> Self {
        Self(format!("staff:{email}"))
    }
    pub fn token(name: &str) -> Self {
        Self(format!("api:{name}"))
    }
    pub fn system() -> Self {
        Self("system".into())
    }
    pub fn scheduler() -> Self {
        Self("scheduler".into())
    }
    /// A client's employee signed in to their company's support portal.
    pub fn portal(email: &str) -> Self {
        Self(format!("portal:{email}"))
    }
    pub fn anonymous(ip: &str) -> Self {
        Self(format!("anonymous:{ip}"))
    }
    /// The staff member's e-mail, for a `staff:` actor.
    pub fn staff_email(&self) -> Option<&str> {
        self.0.strip_prefix("staff:")
    }
    /// Who, without the kind: the e-mail, the token's name, or `system` / `scheduler`.
    pub fn label(&self) -> &str {
        self.0
            .split_once(':')
            .map_or(self.0.as_str(), |(_, who)| who)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// Dotted kind, e.g. `company.archive`, `staff.sign_in`, `sync.identity`.
    pub kind: String,
    pub company_id: Option<u64>,
    pub outcome: Outcome,
    pub summary: String,
    /// Structured details (counts, Graph status, request-id, error body...).
    pub details: serde_json::Value,
}

/// An event before the store gives it an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub kind: String,
    pub company_id: Option<u64>,
    pub outcome: Outcome,
    pub summary: String,
    pub details: serde_json::Value,
}

impl NewAuditEvent {
    pub fn new(at: DateTime<Utc>, actor: Actor, kind: &str, summary: impl Into<String>) -> Self {
        Self {
            at,
            actor,
            kind: kind.into(),
            company_id: None,
            outcome: Outcome::Success,
            summary: summary.into(),
            details: serde_json::Value::Null,
        }
    }
    pub fn company(mut self, id: u64) -> Self {
        self.company_id = Some(id);
        self
    }
    pub fn failed(mut self) -> Self {
        self.outcome = Outcome::Failure;
        self
    }
    /// Done with `warnings`: the outcome says so and the details carry them.
    pub fn warned(mut self, warnings: &[super::SyncWarning]) -> Self {
        if warnings.is_empty() {
            return self;
        }
        self.outcome = Outcome::Warning;
        if !self.details.is_object() {
            self.details = serde_json::json!({});
        }
        if let Some(obj) = self.details.as_object_mut() {
            obj.insert("warnings".into(), serde_json::json!(warnings));
        }
        self
    }
    pub fn details(mut self, d: serde_json::Value) -> Self {
        self.details = d;
        self
    }
}

/// The kinds the audit log's Kind filter offers: a dotted prefix takes every kind under it
/// (`sync` takes `sync.identity.devices`). Kinds are open: others still filter by URL.
pub const AUDIT_KINDS: [(&str, &str); 18] = [
    ("company", "Companies"),
    (
        "tenant",
        "Microsoft 365 tenants (connect, consent, disconnect)",
    ),
    ("sync", "Syncs, all"),
    ("sync.identity", "Identity syncs"),
    ("sync.identity.devices", "Identity syncs: Intune devices"),
    ("sync.identity.level", "Identity syncs: Level.io devices"),
    ("sync.evidence", "Evidence syncs"),
    ("job", "Jobs that failed or were recovered"),
    ("staff", "Staff, all"),
    ("staff.sign_in", "Staff sign-ins"),
    ("api_token", "API tokens"),
    ("settings", "Settings"),
    ("portal", "Support portal"),
    ("request", "Support requests"),
    ("audit", "Audit log retention"),
    ("schedule", "Schedules"),
    ("alert", "Alerts: opened, cleared, sent, failed deliveries"),
    ("asset", "Assets: merge, unmerge, keep apart"),
];

/// Audit log filters (page and API).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub company_id: Option<u64>,
    /// Matches the kind exactly or as a dotted prefix (`company` matches `company.archive`).
    pub kind: Option<String>,
    pub outcome: Option<Outcome>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl AuditFilter {
    pub fn matches(&self, e: &AuditEvent) -> bool {
        self.company_id.is_none_or(|c| e.company_id == Some(c))
            && self
                .kind
                .as_deref()
                .is_none_or(|k| e.kind == k || e.kind.starts_with(&format!("{k}.")))
            && self.outcome.is_none_or(|o| e.outcome == o)
            && self.from.is_none_or(|f| e.at >= f)
            && self.to.is_none_or(|t| e.at < t)
    }
}
