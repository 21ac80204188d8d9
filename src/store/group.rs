//! Group commit: writes that may share a transaction are queued, and whichever arrives
//! while no group is committing leads: it takes every write queued so far, runs them one
//! after another in ONE write transaction and commits once (one fsync for all), then takes
//! what queued meanwhile, until the queue is empty.
//!
//! WHY: the store has one writer and every commit is an fsync (two, in the single-writer
//! mode the store opens in). With many sync workers each committing its batches, the writer
//! is busy nearly all the time and each commit waits behind the others; a group costs about
//! what one commit costs. Nothing waits on purpose to fill a group: a write that arrives to
//! an idle writer commits at once.
//!
//! Each write still commits before its caller hears of it, and a write is all or nothing
//! with its group. What sharing costs: if one write of a group fails, the group is not
//! committed; that write gets its error, the writes run before it in the group get a
//! "try again" error (they were consumed, so they cannot run again here), and the writes
//! not yet run go on in the next group. So only writes whose caller can retry, and that do
//! not fail as a matter of course, belong here: the identity sync's batches (a failed batch
//! fails the job with a retry, and the sync resumes from what is committed).

use super::{Store, StoreError, Writer};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Group commits and the writes they carried in this process (for the benchmarks' report).
static COMMITS: AtomicU64 = AtomicU64::new(0);
static WRITES: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds the single writer was held (a write transaction open, from `begin_write`
/// returning to its commit or abort), by any write of this process.
static WRITER_HELD_NS: AtomicU64 = AtomicU64::new(0);

/// How long the single writer has been held in this process since it started (for the
/// benchmarks' report: a writer busy most of the time makes every write queue behind others).
pub fn writer_held() -> std::time::Duration {
    std::time::Duration::from_nanos(WRITER_HELD_NS.load(Ordering::Relaxed))
}

/// Adds the time since `since` to [`writer_held`] when dropped (on commit, abort or error).
pub(super) struct HeldTimer(std::time::Instant);

impl HeldTimer {
    pub(super) fn start() -> Self {
        Self(std::time::Instant::now())
    }
}

impl Drop for HeldTimer {
    fn drop(&mut self) {
        let ns = u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX);
        WRITER_HELD_NS.fetch_add(ns, Ordering::Relaxed);
    }
}

/// (commits, writes) made through [`Store::write_grouped`] since the process started.
pub fn group_commit_stats() -> (u64, u64) {
    (
        COMMITS.load(Ordering::Relaxed),
        WRITES.load(Ordering::Relaxed),
    )
}

/// Writes sharing one transaction at most. WHY a cap: every write of a group keeps its dirty
/// pages until the group commits, so 16 workers' initial batches in one transaction held
/// ~300 MiB more at the peak of the 1,000-tenant bench than separate commits; four writes per
/// commit keep most of the fsync saving with a quarter of that.
const MAX_GROUP: usize = 4;

/// Hands a write's value to its caller once its group has committed.
type Deliver = Box<dyn FnOnce() + Send>;
/// Tells a write's caller why it was not committed.
type Fail = Box<dyn FnOnce(StoreError) + Send>;
/// A write's work in the group's transaction; returns how to deliver its value.
type Run = Box<dyn FnOnce(&mut Writer) -> Result<Deliver, StoreError> + Send>;
/// One queued write: runs in the group's transaction, or reports why it did not commit.
struct Pending {
    run: Run,
    fail: Fail,
}

/// The queue, and whether a leader is committing groups from it.
#[derive(Default)]
pub(super) struct Group {
    queue: Mutex<(Vec<Pending>, bool)>,
}

/// The same error for another write of the group (a disk that is full is full for all).
fn echo(e: &StoreError) -> StoreError {
    match e {
        StoreError::DiskFull => StoreError::DiskFull,
        other => StoreError::Join(format!("not written, the group it shared failed: {other}")),
    }
}

/// `f` as a queued write, and where its result will arrive.
fn pending<T, F>(f: F) -> (Pending, oneshot::Receiver<Result<T, StoreError>>)
where
    T: Send + 'static,
    F: FnOnce(&mut Writer) -> Result<T, StoreError> + Send + 'static,
{
    type Slot<T> = Arc<Mutex<Option<oneshot::Sender<Result<T, StoreError>>>>>;
    let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
    let send = |tx: &Slot<T>, r: Result<T, StoreError>| {
        let taken = tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(tx) = taken {
            let _ = tx.send(r);
        }
    };
    let tx: Slot<T> = Arc::new(Mutex::new(Some(tx)));
    let (ok_tx, fail_tx) = (tx.clone(), tx);
    let pending = Pending {
        run: Box::new(move |w: &mut Writer| {
            let v = f(w)?;
            Ok(Box::new(move || send(&ok_tx, Ok(v))) as Deliver)
        }),
        fail: Box::new(move |e: StoreError| send(&fail_tx, Err(e))),
    };
    (pending, rx)
}

impl Store {
    /// Run `f` in a write transaction it may share with other grouped writes (see the module
    /// notes for when that is right), on the blocking pool; returns its value once committed.
    pub async fn write_grouped<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Writer) -> Result<T, StoreError> + Send + 'static,
    {
        let (pending, rx) = pending(f);
        let lead = {
            let mut q = self.group.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.0.push(pending);
            !std::mem::replace(&mut q.1, true)
        };
        if lead {
            let this = self.clone();
            tokio::task::spawn_blocking(move || this.lead_groups());
        }
        rx.await
            .map_err(|_| StoreError::Join("the grouped write was dropped".into()))?
    }

    /// Commit groups until the queue is empty, then step down. Owns its handle on the store
    /// and lets go of it before telling the last group's callers: a caller that closes the
    /// store once its write is done must not find the file still held by the leader.
    fn lead_groups(self) {
        loop {
            let group = {
                let mut q = self.group.queue.lock().unwrap_or_else(|p| p.into_inner());
                if q.0.is_empty() {
                    q.1 = false;
                    return;
                }
                let n = q.0.len().min(MAX_GROUP);
                q.0.drain(..n).collect::<Vec<_>>()
            };
            let (left, answers) = self.commit_group(group);
            let step_down = {
                let mut q = self.group.queue.lock().unwrap_or_else(|p| p.into_inner());
                // Not run (a write before them failed): first in line for the next group.
                let later = std::mem::take(&mut q.0);
                q.0 = left;
                q.0.extend(later);
                let idle = q.0.is_empty();
                if idle {
                    q.1 = false;
                }
                idle
            };
            if step_down {
                drop(self);
                answers.into_iter().for_each(|a| a());
                return;
            }
            answers.into_iter().for_each(|a| a());
        }
    }

    /// Run `group` in one transaction and commit it. Returns the writes it did not run, and
    /// the answers for the callers of those it did (to hand over once the caller is ready).
    fn commit_group(&self, group: Vec<Pending>) -> (Vec<Pending>, Vec<Deliver>) {
        let fail_all = |ran: Vec<Fail>, e: &StoreError| -> Vec<Deliver> {
            ran.into_iter()
                .map(|fail| {
                    let e = echo(e);
                    Box::new(move || fail(e)) as Deliver
                })
                .collect()
        };
        let txn = match self.db.begin_write() {
            Ok(t) => t,
            Err(e) => {
                let fails = group.into_iter().map(|p| p.fail).collect();
                return (Vec::new(), fail_all(fails, &e));
            }
        };
        let _held = HeldTimer::start();
        let mut w = Writer {
            txn,
            secrets: self.secrets.clone(),
            pending: None,
            prebuilds: Some(self.prebuilds.clone()),
        };
        let mut ran: Vec<(Deliver, Fail)> = Vec::new();
        let mut rest = group.into_iter();
        while let Some(p) = rest.next() {
            // Each write sees the writer as a transaction of its own would: its deferred
            // index changes are written before the next write runs.
            let done = (p.run)(&mut w).and_then(|d| {
                w.flush_index_upkeep()?;
                w.pending = None;
                Ok(d)
            });
            match done {
                Ok(d) => ran.push((d, p.fail)),
                Err(e) => {
                    // Nothing of the group is written.
                    if let Err(abort) = w.txn.abort() {
                        tracing::warn!(error = %abort, "could not abort a failed group of writes");
                    }
                    let mut answers = fail_all(ran.into_iter().map(|(_, f)| f).collect(), &e);
                    let fail = p.fail;
                    answers.push(Box::new(move || fail(e)));
                    return (rest.collect(), answers);
                }
            }
        }
        match w.txn.commit() {
            Ok(()) => {
                COMMITS.fetch_add(1, Ordering::Relaxed);
                WRITES.fetch_add(ran.len() as u64, Ordering::Relaxed);
                (Vec::new(), ran.into_iter().map(|(d, _)| d).collect())
            }
            Err(e) => {
                let e = self.db.note(e);
                (
                    Vec::new(),
                    fail_all(ran.into_iter().map(|(_, f)| f).collect(), &e),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &tempfile::TempDir) -> Store {
        Store::open(
            &dir.path().join("t.redb"),
            crate::crypto::SecretBox::from_key([5; 32]),
        )
        .expect("open")
    }

    fn put(key: &'static str) -> impl FnOnce(&mut Writer) -> Result<u32, StoreError> + Send {
        move |w: &mut Writer| {
            w.set_meta(key, &1u32)?;
            Ok(7)
        }
    }

    /// Commit `group` now and answer its callers; the writes not run.
    fn commit_now(s: &Store, group: Vec<Pending>) -> Vec<Pending> {
        let (left, answers) = s.commit_group(group);
        answers.into_iter().for_each(|a| a());
        left
    }

    fn meta(s: &Store, key: &str) -> Option<u32> {
        s.read_blocking(|r| r.meta(key)).expect("read")
    }

    #[tokio::test]
    async fn a_group_commits_every_write_once_or_none_and_a_failure_fails_only_what_ran_with_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = store(&dir);
        // All good: one transaction, every caller gets its value.
        let (a, ra) = pending(put("a"));
        let (b, rb) = pending(put("b"));
        assert!(commit_now(&s, vec![a, b]).is_empty());
        assert_eq!(ra.await.expect("sent").expect("a"), 7);
        assert_eq!(rb.await.expect("sent").expect("b"), 7);
        assert_eq!((meta(&s, "a"), meta(&s, "b")), (Some(1), Some(1)));

        // The second write fails: nothing of the group lands; the first write hears it was
        // not written (it may try again), the failing one its own error, and the third, not
        // run yet, comes back for the next group.
        let (c, rc) = pending(put("c"));
        let (bad, rbad) = pending(|w: &mut Writer| {
            w.set_meta("bad", &1u32)?;
            Err::<u32, _>(StoreError::Corrupt("refused".into()))
        });
        let (d, rd) = pending(put("d"));
        let left = commit_now(&s, vec![c, bad, d]);
        assert_eq!(left.len(), 1);
        assert!(matches!(rc.await.expect("sent"), Err(StoreError::Join(_))));
        assert!(matches!(
            rbad.await.expect("sent"),
            Err(StoreError::Corrupt(_))
        ));
        assert_eq!((meta(&s, "c"), meta(&s, "bad")), (None, None));
        assert!(commit_now(&s, left).is_empty());
        assert_eq!(rd.await.expect("sent").expect("d"), 7);
        assert_eq!(meta(&s, "d"), Some(1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_grouped_writes_all_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = store(&dir);
        let writes: Vec<_> = (0..64u32)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move {
                    s.write_grouped(move |w| {
                        w.set_meta(&format!("k{i}"), &i)?;
                        Ok(i)
                    })
                    .await
                })
            })
            .collect();
        for (i, h) in writes.into_iter().enumerate() {
            assert_eq!(h.await.expect("task").expect("write"), i as u32);
        }
        for i in 0..64u32 {
            assert_eq!(meta(&s, &format!("k{i}")), Some(i));
        }
    }
}
