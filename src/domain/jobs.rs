//! Job semantics over the durable queue: enqueue (one active per company and kind), claim,
//! finish, retry with exponential backoff, and recovery after a crash.

use super::{DomainError, DomainResult, Services};
pub use crate::model::JobFilter;
use crate::model::{
    Actor, Job, JobState, ListQuery, NewAuditEvent, Page, Requester, SortDir, Trigger,
};
use crate::store::{StoreError, Writer};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashSet};

/// Finished jobs one retention transaction removes at most.
pub const PRUNE_BATCH: usize = 500;

/// Outcome of [`Services::enqueue`].
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub job: Job,
    /// False when the same kind was already queued or running for the company.
    pub created: bool,
}

/// How a job run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunResult {
    Succeeded {
        counts: BTreeMap<String, u64>,
        summary: String,
    },
    /// Worth another attempt (network, throttling, 5xx).
    Retry(String),
    /// Will not get better by retrying (bad configuration, archived company...).
    Abort(String),
    /// Succeeded, leaving `records` behind (a report, audit entries) that are written in the
    /// same transaction as the outcome: one commit instead of two, and a crash between them
    /// cannot leave a report of a job that is still `running`.
    SucceededWith {
        counts: BTreeMap<String, u64>,
        summary: String,
        records: OutcomeRecords,
    },
}

/// What a successful run writes with its outcome.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutcomeRecords {
    /// Meta entries (key → JSON value), such as a sync report.
    pub meta: Vec<(String, serde_json::Value)>,
    /// Audit events, such as the run's summary entry.
    pub audit: Vec<NewAuditEvent>,
}

impl Services {
    /// Who `actor` is, for a job: a staff member by their name (looked up now, so the job
    /// keeps the name they had when they asked), anyone else by the actor itself.
    pub async fn requester(&self, actor: Actor) -> DomainResult<Requester> {
        let Some(email) = actor.staff_email().map(str::to_string) else {
            return Ok(Requester::from_actor(actor));
        };
        let user = self.store.read(move |r| r.staff_by_email(&email)).await?;
        Ok(match user.filter(|u| !u.display_name.trim().is_empty()) {
            Some(u) => Requester::new(actor, u.display_name.trim()),
            None => Requester::from_actor(actor),
        })
    }

    /// Queue a job for `requested_by`, or return the one already queued or running for the
    /// same company and kind (which keeps its own requester).
    pub async fn enqueue(
        &self,
        requested_by: Actor,
        kind: &str,
        company_id: Option<u64>,
        trigger: Trigger,
        params: serde_json::Value,
    ) -> DomainResult<Queued> {
        let requested_by = self.requester(requested_by).await?;
        let now = self.now();
        let job = Job::new(
            kind,
            company_id,
            trigger,
            requested_by,
            self.config.job_max_attempts,
            now,
            params,
        );
        let out = self.store.write(move |w| w.enqueue_job(job)).await?;
        let created = matches!(out, crate::store::Enqueued::New(_));
        self.job_notify.notify_waiters();
        Ok(Queued {
            job: out.into_job(),
            created,
        })
    }

    pub async fn job(&self, id: u64) -> DomainResult<Job> {
        self.store
            .read(move |r| r.job(id))
            .await?
            .ok_or(DomainError::NotFound("job"))
    }

    pub async fn jobs(
        &self,
        company_id: Option<u64>,
        page: usize,
        per_page: usize,
    ) -> DomainResult<Page<Job>> {
        let filter = JobFilter {
            company_id,
            ..JobFilter::default()
        };
        self.jobs_filtered(filter, page, per_page).await
    }

    /// Jobs newest first, by company, kind and state (read through the jobs index).
    pub async fn jobs_filtered(
        &self,
        filter: JobFilter,
        page: usize,
        per_page: usize,
    ) -> DomainResult<Page<Job>> {
        let page = page.max(1);
        let per_page = per_page.clamp(1, 500);
        let (items, total) = self
            .store
            .read(move |r| r.jobs_filtered(&filter, (page - 1).saturating_mul(per_page), per_page))
            .await?;
        Ok(Page {
            items,
            total,
            page,
            per_page,
            next_cursor: None,
            total_is_lower_bound: false,
        })
    }

