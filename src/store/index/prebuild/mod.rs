//! Prebuilds: a first sync's deferred lists (`bulk.rs`) prepared beside the sync, from
//! committed snapshots, so the transaction that ends the round only merges sorted runs into
//! the list blocks.
//!
//! WHY (#11): the end-of-round build held the single writer for about 1.5 s (contacts) and
//! 1.2 s (assets) of a 100,000-user sync, half the initial sync's wall time, while the sync's
//! Graph reading had long ended and the second core idled: decoding the records, computing
//! and sorting their entries and spilling them was all on the writer's critical path. That
//! work needs no write transaction. After each batch of a deferred kind commits, the sync
//! kicks a helper thread ([`Prebuilds::kick`]) that reads the records committed since its
//! last pass (ids only grow: `keys::seq`) in a read transaction, computes their entries and
//! spills them as sorted runs to a scratch file beside the database. The build at the
//! round's end then reads, in its own transaction, only the records the helper has not
//! covered (its last batch's), and merges every run into the lists (`spill.rs`' merge).
//!
//! Correctness: the helper only ever reads committed records, so any later change to a
//! record it covered replaces a stored value; the writer's put of a deferred kind reports
//! such a replacement ([`Prebuilds::stale`]), which makes the prebuild invalid for good, and
//! the build then falls back to the full build from the records (as before this existed).
//! Nothing here is durable: a restart, an error, an invalidated or unknown prebuild all
//! mean the full build. The mark (`LISTS_TO_BUILD`) and its crash rules are `bulk.rs`'s and
//! do not change: the entries are still written, and the mark removed, in one transaction.
//! Invalidating in a transaction that then aborts only costs the full build.
//!
//! Memory: the helper holds at most `runs::PREBUILD_FLUSH_AT` entries before it spills them, and
//! a chunk of records; the merge holds one decoded block and a read buffer per run of each
//! list being merged (two at a time, `runs.rs`).

use super::bulk::ListKind;
use crate::store::StoreError;
use crate::store::handle::Handle;
use crate::store::tables::LISTS_TO_BUILD;
use redb::{ReadableTable, WriteTransaction};
use runs::Work;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, Weak};

mod held;
mod runs;

/// Records read per read transaction: the helper lets go of its snapshot between chunks.
const CHUNK: usize = if cfg!(test) { 16 } else { 2_000 };

/// The prebuilds of one store: which (company, kind) to prepare, and what is prepared.
pub(crate) struct Prebuilds {
    /// The database's path: scratch files are made beside it (same disk), unlinked at once.
    db_path: PathBuf,
    state: Mutex<State>,
    /// Signalled when the helper stops.
    idle: Condvar,
    /// Tests: the builds served from a prebuild, with the records it had prepared.
    #[cfg(test)]
    pub(crate) served: Mutex<Vec<((u64, ListKind), u64)>>,
}

#[derive(Default)]
struct State {
    /// A helper thread is running; `again`: it was kicked meanwhile, so it makes another pass.
    running: bool,
    again: bool,
    /// Deferred (company, kind) seen by a writer and not built yet.
    wanted: HashSet<(u64, ListKind)>,
    builds: HashMap<(u64, ListKind), Prebuild>,
    /// Built (or given up on) since this process started: never prepared again (a built
    /// company has records, so its mark cannot come back).
    done: HashSet<(u64, ListKind)>,
}

/// One (company, kind)'s prebuild.
struct Prebuild {
    /// False once a record it may cover was written again: the build ignores it.
    valid: bool,
    /// The records with id below this are covered.
    from: u64,
    /// What is prepared; None while the helper works on it (or before its first pass).
    work: Option<Box<Work>>,
}

