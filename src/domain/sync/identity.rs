//! The identity sync job for one company: users (delta, in batches of pages), groups (delta,
//! one round at a time, `groups.rs`), Intune devices (full list, diffed page by page,
//! `devices.rs`). Every batch of changes commits in one transaction together with the delta
//! state that covers it (`batch.rs`), so a crash resumes after the last committed batch and
//! never skips or repeats changes.

use super::apply::SyncPolicy;
use crate::domain::entra::graph_error_details;
use crate::domain::jobs::{OutcomeRecords, RunResult};
use crate::domain::{DomainError, Services};
use crate::graph::{FailureReason, GraphError};
use crate::model::{
    ChangeCounts, Company, Job, NewAuditEvent, Progress, Requester, SyncState, SyncWarning,
};
use crate::store::keys;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Delta links expire after 7 days; one hour of margin avoids starting a round on a link
/// that dies half-way.
const DELTA_MAX_AGE_HOURS: i64 = 7 * 24 - 1;

/// Why a sync step stopped.
pub(super) enum StepError {
    Graph(GraphError),
    Domain(DomainError),
}

impl From<DomainError> for StepError {
    fn from(e: DomainError) -> Self {
        StepError::Domain(e)
    }
}

impl From<crate::store::StoreError> for StepError {
    fn from(e: crate::store::StoreError) -> Self {
        StepError::Domain(e.into())
    }
}

/// An audit entry of the sync of `company_id`, written as `by`: a sync someone started is
/// theirs. `requested_by` goes in the details too, so the entry says it wherever it is read.
pub(super) fn entry(
    by: &Requester,
    at: DateTime<Utc>,
    kind: &str,
    summary: impl Into<String>,
    company_id: u64,
    details: serde_json::Value,
) -> NewAuditEvent {
    let mut details = match details {
        serde_json::Value::Null => serde_json::json!({}),
        d => d,
    };
    if let Some(obj) = details.as_object_mut() {
        obj.insert("requested_by".into(), by.actor.0.clone().into());
    }
    NewAuditEvent::new(at, by.actor.clone(), kind, summary)
        .company(company_id)
        .details(details)
}

fn delta_fresh(s: &SyncState, now: DateTime<Utc>) -> bool {
    s.delta_link.is_some()
        && s.delta_saved_at
            .is_some_and(|at| now - at < Duration::hours(DELTA_MAX_AGE_HOURS))
}

/// The last identity sync of a company, shown on its page (why 0 devices, when it ran).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SyncReport {
    pub finished_at: Option<DateTime<Utc>>,
    pub ok: bool,
    pub summary: String,
    /// Set when Intune could not be read: the Graph answer, in words.
    pub devices_error: Option<String>,
    pub counts: BTreeMap<String, u64>,
    /// Why the sync succeeded only with warnings (see `model::Verdict`).
    #[serde(default)]
    pub warnings: Vec<SyncWarning>,
}

impl Services {
    pub async fn sync_report(&self, company_id: u64) -> Result<Option<SyncReport>, DomainError> {
        let key = keys::meta::sync_report(company_id);
        Ok(self.store.read(move |r| r.meta(&key)).await?)
    }

