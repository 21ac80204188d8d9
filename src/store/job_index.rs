//! Jobs by company, by kind, and by both: so the Jobs page's filters and a company's sync
//! history read index entries and the page's records, not every job ever run.
//!
//! `JOB_INDEX` maps (scope, job id) → the job's state byte. A scope is every job, one
//! company's, one kind's, or one company's of one kind; job ids grow, so a scope read
//! backwards is newest first. The state rides in the value so a state filter reads no record.
//! Each scope is also kept narrowed to one state (schema v11), so a state filter reads its
//! page's entries only, and `JOB_COUNTS` holds every scope's size, so a page's total is one
//! counter, not a walk of the scope. `put_job` keeps entries and counters in the same
//! transaction as the record.

use super::codec::dec;
use super::tables::{JOB_COUNTS, JOB_INDEX, JOBS};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{Job, JobFilter, JobState};
use redb::ReadableTable;
use std::collections::BTreeMap;

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

/// The scope of `f` (a state filter reads its own scope, so it skips no entry of another
/// state).
fn filter_scope(f: &JobFilter) -> Vec<u8> {
    let sc = scope(f.company_id, f.kind.as_deref());
    match f.state {
        Some(st) => stateful(&sc, state_byte(st)),
        None => sc,
    }
}

/// A scope narrowed to one state: `s`, the state byte, then the stateless scope. WHY a tag
/// of its own: the stateless scopes end in a kind of any length, so a state byte appended
/// after it could not be told apart from the kind's last byte.
fn stateful(sc: &[u8], state: u8) -> Vec<u8> {
    let mut s = Vec::with_capacity(sc.len() + 2);
    s.push(b's');
    s.push(state);
    s.extend_from_slice(sc);
    s
}

/// One page of a job list read by cursor (see [`Txn::jobs_page`]).
#[derive(Debug, Clone)]
pub struct JobsPage {
    pub jobs: Vec<Job>,
    /// How many jobs match the filter in all: one counter.
    pub total: usize,
    /// The id of this page's last job when the page is full (the next page starts after it).
    pub next: Option<u64>,
}

impl<Tx: ReadTables> Txn<Tx> {
    /// Newest first, filtered; with how many match in all (one counter read). Offset paging
    /// walks the keys before the page: cursor paging ([`Self::jobs_page`]) does not.
    pub fn jobs_filtered(
        &self,
        f: &JobFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Job>, usize), StoreError> {
        let sc = filter_scope(f);
        let index = self.table(JOB_INDEX)?;
        let mut ids = Vec::with_capacity(limit.min(500));
        for r in index
            .range((sc.as_slice(), 0u64)..=(sc.as_slice(), u64::MAX))?
            .rev()
            .skip(offset)
            .take(limit)
        {
            ids.push(r?.0.value().1);
        }
        Ok((self.jobs_by_id(ids)?, self.job_count(&sc)?))
    }

    /// A page of jobs matching `f`: newest first (`newest_first`), or oldest first, starting
    /// after the job `after` names when given (keyset paging: reads the page's own entries).
    pub fn jobs_page(
        &self,
        f: &JobFilter,
        after: Option<u64>,
        newest_first: bool,
        offset: usize,
        limit: usize,
    ) -> Result<JobsPage, StoreError> {
        let sc = filter_scope(f);
        let index = self.table(JOB_INDEX)?;
        let (lo, hi) = match (after, newest_first) {
            (None, _) => (0, u64::MAX),
            (Some(a), true) => (0, a.saturating_sub(1)),
            (Some(a), false) => (a.saturating_add(1), u64::MAX),
        };
        let mut ids = Vec::with_capacity(limit.min(500));
        // An `after` at either end leaves nothing on its far side.
        let empty = matches!(
            (after, newest_first),
            (Some(0), true) | (Some(u64::MAX), false)
        );
        if !empty {
            let range = index.range((sc.as_slice(), lo)..=(sc.as_slice(), hi))?;
            let skip = if after.is_some() { 0 } else { offset };
            let keys: Box<dyn Iterator<Item = _>> = if newest_first {
                Box::new(range.rev())
            } else {
                Box::new(range)
            };
            for r in keys.skip(skip).take(limit) {
                ids.push(r?.0.value().1);
            }
        }
        let next = match ids.last() {
            Some(last) if ids.len() == limit => Some(*last),
            _ => None,
        };
        Ok(JobsPage {
            jobs: self.jobs_by_id(ids)?,
            total: self.job_count(&sc)?,
            next,
        })
    }

