//! A prebuild's sorted runs (`mod.rs`): spilled to a scratch file as the helper covers
//! records, and merged into the lists by the build at the round's end.
//!
//! The file is made beside the database and unlinked at once: it lives as long as its
//! [`Work`], and a crash leaves nothing. Each spill writes, list by list, the list's entries
//! of that run as blocks (`blocks::encode`), each led by its length; the merge reads each
//! run's part of a list a buffer at a time.
//!
//! Twins (#11): a list with an ALL_COMPANIES twin (`entries::TwinSink`) is held, spilled and
//! merged once; the merge's output goes to both lists: the same blocks to each list that has
//! none yet (the company's always, the twin when no other company has entries), the merged
//! entries through `blocks::apply` to one that has some (the twin, on a second company's
//! first sync).

use super::super::blocks::{self, FlatBlock, FlatEntry, ListWriter};
use super::super::bulk::ListKind;
use super::super::entries::{asset_twinned, contact_twinned, twin_of};
use super::super::fields::{AssetFields, ContactFields};
use super::super::spill::{Cursor, FlatOut, MERGE_CHUNK, Merge, Target, is_empty};
use super::held::Holding;
use crate::store::StoreError;
use crate::store::codec::dec_view;
use crate::store::tables::{LIST_BLOCKS, WORD_BLOCKS};
use redb::WriteTransaction;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;

/// Entries the helper holds before it spills them as a sorted run: about 8 MB (some 45
/// bytes an entry, its sort key in its list's buffer). Fewer, longer runs make the merge at
/// the round's end cheaper (each entry's heap step costs log(runs)). A twinned entry is held
/// once for two lists. (Half as many did not lower the sync's peak: 144.8–145.6 MiB against
/// 143.9–144.0 MiB, 5 December.)
const PREBUILD_FLUSH_AT: usize = if cfg!(test) { 512 } else { 196_608 };
/// Bytes a run's reader fetches from the scratch file at a time while merging.
const READ_AHEAD: usize = 64 * 1024;

/// Sorted runs in a scratch file, and what is not spilled yet.
pub(super) struct Work {
    file: File,
    len: u64,
    company: u64,
    sections: Vec<Section>,
    /// Entries not spilled yet, the lists seen, and every counter move of the covered records.
    holding: Holding,
    /// A spill's bytes for one list, reused.
    buf: Vec<u8>,
    pub(super) records: u64,
}

