//! Consistent online backup: copy every table from one read snapshot into a new file.
//!
//! redb has no backup API and copying the file while a writer has it open can produce a
//! torn copy, so we copy logically. The source is opened read-only in `SingleWriter` mode,
//! which redb allows while the service holds the write lock; the copy comes out compacted.

use super::StoreError;
use super::tables::*;
use redb::{
    ConcurrencyMode, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition,
    WriteTransaction,
};
use std::path::Path;

/// Copy the database at `src` into a new database file `dest` (which must not exist).
pub fn backup_to(src: &Path, dest: &Path) -> Result<u64, StoreError> {
    if dest.exists() {
        return Err(StoreError::Open {
            path: dest.display().to_string(),
            reason: "already exists; choose a new file name".into(),
        });
    }
    if !src.exists() {
        return Err(StoreError::Open {
            path: src.display().to_string(),
            reason: "no database here (check server.data_dir)".into(),
        });
    }
    let mut builder = redb::Builder::new();
    builder.set_concurrency_mode(ConcurrencyMode::SingleWriter);
    let source = builder.open_read_only(src).map_err(|e| StoreError::Open {
        path: src.display().to_string(),
        reason: format!(
            "{e} (a backup of a database held by an older Tenantry needs the service stopped)"
        ),
    })?;
    let target = redb::Database::create(dest)?;
    let rtx = source.begin_read()?;
    let wtx = target.begin_write()?;
    let mut rows = 0u64;
    for table in TABLES {
        rows += table.copy(&rtx, &wtx)?;
    }
    wtx.commit()?;
    Ok(rows)
}

/// Every table, in the order they were added. A table missing here is missing from every
/// backup; `tests::backup_lists_every_table` compares this list with what the migrations
/// create.
pub(super) const TABLES: &[&dyn CopyTable] = &[
    &META,
    &SEQ,
    &STAFF,
    &STAFF_BY_EMAIL,
    &SESSIONS,
    &API_TOKENS,
    &API_TOKENS_BY_HASH,
    &COMPANIES,
    &CONTACTS,
    &CONTACT_GROUPS,
    &MEMBERSHIPS,
    &ASSETS,
    &AUDIT,
    &JOBS,
    &JOB_QUEUE,
    &JOB_ACTIVE,
    &SETTINGS,
    &CONTACT_OIDS,
    &GROUP_OIDS,
    &ASSET_DEVICES,
    &SYNC_STATE,
    &STAFF_BY_OID,
    &PORTAL_SETTINGS,
    &PORTAL_SLUGS,
    &PORTAL_SESSIONS,
    &SUPPORT_REQUESTS,
    &GROUP_NESTING,
    &LIST_BLOCKS,
    &LIST_COUNTS,
    &WORD_BLOCKS,
    &AUDIT_INDEX,
    &MEMBER_OF,
    &COMPANY_TENANTS,
    &DEFAULT_SLUGS,
    &DEVICE_MARKS,
    &EVIDENCE_SNAPSHOTS,
    &EVIDENCE_SUMMARIES,
    &EVIDENCE_LATEST,
    &EVIDENCE_BY_TIME,
    &EVIDENCE_SETTINGS,
    &JOB_INDEX,
    // v9: alerts and the dashboard's daily counts (#13).
    &ALERT_INCIDENTS,
    &ALERT_STREAKS,
    &ALERT_OUTBOX,
    &DAILY_COUNTS,
    // v11: job counters, the audit log by outcome and by day (#11).
    &JOB_COUNTS,
    &AUDIT_BY_OUTCOME,
    &AUDIT_DAYS,
    // v14: lists an initial sync still has to build (#11).
    &LISTS_TO_BUILD,
    // v16 (v12 on its branch): Level links, pair decisions and the review queue (#12).
    &LEVEL_DEVICES,
    &ASSET_DECISIONS,
    &ASSET_REVIEW,
    &ASSET_REVIEW_COUNTS,
];

/// A table definition of any key and value type. WHY a trait object: the tables differ in
/// type, so one list of them needs a type they all share; the generic copy stays typed.
pub(super) trait CopyTable {
    #[cfg(test)]
    fn name(&self) -> &str;
    /// Copy every row from the snapshot into the new file; returns how many.
    fn copy(&self, rtx: &ReadTransaction, wtx: &WriteTransaction) -> Result<u64, StoreError>;
    /// Read every row (a restore proves a backup this way); returns how many.
    fn count(&self, rtx: &ReadTransaction) -> Result<u64, StoreError>;
}

impl<K: redb::Key + 'static, V: redb::Value + 'static> CopyTable for TableDefinition<'_, K, V> {
    #[cfg(test)]
    fn name(&self) -> &str {
        redb::TableHandle::name(self)
    }

    fn copy(&self, rtx: &ReadTransaction, wtx: &WriteTransaction) -> Result<u64, StoreError> {
        let src = match rtx.open_table(*self) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let mut dst = wtx.open_table(*self)?;
        let mut n = 0;
        for r in src.iter()? {
            let (k, v) = r?;
            dst.insert(k.value(), v.value())?;
            n += 1;
        }
        Ok(n)
    }

    fn count(&self, rtx: &ReadTransaction) -> Result<u64, StoreError> {
        let src = match rtx.open_table(*self) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let mut n = 0;
        for r in src.iter()? {
            // Reading the key and value touches every page of the table.
            let (k, v) = r?;
            let _ = (k.value(), v.value());
            n += 1;
        }
        Ok(n)
    }
}
