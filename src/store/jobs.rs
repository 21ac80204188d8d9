//! The durable job queue.
//!
//! Three tables move together in one transaction: `JOBS` (the record), `JOB_QUEUE` (due
//! time → id, for claiming in order) and `JOB_ACTIVE` (one queued-or-running job per
//! company and kind). Because a claim is a single write transaction and redb has one
//! writer, two workers can never claim the same job.

use super::codec::{dec, enc};
use super::keys;
use super::tables::{JOB_ACTIVE, JOB_QUEUE, JOBS};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{Job, JobState};
use chrono::{DateTime, Utc};
use redb::ReadableTable;
use std::collections::HashSet;

/// Result of an enqueue: a new job, or the one already queued or running for that pair.
#[derive(Debug, Clone, PartialEq)]
pub enum Enqueued {
    New(Job),
    Existing(Job),
}

impl Enqueued {
    pub fn job(&self) -> &Job {
        match self {
            Enqueued::New(j) | Enqueued::Existing(j) => j,
        }
    }
    pub fn into_job(self) -> Job {
        match self {
            Enqueued::New(j) | Enqueued::Existing(j) => j,
        }
    }
}

impl<Tx: ReadTables> Txn<Tx> {
    pub fn job(&self, id: u64) -> Result<Option<Job>, StoreError> {
        let t = self.table(JOBS)?;
        t.get(id)?.map(|g| dec(g.value())).transpose()
    }
    pub fn active_job(&self, key: &str) -> Result<Option<Job>, StoreError> {
        let id = self.table(JOB_ACTIVE)?.get(key)?.map(|g| g.value());
        match id {
            Some(id) => self.job(id),
            None => Ok(None),
        }
    }
    /// When the earliest queued job becomes due (workers sleep until then).
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let t = self.table(JOB_QUEUE)?;
        let first = t.first()?.map(|(k, _)| k.value().0);
        Ok(first.and_then(DateTime::from_timestamp_millis))
    }
}

impl Writer {
    fn put_job(&mut self, j: &Job) -> Result<(), StoreError> {
        self.txn
            .open_table(JOBS)?
            .insert(j.id, enc(j)?.as_slice())?;
        self.index_job(j)?;
        Ok(())
    }

    /// Queue `job` (its id is assigned here) unless the same kind is already queued or
    /// running for the same company, in which case that job is returned.
    pub fn enqueue_job(&mut self, mut job: Job) -> Result<Enqueued, StoreError> {
        let key = Job::active_key(&job.kind, job.company_id);
        if let Some(existing) = self.active_job(&key)?.filter(|j| j.state.is_active()) {
            return Ok(Enqueued::Existing(existing));
        }
        job.id = self.next_id(keys::seq::JOB)?;
        job.state = JobState::Queued;
        self.put_job(&job)?;
        self.txn
            .open_table(JOB_QUEUE)?
            .insert((job.run_after.timestamp_millis(), job.id), ())?;
        self.txn
            .open_table(JOB_ACTIVE)?
            .insert(key.as_str(), job.id)?;
        Ok(Enqueued::New(job))
    }

    /// Take the oldest due job and mark it running (attempt counted here).
    pub fn claim_job(&mut self, now: DateTime<Utc>) -> Result<Option<Job>, StoreError> {
        self.claim_job_except(now, &HashSet::new())
    }

    /// Take the oldest due job whose company is not in `busy` and has no job running, and
    /// mark it running. Jobs of a busy company stay queued, in their place, for when its
    /// running job ends. WHY the store checks too: several workers' claims can share one
    /// transaction (group commit), and each must see the companies the others just claimed.
    pub fn claim_job_except(
        &mut self,
        now: DateTime<Utc>,
        busy: &HashSet<u64>,
    ) -> Result<Option<Job>, StoreError> {
        let mut found = None;
        {
            let t = self.txn.open_table(JOB_QUEUE)?;
            for entry in t.range(..=(now.timestamp_millis(), u64::MAX))? {
                let (at, id) = entry?.0.value();
                let job = match self.job(id)? {
                    Some(j) => j,
                    // A queue entry without its job: take it out (below) and carry on.
                    None => {
                        found = Some((at, id, None));
                        break;
                    }
                };
                if let Some(c) = job.company_id
                    && (busy.contains(&c) || self.company_has_running_job(c)?)
                {
                    continue;
                }
                found = Some((at, id, Some(job)));
                break;
            }
        }
        let Some((at, id, job)) = found else {
            return Ok(None);
        };
        self.txn.open_table(JOB_QUEUE)?.remove((at, id))?;
        let Some(mut job) = job else {
            return Ok(None);
        };
        job.state = JobState::Running;
        job.attempts += 1;
        job.started_at = Some(now);
        job.heartbeat_at = Some(now);
        job.finished_at = None;
        // A new attempt starts with a clean slate: no stale bar, no earlier run's warnings.
        job.progress_detail = None;
        job.warnings.clear();
        self.put_job(&job)?;
        Ok(Some(job))
    }

