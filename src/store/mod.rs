//! The embedded store: one redb file, typed tables, a schema version with migrations.
//!
//! This is the only module that names `redb`. redb calls block (a commit is an fsync) and
//! `begin_write` waits for the previous writer, so async callers go through [`Store::read`]
//! and [`Store::write`], which run the closure on tokio's blocking pool. One closure is one
//! transaction: a logical change (a company edit and its audit event, a page of synced
//! contacts and its delta token) commits together or not at all.
//!
//! The database is opened in redb's `SingleWriter` mode so `tenantry backup` can open it
//! read-only from another process while the service runs, and copy a consistent snapshot.

mod alerts;
mod audit;
mod audit_window;
mod backup;
mod codec;
mod companies;
mod directory;
mod directory_writes;
mod disk;
mod error;
mod evidence;
mod group;
mod group_members;
mod handle;
mod index;
mod job_index;
mod jobs;
pub mod keys;
pub mod levelio;
mod levelio_assets;
mod meta;
mod nesting;
mod niceness;
mod portal;
mod queue_stats;
mod reads;
mod requests;
mod restore;
mod space;
mod staff;
mod sync;
mod tables;
mod txn;
mod writeback;

pub use backup::backup_to;
pub use directory::{Window, contact_search_ranks};
pub use disk::DiskBudget;
pub use error::StoreError;
pub use group::{group_commit_stats, writer_held};
pub use index::{IndexCheck, ListKind, Listed};
pub use jobs::Enqueued;
pub use levelio_assets::PairDecisionRow;
pub use restore::{Restored, restore_from};
pub use space::Space;
pub use txn::{ReadTables, Reader, Txn, Writer};

use crate::crypto::SecretBox;
use std::path::Path;
use std::sync::Arc;

/// Schema versions this binary knows; `migrate` walks a database up to the last one.
pub const SCHEMA_VERSION: u32 = 20;

#[derive(Clone)]
pub struct Store {
    /// The open database; reopened after a write error (see `handle.rs`).
    db: Arc<handle::Handle>,
    secrets: SecretBox,
    /// Writes waiting to share a commit (`group.rs`).
    group: Arc<group::Group>,
    /// Turns for reads on the blocking pool (`reads.rs`).
    reads: reads::Reads,
    /// A first sync's lists prepared beside it (`index/prebuild/`); memory only.
    prebuilds: Arc<index::prebuild::Prebuilds>,
}

impl Store {
    /// Open (or create) the database, refusing clearly when it is locked, corrupt or too new.
    /// MiB of pages cached when the caller does not say (`store.cache_mb`'s default).
    pub const DEFAULT_CACHE_MB: u32 = 64;

    pub fn open(path: &Path, secrets: SecretBox) -> Result<Self, StoreError> {
        Self::open_with_cache(path, secrets, Self::DEFAULT_CACHE_MB)
    }

    /// Open with a page cache of `cache_mb` MiB (redb's default is 1 GiB, which lets the
    /// process grow with the database).
    pub fn open_with_cache(
        path: &Path,
        secrets: SecretBox,
        cache_mb: u32,
    ) -> Result<Self, StoreError> {
        Self::open_with_budget(path, secrets, cache_mb, None)
    }

