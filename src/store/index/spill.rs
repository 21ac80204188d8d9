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

use super::blocks::{self, Entry, Op};
use crate::store::StoreError;
use crate::store::tables::BUILD_RUNS;
use redb::{Table, WriteTransaction};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Runs shorter than this are applied to the index at once (see the module note).
const SPILL_FROM: usize = blocks::B;
/// Entries merged before they are applied to the index (bounds the merge's memory).
const MERGE_CHUNK: usize = 16_384;

/// Which index a spilled run belongs to: its byte leads the scratch list key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Target {
    Lists = 0,
    Words = 1,
}

/// A spilled list: (its index, its bytes) and its run numbers.
type SpilledList = ((Target, Vec<u8>), Vec<u64>);

/// The runs spilled so far: per (target, list), the run numbers that hold its entries.
#[derive(Default)]
pub(crate) struct Spill {
    run: u64,
    spilled: HashMap<(Target, Vec<u8>), Vec<u64>>,
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
            .push(self.run);
        Ok(())
    }

    /// The flush is over: the next one writes a new run.
    pub(crate) fn next_run(&mut self) {
        self.run += 1;
    }

    /// Merge every spilled list's runs into the index (`apply`), then drop the scratch table.
    pub(crate) fn finish(
        self,
        txn: &WriteTransaction,
        mut apply: impl FnMut(Target, &[u8], &[Op<'_>]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut lists: Vec<SpilledList> = self.spilled.into_iter().collect();
        lists.sort_unstable();
        {
            let scratch = txn.open_table(BUILD_RUNS)?;
            for ((target, list), runs) in lists {
                let names: Vec<Vec<u8>> =
                    runs.iter().map(|r| run_list(target, &list, *r)).collect();
                let mut walks = Vec::with_capacity(names.len());
                for n in &names {
                    walks.push(blocks::walk(
                        &scratch,
                        n,
                        std::ops::Bound::Unbounded,
                        std::ops::Bound::Unbounded,
                        false,
                    )?);
                }
                // A k-way merge: the heap holds each run's next entry.
                let mut heads: BinaryHeap<Reverse<(Entry, usize)>> = BinaryHeap::new();
                for (i, w) in walks.iter_mut().enumerate() {
                    if let Some(e) = w.next().transpose()? {
                        heads.push(Reverse((e, i)));
                    }
                }
                let mut out: Vec<Entry> = Vec::with_capacity(MERGE_CHUNK);
                while let Some(Reverse((e, i))) = heads.pop() {
                    out.push(e);
                    if let Some(w) = walks.get_mut(i)
                        && let Some(next) = w.next().transpose()?
                    {
                        heads.push(Reverse((next, i)));
                    }
                    if out.len() >= MERGE_CHUNK || heads.is_empty() {
                        let ops: Vec<Op<'_>> = out
                            .iter()
                            .map(|e| Op {
                                key: &e.key,
                                id: e.id,
                                owner: Some(e.owner),
                            })
                            .collect();
                        apply(target, &list, &ops)?;
                        out.clear();
                    }
                }
            }
        }
        txn.delete_table(BUILD_RUNS)?;
        Ok(())
    }
}