impl Prebuilds {
    pub(crate) fn new(db_path: &Path) -> Self {
        Self {
            db_path: db_path.to_path_buf(),
            state: Mutex::default(),
            idle: Condvar::new(),
            #[cfg(test)]
            served: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A writer found `company`'s lists of `kind` deferred: prepare them (on the next kick).
    pub(crate) fn want(&self, company: u64, kind: ListKind) {
        if kind == ListKind::Groups {
            // Small (a few thousand groups): the build at the round's end is short.
            return;
        }
        let mut s = self.lock();
        if !s.done.contains(&(company, kind)) {
            s.wanted.insert((company, kind));
        }
    }

    /// A writer put record `id` of a deferred (company, kind). When it replaced a stored
    /// value, or (never expected: ids grow) its id is below what the prebuild covers, what
    /// the prebuild holds of it may be stale, so the build will not use it.
    pub(crate) fn written(&self, company: u64, kind: ListKind, id: u64, replaced: bool) {
        if kind == ListKind::Groups {
            return; // never prepared
        }
        let below = self
            .lock()
            .builds
            .get(&(company, kind))
            .is_some_and(|b| id < b.from);
        if replaced || below {
            self.stale(company, kind);
        }
    }

    /// Whatever `(company, kind)`'s prebuild holds may be stale: the build will not use it.
    fn stale(&self, company: u64, kind: ListKind) {
        let mut s = self.lock();
        let b = s.builds.entry((company, kind)).or_insert_with(|| Prebuild {
            valid: false,
            from: 0,
            work: None,
        });
        if b.valid {
            tracing::info!(
                company,
                ?kind,
                "a record was written again during its first sync: its lists will be built from the records"
            );
        }
        b.valid = false;
        b.work = None;
    }

    /// Start the helper (or ask the running one for another pass), when anything is wanted.
    pub(in crate::store) fn kick(self: &Arc<Self>, db: Weak<Handle>) {
        {
            let mut s = self.lock();
            if s.wanted.is_empty() {
                return;
            }
            if s.running {
                s.again = true;
                return;
            }
            s.running = true;
        }
        let this = self.clone();
        let spawned = std::thread::Builder::new()
            .name("list-prebuild".into())
            .spawn(move || {
                // Its work is needed only at the round's end: the sync's Graph reading and
                // the web pages go first (`store/niceness.rs`).
                crate::store::niceness::lower_this_thread();
                this.helper(db)
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start the list prebuild helper");
            self.lock().running = false;
            self.idle.notify_all();
        }
    }

    /// The helper thread: a pass over every wanted prebuild, again while kicked meanwhile.
    fn helper(&self, db: Weak<Handle>) {
        /// Says the helper stopped however it stops (a panic too), so no build waits forever.
        struct Stopped<'p>(&'p Prebuilds);
        impl Drop for Stopped<'_> {
            fn drop(&mut self) {
                self.0.lock().running = false;
                self.0.idle.notify_all();
            }
        }
        let _stopped = Stopped(self);
        loop {
            let todo: Vec<(u64, ListKind)> = self.lock().wanted.iter().copied().collect();
            for key in todo {
                if let Err(e) = self.advance(&db, key) {
                    tracing::warn!(company = key.0, kind = ?key.1, error = %e,
                        "preparing a first sync's lists failed: they will be built from the records");
                    self.stale(key.0, key.1);
                }
            }
            let mut s = self.lock();
            if !std::mem::take(&mut s.again) {
                return;
            }
        }
    }

    /// Cover the records of `key` committed since the last pass.
    fn advance(&self, db: &Weak<Handle>, key: (u64, ListKind)) -> Result<(), StoreError> {
        let (company, kind) = key;
        let (mut from, work) = {
            let mut s = self.lock();
            if s.done.contains(&key) {
                s.wanted.remove(&key);
                return Ok(());
            }
            let b = s.builds.entry(key).or_insert_with(|| Prebuild {
                valid: true,
                from: 0,
                work: None,
            });
            if !b.valid {
                s.wanted.remove(&key);
                return Ok(());
            }
            (b.from, b.work.take())
        };
        let mut work = match work {
            Some(w) => w,
            None if from == 0 => Box::new(Work::new(&self.db_path, company)?),
            // Covered records without their work (never expected): start again.
            None => {
                from = 0;
                Box::new(Work::new(&self.db_path, company)?)
            }
        };
        loop {
            // A fresh snapshot per chunk, so the helper never holds an old one for long.
            let Some(handle) = db.upgrade() else {
                // The store is closed: its prebuilds go with it.
                self.stale(company, kind);
                return Ok(());
            };
            let txn = handle.begin_read()?;
            drop(handle);
            if txn
                .open_table(LISTS_TO_BUILD)?
                .get((company, kind.byte()))?
                .is_none()
            {
                // Built (or never deferred): nothing to prepare.
                let mut s = self.lock();
                s.wanted.remove(&key);
                s.builds.remove(&key);
                return Ok(());
            }
            let t = txn.open_table(kind.records())?;
            let mut n = 0;
            for r in t.range((company, from)..=(company, u64::MAX))? {
                let (k, v) = r?;
                work.add(kind, v.value())?;
                from = k.value().1.saturating_add(1);
                n += 1;
                if n >= CHUNK {
                    break;
                }
            }
            drop(t);
            drop(txn);
            let mut s = self.lock();
            let Some(b) = s.builds.get_mut(&key).filter(|b| b.valid) else {
                return Ok(()); // made stale meanwhile: drop the work
            };
            b.from = from;
            if n < CHUNK || from == u64::MAX {
                b.work = Some(work);
                return Ok(());
            }
        }
    }

    /// The build at the round's end takes `key`'s prebuild (once the helper is idle): the
    /// records it covers start below the id returned, and what it prepared. None when
    /// there is none, or it is stale: build from the records.
    fn take(&self, key: (u64, ListKind)) -> Option<(u64, Box<Work>)> {
        let mut s = self.lock();
        while s.running {
            s = self.idle.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        s.done.insert(key);
        s.wanted.remove(&key);
        let b = s.builds.remove(&key)?;
        if !b.valid {
            return None;
        }
        Some((b.from, b.work?))
    }

    /// Tests: wait until the helper is idle.
    #[cfg(test)]
    pub(crate) fn settle(&self) {
        let mut s = self.lock();
        while s.running {
            s = self.idle.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Build `company`'s lists of `kind` from its prebuild, in `txn`: the records the prebuild
/// does not cover (written since the helper's last pass, this transaction's among them) are
/// read here, and everything is merged into the lists. None (nothing written) when there is
/// no usable prebuild. Returns the records indexed.
pub(crate) fn build_from(
    prebuilds: &Prebuilds,
    txn: &WriteTransaction,
    company: u64,
    kind: ListKind,
) -> Result<Option<u64>, StoreError> {
    if kind == ListKind::Groups {
        return Ok(None);
    }
    let started = std::time::Instant::now();
    let Some((from, mut work)) = prebuilds.take((company, kind)) else {
        return Ok(None);
    };
    let waited = started.elapsed().as_secs_f64();
    let covered = work.records;
    {
        let t = txn.open_table(kind.records())?;
        for r in t.range((company, from)..=(company, u64::MAX))? {
            if let Err(e) = work.add(kind, r?.1.value()) {
                // Nothing is written yet: the full build reads every record again (and
                // reports a record that does not decode).
                tracing::warn!(company, ?kind, error = %e,
                    "a first sync's prepared lists cannot be used: they will be built from the records");
                return Ok(None);
            }
        }
    }
    let read = started.elapsed().as_secs_f64() - waited;
    let records = work.records;
    let inserting = work.finish(txn)?;
    let merged = started.elapsed().as_secs_f64() - waited - read;
    // WHY the three times: what is left on the writer's path, for the next step (#11).
    tracing::info!(
        company,
        ?kind,
        prepared = covered,
        read_now = records - covered,
        waited,
        read,
        merged,
        inserting,
        "lists of a first sync from its prebuild: {covered} records prepared beside the sync, \
         {} read now; waited {waited:.2} s for the helper, read {read:.2} s, merged and \
         wrote {merged:.2} s (of which inserting blocks {inserting:.2} s)",
        records - covered
    );
    #[cfg(test)]
    prebuilds
        .served
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(((company, kind), covered));
    Ok(Some(records))
}