    fn jobs_by_id(&self, ids: Vec<u64>) -> Result<Vec<Job>, StoreError> {
        let jobs = self.table(JOBS)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(g) = jobs.get(id)? {
                out.push(dec(g.value())?);
            }
        }
        Ok(out)
    }

    fn job_count(&self, sc: &[u8]) -> Result<usize, StoreError> {
        let t = self.table(JOB_COUNTS)?;
        Ok(t.get(sc)?.map(|g| g.value()).unwrap_or(0) as usize)
    }

    /// Compare the jobs index and its counters with the job records; one line per mismatch
    /// (empty when they agree). Tests and support: it reads every job.
    pub fn verify_job_index(&self) -> Result<Vec<String>, StoreError> {
        let jobs = self.table(JOBS)?;
        let mut want_entries: BTreeMap<(Vec<u8>, u64), u8> = BTreeMap::new();
        for r in jobs.iter()? {
            let j: Job = dec(r?.1.value())?;
            for s in entries_of(&j) {
                want_entries.insert((s, j.id), state_byte(j.state));
            }
        }
        let mut want_counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for (s, _) in want_entries.keys() {
            *want_counts.entry(s.clone()).or_default() += 1;
        }
        let mut problems = Vec::new();
        let mut have_entries = BTreeMap::new();
        for r in self.table(JOB_INDEX)?.iter()? {
            let (k, v) = r?;
            let (s, id) = k.value();
            have_entries.insert((s.to_vec(), id), v.value());
        }
        if have_entries != want_entries {
            let extra = have_entries
                .iter()
                .filter(|(k, v)| want_entries.get(*k) != Some(*v))
                .count();
            let missing = want_entries
                .iter()
                .filter(|(k, v)| have_entries.get(*k) != Some(*v))
                .count();
            problems.push(format!(
                "jobs index: {extra} entries not as the jobs say, {missing} missing"
            ));
        }
        let mut have_counts = BTreeMap::new();
        for r in self.table(JOB_COUNTS)?.iter()? {
            let (k, v) = r?;
            have_counts.insert(k.value().to_vec(), v.value());
        }
        for (s, n) in &want_counts {
            let have = have_counts.get(s).copied().unwrap_or(0);
            if have != *n {
                problems.push(format!("jobs counter {s:?}: {have}, the jobs say {n}"));
            }
        }
        for (s, n) in &have_counts {
            if !want_counts.contains_key(s) {
                problems.push(format!("jobs counter {s:?}: {n} for a scope with no job"));
            }
        }
        Ok(problems)
    }
}

/// Every index entry of `j`: its stateless scopes, and each narrowed to its state.
fn entries_of(j: &Job) -> Vec<Vec<u8>> {
    let stateless = scopes_of(j);
    let st = state_byte(j.state);
    let narrowed: Vec<Vec<u8>> = stateless.iter().map(|s| stateful(s, st)).collect();
    stateless.into_iter().chain(narrowed).collect()
}

/// Add `by` to the counter of `sc` (a counter that reaches 0 is removed).
fn bump(t: &mut redb::Table<'_, &'static [u8], u64>, sc: &[u8], by: i64) -> Result<(), StoreError> {
    let now = t.get(sc)?.map(|g| g.value()).unwrap_or(0);
    let next = now.saturating_add_signed(by);
    if next == 0 {
        t.remove(sc)?;
    } else {
        t.insert(sc, next)?;
    }
    Ok(())
}

