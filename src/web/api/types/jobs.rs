//! Background jobs (every sync is one), the answers that queue them, and the schedules.

use crate::model;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// A durable background job: queued → running → succeeded or failed, retried with backoff.
#[derive(Debug, Serialize)]
pub struct Job {
    /// The job's id (`/jobs/{id}`).
    pub id: u64,
    /// What it does: `identity_sync` or `evidence_sync` (more kinds may be added within v1).
    pub kind: String,
    /// The company it works on; null for appliance-wide jobs.
    pub company_id: Option<u64>,
    /// Why it was started.
    pub trigger: Trigger,
    /// Who asked for it.
    pub requested_by: Requester,
    /// Where it stands.
    pub state: JobState,
    /// Runs started so far.
    pub attempts: u32,
    /// Runs allowed before it fails for good.
    pub max_attempts: u32,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Not started before this instant (backoff after a failed attempt).
    pub run_after: DateTime<Utc>,
    /// When the current or last attempt started; null while never run.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended; null while queued or running.
    pub finished_at: Option<DateTime<Utc>>,
    /// The last sign of life of a running attempt; null while never run.
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed; null when none did.
    pub error: Option<String>,
    /// Counts reported by the job (`contacts_created`, `groups_updated`, ...).
    pub counts: BTreeMap<String, u64>,
    /// A line for people while it runs ("users: page 3"), then its summary.
    pub progress: String,
    /// Where a running job stands, for a progress bar; null before its first report.
    pub progress_detail: Option<Progress>,
    /// The verdict once it has ended (`succeeded`, `succeeded_with_warnings`, `failed`), the
    /// same word the pages and the audit log use; null while queued or running.
    pub outcome: Option<model::SyncOutcome>,
    /// Why it succeeded only with warnings: each `{"kind", "message"}`, `kind` being
    /// `intune_not_licensed` or `p1_not_licensed` (licence states, not faults) or `other`.
    pub warnings: Vec<model::SyncWarning>,
    /// Job-specific input as queued (null for syncs queued through the API).
    pub params: serde_json::Value,
}

impl From<model::Job> for Job {
    fn from(j: model::Job) -> Self {
        let requested_by = j.requester().into();
        let outcome = model::Verdict::of_job(&j).map(|v| v.outcome);
        Self {
            id: j.id,
            kind: j.kind.0,
            company_id: j.company_id,
            trigger: j.trigger.into(),
            requested_by,
            state: j.state.into(),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            created_at: j.created_at,
            run_after: j.run_after,
            started_at: j.started_at,
            finished_at: j.finished_at,
            heartbeat_at: j.heartbeat_at,
            error: j.error,
            counts: j.counts,
            progress: j.progress,
            progress_detail: j.progress_detail.map(|p| Progress {
                step: p.step.clone(),
                pages: p.pages,
                objects: p.objects,
                total: p.total,
            }),
            outcome,
            warnings: j.warnings,
            params: j.params,
        }
    }
}

/// How far a running sync has read.
#[derive(Debug, Serialize)]
pub struct Progress {
    /// `users`, `groups`, `devices`.
    pub step: String,
    /// Pages of this step read so far.
    pub pages: u64,
    /// Objects of this step read so far.
    pub objects: u64,
    /// How many objects in all, when Microsoft Graph says (delta queries never do): else null.
    pub total: Option<u64>,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a worker (or for `run_after`).
    Queued,
    /// An attempt is running.
    Running,
    /// Done.
    Succeeded,
    /// Gave up: out of attempts, or an error that retrying cannot fix.
    Failed,
}

impl From<model::JobState> for JobState {
    fn from(s: model::JobState) -> Self {
        match s {
            model::JobState::Queued => Self::Queued,
            model::JobState::Running => Self::Running,
            model::JobState::Succeeded => Self::Succeeded,
            model::JobState::Failed => Self::Failed,
        }
    }
}