    /// Run one identity sync job. `progress` receives where it stands (for a progress bar).
    /// `reading_done` is called once the job sends no more remote requests (the last Intune
    /// page was read, or the Level.io phase ended): its worker may then start its next job
    /// while this one's last writes land (`jobs::SlotRelease`).
    pub async fn run_identity_sync(
        &self,
        job: &Job,
        progress: impl Fn(Progress) + Send + Sync,
        reading_done: impl Fn() + Send + Sync,
    ) -> RunResult {
        let Some(company_id) = job.company_id else {
            return RunResult::Abort("identity sync needs a company".into());
        };
        let started = self.now();
        let by = job.requester();
        let company = match self.company(company_id).await {
            Ok(c) => c,
            Err(e) => return RunResult::Abort(e.to_string()),
        };
        if company.is_archived() {
            let msg = format!(
                "{} is archived; restore the company first to sync it",
                company.name
            );
            let _ = self
                .record(
                    entry(
                        &by,
                        started,
                        "sync.identity",
                        &msg,
                        company_id,
                        serde_json::json!({"trigger": job.trigger.as_str(), "job_id": job.id}),
                    )
                    .failed(),
                )
                .await;
            return RunResult::Abort(msg);
        }
        let Some(tenant) = company.tenant.clone().filter(|t| t.connected) else {
            return RunResult::Abort(format!(
                "{} is not connected to a Microsoft 365 tenant",
                company.name
            ));
        };
        let graph = match self.graph_client().await {
            Ok(g) => g,
            Err(e) => return RunResult::Abort(e.to_string()),
        };
        let policy = SyncPolicy {
            exclude_guests: company_excludes_guests(&company),
        };
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();

        // Each phase's last write lands while the next phase reads (`batch::Tail`); every
        // tail lands before the job's outcome, and before its failure is recorded.
        let (mut users, mut users_tail) = match self
            .sync_users(
                &graph,
                &by,
                company_id,
                &tenant.tenant_id,
                policy,
                &progress,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => return self.fail_sync(&company, job, started, "users", e).await,
        };
        let groups = self
            .sync_groups(
                &graph,
                &by,
                company_id,
                &tenant.tenant_id,
                &progress,
                &mut users_tail,
            )
            .await;
        let (mut groups, mut groups_tail) = match groups {
            Ok(r) => r,
            Err(e) => {
                return match (users_tail.land().await, e) {
                    (Ok(_), e) => self.fail_sync(&company, job, started, "groups", e).await,
                    // The users round's last write failed; the groups phase met it first when
                    // it returned a store error (a second landing only says it failed before).
                    (Err(_), StepError::Domain(e)) => {
                        let e = StepError::Domain(e);
                        self.fail_sync(&company, job, started, "users", e).await
                    }
                    (Err(e), StepError::Graph(_)) => {
                        self.fail_sync(&company, job, started, "users", e.into())
                            .await
                    }
                };
            }
        };
        progress(Progress::words("devices", "devices: reading Intune"));
        let mut devices_error = None;
        let mut warnings = Vec::new();
        // The groups' writes queue behind the users round's last write and land while the
        // devices phase reads (`sync_groups`); the devices land them before their first write.
        // Without a Level.io phase to follow, the last Intune page ends the job's reading.
        let level_map = self.level_phase_map(company_id).await;
        let level_follows = !matches!(level_map, Ok(None));
        let last_page_read = || {
            if !level_follows {
                reading_done();
            }
        };
        let mut devices = self
            .sync_devices(
                &graph,
                company_id,
                &tenant.tenant_id,
                &progress,
                &mut groups_tail,
                &last_page_read,
            )
            .await;
        match users_tail.land().await {
            Ok(c) => users.add(c),
            Err(e) => {
                // The groups' chain stops at that failure, writing nothing; let it end first.
                let _ = groups_tail.land().await;
                return self
                    .fail_sync(&company, job, started, "users", e.into())
                    .await;
            }
        }
        put_counts(&mut counts, "contacts", users);
        match (groups_tail.land().await, devices) {
            (Ok(c), d) => {
                groups.add(c);
                devices = d;
            }
            // As above: the devices phase met the failed write first.
            (Err(_), Err(StepError::Domain(e))) => {
                let e = StepError::Domain(e);
                return self.fail_sync(&company, job, started, "groups", e).await;
            }
            (Err(e), _) => {
                return self
                    .fail_sync(&company, job, started, "groups", e.into())
                    .await;
            }
        }
        put_counts(&mut counts, "groups", groups);
        match devices {
            Ok(c) => put_counts(&mut counts, "assets", c),
            Err(StepError::Domain(e)) => {
                return RunResult::Retry(format!("could not store devices: {e}"));
            }
            Err(StepError::Graph(e))
                if e.reason() == FailureReason::IntuneNotAvailable
                    && self.had_intune(company_id).await =>
            {
                // A tenant that listed Intune devices before and now says "not licensed" lost
                // something: a failure to act on, not a licence state (#13).
                return self
                    .fail_sync(
                        &company,
                        job,
                        started,
                        "devices (Intune was available before)",
                        StepError::Graph(e),
                    )
                    .await;
            }
            Err(StepError::Graph(e)) => {
                // Intune failing (no licence, no permission) must not lose the users and groups
                // already synced: record it plainly and finish.
                let why = match e.reason() {
                    FailureReason::IntuneNotAvailable => {
                        "Intune is not available in this tenant (no Intune licence or not set up)"
                    }
                    FailureReason::PermissionDenied => {
                        "the app lacks permission to read Intune devices (grant admin consent again)"
                    }
                    FailureReason::Throttled => {
                        "Intune throttled the request; devices sync again next run"
                    }
                    _ => "Intune answered with an error",
                };
                let msg = format!("devices: not synced — {why}");
                // No Intune licence is a state of the tenant, not a fault: a neutral warning.
                let warning = match e.reason() {
                    FailureReason::IntuneNotAvailable => SyncWarning::intune_not_licensed(),
                    _ => SyncWarning::other(msg.clone()),
                };
                self.add_job_warning(job.id, warning.clone()).await;
                warnings.push(warning);
                let _ = self
                    .record(
                        entry(
                            &by,
                            self.now(),
                            "sync.identity.devices",
                            &msg,
                            company_id,
                            graph_error_details(&e),
                        )
                        .warned(&warnings),
                    )
                    .await;
                devices_error = Some(format!("{why}. Graph said: {e}"));
            }
        }

        // Level.io after Intune, so the merge reads this sync's Intune records; its failure
        // is a warning of this job, never its end (src/domain/sync/level.rs).
        let level = self.sync_level_devices(job, &company, level_map).await;
        reading_done();
        let level_words = level.words();
        if let Some(w) = level.warning() {
            self.add_job_warning(job.id, w.clone()).await;
            warnings.push(w);
        }
        level.count_into(&mut counts);

        let finished = self.now();
        let secs = (finished - started).num_milliseconds() as f64 / 1000.0;
        // In words, as people read it in the audit log and on the company page.
        let kinds: &[&str] = if devices_error.is_some() {
            &["contacts", "groups"]
        } else {
            &["contacts", "groups", "assets"]
        };
        let changes: Vec<String> = kinds
            .iter()
            .map(|k| crate::model::kind_in_words(&counts, k))
            .collect();
        let summary = format!(
            "Identity sync of {} (by {}): {}{}{level_words} in {secs:.1}s",
            company.name,
            by.name,
            changes.join("; "),
            if devices_error.is_some() {
                "; devices not synced"
            } else {
                ""
            },
        );
        let report = SyncReport {
            finished_at: Some(finished),
            ok: devices_error.is_none(),
            summary: summary.clone(),
            devices_error,
            counts: counts.clone(),
            warnings: warnings.clone(),
        };
        let details = serde_json::json!({"trigger": job.trigger.as_str(), "job_id": job.id, "duration_secs": secs, "counts": counts, "devices_error": report.devices_error});
        let key = keys::meta::sync_report(company_id);
        let mut event = entry(
            &by,
            finished,
            "sync.identity",
            &summary,
            company_id,
            details,
        );
        if report.devices_error.is_some() || !warnings.is_empty() {
            event = event.warned(&warnings);
        }
        // The report and the audit entry commit with the job's outcome (one fsync less per
        // sync; see `RunResult::SucceededWith`).
        let report = match serde_json::to_value(&report) {
            Ok(v) => v,
            Err(e) => return RunResult::Retry(format!("could not record the sync: {e}")),
        };
        RunResult::SucceededWith {
            counts,
            summary,
            records: OutcomeRecords {
                meta: vec![(key, report)],
                audit: vec![event],
            },
        }
    }

