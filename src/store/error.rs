use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error(
        "the database {path} is in use by another Tenantry process (stop it first, or use `tenantry backup` which works while it runs)"
    )]
    Locked { path: String },
    #[error("the database {path} cannot be opened: {reason}")]
    Open { path: String, reason: String },
    #[error(
        "the database was written by a newer Tenantry (schema {found}, this binary knows {known}); install the newer binary or restore a backup"
    )]
    TooNew { found: u32, known: u32 },
    #[error("a stored record could not be read: {0}")]
    Corrupt(String),
    #[error(
        "The disk is full: the database could not be written (what was saved before is intact). Free some space on the disk that holds the data directory; Tenantry carries on by itself once writes fit again."
    )]
    DiskFull,
    #[error("storage error: {0}")]
    Storage(Box<redb::Error>),
    #[error("an index was read in a write transaction that has not written its index changes yet")]
    IndexPending,
    #[error("background task failed: {0}")]
    Join(String),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
}

// WHY a macro: a blanket `impl<E: Into<redb::Error>> From<E>` is refused (E0119) next to
// `From<serde_json::Error>`, because redb could one day convert serde_json's error. So each
// redb error type needs its own impl, and the five differ only in the type.
macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                let e: redb::Error = e.into();
                if super::disk::is_disk_full(&e) {
                    StoreError::DiskFull
                } else {
                    StoreError::Storage(Box::new(e))
                }
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError
);

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