/// Why a job was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A schedule fired.
    Schedule,
    /// A person started it in the web interface (sync all companies).
    Manual,
    /// Someone pressed Sync on the company's page.
    CompanyButton,
    /// The first sync after admin consent connected the company.
    Consent,
    /// An API call (`POST /companies/{id}/sync`, `POST /sync`).
    Api,
    /// Queued when the appliance started (reserved; nothing queues it today).
    Startup,
}

impl From<model::Trigger> for Trigger {
    fn from(t: model::Trigger) -> Self {
        match t {
            model::Trigger::Schedule => Self::Schedule,
            model::Trigger::Manual => Self::Manual,
            model::Trigger::CompanyButton => Self::CompanyButton,
            model::Trigger::Consent => Self::Consent,
            model::Trigger::Api => Self::Api,
            model::Trigger::Startup => Self::Startup,
        }
    }
}

/// Who asked for a job: a staff member (a button in the web interface), an API token, the
/// scheduler, or the appliance itself.
#[derive(Debug, Serialize)]
pub struct Requester {
    /// The actor its audit entries carry: `staff:{email}`, `api:{token}`, `scheduler`, `system`.
    pub actor: String,
    /// For people: the staff member's name (their e-mail when they have none) or the token's
    /// name, as it was when the job was queued; otherwise `scheduler` or `system`.
    pub name: String,
}

impl From<model::Requester> for Requester {
    fn from(r: model::Requester) -> Self {
        Self {
            actor: r.actor.0,
            name: r.name,
        }
    }
}

/// `POST /companies/{id}/sync` (202).
#[derive(Debug, Serialize)]
pub struct QueuedJob {
    /// The sync job.
    pub job: Job,
    /// False when a sync was already queued or running; `job` is that one.
    pub created: bool,
}

/// `POST /sync` (202): one sync per connected, active company.
#[derive(Debug, Serialize)]
pub struct QueuedJobs {
    /// The jobs queued (or already queued or running), one per company.
    pub jobs: Vec<Job>,
}

/// A recurring schedule that queues jobs.
#[derive(Debug, Serialize)]
pub struct Schedule {
    /// The schedule's name (`identity`, `evidence`).
    pub name: &'static str,
    /// The kind of job it queues.
    pub job_kind: &'static str,
    /// Cron expression with seconds (`sec min hour day month weekday`).
    pub cron: String,
    /// IANA time zone the expression is read in.
    pub timezone: String,
    /// When it last queued its jobs; null if never.
    pub last_fired: Option<DateTime<Utc>>,
    /// The next time it fires; null if never again.
    pub next_run: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::super::golden::{assert_json, at};
    use super::*;
    use serde_json::json;

    const JOB: &str = r#"
{
  "id": 12,
  "kind": "identity_sync",
  "company_id": 1,
  "trigger": "company_button",
  "requested_by": {
    "actor": "staff:ana@msp.example",
    "name": "Ana Diaz"
  },
  "state": "failed",
  "attempts": 5,
  "max_attempts": 5,
  "created_at": "2026-01-31T08:00:00Z",
  "run_after": "2026-01-31T08:10:00Z",
  "started_at": "2026-01-31T08:10:00Z",
  "finished_at": "2026-01-31T08:11:00Z",
  "heartbeat_at": "2026-01-31T08:11:00Z",
  "error": "Graph answered 503",
  "counts": {
    "contacts_created": 6,
    "groups_created": 2
  },
  "progress": "users: page 3",
  "progress_detail": null,
  "outcome": "failed",
  "warnings": [],
  "params": {
    "full": true
  }
}"#;

