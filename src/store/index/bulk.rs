//! The initial sync's bulk path: a company's first full round writes its records without
//! their list, search and counter entries, and builds them once, at the end of the round.
//!
//! WHY: written batch by batch, the entries of 2,000 new contacts land all over each of a
//! contact's ~15 sorted lists and its search words, so every commit rewrites most of the
//! index's pages and an initial sync's index work grows with the square of the tenant's
//! size (41 s against a 3.6 s floor for 100,000 users and devices). Built at the end, in one
//! transaction, each page of the company's lists is written once.
//!
//! Crash safety: the mark ([`LISTS_TO_BUILD`]) is written in the transaction of the first
//! batch that skips the entries, and removed in the transaction that writes them. So at
//! every commit, either the company's records of that kind all have their entries, or the
//! mark says none do. A crash mid-round leaves the mark: the resumed job carries on without
//! entries and builds at the round's end; the store also builds every mark left at start
//! (`build_all_pending`), so a company whose job was abandoned is not left unlisted. A crash
//! mid-build loses the build's transaction, and the build starts again from the records.
//!
//! Prebuilds (`prebuild/`, #11): built this way at the round's end, the build held the
//! single writer for half the initial sync's wall time, after Graph reading had ended. So
//! while the round runs, a helper thread prepares the build's sorted runs from committed
//! snapshots after each batch, and the round's last transaction reads only the records the
//! helper has not covered and merges the runs into the lists. Same entries, same counters,
//! same transaction for the entries and the mark's removal; whenever the prebuild is missing
//! (a restart), stale (a covered record written again) or failed, the build below runs
//! instead, from the records, exactly as before.
//!
//! Reads: while a company's mark stands, its lists are answered from its records (the old
//! full scan, see `fallback.rs`): an admin who opens a company during its first sync sees
//! the records synced so far, sorted and searchable as always, at the cost of reading them.

use super::keys::kind;
use super::{Entries, Pending, entries};
use crate::model::ContactGroup;
use crate::store::codec::{dec, dec_view};
use crate::store::tables::{ASSETS, CONTACT_GROUPS, CONTACTS, LISTS_TO_BUILD};
use crate::store::{ReadTables, Store, StoreError, Txn, Writer};
use redb::{ReadableTable, TableDefinition, WriteTransaction};
use std::time::Instant;

/// The kinds of record whose lists an initial sync may defer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    Contacts,
    Groups,
    Assets,
}

impl ListKind {
    /// The kind's byte in the index keys and in [`LISTS_TO_BUILD`].
    pub(crate) fn byte(self) -> u8 {
        match self {
            ListKind::Contacts => kind::CONTACT,
            ListKind::Groups => kind::GROUP,
            ListKind::Assets => kind::ASSET,
        }
    }

    pub(super) fn from_byte(b: u8) -> Option<Self> {
        [ListKind::Contacts, ListKind::Groups, ListKind::Assets]
            .into_iter()
            .find(|k| k.byte() == b)
    }

    pub(super) fn records(self) -> TableDefinition<'static, (u64, u64), &'static [u8]> {
        match self {
            ListKind::Contacts => CONTACTS,
            ListKind::Groups => CONTACT_GROUPS,
            ListKind::Assets => ASSETS,
        }
    }

    /// The entries of one stored record of this kind.
    pub(super) fn entries(self, v: &[u8]) -> Result<Entries, StoreError> {
        Ok(match self {
            // Only the fields the entries use (`fields.rs`).
            ListKind::Contacts => entries::contact_of(&dec_view(v)?),
            ListKind::Groups => entries::group(&dec::<ContactGroup>(v)?),
            ListKind::Assets => entries::asset_of(&dec_view(v)?),
        })
    }
}

/// Records read (and their entries computed) per step of a build. Small in tests, so their
/// few hundred records take several chunks and flushes (the helper thread's hand-offs).
const BUILD_CHUNK: usize = if cfg!(test) { 16 } else { 2_000 };
/// Entries a build holds before it writes them (in key order): about 8 MB (an entry held
/// costs some 50 bytes, its sort key in its list's buffer, see `pending.rs`), so the build's
/// memory stays bounded whatever the tenant's size. Two such sets are alive at once: one
/// being written while the helper thread prepares the next (`build_company`). Each write
/// merges into the blocks the previous ones wrote, so fewer, larger writes rewrite fewer
/// blocks.
const BUILD_FLUSH_AT: usize = if cfg!(test) { 1_024 } else { 131_072 };
/// Chunks of records read ahead for the helper: about one flush's worth (a record has some
/// 30 entries), so it has work while this thread writes the previous flush.
const CHUNKS_AHEAD: usize = BUILD_FLUSH_AT / (BUILD_CHUNK * 30) + 1;

