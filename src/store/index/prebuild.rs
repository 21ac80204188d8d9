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
//! Memory: the helper holds at most [`PREBUILD_FLUSH_AT`] entries before it spills them, and
//! a chunk of records; the merge holds one decoded block and a read buffer per run.

use super::blocks::{self, FlatBlock, FlatEntry};
use super::bulk::ListKind;
use super::spill::{Cursor, FlatOut, MERGE_CHUNK, Merge, Target, is_empty};
use super::{Pending, changes};
use crate::store::StoreError;
use crate::store::handle::Handle;
use crate::store::tables::{LIST_BLOCKS, LISTS_TO_BUILD, WORD_BLOCKS};
use redb::{ReadableTable, WriteTransaction};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Condvar, Mutex, Weak};

/// Entries the helper holds before it spills them as a sorted run: about 8 MB, a build's
/// flush (`bulk.rs`). Fewer, longer runs make the merge at the round's end cheaper (each
/// entry's heap step costs log(runs)): some 23 runs for 100,000 users.
const PREBUILD_FLUSH_AT: usize = if cfg!(test) { 512 } else { 131_072 };
/// Records read per read transaction: the helper lets go of its snapshot between chunks.
const CHUNK: usize = if cfg!(test) { 16 } else { 2_000 };
/// Bytes a run's reader fetches from the scratch file at a time while merging.
const READ_AHEAD: usize = 64 * 1024;

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

/// Sorted runs in a scratch file, and what is not spilled yet.
struct Work {
    file: File,
    len: u64,
    sections: Vec<Section>,
    /// Entries not spilled yet, and every counter move of the covered records.
    pending: Pending,
    records: u64,
}

/// One list's part of one run in the scratch file: blocks, each led by its length (u32 LE).
struct Section {
    target: Target,
    list: Vec<u8>,
    at: u64,
    bytes: u64,
    entries: usize,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Storage(Box::new(redb::Error::Io(e)))
}

/// Scratch files made by this process (their names only need to differ).
static SCRATCH: AtomicU64 = AtomicU64::new(0);

