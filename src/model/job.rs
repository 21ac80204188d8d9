//! Background jobs: every sync is a durable job (queued → running → succeeded/failed).

use super::Actor;
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
    /// The kinds this version runs, with their names in words (the Jobs filter's list).
    pub const KNOWN: [(&'static str, &'static str); 2] = [
        (Self::IDENTITY_SYNC, "Identity sync"),
        (Self::EVIDENCE_SYNC, "Evidence sync"),
    ];
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
    /// Every state, in the order a job goes through them.
    pub const ALL: [JobState; 4] = [
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
    ];
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

/// Which jobs a list shows (every field optional): the Jobs page's and the API's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    pub company_id: Option<u64>,
    pub kind: Option<String>,
    pub state: Option<JobState>,
}

impl JobFilter {
    /// From a query's `company`, `state` and `kind`; empty means any. A state or kind outside
    /// the lists is refused, naming the choices.
    pub fn parse(
        company: Option<&str>,
        state: Option<&str>,
        kind: Option<&str>,
    ) -> Result<JobFilter, String> {
        fn present(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|s| !s.is_empty())
        }
        let company_id = match present(company) {
            None => None,
            Some(s) => {
                Some(super::parse_id(s).ok_or_else(|| format!("company {s:?} is not an id"))?)
            }
        };
        let state = match present(state) {
            None => None,
            Some(s) => Some(
                JobState::ALL
                    .into_iter()
                    .find(|x| x.as_str() == s)
                    .ok_or_else(|| {
                        format!("state {s:?} is not one of queued, running, succeeded, failed")
                    })?,
            ),
        };
        let kind = match present(kind) {
            None => None,
            Some(s) if JobKind::KNOWN.iter().any(|(k, _)| *k == s) => Some(s.to_string()),
            Some(s) => {
                return Err(format!(
                    "kind {s:?} is not one of {}",
                    JobKind::KNOWN.map(|(k, _)| k).join(", ")
                ));
            }
        };
        Ok(JobFilter {
            company_id,
            kind,
            state,
        })
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

/// Who asked for a job: the staff member or API token behind a button or a call, the
/// scheduler, or the system itself. Every audit entry the job writes carries this actor, so
/// a sync someone started reads as theirs, not the appliance's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    /// The audit actor: `staff:ana@example.com`, `api:PSA automation`, `scheduler`, `system`.
    pub actor: Actor,
    /// For people: the staff member's name (their e-mail when they have none) or the token's
    /// name. Copied when the job is queued, so the job keeps saying who asked then.
    pub name: String,
}

impl Requester {
    pub fn new(actor: Actor, name: impl Into<String>) -> Self {
        Self {
            actor,
            name: name.into(),
        }
    }
    /// Named after the actor itself: the e-mail of a staff member, the name of a token.
    pub fn from_actor(actor: Actor) -> Self {
        let name = actor.label().to_string();
        Self { actor, name }
    }
    pub fn scheduler() -> Self {
        Self::from_actor(Actor::scheduler())
    }
    pub fn system() -> Self {
        Self::from_actor(Actor::system())
    }
}

/// Where a running sync stands: the step, pages and objects read so far, and how many there
/// are in all when Microsoft Graph says (it rarely does: delta queries carry no count).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// `users`, `groups`, `devices`.
    pub step: String,
    pub pages: u64,
    /// Objects so far: written (added, updated, deactivated) for users and devices, read
    /// for groups (a groups round is applied whole at its end).
    pub objects: u64,
    pub total: Option<u64>,
    /// The sync's own words for it ("users: page 3 applied (250 created, …)"); when empty,
    /// [`Progress::line`] says it from the numbers.
    #[serde(default)]
    pub words: String,
}

