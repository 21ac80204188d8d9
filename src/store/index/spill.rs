//! A build's sorted runs, spilled to a scratch table and merged once at its end, so a bulk
//! build (`bulk.rs`) writes each block of a large list once, in bounded memory.
//!
//! WHY: a build walks records in id order, so every list (by name, by e-mail...) receives
//! its entries all over its key range. Applied flush by flush, each flush merges into every
//! block the earlier flushes wrote: a list of n entries built in F flushes is rewritten about
//! F / 2 times. Spilled instead, each flush writes its runs (sorted, as full blocks) to
//! `BUILD_RUNS`, and the end merges each list's runs (one decoded block per run in memory) and
//! writes the list's blocks once. Small runs (a word's few entries) are applied straight
//! away: rewriting a one-block list costs less than a scratch row per run.
//!
//! The scratch table is created and deleted inside the build's transaction: a commit never
//! holds it, so a crash leaves nothing behind and no backup or migration sees it.

use super::blocks::{self, BlockKey, FlatBlock, ListWriter, Op};
use crate::store::StoreError;
use crate::store::tables::BUILD_RUNS;
use redb::{ReadableTable, Table, WriteTransaction};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Bound::{Excluded, Included};

/// Runs shorter than this are applied to the index at once (see the module note).
const SPILL_FROM: usize = blocks::B;
/// Entries merged before they are applied to a list that already has entries (bounds the
/// merge's memory).
pub(crate) const MERGE_CHUNK: usize = 16_384;

/// Which index a spilled run belongs to: its byte leads the scratch list key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Target {
    Lists = 0,
    Words = 1,
}

/// A spilled list: (its index, its bytes) and its runs.
type SpilledList = ((Target, Vec<u8>), Vec<SpilledRun>);

/// One flush's run of a list: its number and how many entries it holds.
type SpilledRun = (u64, usize);

/// The runs spilled so far: per (target, list), the runs that hold its entries.
#[derive(Default)]
pub(crate) struct Spill {
    run: u64,
    spilled: HashMap<(Target, Vec<u8>), Vec<SpilledRun>>,
}

/// The scratch list of one run: target byte, list, run number (big-endian). Lists of
/// different lengths cannot collide (the run is always the last 8 bytes).
fn run_list(target: Target, list: &[u8], run: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(list.len() + 9);
    v.push(target as u8);
    v.extend_from_slice(list);
    v.extend_from_slice(&run.to_be_bytes());
    v
}

impl Spill {
    /// Is a run of `n` changes worth spilling?
    pub(crate) fn takes(n: usize) -> bool {
        n >= SPILL_FROM
    }

    /// Spill one list's netted, sorted run (insertions only: a build adds) for this flush.
    pub(crate) fn write(
        &mut self,
        scratch: &mut Table<blocks::BlockKey<'static>, &'static [u8]>,
        target: Target,
        list: &[u8],
        ops: &[Op<'_>],
    ) -> Result<(), StoreError> {
        let name = run_list(target, list, self.run);
        let entries: Vec<(&[u8], u64, u64)> = ops
            .iter()
            .filter_map(|o| o.owner.map(|owner| (o.key, o.id, owner)))
            .collect();
        for chunk in entries.chunks(blocks::B) {
            let (k, id, _) = chunk[0];
            scratch.insert(
                (name.as_slice(), k, id),
                blocks::encode(chunk.iter().copied(), chunk.len()).as_slice(),
            )?;
        }
        self.spilled
            .entry((target, list.to_vec()))
            .or_default()
            .push((self.run, entries.len()));
        Ok(())
    }

    /// The flush is over: the next one writes a new run.
    pub(crate) fn next_run(&mut self) {
        self.run += 1;
    }

    /// Merge every spilled list's runs into its index (`lists` or `words`), then drop the
    /// scratch table. A list with no entry yet (every list of the company being built, but
    /// those a small run went straight to) is streamed into blocks as the merge yields its
    /// entries; one that has some (the lists across companies, when other companies have
    /// records) takes them a chunk at a time through `blocks::apply`.
    pub(crate) fn finish<'txn>(
        self,
        txn: &WriteTransaction,
        lists: &mut Table<'txn, BlockKey<'static>, &'static [u8]>,
        words: &mut Table<'txn, BlockKey<'static>, &'static [u8]>,
    ) -> Result<(), StoreError> {
        let mut spilled: Vec<SpilledList> = self.spilled.into_iter().collect();
        spilled.sort_unstable();
        {
            let scratch = txn.open_table(BUILD_RUNS)?;
            for ((target, list), runs) in spilled {
                let t = match target {
                    Target::Lists => &mut *lists,
                    Target::Words => &mut *words,
                };
                let merge = Merge::new(scratch_cursors(&scratch, target, &list, &runs)?);
                let total = runs.iter().map(|(_, n)| n).sum();
                write_merged(t, &list, merge, total)?;
            }
        }
        txn.delete_table(BUILD_RUNS)?;
        Ok(())
    }
}