impl<Tx: ReadTables> Txn<Tx> {
    /// The companies whose `kind` lists are still to be built (few: the companies in their
    /// first sync).
    pub fn lists_pending(&self, kind: ListKind) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for r in self.table(LISTS_TO_BUILD)?.iter()? {
            let (company, k) = r?.0.value();
            if k == kind.byte() {
                out.push(company);
            }
        }
        Ok(out)
    }

    /// Every (company, kind) whose lists are still to be built.
    pub(crate) fn all_lists_pending(&self) -> Result<Vec<(u64, ListKind)>, StoreError> {
        let mut out = Vec::new();
        for r in self.table(LISTS_TO_BUILD)?.iter()? {
            let (company, k) = r?.0.value();
            if let Some(kind) = ListKind::from_byte(k) {
                out.push((company, kind));
            }
        }
        Ok(out)
    }

    /// Of the companies a list covers (one, or every company when None), those whose `kind`
    /// lists are still to be built.
    pub(crate) fn pending_among(
        &self,
        kind: ListKind,
        company: Option<u64>,
    ) -> Result<Vec<u64>, StoreError> {
        match company {
            Some(c) => {
                let found = self.table(LISTS_TO_BUILD)?.get((c, kind.byte()))?.is_some();
                Ok(if found { vec![c] } else { Vec::new() })
            }
            None => self.lists_pending(kind),
        }
    }
}

impl Writer {
    /// Are the lists of `company`'s records of kind `kind` (a `keys::kind` byte) deferred?
    /// Asked on every put of such a record: the answer is kept in the writer's pending
    /// upkeep, so a sync batch reads the mark once.
    pub(crate) fn lists_deferred(&mut self, company: u64, kind: u8) -> Result<bool, StoreError> {
        if let Some(known) = self
            .pending
            .as_deref()
            .and_then(|p| p.deferred(company, kind))
        {
            return Ok(known);
        }
        let found = self
            .txn
            .open_table(LISTS_TO_BUILD)?
            .get((company, kind))?
            .is_some();
        if let Some(p) = self.pending.as_deref_mut() {
            p.note_deferred(company, kind, found);
        }
        if found {
            self.want_prebuild(company, kind);
        }
        Ok(found)
    }

    /// Ask for the lists of a deferred (company, kind) to be prepared beside the sync.
    fn want_prebuild(&self, company: u64, kind: u8) {
        if let (Some(pre), Some(kind)) = (&self.prebuilds, ListKind::from_byte(kind)) {
            pre.want(company, kind);
        }
    }

    /// A put wrote record `key` (company, id) of a kind whose lists are deferred, replacing
    /// a stored value or not: a prebuild that may hold entries of an older value is stale
    /// (`prebuild/`). A record first written in this same transaction counts as replaced
    /// too (cheaper than telling them apart; Graph rarely replays an object).
    pub(crate) fn deferred_record_written(&self, key: (u64, u64), kind: u8, replaced: bool) {
        if let (Some(pre), Some(kind)) = (&self.prebuilds, ListKind::from_byte(kind)) {
            pre.written(key.0, kind, key.1, replaced);
        }
    }

    /// Start (or carry on) writing `company`'s records of `kind` without their list entries,
    /// when the company has no such record yet: its first sync. True when the lists are
    /// deferred (build them with [`Self::build_deferred_lists`] at the round's end).
    pub fn defer_lists_if_empty(
        &mut self,
        company: u64,
        kind: ListKind,
    ) -> Result<bool, StoreError> {
        if self.lists_deferred(company, kind.byte())? {
            return Ok(true);
        }
        // No record means no entry (every record written outside this path has its
        // entries), so nothing is left behind in the lists the mark says are empty.
        let empty = self
            .txn
            .open_table(kind.records())?
            .range((company, 0)..=(company, u64::MAX))?
            .next()
            .is_none();
        if !empty {
            return Ok(false);
        }
        self.txn
            .open_table(LISTS_TO_BUILD)?
            .insert((company, kind.byte()), ())?;
        if let Some(p) = self.pending.as_deref_mut() {
            p.note_deferred(company, kind.byte(), true);
        }
        self.want_prebuild(company, kind.byte());
        Ok(true)
    }

    /// Build the deferred lists of `company`'s records of `kind` and remove the mark, in
    /// this transaction. Returns the records indexed (0 when nothing was deferred).
    pub fn build_deferred_lists(
        &mut self,
        company: u64,
        kind: ListKind,
    ) -> Result<u64, StoreError> {
        if !self.lists_deferred(company, kind.byte())? {
            return Ok(0);
        }
        // The batch's own deferred upkeep first: the build writes the same tables.
        self.flush_index_upkeep()?;
        let started = Instant::now();
        tracing::info!(company, ?kind, "building the lists of a first sync");
        // From what was prepared beside the sync when that is usable (`prebuild/`), else
        // from the records.
        let prepared = match &self.prebuilds {
            Some(pre) => super::prebuild::build_from(pre, &self.txn, company, kind)?,
            None => None,
        };
        let n = match prepared {
            Some(n) => n,
            None => build_company(&self.txn, company, kind)?,
        };
        tracing::info!(
            company,
            ?kind,
            records = n,
            seconds = started.elapsed().as_secs_f64(),
            "lists of a first sync built: {n} records in {:.2} s (written at the commit)",
            started.elapsed().as_secs_f64()
        );
        self.txn
            .open_table(LISTS_TO_BUILD)?
            .remove((company, kind.byte()))?;
        if let Some(p) = self.pending.as_deref_mut() {
            p.note_deferred(company, kind.byte(), false);
        }
        Ok(n)
    }
}