impl Progress {
    /// The progress line people read: "users: page 3, 250 objects" (", of 900" when known).
    pub fn line(&self) -> String {
        if !self.words.is_empty() {
            return self.words.clone();
        }
        let of = self.total.map(|t| format!(" of {t}")).unwrap_or_default();
        format!(
            "{}: page {}, {} objects{of} so far",
            self.step, self.pages, self.objects
        )
    }
    /// A step that has read nothing yet, in the sync's words.
    pub fn words(step: &str, words: &str) -> Self {
        Self {
            step: step.into(),
            words: words.into(),
            ..Self::default()
        }
    }
    /// Percent done when the total is known.
    pub fn percent(&self) -> Option<u64> {
        self.total
            .filter(|t| *t > 0)
            .map(|t| (self.objects.min(t) * 100) / t)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub kind: JobKind,
    pub company_id: Option<u64>,
    pub trigger: Trigger,
    /// Who asked. Jobs stored before it was recorded have none (JSON records, so no
    /// migration): read it through [`Job::requester`]. Boxed because jobs travel by value
    /// inside outcome enums (`ConsentOutcome`), which should stay small.
    #[serde(default)]
    pub requested_by: Option<Box<Requester>>,
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
    /// Where a running job stands, for a progress bar (none before its first report).
    #[serde(default)]
    pub progress_detail: Option<Box<Progress>>,
    /// What the last run could not do though it succeeded (no Intune licence...): the
    /// verdict's reasons (see [`super::Verdict::of_job`]). Cleared when a run starts.
    #[serde(default)]
    pub warnings: Vec<super::SyncWarning>,
    /// Job-specific input (e.g. which test behaviour, or a full-resync flag).
    pub params: serde_json::Value,
}

impl Job {
    /// A job ready to queue now (the store assigns its id).
    pub fn new(
        kind: &str,
        company_id: Option<u64>,
        trigger: Trigger,
        requested_by: Requester,
        max_attempts: u32,
        now: DateTime<Utc>,
        params: serde_json::Value,
    ) -> Self {
        Job {
            id: 0,
            kind: JobKind::new(kind),
            company_id,
            trigger,
            requested_by: Some(Box::new(requested_by)),
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
            progress_detail: None,
            warnings: Vec::new(),
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
    /// Who asked for this job. A job stored before that was recorded was the scheduler's
    /// when a schedule queued it; otherwise its entries said `system`, and so does this.
    pub fn requester(&self) -> Requester {
        self.requested_by
            .as_deref()
            .cloned()
            .unwrap_or_else(|| match self.trigger {
                Trigger::Schedule => Requester::scheduler(),
                _ => Requester::system(),
            })
    }
    /// What a running job's progress bar says: where it stands, else its last line.
    pub fn progress_line(&self) -> String {
        match (&self.progress_detail, self.progress.is_empty()) {
            (Some(p), _) => p.line(),
            (None, false) => self.progress.clone(),
            (None, true) => "Starting…".into(),
        }
    }
    /// The progress bar of a running job (a queued one has none yet).
    pub fn bar(&self) -> Option<Progress> {
        (self.state == JobState::Running)
            .then(|| self.progress_detail.as_deref().cloned().unwrap_or_default())
    }
    pub fn duration_secs(&self) -> Option<i64> {
        Some((self.finished_at? - self.started_at?).num_seconds())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_stored_before_requesters_were_recorded_still_loads() {
        // A record as an older version wrote it: no `requested_by`.
        let old = r#"{"id":3,"kind":"identity_sync","company_id":1,"trigger":"schedule",
            "state":"succeeded","attempts":1,"max_attempts":5,
            "created_at":"2026-01-31T08:00:00Z","run_after":"2026-01-31T08:00:00Z",
            "started_at":null,"finished_at":null,"heartbeat_at":null,"error":null,
            "counts":{},"progress":"","params":null}"#;
        let job: Job = serde_json::from_str(old).expect("old job loads");
        assert_eq!(job.requested_by, None);
        assert_eq!(job.requester(), Requester::scheduler());
        let manual = Job {
            trigger: Trigger::Manual,
            ..job
        };
        assert_eq!(manual.requester(), Requester::system());
    }

    #[test]
    fn job_filters_parse_from_a_query_and_refuse_unknown_words() {
        let f = JobFilter::parse(Some("3"), Some("failed"), Some("identity_sync")).unwrap();
        assert_eq!(
            f,
            JobFilter {
                company_id: Some(3),
                kind: Some("identity_sync".into()),
                state: Some(JobState::Failed)
            }
        );
        assert_eq!(
            JobFilter::parse(Some(""), None, Some(" ")),
            Ok(JobFilter::default())
        );
        assert!(
            JobFilter::parse(None, Some("done"), None)
                .unwrap_err()
                .contains("queued")
        );
        assert!(
            JobFilter::parse(None, None, Some("x"))
                .unwrap_err()
                .contains("identity_sync")
        );
        assert!(JobFilter::parse(Some("01"), None, None).is_err());
    }

    #[test]
    fn a_requester_is_named_after_its_actor_unless_told() {
        let t = Requester::from_actor(Actor::token("PSA automation"));
        assert_eq!(t.name, "PSA automation");
        assert_eq!(t.actor.0, "api:PSA automation");
        assert_eq!(Requester::scheduler().name, "scheduler");
        let s = Requester::new(Actor::staff("ana@msp.example"), "Ana Diaz");
        assert_eq!(
            (s.actor.0.as_str(), s.name.as_str()),
            ("staff:ana@msp.example", "Ana Diaz")
        );
    }
}