    /// Record progress of a running job (also its heartbeat).
    pub fn job_progress(
        &mut self,
        id: u64,
        now: DateTime<Utc>,
        progress: &str,
    ) -> Result<(), StoreError> {
        if let Some(mut j) = self.job(id)? {
            j.heartbeat_at = Some(now);
            j.progress = progress.to_string();
            self.put_job(&j)?;
        }
        Ok(())
    }

    /// Record where a running job stands (also its heartbeat and progress line).
    pub fn job_progress_detail(
        &mut self,
        id: u64,
        now: DateTime<Utc>,
        progress: crate::model::Progress,
    ) -> Result<(), StoreError> {
        if let Some(mut j) = self.job(id)? {
            j.heartbeat_at = Some(now);
            j.progress = progress.line();
            j.progress_detail = Some(Box::new(progress));
            self.put_job(&j)?;
        }
        Ok(())
    }

    /// Note a warning the running job will end with (kept when it succeeds).
    pub fn add_job_warning(
        &mut self,
        id: u64,
        warning: crate::model::SyncWarning,
    ) -> Result<(), StoreError> {
        if let Some(mut j) = self.job(id)?
            && !j.warnings.contains(&warning)
        {
            j.warnings.push(warning);
            self.put_job(&j)?;
        }
        Ok(())
    }

    /// Finish a running job as succeeded or failed for good.
    pub fn finish_job(
        &mut self,
        mut job: Job,
        state: JobState,
        now: DateTime<Utc>,
    ) -> Result<Job, StoreError> {
        job.state = state;
        job.finished_at = Some(now);
        self.put_job(&job)?;
        let key = Job::active_key(&job.kind, job.company_id);
        let mut active = self.txn.open_table(JOB_ACTIVE)?;
        if active.get(key.as_str())?.map(|g| g.value()) == Some(job.id) {
            active.remove(key.as_str())?;
        }
        Ok(job)
    }

    /// Put a job back in the queue to run at `run_after` (retry with backoff, or restart).
    pub fn requeue_job(
        &mut self,
        mut job: Job,
        run_after: DateTime<Utc>,
    ) -> Result<Job, StoreError> {
        job.state = JobState::Queued;
        job.run_after = run_after;
        self.put_job(&job)?;
        self.txn
            .open_table(JOB_QUEUE)?
            .insert((run_after.timestamp_millis(), job.id), ())?;
        Ok(job)
    }

    /// Remove up to `limit` finished jobs (succeeded or failed) that finished before `cutoff`,
    /// oldest first, with their index entries and counters; returns how many went. The newest
    /// job of each company and kind stays whatever its age, so a company's last sync is still
    /// shown. Reads cost what is removed: job ids grow with `created_at`, so the walk stops at
    /// the first finished job created after `cutoff` (nothing newer can have finished before
    /// it); it only steps over the few old jobs kept as their company's newest, or that ran
    /// long.
    pub fn prune_jobs(&mut self, cutoff: DateTime<Utc>, limit: usize) -> Result<usize, StoreError> {
        let mut removed = 0;
        let mut after = 0u64;
        let limit = limit.max(1);
        loop {
            let ids = self.finished_job_ids(after, limit)?;
            if ids.is_empty() {
                return Ok(removed);
            }
            for id in ids {
                after = id;
                let Some(job) = self.job(id)? else { continue };
                if job.created_at >= cutoff {
                    return Ok(removed);
                }
                if job.state.is_active() || job.finished_at.is_none_or(|f| f >= cutoff) {
                    continue;
                }
                if self.newest_job_id(job.company_id, job.kind.as_str())? == Some(id) {
                    continue;
                }
                self.txn.open_table(JOBS)?.remove(id)?;
                self.unindex_job(&job)?;
                let key = Job::active_key(&job.kind, job.company_id);
                let mut active = self.txn.open_table(JOB_ACTIVE)?;
                if active.get(key.as_str())?.map(|g| g.value()) == Some(id) {
                    active.remove(key.as_str())?;
                }
                removed += 1;
                if removed >= limit {
                    return Ok(removed);
                }
            }
        }
    }