/// One list's part of one run in the scratch file: blocks, each led by its length (u32 LE).
struct Section {
    /// The list's number in the holding.
    list: usize,
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
    pub(super) fn new(db_path: &Path, company: u64) -> Result<Self, StoreError> {
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
            company,
            sections: Vec::new(),
            holding: Holding::new(company),
            buf: Vec::new(),
            records: 0,
        })
    }

    /// Add one stored record's entries. An error (a record that does not decode, or whose
    /// entries do not fit the twin lists) means the prebuild must not be used.
    pub(super) fn add(&mut self, kind: ListKind, value: &[u8]) -> Result<(), StoreError> {
        let h = &mut self.holding;
        match kind {
            ListKind::Contacts => {
                let c: ContactFields<'_> = dec_view(value)?;
                h.begin(c.id, c.company_id);
                contact_twinned(&c, h);
            }
            ListKind::Assets => {
                let a: AssetFields<'_> = dec_view(value)?;
                h.begin(a.id, a.company_id);
                asset_twinned(&a, h);
            }
            ListKind::Groups => {
                return Err(StoreError::Corrupt("groups are never prebuilt".into()));
            }
        }
        h.check()?;
        self.records += 1;
        if self.holding.held() >= PREBUILD_FLUSH_AT {
            self.spill()?;
        }
        Ok(())
    }

    /// Write the entries held as one sorted run, list by list.
    fn spill(&mut self) -> Result<(), StoreError> {
        let Work {
            file,
            len,
            company,
            sections,
            holding,
            buf,
            ..
        } = self;
        let owner = *company;
        holding.drain_sorted(|list, entries, n| {
            buf.clear();
            let mut left = n;
            while left > 0 {
                let m = left.min(blocks::B);
                let at = buf.len();
                buf.extend_from_slice(&[0; 4]);
                blocks::encode_into(buf, entries.take(m).map(|(k, id)| (k, id, owner)), m);
                let block_len = (buf.len() - at - 4) as u32;
                buf[at..at + 4].copy_from_slice(&block_len.to_le_bytes());
                left -= m;
            }
            file.write_all_at(buf, *len).map_err(io)?;
            sections.push(Section {
                list,
                at: *len,
                bytes: buf.len() as u64,
                entries: n,
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
    /// so its messages arrive in order. The blocks are cut by the build's
    /// own `blocks::ListWriter`, so they are the blocks a full build writes.
    /// Returns the seconds this thread spent writing (the rest it waited for the merge).
    pub(super) fn finish(mut self, txn: &WriteTransaction) -> Result<f64, StoreError> {
        self.spill()?;
        self.holding.release_buffers();
        // Each list's sections, its lists in key order (the writes walk the tables in order).
        let mut parts: Vec<Parts> = (0..self.holding.lists.len())
            .map(|_| Parts::default())
            .collect();
        for s in std::mem::take(&mut self.sections) {
            let p = parts
                .get_mut(s.list)
                .ok_or_else(|| StoreError::Corrupt("a prebuild's run names no list".into()))?;
            p.0.push((s.at, s.bytes));
            p.1 += s.entries;
        }
        self.holding.write_counts(txn)?;
        let lists = &self.holding.lists;
        let mut order: Vec<usize> = (0..lists.len()).filter(|&i| parts[i].1 > 0).collect();
        order.sort_unstable_by(|&a, &b| {
            (lists[a].target, &lists[a].name).cmp(&(lists[b].target, &lists[b].name))
        });
        let mut list_t = txn.open_table(LIST_BLOCKS)?;
        let mut word_t = txn.open_table(WORD_BLOCKS)?;
        let mut plan = Vec::with_capacity(order.len());
        for i in order {
            let l = &lists[i];
            let t = match l.target {
                Target::Lists => &list_t,
                Target::Words => &word_t,
            };
            let twin = match l.twin {
                false => None,
                true => {
                    let twin = twin_of(&l.name, self.company).ok_or_else(|| {
                        StoreError::Corrupt("a prebuild's twinned list has no twin".into())
                    })?;
                    let empty = is_empty(t, &twin)?;
                    Some((twin, empty))
                }
            };
            let (parts, total) = std::mem::take(&mut parts[i]);
            plan.push(Planned {
                target: l.target,
                empty: is_empty(t, &l.name)?,
                list: &l.name,
                twin,
                parts,
                total,
            });
        }
        let file = &self.file;
        let plan = &plan;
        let next = &AtomicUsize::new(0);
        std::thread::scope(|scope| {
            // A few messages of BLOCKS_PER_SEND blocks (or a merge chunk) ahead of the writer.
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
                    // The lists this output goes to: blocks to those with none, entries to
                    // those with some (`merge_list`).
                    let blocks = out.is_ok();
                    let own = (p.empty == blocks).then_some(p.list);
                    let twin = p
                        .twin
                        .as_ref()
                        .filter(|(_, empty)| *empty == blocks)
                        .map(|(l, _)| l.as_slice());
                    for list in own.into_iter().chain(twin) {
                        match &out {
                            Ok(blocks) => {
                                for (key, id, block) in blocks {
                                    t.insert((list, key.as_slice(), *id), block.as_slice())?;
                                }
                            }
                            Err(entries) => blocks::apply(t, list, &entries.ops())?,
                        }
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

/// One list to write: its runs' sections, its entries in all, whether it had none, and its
/// twin (when it has one) with whether that had none.
struct Planned<'h> {
    target: Target,
    list: &'h [u8],
    twin: Option<(Vec<u8>, bool)>,
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

/// Blocks handed over per message. Each hand-off may park a merging thread (the writer is
/// the slower side), and at 64 a message the parking showed in the profile; but 256 held
/// up to 2,500 blocks in flight at the end of the round, the sync's peak of memory, and the
/// merged sync used less CPU at 64 (11.2–11.9 CPU-s against 13.7–14.1, 5 December).
const BLOCKS_PER_SEND: usize = 64;

/// A merging thread of [`Work::finish`]: the next list not taken yet, until none is left.
fn merge_lists(
    file: &File,
    plan: &[Planned<'_>],
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
    p: &Planned<'_>,
    out: &SyncSender<Result<Out, StoreError>>,
) -> Result<bool, StoreError> {
    let mut merge = Merge::new(cursors(file, p)?);
    // Blocks for the lists with none, merged entries for those with some (see `Work::finish`).
    let twin_empty = p.twin.as_ref().map(|(_, empty)| *empty);
    let mut list = (p.empty || twin_empty == Some(true)).then(|| ListWriter::new(p.total));
    let entries = !p.empty || twin_empty == Some(false);
    let mut chunk = FlatOut::default();
    let mut ready = Vec::with_capacity(BLOCKS_PER_SEND);
    while let Some((e, key)) = merge.peek() {
        if let Some(list) = list.as_mut() {
            list.push(key, e.id, e.owner, |first, id, block| {
                ready.push((first.to_vec(), id, block.to_vec()));
                Ok(())
            })?;
        }
        if entries {
            chunk.push(key, e.id, e.owner);
        }
        merge.advance()?;
        if ready.len() >= BLOCKS_PER_SEND {
            let full = std::mem::replace(&mut ready, Vec::with_capacity(BLOCKS_PER_SEND));
            if out.send(Ok(Out::Blocks(i, full))).is_err() {
                return Ok(false);
            }
        }
        if chunk.len() >= MERGE_CHUNK {
            let full = std::mem::take(&mut chunk);
            if out.send(Ok(Out::Entries(i, full))).is_err() {
                return Ok(false);
            }
        }
    }
    if let Some(list) = list {
        list.finish()?;
    }
    if !ready.is_empty() && out.send(Ok(Out::Blocks(i, ready))).is_err() {
        return Ok(false);
    }
    if chunk.len() > 0 && out.send(Ok(Out::Entries(i, chunk))).is_err() {
        return Ok(false);
    }
    Ok(true)
}

/// The cursors of `p`'s runs in the scratch file, each on its first entry.
fn cursors<'f>(file: &'f File, p: &Planned<'_>) -> Result<Vec<FileCursor<'f>>, StoreError> {
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
    Ok(cursors)
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
