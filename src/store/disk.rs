//! A full disk. redb reports a failed write as an I/O error and then refuses every further
//! operation on that `Database` ("previous I/O error") until it is dropped and opened again,
//! which repairs it from its last good commit. [`super::Store`] does that reopening; this file
//! recognises a full disk (ENOSPC) and offers the fault hook that lets tests fill the disk
//! for real, at the one place every byte goes through: redb's file backend.
//!
//! WHY a backend rather than a small mounted file system: mounting needs root and a kernel
//! that allows it inside the container, which neither every developer machine nor CI
//! promises; `RLIMIT_FSIZE` answers EFBIG (and a signal), not ENOSPC. A backend that answers
//! the real ENOSPC error after a byte budget goes through redb's own error path unchanged.

use redb::StorageBackend;
use redb::backends::FileBackend;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Linux's ENOSPC ("No space left on device").
const ENOSPC: i32 = 28;

/// Is this redb error a full disk?
pub(super) fn is_disk_full(e: &redb::Error) -> bool {
    match e {
        redb::Error::Io(io) => io_is_full(io),
        _ => false,
    }
}

fn io_is_full(io: &std::io::Error) -> bool {
    io.raw_os_error() == Some(ENOSPC) || io.kind() == std::io::ErrorKind::StorageFull
}

/// Free space left for the database file: a shared knob for tests (clones share it).
/// Unlimited unless [`DiskBudget::set`] says otherwise. Like a real file system, only new
/// space costs: writing past the file's written extent takes from the budget, rewriting pages
/// inside it does not, and extending the length alone (a sparse `set_len`) is free.
#[derive(Debug, Clone)]
pub struct DiskBudget(Arc<AtomicU64>);

impl Default for DiskBudget {
    fn default() -> Self {
        Self(Arc::new(AtomicU64::new(u64::MAX)))
    }
}

impl DiskBudget {
    /// From now on, at most `bytes` of new space are written, then ENOSPC.
    pub fn set(&self, bytes: u64) {
        self.0.store(bytes, Ordering::SeqCst);
    }
    /// Space is back.
    pub fn unlimited(&self) {
        self.set(u64::MAX);
    }

    fn take(&self, bytes: u64) -> std::io::Result<()> {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                if left == u64::MAX {
                    Some(left)
                } else {
                    left.checked_sub(bytes)
                }
            })
            .map(|_| ())
            .map_err(|_| std::io::Error::from_raw_os_error(ENOSPC))
    }
}

/// The byte-range lock methods of a [`StorageBackend`] that wraps another (`self.inner`):
/// every backend here only adds to the writes and syncs, never to the locks.
macro_rules! delegate_range_locks {
    () => {
        $crate::store::disk::delegate_range_locks!(
            try_lock_range -> bool,
            try_lock_shared_range -> bool,
            lock_range -> (),
            lock_shared_range -> (),
            unlock_range -> (),
            query_lock_range -> bool,
        );
    };
    ($($name:ident -> $out:ty),* $(,)?) => {
        $(
            fn $name(
                &self,
                s: std::ops::Bound<u64>,
                e: std::ops::Bound<u64>,
            ) -> Result<$out, redb::BackendError> {
                self.inner.$name(s, e)
            }
        )*
    };
}
pub(super) use delegate_range_locks;

/// The database file, opened for redb (read and write, made when missing, never truncated).
pub(super) fn open_file(path: &Path) -> std::io::Result<File> {
    File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// redb's file backend, writing only while the [`DiskBudget`] lasts.
#[derive(Debug)]
pub(super) struct BudgetedFile {
    inner: FileBackend,
    budget: DiskBudget,
    /// End of the bytes written so far (the file's allocated extent).
    written: AtomicU64,
}

impl BudgetedFile {
    pub(super) fn open(path: &Path, budget: DiskBudget) -> std::io::Result<Self> {
        let file = open_file(path)?;
        let len = file.metadata()?.len();
        let inner = FileBackend::new(file).map_err(std::io::Error::other)?;
        Ok(Self {
            inner,
            budget,
            written: AtomicU64::new(len),
        })
    }
}

impl StorageBackend for BudgetedFile {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.inner.set_len(len)?;
        self.written.fetch_min(len, Ordering::SeqCst);
        Ok(())
    }
    fn sync_data(&self) -> Result<(), std::io::Error> {
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        let end = offset + data.len() as u64;
        let written = self.written.load(Ordering::SeqCst);
        if end > written {
            self.budget.take(end - offset.max(written))?;
        }
        self.inner.write(offset, data)?;
        self.written.fetch_max(end, Ordering::SeqCst);
        Ok(())
    }
    fn close(&self) -> Result<(), std::io::Error> {
        self.inner.close()
    }
    delegate_range_locks!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_runs_out_with_enospc_and_comes_back() {
        let b = DiskBudget::default();
        assert!(b.take(1 << 40).is_ok(), "unlimited by default");
        b.set(10);
        assert!(b.take(4).is_ok());
        let e = b.take(7).expect_err("only 6 left");
        assert!(io_is_full(&e), "{e}");
        b.unlimited();
        assert!(b.take(7).is_ok());
    }
}
