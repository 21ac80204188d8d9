//! Early writeback: the database file's written pages start going to disk while a big
//! transaction is still writing them, so its commit's `fsync` does not wait for all of them.
//!
//! WHY (#11): a commit's `fsync` waits for the disk to take every page written since the last
//! one. The kernel starts writing dirty pages by itself only after 30 s or past a tenth of
//! memory, so on a VM with memory to spare a sync's big transactions (a first sync's lists,
//! some 60 MiB of pages) reached their commit with every page still dirty: that commit's
//! `fsync` took 0.26 s, with the writer, and the job, waiting and the CPU idle. redb hands
//! pages to its backend during a transaction (its write buffer holds at most half of the
//! cache) and the rest at the commit. This backend counts the bytes it is given and, past
//! [`WRITEBACK_EVERY`], wakes a thread that calls `fdatasync` while the writer goes on, as
//! RocksDB's `bytes_per_sync` does with `sync_file_range`. Std has no `sync_file_range`, and
//! the crate forbids `unsafe`; an `fdatasync` off the writer's path does the same job here.
//!
//! WHY only big transactions (the count starts again at redb's own sync): a first version
//! woke every 8 MiB whatever the commits in between, so the sync's ordinary batches (a few MiB
//! each, synced by their own commit anyway) were flushed twice, and pages redb rewrote within
//! a transaction went to disk once per version: the initial sync used 0.6 CPU-s more and read
//! 1.63 × its floor against 1.55 × (eight alternating pairs, 5 December). Past 16 MiB in one
//! transaction, the list builds alone: under `strace`, the end of the first sync (from the
//! assets' build to the job's end) fell from 0.47 s to 0.28 s; end to end the gain was within
//! that evening's noise, with the same CPU (BENCHMARKS.md). A disk slower to take 60 MiB than
//! this VM's gains more.
//!
//! Safety of the data: an early `fdatasync` only makes durable sooner what the kernel's own
//! writeback could have written at any moment, in any order; redb's commit protocol never
//! relies on a page staying unwritten, and its commit still calls its own `fdatasync`. The
//! thread syncs through a file description of its own (opened again, not `dup`ed): Linux
//! reports a writeback error to every open description once, so an error the thread meets
//! is still reported to redb's own `fdatasync` (a `dup` would share it and could swallow it).

use redb::StorageBackend;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// Bytes handed to the file after which the writeback thread is woken.
const WRITEBACK_EVERY: u64 = 16 * 1024 * 1024;

/// A backend whose written bytes are synced early, beside the writer.
#[derive(Debug)]
pub(super) struct EarlyWriteback<B> {
    inner: B,
    /// Bytes written after which the thread is woken ([`WRITEBACK_EVERY`]).
    every: u64,
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct Shared {
    /// Bytes written since the thread, or redb, last started a sync.
    unsynced: AtomicU64,
    /// Tests: the thread's syncs so far.
    #[cfg(test)]
    syncs: AtomicU64,
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct State {
    due: bool,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tell the thread to end (it lets go of its description of the file).
    fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_all();
    }
}

impl<B: StorageBackend> EarlyWriteback<B> {
    /// Wrap `inner`, the backend of the file at `path`. Without a thread or a second
    /// description of the file (never expected), the backend is `inner` unchanged.
    pub(super) fn new(inner: B, path: &Path) -> Self {
        Self::with_every(inner, path, WRITEBACK_EVERY)
    }

    fn with_every(inner: B, path: &Path, every: u64) -> Self {
        let shared = Arc::new(Shared::default());
        // Read access is enough for `fdatasync` on Linux.
        let thread = File::options()
            .read(true)
            .open(path)
            .and_then(|file| {
                let s = shared.clone();
                std::thread::Builder::new()
                    .name("db-writeback".into())
                    .spawn(move || writeback(&s, file))
            })
            .map_err(|e| tracing::warn!(error = %e, "no early writeback for the database: big commits wait for all their pages"))
            .ok();
        Self {
            inner,
            every,
            shared,
            thread: Mutex::new(thread),
        }
    }

