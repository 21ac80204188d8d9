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

    /// Take the oldest due job whose company is not in `busy` and mark it running. Jobs of a
    /// busy company stay queued, in their place, for when its running job ends.
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
                if job.company_id.is_some_and(|c| busy.contains(&c)) {
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