/// Walk the company's records of `kind` in key order, a chunk at a time, and spill their
/// entries, sorted, every [`BUILD_FLUSH_AT`] entries; merge the runs into the lists at the
/// end (each block written once). Memory: a few chunks of records ([`CHUNKS_AHEAD`] waiting,
/// one being decoded), two flushes' entries (one being prepared, one being written), and a
/// block per run while merging.
///
/// WHY two threads (#11): the build runs at the end of a first sync's rounds, where nothing
/// else overlaps it (the devices round's asset lists are the job's last write). About half
/// its work is decoding records, computing their ~30 entries and sorting them, which needs
/// no transaction; so that half runs on a helper thread while this one, which holds the
/// transaction, writes the previous flush's entries. Same entries, same order of writes.
fn build_company(txn: &WriteTransaction, company: u64, kind: ListKind) -> Result<u64, StoreError> {
    use std::sync::mpsc;
    // Only additions (the company's lists of this kind are empty): large runs spill and are
    // merged once at the end (`spill.rs`).
    let mut sink = Pending::spilling_at(BUILD_FLUSH_AT);
    // Record bytes to the helper (at most [`CHUNKS_AHEAD`] waiting), prepared entries back
    // (at most about one flush waiting: the helper needs that many chunks to fill one).
    let (chunks_tx, chunks_rx) = mpsc::sync_channel::<Vec<Vec<u8>>>(CHUNKS_AHEAD);
    let (ready_tx, ready_rx) = mpsc::channel::<Result<Pending, StoreError>>();
    let n = std::thread::scope(|scope| -> Result<u64, StoreError> {
        scope.spawn(move || prepare_entries(kind, chunks_rx, ready_tx));
        let mut from = 0u64;
        let mut n = 0u64;
        let read = (|| -> Result<u64, StoreError> {
            loop {
                while let Ok(ready) = ready_rx.try_recv() {
                    sink.flush_from(ready?, txn)?;
                }
                let chunk: Vec<Vec<u8>> = {
                    let t = txn.open_table(kind.records())?;
                    let mut out = Vec::with_capacity(BUILD_CHUNK);
                    for r in t.range((company, from)..=(company, u64::MAX))? {
                        let (k, v) = r?;
                        from = k.value().1.saturating_add(1);
                        out.push(v.value().to_vec());
                        if out.len() >= BUILD_CHUNK {
                            break;
                        }
                    }
                    out
                };
                if chunk.is_empty() {
                    return Ok(n);
                }
                n += chunk.len() as u64;
                let last = chunk.len() < BUILD_CHUNK;
                if chunks_tx.send(chunk).is_err() {
                    // The helper stopped: it sent why.
                    return Ok(n);
                }
                if last || from == u64::MAX {
                    return Ok(n);
                }
            }
        })();
        // No more chunks: the helper sends what it holds and stops (on an error here too,
        // so the scope's join never waits on it).
        drop(chunks_tx);
        let n = read?;
        for ready in ready_rx.iter() {
            sink.flush_from(ready?, txn)?;
        }
        Ok(n)
    })?;
    sink.finish_build(txn)?;
    Ok(n)
}

/// The helper thread of [`build_company`]: decode each chunk of records, compute their
/// entries, and hand them back sorted every [`BUILD_FLUSH_AT`] entries (and at the end).
fn prepare_entries(
    kind: ListKind,
    chunks: std::sync::mpsc::Receiver<Vec<Vec<u8>>>,
    ready: std::sync::mpsc::Sender<Result<Pending, StoreError>>,
) {
    let fresh = || Pending::flushing_at(usize::MAX);
    let mut p = fresh();
    for chunk in chunks.iter() {
        for v in chunk {
            match kind.entries(&v) {
                Ok(e) => super::changes(None, Some(e), &mut p),
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            }
        }
        if p.held() >= BUILD_FLUSH_AT {
            p.sort_runs();
            if ready.send(Ok(std::mem::replace(&mut p, fresh()))).is_err() {
                return;
            }
        }
    }
    p.sort_runs();
    let _ = ready.send(Ok(p));
}

/// Build every list an interrupted sync left to build, one transaction per company and kind,
/// with a line in the log for each (at start: see `Store::open_with_budget`).
pub(crate) fn build_all_pending(store: &Store) -> Result<(), StoreError> {
    let marks = store.read_blocking(|r| r.all_lists_pending())?;
    for (company, kind) in marks {
        let started = Instant::now();
        tracing::info!(
            company,
            ?kind,
            "building the lists a sync left unbuilt (it stopped before its round's end)"
        );
        let n = store.write_blocking(|w| w.build_deferred_lists(company, kind))?;
        tracing::info!(
            company,
            ?kind,
            records = n,
            seconds = started.elapsed().as_secs_f64(),
            "lists built: {n} records in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