    fn job() -> model::Job {
        let mut j = model::Job::new(
            "identity_sync",
            Some(1),
            model::Trigger::CompanyButton,
            model::Requester::new(model::Actor::staff("ana@msp.example"), "Ana Diaz"),
            5,
            at(0),
            json!({"full": true}),
        );
        j.id = 12;
        j.state = model::JobState::Failed;
        j.attempts = 5;
        j.run_after = at(10);
        j.started_at = Some(at(10));
        j.finished_at = Some(at(11));
        j.heartbeat_at = Some(at(11));
        j.error = Some("Graph answered 503".into());
        j.counts = [("groups_created".into(), 2), ("contacts_created".into(), 6)].into();
        j.progress = "users: page 3".into();
        j
    }

    #[test]
    fn a_job_has_a_fixed_shape() {
        assert_json(&Job::from(job()), JOB);
    }

    #[test]
    fn a_job_says_its_outcome_in_the_one_vocabulary() {
        let mut j = job();
        j.state = model::JobState::Succeeded;
        j.error = None;
        j.warnings = vec![model::SyncWarning::intune_not_licensed()];
        let v = serde_json::to_value(Job::from(j.clone())).unwrap();
        assert_eq!(v["outcome"], "succeeded_with_warnings");
        assert_eq!(v["warnings"][0]["kind"], "intune_not_licensed");
        j.warnings.clear();
        assert_eq!(
            serde_json::to_value(Job::from(j.clone())).unwrap()["outcome"],
            "succeeded"
        );
        j.state = model::JobState::Running;
        j.progress_detail = Some(Box::new(model::Progress {
            step: "users".into(),
            pages: 2,
            objects: 150,
            total: None,
            words: String::new(),
        }));
        let v = serde_json::to_value(Job::from(j)).unwrap();
        assert_eq!(v["outcome"], serde_json::Value::Null);
        assert_eq!(v["progress_detail"]["objects"], 150);
    }

    #[test]
    fn every_state_and_trigger_has_its_wire_name() {
        let states = [
            (model::JobState::Queued, "queued"),
            (model::JobState::Running, "running"),
            (model::JobState::Succeeded, "succeeded"),
            (model::JobState::Failed, "failed"),
        ];
        for (s, name) in states {
            assert_eq!(serde_json::to_value(JobState::from(s)).unwrap(), name);
        }
        let triggers = [
            (model::Trigger::Schedule, "schedule"),
            (model::Trigger::Manual, "manual"),
            (model::Trigger::CompanyButton, "company_button"),
            (model::Trigger::Consent, "consent"),
            (model::Trigger::Api, "api"),
            (model::Trigger::Startup, "startup"),
        ];
        for (t, name) in triggers {
            assert_eq!(serde_json::to_value(Trigger::from(t)).unwrap(), name);
        }
    }

    #[test]
    fn queued_jobs_wrap_the_job() {
        let queued = QueuedJob {
            job: job().into(),
            created: false,
        };
        let nested = indent(JOB, 2);
        assert_json(
            &queued,
            &format!(
                "{{\n  \"job\": {},\n  \"created\": false\n}}",
                nested.trim_start()
            ),
        );
        let all = QueuedJobs {
            jobs: vec![job().into()],
        };
        assert_json(
            &all,
            &format!("{{\n  \"jobs\": [\n{}\n  ]\n}}", indent(JOB, 4)),
        );
    }

    #[test]
    fn a_schedule_has_a_fixed_shape() {
        let s = Schedule {
            name: "identity",
            job_kind: "identity_sync",
            cron: "0 0 */4 * * *".into(),
            timezone: "Europe/Amsterdam".into(),
            last_fired: None,
            next_run: Some(at(240)),
        };
        assert_json(
            &s,
            r#"
{
  "name": "identity",
  "job_kind": "identity_sync",
  "cron": "0 0 */4 * * *",
  "timezone": "Europe/Amsterdam",
  "last_fired": null,
  "next_run": "2026-01-31T12:00:00Z"
}"#,
        );
    }

    fn indent(s: &str, n: usize) -> String {
        let pad = " ".repeat(n);
        s.trim()
            .lines()
            .map(|l| format!("{pad}{l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