    async fn fail_sync(
        &self,
        company: &Company,
        job: &Job,
        started: DateTime<Utc>,
        step: &str,
        e: StepError,
    ) -> RunResult {
        let (msg, details, retry) = match &e {
            StepError::Graph(g) => {
                let retry = matches!(
                    g.reason(),
                    FailureReason::Throttled | FailureReason::Transport | FailureReason::Other
                ) && g.status.is_none_or(|s| s >= 500 || s == 429);
                (format!("{step}: {g}"), graph_error_details(g), retry)
            }
            // A full disk fails the job at once (its message says what to do); the next
            // scheduled or manual sync runs once there is room again.
            StepError::Domain(d) => (
                format!("{step}: {d}"),
                serde_json::json!({"error": d.to_string()}),
                !matches!(d, DomainError::Store(crate::store::StoreError::DiskFull)),
            ),
        };
        // Entra failing does not keep Level's devices from syncing (and merging with the
        // Intune records already stored).
        let level_words = match &e {
            StepError::Graph(_) => {
                let map = self.level_phase_map(company.id).await;
                self.sync_level_devices(job, company, map).await.words()
            }
            StepError::Domain(_) => String::new(),
        };
        let secs = (self.now() - started).num_milliseconds() as f64 / 1000.0;
        let summary = format!(
            "Identity sync of {} failed ({}): {msg}{level_words}",
            company.name,
            job.trigger.as_str()
        );
        let mut details = details;
        if let Some(obj) = details.as_object_mut() {
            obj.insert("trigger".into(), job.trigger.as_str().into());
            obj.insert("job_id".into(), job.id.into());
            obj.insert("duration_secs".into(), secs.into());
        }
        let report = SyncReport {
            finished_at: Some(self.now()),
            ok: false,
            summary: summary.clone(),
            devices_error: None,
            counts: BTreeMap::new(),
            warnings: Vec::new(),
        };
        let key = keys::meta::sync_report(company.id);
        let by = job.requester();
        let event = entry(
            &by,
            self.now(),
            "sync.identity",
            &summary,
            company.id,
            details,
        )
        .failed();
        let _ = self
            .store
            .write(move |w| {
                w.set_meta(&key, &report)?;
                w.append_audit(event)?;
                Ok::<_, DomainError>(())
            })
            .await;
        if retry {
            RunResult::Retry(msg)
        } else {
            RunResult::Abort(msg)
        }
    }