    /// A page of jobs by filter for the pager: newest first (`dir` asc, the list's natural
    /// order) or oldest first (`dir=desc`, how the pager reads backwards), after `q.after`
    /// when given (a job id: keyset paging), else at `q.page`. The total is one counter.
    pub async fn jobs_list(&self, filter: JobFilter, q: ListQuery) -> DomainResult<Page<Job>> {
        let after = q.after.as_deref().and_then(job_cursor);
        let newest_first = q.dir == SortDir::Asc;
        let (offset, limit) = (q.offset(), q.per_page);
        let page = self
            .store
            .read(move |r| r.jobs_page(&filter, after, newest_first, offset, limit))
            .await?;
        Ok(q.page_of(page.jobs, page.total)
            .with_next(page.next.map(|id| id.to_be_bytes().to_vec())))
    }

    /// Claim the next due job, if any.
    pub async fn claim_job(&self) -> DomainResult<Option<Job>> {
        self.claim_job_except(HashSet::new()).await
    }

    /// Claim the oldest due job of a company not in `busy` (companies with a job running):
    /// one tenant never has two jobs at once (an identity sync beside its evidence
    /// collection), so Graph's per-tenant limits see one caller from us at a time.
    pub async fn claim_job_except(&self, busy: HashSet<u64>) -> DomainResult<Option<Job>> {
        let now = self.now();
        Ok(self
            .store
            .write(move |w| w.claim_job_except(now, &busy))
            .await?)
    }

    /// When the next queued job is due (workers sleep until then, or until notified).
    pub async fn next_job_due(&self) -> DomainResult<Option<chrono::DateTime<chrono::Utc>>> {
        Ok(self.store.read(|r| r.next_due()).await?)
    }

    pub async fn job_progress(&self, id: u64, progress: String) -> DomainResult<()> {
        let now = self.now();
        Ok(self
            .store
            .write(move |w| w.job_progress(id, now, &progress))
            .await?)
    }

    pub async fn job_progress_detail(
        &self,
        id: u64,
        progress: crate::model::Progress,
    ) -> DomainResult<()> {
        let now = self.now();
        Ok(self
            .store
            .write(move |w| w.job_progress_detail(id, now, progress))
            .await?)
    }

    /// Note a warning the running job `id` ends with. Best effort: a warning that cannot be
    /// written is logged, and the sync still records it in its audit entry.
    pub async fn add_job_warning(&self, id: u64, warning: crate::model::SyncWarning) {
        let r = self
            .store
            .write(move |w| w.add_job_warning(id, warning))
            .await;
        if let Err(e) = r {
            tracing::warn!(job = id, error = %e, "could not record a job warning");
        }
    }

    /// Record how a run ended: success, a retry after backoff, or a final failure.
    pub async fn complete_job(&self, job: Job, result: RunResult) -> DomainResult<Job> {
        let now = self.now();
        let base = i64::from(self.config.job_backoff_seconds);
        let finished = self
            .store
            .write(move |w| record_outcome(w, job, result, now, base))
            .await
            .map_err(DomainError::from)?;
        // Alert rules look at every outcome (#13; domain/alerts/rules.rs).
        self.alerts_after_job(&finished).await;
        Ok(finished)
    }

    /// Record how `job` ended and, in the same transaction, claim the next due job of a
    /// company not in `busy` (when `claim_next`).
    ///
    /// WHY one transaction: every commit is an fsync through the one writer, and a worker
    /// that has finished a job always claims the next one, so the two ride one commit. The
    /// claim stays as durable as a claim of its own: it commits, or neither it nor the
    /// outcome does (then the finished job is still `running` and a restart runs it again,
    /// as before). `busy` should not hold `job`'s company: it is free once this commits.
    pub async fn complete_and_claim(
        &self,
        job: Job,
        result: RunResult,
        busy: HashSet<u64>,
        claim_next: bool,
    ) -> DomainResult<(Job, Option<Job>)> {
        let now = self.now();
        let base = i64::from(self.config.job_backoff_seconds);
        let (done, next) = self
            .store
            .write(move |w| {
                let done = record_outcome(w, job, result, now, base)?;
                let next = if claim_next {
                    w.claim_job_except(now, &busy)?
                } else {
                    None
                };
                Ok::<_, StoreError>((done, next))
            })
            .await
            .map_err(DomainError::from)?;
        // Alert rules look at every outcome (#13; domain/alerts/rules.rs).
        self.alerts_after_job(&done).await;
        Ok((done, next))
    }