impl Writer {
    /// List `j` in its scopes with its current state, and keep the counters of every scope
    /// it enters or leaves (called with every write of a job, in the same transaction). The
    /// job's previous state is read from its every-job entry: a job's company and kind never
    /// change, so only the state-narrowed scopes move.
    pub(super) fn index_job(&mut self, j: &Job) -> Result<(), StoreError> {
        let mut t = self.txn.open_table(JOB_INDEX)?;
        let mut counts = self.txn.open_table(JOB_COUNTS)?;
        let new = state_byte(j.state);
        let old = t
            .get((scope(None, None).as_slice(), j.id))?
            .map(|g| g.value());
        if old == Some(new) {
            return Ok(());
        }
        let stateless = scopes_of(j);
        for s in &stateless {
            t.insert((s.as_slice(), j.id), new)?;
            if old.is_none() {
                bump(&mut counts, s, 1)?;
            }
            if let Some(o) = old {
                let gone = stateful(s, o);
                // A v7 database has no narrowed entries yet (v11 builds them).
                if t.remove((gone.as_slice(), j.id))?.is_some() {
                    bump(&mut counts, &gone, -1)?;
                }
            }
            let came = stateful(s, new);
            t.insert((came.as_slice(), j.id), new)?;
            bump(&mut counts, &came, 1)?;
        }
        Ok(())
    }
}

impl Writer {
    /// Take `j` out of every scope it is listed in, with their counters (the job record is
    /// being removed in the same transaction: retention).
    pub(super) fn unindex_job(&mut self, j: &Job) -> Result<(), StoreError> {
        let mut t = self.txn.open_table(JOB_INDEX)?;
        let mut counts = self.txn.open_table(JOB_COUNTS)?;
        for s in entries_of(j) {
            if t.remove((s.as_slice(), j.id))?.is_some() {
                bump(&mut counts, &s, -1)?;
            }
        }
        Ok(())
    }
}

impl<Tx: ReadTables> Txn<Tx> {
    /// Finished jobs (succeeded or failed), oldest first, from the state-narrowed scopes:
    /// up to `limit` ids of each state, starting after `after` (a job id).
    pub(super) fn finished_job_ids(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let index = self.table(JOB_INDEX)?;
        let mut ids = Vec::new();
        for st in [JobState::Succeeded, JobState::Failed] {
            let sc = stateful(&scope(None, None), state_byte(st));
            for r in index
                .range((sc.as_slice(), after.saturating_add(1))..=(sc.as_slice(), u64::MAX))?
                .take(limit)
            {
                ids.push(r?.0.value().1);
            }
        }
        ids.sort_unstable();
        ids.truncate(limit);
        Ok(ids)
    }

    /// Whether a job of `company_id` is running (one counter read): a worker never claims a
    /// second job of a company, so each tenant sees one caller from us at a time.
    pub(super) fn company_has_running_job(&self, company_id: u64) -> Result<bool, StoreError> {
        let sc = stateful(
            &scope(Some(company_id), None),
            state_byte(JobState::Running),
        );
        Ok(self.job_count(&sc)? > 0)
    }

    /// The newest job of `kind` for `company_id` (or of `kind` without a company), by id.
    pub(super) fn newest_job_id(
        &self,
        company_id: Option<u64>,
        kind: &str,
    ) -> Result<Option<u64>, StoreError> {
        let sc = match company_id {
            Some(c) => scope(Some(c), Some(kind)),
            None => scope(None, Some(kind)),
        };
        let index = self.table(JOB_INDEX)?;
        let mut r = index.range((sc.as_slice(), 0u64)..=(sc.as_slice(), u64::MAX))?;
        Ok(r.next_back().transpose()?.map(|(k, _)| k.value().1))
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

/// Schema v11: the state-narrowed scopes and every scope's counter, built from the jobs in
/// one pass. Idempotent: it clears what an interrupted run could have left, then fills.
pub(super) fn build_counts(txn: &redb::WriteTransaction) -> Result<u64, StoreError> {
    let jobs = txn.open_table(JOBS)?;
    let mut index = txn.open_table(JOB_INDEX)?;
    let mut counts = txn.open_table(JOB_COUNTS)?;
    counts.retain(|_, _| false)?;
    let tag: &[u8] = b"s";
    let end: &[u8] = b"t";
    index.retain_in((tag, 0u64)..(end, 0u64), |_, _| false)?;
    let mut tally: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    let mut n = 0u64;
    for r in jobs.iter()? {
        let j: Job = dec(r?.1.value())?;
        let st = state_byte(j.state);
        for s in entries_of(&j) {
            index.insert((s.as_slice(), j.id), st)?;
            *tally.entry(s).or_default() += 1;
        }
        n += 1;
    }
    for (s, c) in tally {
        counts.insert(s.as_slice(), c)?;
    }
    Ok(n)
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
