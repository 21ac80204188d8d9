//! Jobs by company, by kind, and by both: so the Jobs page's filters and a company's sync
//! history read index entries and the page's records, not every job ever run.
//!
//! `JOB_INDEX` maps (scope, job id) → the job's state byte. A scope is every job, one
//! company's, one kind's, or one company's of one kind; job ids grow, so a scope read
//! backwards is newest first. The state rides in the value so a state filter reads no record.
//! `put_job` keeps the entries in the same transaction as the record.

use super::codec::dec;
use super::tables::{JOB_INDEX, JOBS};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{Job, JobFilter, JobState};
use redb::ReadableTable;

fn state_byte(s: JobState) -> u8 {
    match s {
        JobState::Queued => 0,
        JobState::Running => 1,
        JobState::Succeeded => 2,
        JobState::Failed => 3,
    }
}

fn scope(company_id: Option<u64>, kind: Option<&str>) -> Vec<u8> {
    let mut s = Vec::with_capacity(16);
    match (company_id, kind) {
        (None, None) => s.push(b'a'),
        (Some(c), None) => {
            s.push(b'c');
            s.extend_from_slice(&c.to_be_bytes());
        }
        (None, Some(k)) => {
            s.push(b'k');
            s.extend_from_slice(k.as_bytes());
        }
        (Some(c), Some(k)) => {
            s.push(b'b');
            s.extend_from_slice(&c.to_be_bytes());
            s.extend_from_slice(k.as_bytes());
        }
    }
    s
}

/// Every scope a job is listed in.
fn scopes_of(j: &Job) -> Vec<Vec<u8>> {
    let kind = Some(j.kind.as_str());
    let mut out = vec![scope(None, None), scope(None, kind)];
    if let Some(c) = j.company_id {
        out.push(scope(Some(c), None));
        out.push(scope(Some(c), kind));
    }
    out
}

impl<Tx: ReadTables> Txn<Tx> {
    /// Newest first, filtered; with how many match in all (counted on index entries only).
    pub fn jobs_filtered(
        &self,
        f: &JobFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Job>, usize), StoreError> {
        let sc = scope(f.company_id, f.kind.as_deref());
        let want = f.state.map(state_byte);
        let index = self.table(JOB_INDEX)?;
        let mut ids = Vec::new();
        let mut total = 0;
        for r in index
            .range((sc.as_slice(), 0u64)..=(sc.as_slice(), u64::MAX))?
            .rev()
        {
            let (k, v) = r?;
            if want.is_some_and(|w| v.value() != w) {
                continue;
            }
            if total >= offset && ids.len() < limit {
                ids.push(k.value().1);
            }
            total += 1;
        }
        let jobs = self.table(JOBS)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(g) = jobs.get(id)? {
                out.push(dec(g.value())?);
            }
        }
        Ok((out, total))
    }
}

impl Writer {
    /// List `j` in its scopes with its current state (called with every write of a job).
    pub(super) fn index_job(&mut self, j: &Job) -> Result<(), StoreError> {
        let mut t = self.txn.open_table(JOB_INDEX)?;
        for s in scopes_of(j) {
            t.insert((s.as_slice(), j.id), state_byte(j.state))?;
        }
        Ok(())
    }
}

/// Schema v7: fill the index from the jobs already stored (idempotent: inserts overwrite).
pub(super) fn build(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    let jobs = txn.open_table(JOBS)?;
    let mut index = txn.open_table(JOB_INDEX)?;
    for r in jobs.iter()? {
        let j: Job = dec(r?.1.value())?;
        for s in scopes_of(&j) {
            index.insert((s.as_slice(), j.id), state_byte(j.state))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Requester, Trigger};

    fn job(kind: &str, company: u64) -> Job {
        Job::new(
            kind,
            Some(company),
            Trigger::Manual,
            Requester::system(),
            3,
            chrono::DateTime::UNIX_EPOCH,
            serde_json::Value::Null,
        )
    }

    #[test]
    fn filters_read_the_index_newest_first_and_follow_state_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::store::Store::open(
            &dir.path().join("t.redb"),
            crate::crypto::SecretBox::from_key([7; 32]),
        )
        .expect("open");
        store
            .write_blocking(|w| {
                w.enqueue_job(job("identity_sync", 1))?;
                w.enqueue_job(job("evidence_sync", 1))?;
                w.enqueue_job(job("identity_sync", 2))?;
                let claimed = w.claim_job(chrono::DateTime::UNIX_EPOCH)?.expect("due");
                w.finish_job(claimed, JobState::Succeeded, chrono::DateTime::UNIX_EPOCH)?;
                Ok::<_, StoreError>(())
            })
            .expect("write");
        let ids = |f: JobFilter| {
            store
                .read_blocking(|r| r.jobs_filtered(&f, 0, 10))
                .map(|(jobs, total)| (jobs.iter().map(|j| j.id).collect::<Vec<_>>(), total))
                .expect("read")
        };
        assert_eq!(ids(JobFilter::default()), (vec![3, 2, 1], 3));
        let c1 = JobFilter {
            company_id: Some(1),
            ..JobFilter::default()
        };
        assert_eq!(ids(c1.clone()), (vec![2, 1], 2));
        let kind = JobFilter {
            kind: Some("identity_sync".into()),
            ..JobFilter::default()
        };
        assert_eq!(ids(kind), (vec![3, 1], 2));
        let done = JobFilter {
            state: Some(JobState::Succeeded),
            ..c1
        };
        assert_eq!(ids(done), (vec![1], 1));
        let queued = JobFilter {
            state: Some(JobState::Queued),
            ..JobFilter::default()
        };
        assert_eq!(ids(queued), (vec![3, 2], 2));
    }

    #[test]
    fn a_v6_database_gains_the_jobs_index_filled_from_its_jobs() {
        use crate::store::codec::enc;
        use crate::store::{meta, tables};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.redb");
        {
            let mut builder = redb::Builder::new();
            builder.set_concurrency_mode(redb::ConcurrencyMode::SingleWriter);
            let db = builder.create(&path).expect("create");
            let txn = db.begin_write().expect("write");
            tables::create_all(&txn).expect("v1");
            tables::create_v2(&txn).expect("v2");
            tables::create_v3(&txn).expect("v3");
            tables::create_v4(&txn).expect("v4");
            tables::create_v5(&txn).expect("v5");
            tables::create_v6(&txn).expect("v6");
            {
                // Jobs as a v6 binary stored them: records only, no index.
                let mut jobs = txn.open_table(JOBS).expect("jobs");
                for (id, company) in [(1u64, 4u64), (2, 5), (3, 4)] {
                    let mut j = job("identity_sync", company);
                    j.id = id;
                    j.state = JobState::Succeeded;
                    jobs.insert(id, enc(&j).expect("enc").as_slice())
                        .expect("insert");
                }
            }
            meta::set_schema_version(&txn, 6).expect("version");
            txn.commit().expect("commit");
        }
        let store = crate::store::Store::open(&path, crate::crypto::SecretBox::from_key([1; 32]))
            .expect("migrates");
        let f = JobFilter {
            company_id: Some(4),
            state: Some(JobState::Succeeded),
            ..JobFilter::default()
        };
        let (jobs, total) = store
            .read_blocking(|r| r.jobs_filtered(&f, 0, 10))
            .expect("read");
        assert_eq!(total, 2);
        assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), vec![3, 1]);
    }
}