    /// [`Self::open_with_cache`], the file's free space limited by `budget` when given (tests
    /// that fill the disk; see `disk.rs`).
    pub fn open_with_budget(
        path: &Path,
        secrets: SecretBox,
        cache_mb: u32,
        budget: Option<DiskBudget>,
    ) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        let store = Self {
            db: Arc::new(handle::Handle::open(path, cache_mb, budget)?),
            secrets,
            group: Arc::default(),
            reads: reads::Reads::new(0),
            prebuilds: Arc::new(index::prebuild::Prebuilds::new(path)),
        };
        store.migrate()?;
        // Lists an initial sync deferred and did not build (it crashed or stopped half-way):
        // built now, so no company waits for its next sync to list quickly again.
        index::bulk::build_all_pending(&store)?;
        Ok(store)
    }

    /// The key box of this appliance, for domain code that derives purpose keys from it
    /// (sealed sign-in state, signed form tokens).
    pub fn secret_box(&self) -> &SecretBox {
        &self.secrets
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        let found = meta::schema_version(&txn)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found < 1 {
            // v1: create every table so readers never meet a missing one.
            tables::create_all(&txn)?;
        }
        if found < 2 {
            // v2: identity sync indexes and delta state.
            tables::create_v2(&txn)?;
        }
        if found < 3 {
            // v3: sign-in with Microsoft (staff object ids) and the support portal.
            tables::create_v3(&txn)?;
        }
        if found < 4 {
            // v4: groups nested in groups, learnt from one full groups round per company.
            tables::create_v4(&txn)?;
            nesting::restart_groups_rounds(&txn)?;
        }
        if found < 5 {
            // v5: list indexes. Created here; filled below, in batches of their own.
            tables::create_v5(&txn)?;
        }
        if found < 6 {
            // v6: compliance evidence snapshots, their summaries and per-company settings.
            tables::create_v6(&txn)?;
        }
        if found < 7 {
            // v7: jobs by company and kind (for filters and a company's sync history),
            // filled from the jobs already stored, in this same transaction.
            tables::create_v7(&txn)?;
            job_index::build(&txn)?;
        }
        if found < 9 {
            // v9: alert incidents, failure streaks, the alert outbox and daily counts (#13).
            // Only new tables: opening them creates them, so the step is idempotent.
            tables::create_v9(&txn)?;
        }
        if found < 11 {
            // v11 (#11): jobs by state within each scope, and every scope's counter, so a Jobs
            // page reads its rows and one counter. Built here, in this same transaction.
            tables::create_v11(&txn)?;
            tracing::info!("schema v11: counting jobs by company, kind and state");
            let n = job_index::build_counts(&txn)?;
            tracing::info!(jobs = n, "schema v11: job counters built");
            tables::create_v11_audit(&txn)?;
            tracing::info!("schema v11: indexing the audit log by outcome and day");
            let n = audit_window::build(&txn)?;
            tracing::info!(
                events = n,
                "schema v11: audit outcome index and day counters built"
            );
        }
        if found < 14 {
            // v14 (#11): marks of the lists an initial sync defers to the end of its round.
            tables::create_v14(&txn)?;
        }
        if found < 16 {
            // v16 (#12, v12 on its branch): Level device links, pair decisions and the review
            // queue (new tables only), and the assets' Sources lists (new index entries:
            // indexed again below).
            tables::create_v16(&txn)?;
        }
        if found < 18 {
            // v18 (#11): the list and word indexes stored as blocks (new tables, filled by the
            // re-index below, which drops the v5 tables).
            tables::create_v18(&txn)?;
        }
        // Later versions add steps here, each idempotent.
        // v8: the filtered lists (assets by compliance / OS, contacts by active / guest) are
        // new index entries: a database indexed by an older version is indexed again.
        // v10: contact and asset search words and filtered lists are kept per company only
        // (no copy across companies): a database indexed by an older version is indexed
        // again.
        // v15 (#11, search): each search word's contacts are listed by name (new list
        // entries, `keys::word_scope`): indexed again, as for v10.
        // v16 (#12): the assets' Sources lists and gap reports are new index entries:
        // indexed again.
        // v17 (#11, v15 on its branch): the filtered lists get their copy across companies
        // back (a filtered page across 1,000 companies read one list per company): indexed
        // again.
        // v18 (#11): the list and word entries move into blocks (`index::blocks`): indexed
        // again into the new tables, the old ones dropped.
        // v19 (#11, search): a contact's search words are listed under their first letters
        // by name, per company and across companies (`index::prefix_lists`), instead of one
        // list per word per company: indexed again.
        // v20 (#11): a company's contacts' devices are one list sorted by (contact, hostname)
        // instead of one list and one counter per contact (`keys::user_devices_list`):
        // indexed again.
        if found >= 20 || found == 0 {
            // Up to date, or new and empty (nothing to index).
            if found != SCHEMA_VERSION {
                meta::set_schema_version(&txn, SCHEMA_VERSION)?;
            }
            txn.commit()?;
            return Ok(());
        }
        txn.commit()?;
        // v5 (or v8, v10, v15 to v20) on an existing database: build the indexes from the
        // records, then record the version (an interrupted build starts again at the next start).
        index::build::rebuild(&*self.db.database()?)?;
        let txn = self.db.begin_write()?;
        meta::set_schema_version(&txn, SCHEMA_VERSION)?;
        txn.commit()?;
        Ok(())
    }

    /// Walk every index and counter and compare them with the records (the jobs' and audit
    /// log's too).
    pub fn verify_indexes(&self) -> Result<IndexCheck, StoreError> {
        self.read_blocking(|r| {
            let mut check = r.verify_indexes()?;
            // The jobs' and audit log's counters (#11) are kept outside `index`.
            check.problems.extend(r.verify_job_index()?);
            check.problems.extend(r.verify_audit_window()?);
            Ok(check)
        })
    }

    /// At most `slots` reads at once through [`Self::read`] (0: twice the CPUs), the others
    /// served in arrival order (`store.concurrent_reads`, `reads.rs`).
    pub fn with_concurrent_reads(mut self, slots: usize) -> Self {
        self.reads = reads::Reads::new(slots);
        self
    }

    /// Run `f` on a read snapshot, on the blocking pool, when its turn comes (`reads.rs`).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Reader) -> Result<T, E> + Send + 'static,
    {
        let this = self.clone();
        let turn = self.reads.turn().await;
        tokio::task::spawn_blocking(move || {
            let out = this.read_blocking(f);
            drop(turn);
            out
        })
        .await
        .map_err(|e| E::from(StoreError::Join(e.to_string())))?
    }

    /// Run `f` in one write transaction, on the blocking pool; commit when it returns Ok.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Writer) -> Result<T, E> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.write_blocking(f))
            .await
            .map_err(|e| E::from(StoreError::Join(e.to_string())))?
    }

    pub fn read_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Reader) -> Result<T, E>,
    ) -> Result<T, E> {
        let txn = self.db.begin_read()?;
        f(&Reader {
            txn,
            secrets: self.secrets.clone(),
            pending: None,
            prebuilds: None,
        })
    }

    pub fn write_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Writer) -> Result<T, E>,
    ) -> Result<T, E> {
        let txn = self.db.begin_write()?;
        let _held = group::HeldTimer::start();
        let mut w = Writer {
            txn,
            secrets: self.secrets.clone(),
            pending: None,
            prebuilds: Some(self.prebuilds.clone()),
        };
        let out = f(&mut w)?;
        w.flush_index_upkeep()?;
        w.txn.commit().map_err(|e| self.db.note(e))?;
        Ok(out)
    }

    /// Prepare the deferred lists of first syncs from what is committed, on a helper thread
    /// (`index/prebuild/`): a sync calls this after each batch commits. Returns at once.
    pub fn prebuild_lists(&self) {
        self.prebuilds.kick(Arc::downgrade(&self.db));
    }

    /// Tests: the list prebuilds (`index/prebuild/`).
    #[cfg(test)]
    pub(crate) fn prebuilds(&self) -> &index::prebuild::Prebuilds {
        &self.prebuilds
    }

    /// Is the store answering? (readiness probe)
    pub fn ping(&self) -> bool {
        self.db.begin_read().is_ok()
    }
}

pub(super) fn open_error(path: &Path, e: redb::DatabaseError) -> StoreError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen | redb::DatabaseError::LockProtocolMismatch => {
            StoreError::Locked {
                path: path.display().to_string(),
            }
        }
        other => StoreError::Open {
            path: path.display().to_string(),
            reason: format!(
                "{other} (is it a Tenantry database? restore it from a backup if it is damaged)"
            ),
        },
    }
}

#[cfg(test)]
mod logs_tests;
#[cfg(test)]
mod tests;