/// Write a list's merged entries (`total` of them) into its index: streamed into blocks when
/// the list has no entry yet (every list of the company being built, but those a small run
/// went straight to), else a chunk at a time through `blocks::apply` (the lists across
/// companies, when other companies have records).
fn write_merged<C: Cursor>(
    t: &mut Table<'_, BlockKey<'static>, &'static [u8]>,
    list: &[u8],
    mut merge: Merge<C>,
    total: usize,
) -> Result<(), StoreError> {
    if is_empty(t, list)? {
        let mut out = ListWriter::new(total);
        while let Some((e, key)) = merge.peek() {
            out.push(key, e.id, e.owner, |first, id, block| {
                t.insert((list, first, id), block)?;
                Ok(())
            })?;
            merge.advance()?;
        }
        out.finish()?;
    } else {
        in_chunks(&mut merge, |chunk| {
            blocks::apply(t, list, &chunk.ops())?;
            Ok(true)
        })?;
    }
    Ok(())
}

/// The merge's entries, [`MERGE_CHUNK`] at a time (and the rest at its end), each chunk handed
/// to `each` and then emptied; `each` answers false to stop. False when it stopped.
pub(crate) fn in_chunks<C: Cursor>(
    merge: &mut Merge<C>,
    mut each: impl FnMut(&mut FlatOut) -> Result<bool, StoreError>,
) -> Result<bool, StoreError> {
    let mut chunk = FlatOut::default();
    while let Some((e, key)) = merge.peek() {
        chunk.push(key, e.id, e.owner);
        merge.advance()?;
        if chunk.len() >= MERGE_CHUNK || merge.peek().is_none() {
            if !each(&mut chunk)? {
                return Ok(false);
            }
            chunk.clear();
        }
    }
    Ok(true)
}

/// The cursors of one list's spilled runs in the scratch table, each on its first entry.
fn scratch_cursors<'t>(
    scratch: &'t redb::Table<BlockKey<'static>, &'static [u8]>,
    target: Target,
    list: &[u8],
    runs: &[SpilledRun],
) -> Result<Vec<RunCursor<'t>>, StoreError> {
    let mut cursors = Vec::with_capacity(runs.len());
    for (run, _) in runs {
        let name = run_list(target, list, *run);
        let end = super::keys::after(&name);
        let lo: BlockKey<'_> = (name.as_slice(), &[], 0);
        let hi: BlockKey<'_> = (end.as_slice(), &[], 0);
        let mut c = RunCursor {
            blocks: scratch.range::<BlockKey<'_>>((Included(lo), Excluded(hi)))?,
            block: FlatBlock::default(),
            at: 0,
        };
        // Onto the run's first entry (the empty block it starts with asks for one).
        c.settle()?;
        cursors.push(c);
    }
    Ok(cursors)
}

/// Has `list` no block?
pub(crate) fn is_empty(
    t: &Table<BlockKey<'static>, &'static [u8]>,
    list: &[u8],
) -> Result<bool, StoreError> {
    let end = super::keys::after(list);
    let lo: BlockKey<'_> = (list, &[], 0);
    let hi: BlockKey<'_> = (end.as_slice(), &[], 0);
    Ok(t.range(lo..hi)?.next().is_none())
}

/// Merged entries waiting for `blocks::apply`, their keys in one buffer.
#[derive(Default)]
pub(crate) struct FlatOut {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    ids: Vec<(u64, u64)>,
}