    /// Record several workers' outcomes, each followed by its worker's next claim (when its
    /// `claim_next`), in ONE write transaction: a group commit. Results come back in the
    /// order given. The alert rules (#13) look at each outcome in the same transaction.
    ///
    /// WHY: every commit is an fsync through the one writer, and with many workers the
    /// outcomes that finish while a commit is in flight would each wait for a commit of their
    /// own. Each still commits before its worker hears of it, so a crash loses none that
    /// was reported; a crash before the commit leaves every job of the group `running`,
    /// requeued at start. Claims in one group see each other (the store skips a company with
    /// a job running), so no company gets two jobs. If the group cannot commit (one outcome's
    /// write or its alert rules fail, or a write it shared a commit with), each is recorded
    /// again on its own, with its alert
    /// rules after it as before, so one bad write fails only its job and alerts never fail an
    /// outcome.
    pub async fn complete_and_claim_group(
        &self,
        group: Vec<(Job, RunResult, bool)>,
    ) -> Vec<DomainResult<(Job, Option<Job>)>> {
        let now = self.now();
        let base = i64::from(self.config.job_backoff_seconds);
        let max_attempts = self.config.job_max_attempts;
        let together = group.clone();
        // It may share its commit with the syncs' batches too (`store/group.rs`).
        let written = self
            .store
            .write_grouped(move |w| {
                let mut out = Vec::with_capacity(together.len());
                let mut alerted = false;
                for (job, result, claim_next) in together {
                    let done = record_outcome(w, job, result, now, base)?;
                    // Alert rules look at every outcome (#13), here in the outcome's own
                    // transaction instead of a commit of their own after it.
                    alerted |= Services::alert_rules_in_txn(w, &done, now, max_attempts)?;
                    let next = if claim_next {
                        w.claim_job_except(now, &HashSet::new())?
                    } else {
                        None
                    };
                    out.push((done, next));
                }
                Ok::<_, StoreError>((out, alerted))
            })
            .await;
        match written {
            Ok((out, alerted)) => {
                for (done, _) in &out {
                    // A delivery job's end is looked at apart (it walks the outbox).
                    if Services::is_alert_delivery(&done.kind) {
                        self.alerts_after_job(done).await;
                    }
                }
                if alerted {
                    self.job_notify.notify_waiters();
                }
                out.into_iter().map(Ok).collect()
            }
            Err(e) => {
                tracing::warn!(error = %e, jobs = group.len(), "group commit failed; recording each outcome on its own");
                let mut out = Vec::with_capacity(group.len());
                for (job, result, claim_next) in group {
                    out.push(
                        self.complete_and_claim(job, result, HashSet::new(), claim_next)
                            .await,
                    );
                }
                out
            }
        }
    }

    /// Remove finished jobs older than `keep_days` (each company's newest job of each kind
    /// stays), [`PRUNE_BATCH`] per write transaction so the writer is never held long; returns
    /// how many went, and records one system audit entry when any did.
    pub async fn prune_jobs(&self, keep_days: u32) -> DomainResult<usize> {
        let now = self.now();
        let cutoff = now - Duration::days(i64::from(keep_days));
        let removed = self
            .remove_in_batches(PRUNE_BATCH as u64, move |w| {
                Ok(w.prune_jobs(cutoff, PRUNE_BATCH)? as u64)
            })
            .await? as usize;
        if removed > 0 {
            self.record(
                NewAuditEvent::new(
                    now,
                    Actor::system(),
                    "job.prune",
                    format!("Removed {removed} finished job(s) older than {keep_days} days"),
                )
                .details(serde_json::json!({"removed": removed, "keep_days": keep_days})),
            )
            .await?;
        }
        Ok(removed)
    }