impl Work {
    fn new(db_path: &Path) -> Result<Self, StoreError> {
        let mut name = db_path.as_os_str().to_owned();
        name.push(format!(
            ".prebuild-{}-{}",
            std::process::id(),
            SCRATCH.fetch_add(1, Ordering::Relaxed)
        ));
        let path = PathBuf::from(name);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io)?;
        // Unlinked at once: the open file stays usable and nothing is left after a crash.
        std::fs::remove_file(&path).map_err(io)?;
        Ok(Self {
            file,
            len: 0,
            sections: Vec::new(),
            pending: Pending::flushing_at(usize::MAX),
            records: 0,
        })
    }

    /// Add one stored record's entries.
    fn add(&mut self, kind: ListKind, value: &[u8]) -> Result<(), StoreError> {
        changes(None, Some(kind.entries(value)?), &mut self.pending);
        self.records += 1;
        if self.pending.held() >= PREBUILD_FLUSH_AT {
            self.spill()?;
        }
        Ok(())
    }

    /// Write the entries held as one sorted run, list by list.
    fn spill(&mut self) -> Result<(), StoreError> {
        let Work {
            file,
            len,
            sections,
            pending,
            ..
        } = self;
        let mut buf = Vec::new();
        pending.drain_sorted(|target, list, ops| {
            let entries: Vec<(&[u8], u64, u64)> = ops
                .iter()
                .filter_map(|o| o.owner.map(|owner| (o.key, o.id, owner)))
                .collect();
            if entries.is_empty() {
                return Ok(());
            }
            buf.clear();
            for chunk in entries.chunks(blocks::B) {
                let block = blocks::encode(chunk.iter().copied(), chunk.len());
                buf.extend_from_slice(&(block.len() as u32).to_le_bytes());
                buf.extend_from_slice(&block);
            }
            file.write_all_at(&buf, *len).map_err(io)?;
            sections.push(Section {
                target,
                list: list.to_vec(),
                at: *len,
                bytes: buf.len() as u64,
                entries: entries.len(),
            });
            *len += buf.len() as u64;
            Ok(())
        })
    }

    /// Spill what is held, write the counters, and merge every run into the lists.
    ///
    /// WHY more threads: this is the part of a first sync's build still on the writer's
    /// path. Merging the runs and encoding the blocks needs no transaction, so scoped
    /// threads do it ([`MERGERS`], each taking the next list), while this one (which holds
    /// the transaction) inserts the blocks they hand over. A list is merged by one thread,
    /// so its messages arrive in order. Same blocks as `ListWriter` writes
    /// (same cut, `blocks::block_sizes`, same encoding).
    /// Returns the seconds this thread spent writing (the rest it waited for the merge).
    fn finish(mut self, txn: &WriteTransaction) -> Result<f64, StoreError> {
        self.spill()?;
        // Only the counters are left in it.
        self.pending.flush(txn)?;
        let mut lists: BTreeMap<(Target, Vec<u8>), Parts> = BTreeMap::new();
        for s in std::mem::take(&mut self.sections) {
            let e = lists.entry((s.target, s.list)).or_default();
            e.0.push((s.at, s.bytes));
            e.1 += s.entries;
        }
        let mut list_t = txn.open_table(LIST_BLOCKS)?;
        let mut word_t = txn.open_table(WORD_BLOCKS)?;
        let mut plan = Vec::with_capacity(lists.len());
        for ((target, list), (parts, total)) in lists {
            let t = match target {
                Target::Lists => &list_t,
                Target::Words => &word_t,
            };
            let empty = is_empty(t, &list)?;
            plan.push(Planned {
                target,
                list,
                parts,
                total,
                empty,
            });
        }
        let file = &self.file;
        let plan = &plan;
        let next = &AtomicUsize::new(0);
        std::thread::scope(|scope| {
            // A few messages of 64 blocks (or a merge chunk) ahead of the writer.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Out, StoreError>>(8);
            for _ in 0..MERGERS {
                let tx = tx.clone();
                scope.spawn(move || merge_lists(file, plan, next, tx));
            }
            drop(tx);
            let mut writing = std::time::Duration::ZERO;
            let written = (|| -> Result<(), StoreError> {
                for out in rx.iter() {
                    let began = std::time::Instant::now();
                    let (i, out) = match out? {
                        Out::Blocks(i, blocks) => (i, Ok(blocks)),
                        Out::Entries(i, entries) => (i, Err(entries)),
                    };
                    let p = plan.get(i).ok_or_else(|| {
                        StoreError::Corrupt("a prebuild's merge named no list".into())
                    })?;
                    let t = match p.target {
                        Target::Lists => &mut list_t,
                        Target::Words => &mut word_t,
                    };
                    match out {
                        Ok(blocks) => {
                            for (key, id, block) in blocks {
                                t.insert(
                                    (p.list.as_slice(), key.as_slice(), id),
                                    block.as_slice(),
                                )?;
                            }
                        }
                        Err(entries) => super::blocks::apply(t, &p.list, &entries.ops())?,
                    }
                    writing += began.elapsed();
                }
                Ok(())
            })();
            // On an error here, the merging thread's next send fails and it stops.
            drop(rx);
            written.map(|()| writing.as_secs_f64())
        })
    }
}

/// A list's sections in the scratch file (at, bytes), and its entries in all.
type Parts = (Vec<(u64, u64)>, usize);

/// One list to write: its runs' sections, its entries in all, and whether it had none.
struct Planned {
    target: Target,
    list: Vec<u8>,
    parts: Vec<(u64, u64)>,
    total: usize,
    empty: bool,
}

/// What the merging thread hands the writer for the list `plan[i]`, in order.
enum Out {
    /// Whole blocks of a list with no entry before: (first key, first id, block).
    Blocks(usize, Vec<(Vec<u8>, u64, Vec<u8>)>),
    /// Merged entries for `blocks::apply` (a list across companies that has entries).
    Entries(usize, FlatOut),
}

/// Threads merging lists at once: lists are independent, and one merging thread kept the
/// writer waiting most of the time (it inserts in a third of the merge's time).
const MERGERS: usize = 2;

/// Blocks handed over per message.
const BLOCKS_PER_SEND: usize = 64;

/// A merging thread of [`Work::finish`]: the next list not taken yet, until none is left.
fn merge_lists(
    file: &File,
    plan: &[Planned],
    next: &AtomicUsize,
    out: SyncSender<Result<Out, StoreError>>,
) {
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(p) = plan.get(i) else {
            return;
        };
        match merge_list(file, i, p, &out) {
            Ok(true) => {}
            Ok(false) => return, // the writer stopped
            Err(e) => {
                let _ = out.send(Err(e));
                return;
            }
        }
    }
}