    /// Jobs left `running` by a process that is gone. At start-up every running job is such
    /// a job: this process holds the only write lock on the database.
    pub fn running_jobs(&self) -> Result<Vec<Job>, StoreError> {
        let active = self.txn.open_table(JOB_ACTIVE)?;
        let mut out = Vec::new();
        for r in active.iter()? {
            let id = r?.1.value();
            if let Some(j) = self.job(id)?.filter(|j| j.state == JobState::Running) {
                out.push(j);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod retention_tests {
    use super::*;
    use crate::model::{Requester, Trigger};
    use chrono::Duration;

    fn day(n: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::days(n)
    }

    /// Queue a job of `kind` for `company` created on `created`, run it then, and finish it
    /// as `state` on `finished`; returns its id.
    fn ran(
        w: &mut Writer,
        kind: &str,
        company: u64,
        created: i64,
        finished: i64,
        state: JobState,
    ) -> Result<u64, StoreError> {
        let job = Job::new(
            kind,
            Some(company),
            Trigger::Schedule,
            Requester::system(),
            3,
            day(created),
            serde_json::Value::Null,
        );
        let id = w.enqueue_job(job)?.into_job().id;
        let claimed = w.claim_job(day(created))?.expect("due");
        assert_eq!(claimed.id, id);
        w.finish_job(claimed, state, day(finished))?;
        Ok(id)
    }

    #[test]
    fn prune_removes_old_finished_jobs_in_batches_and_keeps_each_company_s_newest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::store::Store::open(
            &dir.path().join("t.redb"),
            crate::crypto::SecretBox::from_key([3; 32]),
        )
        .expect("open");
        let (ok, failed) = (JobState::Succeeded, JobState::Failed);
        let ids = store
            .write_blocking(|w| {
                let a = ran(w, "identity_sync", 1, 0, 0, ok)?;
                let e = ran(w, "evidence_sync", 1, 0, 0, failed)?;
                // Company 2's only job: old, but its newest, so it stays.
                let d = ran(w, "identity_sync", 2, 0, 0, ok)?;
                let b = ran(w, "identity_sync", 1, 1, 1, ok)?;
                // Created long ago, finished after the cutoff: stays.
                let f = ran(w, "evidence_sync", 1, 2, 45, ok)?;
                // Queued long ago and not yet due: not finished, stays.
                let mut g = Job::new(
                    "evidence_sync",
                    Some(1),
                    Trigger::Manual,
                    Requester::system(),
                    3,
                    day(3),
                    serde_json::Value::Null,
                );
                g.run_after = day(100);
                let g = w.enqueue_job(g)?.into_job().id;
                let c = ran(w, "identity_sync", 1, 50, 50, ok)?;
                Ok::<_, StoreError>([a, e, d, b, f, g, c])
            })
            .expect("seed");
        let [a, e, d, b, f, g, c] = ids;
        // One job per transaction, as many transactions as it takes.
        let mut batches = Vec::new();
        loop {
            let n = store
                .write_blocking(|w| w.prune_jobs(day(30), 1))
                .expect("prune");
            if n == 0 {
                break;
            }
            batches.push(n);
        }
        assert_eq!(batches, vec![1, 1, 1]);
        let left: Vec<u64> = store
            .read_blocking(|r| r.jobs_filtered(&Default::default(), 0, 50))
            .expect("read")
            .0
            .iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(left, vec![c, g, f, d]);
        for gone in [a, e, b] {
            assert_eq!(store.read_blocking(|r| r.job(gone)).expect("read"), None);
        }
        assert_eq!(
            store.verify_indexes().expect("verify").problems,
            Vec::<String>::new()
        );
        let failed_total = store
            .read_blocking(|r| {
                r.jobs_filtered(
                    &crate::model::JobFilter {
                        state: Some(JobState::Failed),
                        ..Default::default()
                    },
                    0,
                    10,
                )
            })
            .expect("read")
            .1;
        assert_eq!(failed_total, 0);
        // The queued job still runs: its queue entry and active mark survived.
        let due = store
            .write_blocking(|w| w.claim_job(day(100)))
            .expect("claim")
            .map(|j| j.id);
        assert_eq!(due, Some(g));
    }
}
