//! Background jobs: every sync is a durable job (queued → running → succeeded/failed).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a job does. Kinds are strings on disk so a newer binary can add kinds without a
/// migration; unknown kinds fail cleanly instead of breaking the queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct JobKind(pub String);

impl JobKind {
    pub const IDENTITY_SYNC: &'static str = "identity_sync";
    pub const EVIDENCE_SYNC: &'static str = "evidence_sync";
    pub fn new(s: &str) -> Self {
        Self(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_str(&self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }
    pub fn is_active(&self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

/// Why a job was started (shown in the audit log and on the Jobs page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Schedule,
    Manual,
    CompanyButton,
    Consent,
    Api,
    Startup,
}

impl Trigger {
    pub fn as_str(&self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
            Trigger::CompanyButton => "company_button",
            Trigger::Consent => "consent",
            Trigger::Api => "api",
            Trigger::Startup => "startup",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub kind: JobKind,
    pub company_id: Option<u64>,
    pub trigger: Trigger,
    pub state: JobState,
    pub attempts: u32,
    pub max_attempts: u32,
    pub created_at: DateTime<Utc>,
    /// Not before this instant (backoff).
    pub run_after: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// Counts reported by the job (created, updated, deactivated ...).
    pub counts: BTreeMap<String, u64>,
    /// Human progress line while running ("users: page 3").
    pub progress: String,
    /// Job-specific input (e.g. which test behaviour, or a full-resync flag).
    pub params: serde_json::Value,
}

impl Job {
    /// A job ready to queue now (the store assigns its id).
    pub fn new(
        kind: &str,
        company_id: Option<u64>,
        trigger: Trigger,
        max_attempts: u32,
        now: DateTime<Utc>,
        params: serde_json::Value,
    ) -> Self {
        Job {
            id: 0,
            kind: JobKind::new(kind),
            company_id,
            trigger,
            state: JobState::Queued,
            attempts: 0,
            max_attempts,
            created_at: now,
            run_after: now,
            started_at: None,
            finished_at: None,
            heartbeat_at: None,
            error: None,
            counts: BTreeMap::new(),
            progress: String::new(),
            params,
        }
    }

    /// The key that makes "one active job per company and kind" checkable in one lookup.
    pub fn active_key(kind: &JobKind, company_id: Option<u64>) -> String {
        match company_id {
            Some(c) => format!("{}/{c}", kind.0),
            None => format!("{}/-", kind.0),
        }
    }
    pub fn duration_secs(&self) -> Option<i64> {
        Some((self.finished_at? - self.started_at?).num_seconds())
    }
}