    /// Decide how this run starts: resume a round in progress, continue from a fresh delta
    /// link, or begin a full round (first sync, or a link older than 7 days).
    pub(super) async fn start_round(
        &self,
        by: &Requester,
        company_id: u64,
        collection: &'static str,
        s: SyncState,
        now: DateTime<Utc>,
    ) -> Result<SyncState, StepError> {
        if s.next_link.is_some() {
            return Ok(s);
        }
        let mut next = s.clone();
        next.round = s.round + 1;
        next.round_started_at = Some(now);
        next.round_counts = ChangeCounts::default();
        if delta_fresh(&s, now) {
            next.full = false;
            // Start the incremental round from the stored delta link.
            next.next_link = s.delta_link.clone();
            if collection == keys::sync_state::GROUPS {
                next.next_link = None;
            }
            return Ok(next);
        }
        next.full = true;
        next.next_link = None;
        if s.delta_link.is_some() {
            let msg = format!("{collection}: delta link older than 7 days; running a full resync");
            self.record(entry(
                by,
                now,
                "sync.identity.resync",
                msg,
                company_id,
                serde_json::Value::Null,
            ))
            .await?;
            next.delta_link = None;
        }
        Ok(next)
    }

    /// Microsoft refused the delta link: forget it and start a full round, audited.
    pub(super) async fn reset_to_full(
        &self,
        by: &Requester,
        company_id: u64,
        collection: &'static str,
        s: SyncState,
        e: &GraphError,
    ) -> Result<SyncState, StepError> {
        let now = self.now();
        let next = SyncState {
            round: s.round + 1,
            full: true,
            next_link: None,
            delta_link: None,
            delta_saved_at: None,
            round_started_at: Some(now),
            round_counts: ChangeCounts::default(),
        };
        let saved = next.clone();
        let event = entry(
            by,
            now,
            "sync.identity.resync",
            format!("{collection}: Microsoft expired the delta token; running a full resync"),
            company_id,
            graph_error_details(e),
        );
        self.store
            .write(move |w| {
                w.put_sync_state(company_id, collection, &saved)?;
                w.append_audit(event)?;
                Ok::<_, crate::store::StoreError>(())
            })
            .await?;
        Ok(next)
    }
}

fn put_counts(map: &mut BTreeMap<String, u64>, what: &str, c: ChangeCounts) {
    map.insert(format!("{what}_created"), c.created);
    map.insert(format!("{what}_updated"), c.updated);
    map.insert(format!("{what}_deactivated"), c.deactivated);
}

fn company_excludes_guests(c: &Company) -> bool {
    c.exclude_guests
}