    fn stop(&self) {
        self.shared.close();
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

/// The writeback thread: an `fdatasync` each time enough was written, until closed. Its
/// errors are redb's to meet at its own commit (see the module note), so they are only noted.
fn writeback(s: &Shared, file: File) {
    loop {
        {
            let mut st = s.lock();
            while !st.due && !st.closed {
                st = s.wake.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            if st.closed {
                return;
            }
            st.due = false;
        }
        s.unsynced.store(0, Ordering::Relaxed);
        if let Err(e) = file.sync_data() {
            tracing::debug!(error = %e, "early writeback of the database failed");
        }
        #[cfg(test)]
        {
            s.syncs.fetch_add(1, Ordering::SeqCst);
            s.wake.notify_all();
        }
    }
}

impl<B> Drop for EarlyWriteback<B> {
    fn drop(&mut self) {
        // `close` normally stopped it; a backend dropped without it must not leave the
        // thread holding the file open.
        self.shared.close();
    }
}

impl<B: StorageBackend> StorageBackend for EarlyWriteback<B> {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> Result<(), std::io::Error> {
        // What redb syncs itself needs no early writeback: count from here.
        self.shared.unsynced.store(0, Ordering::Relaxed);
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        self.inner.write(offset, data)?;
        let n = data.len() as u64;
        let before = self.shared.unsynced.fetch_add(n, Ordering::Relaxed);
        if before < self.every && before + n >= self.every {
            self.shared.lock().due = true;
            self.shared.wake.notify_one();
        }
        Ok(())
    }
    fn close(&self) -> Result<(), std::io::Error> {
        self.stop();
        self.inner.close()
    }
    super::disk::delegate_range_locks!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::backends::FileBackend;
    use redb::{Database, TableDefinition};

    const T: TableDefinition<u64, &[u8]> = TableDefinition::new("t");

    fn open(path: &Path, every: u64) -> (Database, Arc<Shared>) {
        let file = super::super::disk::open_file(path).expect("file");
        let wb = EarlyWriteback::with_every(FileBackend::new(file).expect("backend"), path, every);
        let shared = wb.shared.clone();
        let db = redb::Builder::new()
            .set_cache_size(1 << 20)
            .create_with_backend(wb)
            .expect("database");
        (db, shared)
    }

    /// One transaction writing `n` values of 4 KiB.
    fn write(db: &Database, n: u64) {
        let w = db.begin_write().expect("write");
        {
            let mut t = w.open_table(T).expect("table");
            let v = vec![7u8; 4096];
            for i in 0..n {
                t.insert(i, v.as_slice()).expect("insert");
            }
        }
        w.commit().expect("commit");
    }

    #[test]
    fn a_big_transaction_is_synced_beside_the_writer_and_the_file_is_let_go_at_close() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("db.redb");
        // A transaction of some 4 MiB, past a 1 MiB cache: most pages reach the file
        // before the commit, and the thread syncs them.
        let (db, shared) = open(&path, 256 * 1024);
        write(&db, 1_000);
        // Woken by each of the thread's syncs; the bound only keeps a broken thread from
        // hanging the suite.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut st = shared.lock();
        while shared.syncs.load(Ordering::SeqCst) == 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(!left.is_zero(), "no early sync of a 4 MiB transaction");
            st = shared
                .wake
                .wait_timeout(st, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(st);
        drop(db);
        // Closed: the thread ended (its share of the state with it) and the file opens again,
        // with what was committed.
        assert_eq!(Arc::strong_count(&shared), 1, "the thread still runs");
        let (db, _) = open(&path, WRITEBACK_EVERY);
        let r = redb::ReadableDatabase::begin_read(&db).expect("read");
        let t = r.open_table(T).expect("table");
        assert_eq!(redb::ReadableTableMetadata::len(&t).expect("len"), 1_000);
    }

    #[test]
    fn small_commits_never_wake_the_thread() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("db.redb");
        let (db, shared) = open(&path, 256 * 1024);
        // Each commit writes well under the threshold, and redb's own sync counts from zero.
        for _ in 0..20 {
            write(&db, 10);
        }
        drop(db);
        assert_eq!(shared.syncs.load(Ordering::SeqCst), 0);
    }
}
