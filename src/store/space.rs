//! How the database file's space is used: what the file takes on disk against what its
//! pages hold. redb grows its file in steps (doubling, up to 4 GiB at a time) and reuses a
//! freed page only once no reader older than the commit that freed it is alive, so the file's
//! size says little about the data: two runs that store the same records can leave files of
//! different sizes. The benches print both, so a size is never read as a regression of the
//! data (#11: the 1,000-tenant cycle left 1.9 GiB one run and 3.2 GiB the next).

use super::{Store, StoreError};

/// The database's space, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// The file's length on disk.
    pub file: u64,
    /// Pages allocated to tables and redb's own trees (the rest of the file is free pages).
    pub allocated: u64,
    /// Keys and values stored (without the B-trees' own overhead).
    pub stored: u64,
    /// Bytes that hold nothing: free pages and the unfilled parts of pages in use (redb's
    /// `fragmented_bytes` counts both).
    pub unused: u64,
}

impl Store {
    /// The database's space now. Takes the write lock for a moment (redb reports its page
    /// counts from a write transaction, which is dropped without a commit), so call it from
    /// benches and support tools, not on a request path.
    pub fn space(&self) -> Result<Space, StoreError> {
        let file = self.db.file_len();
        let txn = self.db.begin_write()?;
        let s = txn.stats()?;
        let page = s.page_size() as u64;
        Ok(Space {
            file,
            allocated: s.allocated_pages() * page,
            stored: s.stored_bytes(),
            unused: s.fragmented_bytes(),
        })
    }
}