/// Merge one list's runs and send it on; false when the writer no longer listens.
fn merge_list(
    file: &File,
    i: usize,
    p: &Planned,
    out: &SyncSender<Result<Out, StoreError>>,
) -> Result<bool, StoreError> {
    let mut cursors = Vec::with_capacity(p.parts.len());
    for &(at, bytes) in &p.parts {
        let mut c = FileCursor {
            file,
            pos: at,
            end: at + bytes,
            buf: Vec::new(),
            at: 0,
            block: FlatBlock::default(),
            i: 0,
        };
        c.settle()?;
        cursors.push(c);
    }
    let mut merge = Merge::new(cursors);
    let cut_short = || StoreError::Corrupt("a prebuild's runs do not add up".into());
    if !p.empty {
        let mut chunk = FlatOut::default();
        while let Some((e, key)) = merge.peek() {
            chunk.push(key, e.id, e.owner);
            merge.advance()?;
            if chunk.len() >= MERGE_CHUNK || merge.peek().is_none() {
                let full = std::mem::take(&mut chunk);
                if out.send(Ok(Out::Entries(i, full))).is_err() {
                    return Ok(false);
                }
            }
        }
        return Ok(true);
    }
    let mut sizes = blocks::block_sizes(p.total);
    let mut block = FlatOut::default();
    let mut want = 0;
    let mut ready = Vec::with_capacity(BLOCKS_PER_SEND);
    while let Some((e, key)) = merge.peek() {
        if want == 0 {
            want = sizes.next().ok_or_else(cut_short)?;
        }
        block.push(key, e.id, e.owner);
        merge.advance()?;
        if block.len() == want {
            ready.push(block.block());
            block.clear();
            want = 0;
            if ready.len() >= BLOCKS_PER_SEND {
                let full = std::mem::replace(&mut ready, Vec::with_capacity(BLOCKS_PER_SEND));
                if out.send(Ok(Out::Blocks(i, full))).is_err() {
                    return Ok(false);
                }
            }
        }
    }
    if want != 0 || sizes.next().is_some() {
        return Err(cut_short());
    }
    if !ready.is_empty() && out.send(Ok(Out::Blocks(i, ready))).is_err() {
        return Ok(false);
    }
    Ok(true)
}

/// One run's section of a list, read from the scratch file a buffer at a time.
struct FileCursor<'f> {
    file: &'f File,
    /// The next byte to fetch, and the section's end.
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    /// The next unread byte of `buf`.
    at: usize,
    block: FlatBlock,
    /// The current entry of `block`.
    i: usize,
}

impl FileCursor<'_> {
    /// At least `need` unread bytes in the buffer; false when the section has no more.
    fn fill(&mut self, need: usize) -> Result<bool, StoreError> {
        if self.buf.len() - self.at >= need {
            return Ok(true);
        }
        self.buf.drain(..self.at);
        self.at = 0;
        let left = (self.end - self.pos) as usize;
        let want = (need - self.buf.len()).max(READ_AHEAD).min(left);
        if want == 0 {
            return Ok(false);
        }
        let old = self.buf.len();
        self.buf.resize(old + want, 0);
        self.file
            .read_exact_at(&mut self.buf[old..], self.pos)
            .map_err(io)?;
        self.pos += want as u64;
        Ok(self.buf.len() >= need)
    }

    /// Onto an entry: the next block's first when this one is done; false at the end.
    fn settle(&mut self) -> Result<bool, StoreError> {
        while self.i >= self.block.len() {
            if !self.fill(4)? {
                return Ok(false);
            }
            let mut n = [0u8; 4];
            n.copy_from_slice(&self.buf[self.at..self.at + 4]);
            let n = u32::from_le_bytes(n) as usize;
            self.at += 4;
            if !self.fill(n)? {
                return Err(StoreError::Corrupt("a prebuild's run is cut short".into()));
            }
            self.block.decode(&self.buf[self.at..self.at + n])?;
            self.at += n;
            self.i = 0;
        }
        Ok(true)
    }
}

impl Cursor for FileCursor<'_> {
    fn current(&self) -> Option<(&FlatEntry, &[u8])> {
        self.block.get(self.i)
    }

    fn advance(&mut self) -> Result<bool, StoreError> {
        self.i += 1;
        self.settle()
    }
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
            .spawn(move || this.helper(db));
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
            None if from == 0 => Box::new(Work::new(&self.db_path)?),
            // Covered records without their work (never expected): start again.
            None => {
                from = 0;
                Box::new(Work::new(&self.db_path)?)
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
            work.add(kind, r?.1.value())?;
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
