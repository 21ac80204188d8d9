//! The open database, and opening it again after an I/O error.
//!
//! redb answers every operation after a failed write (a full disk, above all) with "previous
//! I/O error" until that `Database` is dropped and opened again; opening repairs it from the
//! last good commit, so nothing committed is lost. The handle notices such an error, and the
//! next transaction reopens the file first: a full disk fails the write that met it, and the
//! appliance carries on by itself once writes fit again, without a restart.

use super::StoreError;
use super::disk::{BudgetedFile, DiskBudget, open_file};
use super::writeback::EarlyWriteback;
use redb::backends::FileBackend;
use redb::{ConcurrencyMode, Database, ReadTransaction, ReadableDatabase, WriteTransaction};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// Longest a reopen waits for the old handle's last users, and how often it looks.
const REOPEN_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
const REOPEN_STEP: std::time::Duration = std::time::Duration::from_millis(10);

pub(super) struct Handle {
    current: RwLock<Option<Arc<Database>>>,
    /// An I/O error was seen: reopen before the next transaction.
    broken: AtomicBool,
    path: PathBuf,
    cache_mb: u32,
    /// Tests' full-disk hook (None: the plain file).
    budget: Option<DiskBudget>,
}

impl Handle {
    pub(super) fn open(
        path: &Path,
        cache_mb: u32,
        budget: Option<DiskBudget>,
    ) -> Result<Self, StoreError> {
        let db = open_database(path, cache_mb, budget.as_ref())?;
        Ok(Self {
            current: RwLock::new(Some(Arc::new(db))),
            broken: AtomicBool::new(false),
            path: path.to_path_buf(),
            cache_mb,
            budget,
        })
    }

    /// The database, reopened first if an I/O error broke it.
    pub(super) fn database(&self) -> Result<Arc<Database>, StoreError> {
        if self.broken.load(Ordering::Acquire) {
            self.reopen()?;
        }
        let g = self.current.read().unwrap_or_else(|p| p.into_inner());
        g.clone().ok_or_else(|| StoreError::Open {
            path: self.path.display().to_string(),
            reason: "the database is being reopened after a write error; try again".into(),
        })
    }

    /// The database file's length on disk (0 when it cannot be read).
    pub(super) fn file_len(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }

    pub(super) fn begin_read(&self) -> Result<ReadTransaction, StoreError> {
        self.retrying(|db| db.begin_read().map_err(redb::Error::from))
    }

    pub(super) fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        self.retrying(|db| db.begin_write().map_err(redb::Error::from))
    }

    /// Run `begin`; when it meets an earlier I/O error, reopen and try once more.
    fn retrying<T>(
        &self,
        begin: impl Fn(&Database) -> Result<T, redb::Error>,
    ) -> Result<T, StoreError> {
        let db = self.database()?;
        match begin(&db) {
            Ok(t) => Ok(t),
            Err(e) if is_io(&e) => {
                drop(db);
                self.broken.store(true, Ordering::Release);
                let db = self.database()?;
                begin(&db).map_err(|e| self.note(e))
            }
            Err(e) => Err(StoreError::from(e)),
        }
    }

    /// Remember an I/O error (the next transaction reopens) and turn it into a [`StoreError`].
    pub(super) fn note(&self, e: impl Into<redb::Error>) -> StoreError {
        let e: redb::Error = e.into();
        if is_io(&e) {
            self.broken.store(true, Ordering::Release);
        }
        StoreError::from(e)
    }

    fn reopen(&self) -> Result<(), StoreError> {
        let mut g = self.current.write().unwrap_or_else(|p| p.into_inner());
        if !self.broken.load(Ordering::Acquire) {
            return Ok(()); // another thread reopened it meanwhile
        }
        // Drop ours first: redb keeps the file locked while any handle lives.
        *g = None;
        // Another transaction of this process may still hold the old handle for a moment (a
        // progress write of the job whose write failed, a page being read): the file then
        // reads as locked. Wait for it briefly rather than fail this transaction with "in use
        // by another process", which it is not.
        let mut waited = std::time::Duration::ZERO;
        let db = loop {
            match open_database(&self.path, self.cache_mb, self.budget.as_ref()) {
                Err(StoreError::Locked { .. }) if waited < REOPEN_WAIT => {
                    std::thread::sleep(REOPEN_STEP);
                    waited += REOPEN_STEP;
                }
                r => break r?,
            }
        };
        *g = Some(Arc::new(db));
        self.broken.store(false, Ordering::Release);
        tracing::warn!(path = %self.path.display(), "database reopened after a write error");
        Ok(())
    }
}

fn is_io(e: &redb::Error) -> bool {
    matches!(e, redb::Error::Io(_) | redb::Error::PreviousIo)
}

/// What redb's repair at open reports, in the log. WHY: a database the last process did not
/// close (killed, out of memory, power cut) is checked and repaired before anything starts,
/// reading the whole file through the cache: seconds for a few GB, longer on a slow disk, and
/// without a word the service would just look hung at start.
fn repair_progress(path: &Path) -> impl Fn(&mut redb::RepairSession) + 'static {
    let path = path.display().to_string();
    // Tenths of the repair already reported (0 = nothing said yet).
    let said = std::sync::atomic::AtomicU8::new(0);
    move |session: &mut redb::RepairSession| {
        let tenth = (session.progress().clamp(0.0, 1.0) * 10.0) as u8 + 1;
        let before = said.fetch_max(tenth, Ordering::Relaxed);
        if before == 0 {
            tracing::warn!(
                path = %path,
                "the database was not closed cleanly (the last run stopped without shutting down): checking and repairing it before start"
            );
        } else if tenth > before {
            let percent = u32::from(tenth - 1) * 10;
            tracing::info!(percent, "repairing the database: {percent} % checked");
        }
    }
}

/// The page bytes redb may cache for a cache of `cache_mb` MiB of memory: redb counts the
/// pages' 4 KiB each, the allocator takes more per page ([`crate::allocator::CACHED_PAGE_BYTES`]).
pub(crate) fn cache_bytes(cache_mb: u32) -> usize {
    const PAGE: usize = 4_096;
    cache_mb as usize * 1024 * 1024 / crate::allocator::CACHED_PAGE_BYTES * PAGE
}

fn open_database(
    path: &Path,
    cache_mb: u32,
    budget: Option<&DiskBudget>,
) -> Result<Database, StoreError> {
    let mut builder = redb::Builder::new();
    builder.set_concurrency_mode(ConcurrencyMode::SingleWriter);
    builder.set_cache_size(cache_bytes(cache_mb));
    builder.set_repair_callback(repair_progress(path));
    let io_error = |e: std::io::Error| StoreError::Open {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    // Both backends sync a big transaction's pages beside its writer (`writeback.rs`).
    let db = match budget {
        None => {
            let file = open_file(path).map_err(io_error)?;
            let file = FileBackend::new(file).map_err(|e| super::open_error(path, e))?;
            builder.create_with_backend(EarlyWriteback::new(file, path))
        }
        Some(b) => {
            let file = BudgetedFile::open(path, b.clone()).map_err(io_error)?;
            builder.create_with_backend(EarlyWriteback::new(file, path))
        }
    };
    db.map_err(|e| super::open_error(path, e))
}
