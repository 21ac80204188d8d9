//! `tenantry restore FILE`: replace the database with a backup, with the service stopped.
//!
//! Nothing is replaced until the backup has proved itself: it is copied beside the database
//! (same file system, so the final rename is atomic), the copy is opened, redb's integrity
//! check runs on it, its schema version must be one this binary can migrate, and every row of
//! every table is read. Only then is the old database renamed aside (kept, never deleted)
//! and the copy renamed into place. The live database is held open (its lock taken) for the
//! whole swap, so a service starting meanwhile fails with "in use" instead of racing us.

use super::StoreError;
use super::backup::TABLES;
use super::codec::dec;
use super::keys::meta as keys;
use super::tables::META;
use redb::{ConcurrencyMode, ReadableDatabase};
use std::path::{Path, PathBuf};

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Schema version of the backup (the next start migrates it to the current one).
    pub schema_version: u32,
    /// Rows read and checked in the backup.
    pub rows: u64,
    /// Where the replaced database was kept (None when there was none).
    pub previous: Option<PathBuf>,
}

fn refuse(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::Open {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

fn builder() -> redb::Builder {
    let mut b = redb::Builder::new();
    // The service opens in this mode; another mode would meet its lock as a protocol mismatch.
    b.set_concurrency_mode(ConcurrencyMode::SingleWriter);
    b
}

/// Replace the database at `db` with the backup at `backup` (see the module docs).
pub fn restore_from(backup: &Path, db: &Path) -> Result<Restored, StoreError> {
    if !backup.is_file() {
        return Err(refuse(backup, "no backup file here"));
    }
    // Take the live database's lock first: refuse while the service (or anything) has it.
    let live = if db.exists() {
        Some(builder().open(db).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen
            | redb::DatabaseError::LockProtocolMismatch => StoreError::Locked {
                path: db.display().to_string(),
            },
            other => refuse(
                db,
                format!("{other} (move the damaged file away by hand, then restore)"),
            ),
        })?)
    } else {
        None
    };
    let dir = db.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| refuse(dir, e.to_string()))?;
    let staged = sibling(db, "restoring");
    let _ = std::fs::remove_file(&staged);
    let checked = stage(backup, &staged);
    let (schema_version, rows) = match checked {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    let previous = if db.exists() {
        let aside = free_name(db, "before-restore");
        std::fs::rename(db, &aside).map_err(|e| refuse(db, format!("cannot move aside: {e}")))?;
        Some(aside)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(&staged, db) {
        // Put the old one back rather than leave no database at all.
        if let Some(p) = &previous {
            let _ = std::fs::rename(p, db);
        }
        return Err(refuse(
            db,
            format!("cannot move the restored copy in place: {e}"),
        ));
    }
    // Make both renames durable before saying it is done.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    drop(live);
    Ok(Restored {
        schema_version,
        rows,
        previous,
    })
}

/// Copy `backup` to `staged` and prove the copy: opens, passes redb's integrity check, has a
/// known schema version, and every row of every table reads.
fn stage(backup: &Path, staged: &Path) -> Result<(u32, u64), StoreError> {
    std::fs::copy(backup, staged).map_err(|e| refuse(backup, format!("cannot copy: {e}")))?;
    let mut copy = builder().open(staged).map_err(|e| {
        refuse(
            backup,
            format!("{e} (is it a file written by `tenantry backup`?)"),
        )
    })?;
    let intact = copy
        .check_integrity()
        .map_err(|e| refuse(backup, format!("integrity check failed: {e}")))?;
    if !intact {
        // check_integrity repaired something: a backup is written whole or not at all, so a
        // repaired one was damaged afterwards.
        return Err(refuse(
            backup,
            "the file is damaged (redb had to repair it)",
        ));
    }
    let rtx = copy.begin_read()?;
    let version = match rtx.open_table(META) {
        Ok(t) => t
            .get(keys::SCHEMA_VERSION)?
            .map(|g| dec::<u32>(g.value()))
            .transpose()?
            .unwrap_or(0),
        Err(redb::TableError::TableDoesNotExist(_)) => 0,
        Err(e) => return Err(e.into()),
    };
    if version == 0 {
        return Err(refuse(
            backup,
            "not a Tenantry database (no schema version)",
        ));
    }
    if version > super::SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: version,
            known: super::SCHEMA_VERSION,
        });
    }
    let mut rows = 0;
    for table in TABLES {
        rows += table.count(&rtx)?;
    }
    drop(rtx);
    drop(copy);
    std::fs::File::open(staged)
        .and_then(|f| f.sync_all())
        .map_err(|e| refuse(staged, e.to_string()))?;
    Ok((version, rows))
}

/// `<db>.<what>` beside the database.
fn sibling(db: &Path, what: &str) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{what}"));
    db.with_file_name(name)
}

/// `<db>.<what>`, or `<db>.<what>.N` for the first N not taken (earlier restores are kept).
fn free_name(db: &Path, what: &str) -> PathBuf {
    let first = sibling(db, what);
    if !first.exists() {
        return first;
    }
    (1u32..)
        .map(|n| sibling(db, &format!("{what}.{n}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}