impl FlatOut {
    pub(crate) fn push(&mut self, key: &[u8], id: u64, owner: u64) {
        self.bytes.extend_from_slice(key);
        self.ends.push(self.bytes.len());
        self.ids.push((id, owner));
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(crate) fn ops(&self) -> Vec<Op<'_>> {
        self.iter()
            .map(|(key, id, owner)| Op {
                key,
                id,
                owner: Some(owner),
            })
            .collect()
    }

    /// The entries in order: (key, id, owner).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], u64, u64)> {
        let mut start = 0;
        self.ends
            .iter()
            .zip(&self.ids)
            .map(move |(&end, &(id, owner))| {
                let key = self.bytes.get(start..end).unwrap_or(&[]);
                start = end;
                (key, id, owner)
            })
    }

    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.ids.clear();
    }
}

/// One spilled run being merged: its blocks in order, the current one decoded.
struct RunCursor<'t> {
    blocks: redb::Range<'t, BlockKey<'static>, &'static [u8]>,
    block: FlatBlock,
    at: usize,
}

/// A sorted run being merged, on its current entry (None at its end).
pub(crate) trait Cursor {
    fn current(&self) -> Option<(&blocks::FlatEntry, &[u8])>;
    /// Step to the next entry; false at the run's end.
    fn advance(&mut self) -> Result<bool, StoreError>;
}

impl Cursor for RunCursor<'_> {
    fn current(&self) -> Option<(&blocks::FlatEntry, &[u8])> {
        self.block.get(self.at)
    }

    fn advance(&mut self) -> Result<bool, StoreError> {
        self.at += 1;
        self.settle()
    }
}

impl RunCursor<'_> {
    /// Onto an entry: the next block's first when this one is done; false at the run's end.
    fn settle(&mut self) -> Result<bool, StoreError> {
        while self.at >= self.block.len() {
            let Some(r) = self.blocks.next() else {
                return Ok(false);
            };
            self.block.decode(r?.1.value())?;
            self.at = 0;
        }
        Ok(true)
    }
}

/// A k-way merge of one list's spilled runs (each sorted by (key, id), no key in two runs):
/// a binary heap of run numbers ordered by each run's current entry, compared by its key's
/// head first (`blocks::head`), then its key and id. Nothing is allocated per entry.
pub(crate) struct Merge<C> {
    runs: Vec<C>,
    /// Runs with an entry left, as a min-heap on their current entries.
    heap: Vec<usize>,
}

impl<C: Cursor> Merge<C> {
    /// Merge `runs`, each on its first entry (or at its end).
    pub(crate) fn new(runs: Vec<C>) -> Self {
        let heap = (0..runs.len())
            .filter(|&i| runs[i].current().is_some())
            .collect();
        let mut m = Merge { runs, heap };
        for i in (0..m.heap.len() / 2).rev() {
            m.sift_down(i);
        }
        m
    }

    fn cmp(&self, a: usize, b: usize) -> Ordering {
        match (self.runs[a].current(), self.runs[b].current()) {
            (Some((x, xk)), Some((y, yk))) => x
                .head
                .cmp(&y.head)
                .then_with(|| xk.cmp(yk))
                .then(x.id.cmp(&y.id)),
            (a, b) => a.is_none().cmp(&b.is_none()),
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut least = i;
            if l < n && self.cmp(self.heap[l], self.heap[least]).is_lt() {
                least = l;
            }
            if r < n && self.cmp(self.heap[r], self.heap[least]).is_lt() {
                least = r;
            }
            if least == i {
                return;
            }
            self.heap.swap(i, least);
            i = least;
        }
    }

    /// The least entry not yet taken, and its key.
    pub(crate) fn peek(&self) -> Option<(blocks::FlatEntry, &[u8])> {
        let top = *self.heap.first()?;
        self.runs[top].current().map(|(e, k)| (*e, k))
    }

    /// Take the least entry: its run steps on (and leaves the heap at its end).
    pub(crate) fn advance(&mut self) -> Result<(), StoreError> {
        let Some(&top) = self.heap.first() else {
            return Ok(());
        };
        if !self.runs[top].advance()? {
            let last = self.heap.len() - 1;
            self.heap.swap(0, last);
            self.heap.pop();
        }
        self.sift_down(0);
        Ok(())
    }
}