    /// After a crash or restart: put every job left `running` back in the queue, due now.
    pub async fn recover_jobs(&self) -> DomainResult<usize> {
        let now = self.now();
        let n = self
            .store
            .write(move |w| {
                let running = w.running_jobs()?;
                let n = running.len();
                for mut j in running {
                    j.progress = "requeued after restart".into();
                    // The interrupted attempt does not count against the job.
                    j.attempts = j.attempts.saturating_sub(1);
                    w.requeue_job(j, now)?;
                }
                if n > 0 {
                    w.append_audit(NewAuditEvent::new(
                        now,
                        Actor::system(),
                        "job.recover",
                        format!("Requeued {n} job(s) interrupted by a restart"),
                    ))?;
                }
                Ok::<_, StoreError>(n)
            })
            .await?;
        Ok(n)
    }

    /// Requeue one running job immediately (graceful shutdown ran out of time).
    pub async fn requeue_running(&self, id: u64) -> DomainResult<()> {
        self.requeue_claimed(id, "requeued at shutdown").await
    }

    /// Put a claimed job back in the queue at once, its attempt not counted, saying `why` on
    /// its progress line; other workers are woken to take it.
    pub async fn requeue_claimed(&self, id: u64, why: &'static str) -> DomainResult<()> {
        let now = self.now();
        self.store
            .write(move |w| {
                if let Some(mut j) = w.job(id)?.filter(|j| j.state == JobState::Running) {
                    j.attempts = j.attempts.saturating_sub(1);
                    j.progress = why.into();
                    w.requeue_job(j, now)?;
                }
                Ok::<_, StoreError>(())
            })
            .await?;
        self.job_notify.notify_waiters();
        Ok(())
    }
}

/// Write how `job` ended, in the caller's transaction: success (with the records the run
/// leaves behind), a retry after backoff, or a final failure with its audit entry.
fn record_outcome(
    w: &mut Writer,
    job: Job,
    result: RunResult,
    now: DateTime<Utc>,
    base: i64,
) -> Result<Job, StoreError> {
    let mut job = w.job(job.id)?.unwrap_or(job);
    let kind = format!("job.{}", job.kind.as_str());
    let finished = match result {
        RunResult::Succeeded { counts, summary } => {
            job.counts = counts;
            job.error = None;
            job.progress = summary;
            w.finish_job(job, JobState::Succeeded, now)?
        }
        RunResult::SucceededWith {
            counts,
            summary,
            records,
        } => {
            for (key, value) in &records.meta {
                w.set_meta(key, value)?;
            }
            for event in records.audit {
                w.append_audit(event)?;
            }
            job.counts = counts;
            job.error = None;
            job.progress = summary;
            w.finish_job(job, JobState::Succeeded, now)?
        }
        RunResult::Retry(msg) if job.attempts < job.max_attempts => {
            // 1×, 2×, 4× … the base delay, capped at an hour.
            let exp = job.attempts.saturating_sub(1).min(16);
            let delay = (base.saturating_mul(1i64 << exp)).min(3600);
            job.error = Some(msg);
            return w.requeue_job(job, now + Duration::seconds(delay));
        }
        RunResult::Retry(msg) | RunResult::Abort(msg) => {
            job.error = Some(msg.clone());
            let job = w.finish_job(job, JobState::Failed, now)?;
            let by = job.requester();
            let mut e = NewAuditEvent::new(
                now,
                by.actor.clone(),
                &kind,
                format!(
                    "Job #{} failed after {} attempt(s): {msg}",
                    job.id, job.attempts
                ),
            )
            .failed()
            .details(serde_json::json!({
                "job_id": job.id,
                "error": msg,
                "requested_by": by.actor.0,
            }));
            e.company_id = job.company_id;
            w.append_audit(e)?;
            job
        }
    };
    Ok(finished)
}

/// The job id a jobs cursor names (8 bytes, big-endian); None for any other cursor.
fn job_cursor(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_be_bytes)
}
