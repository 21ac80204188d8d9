//! Index upkeep deferred to the end of a write transaction, for writers that put many records
//! at once (a sync batch).
//!
//! WHY: written one record at a time, each put opens the three index tables and rewrites a
//! block per entry: a batch of 2,000 contacts touches blocks all over `LIST_BLOCKS` and
//! `WORD_BLOCKS` (their keys lead with the list, then the sort key), and every put reads and
//! writes the same two counters. Deferred, the batch's entries are grouped by list, netted
//! (the last change to a key wins, so a record put twice leaves only its final entries),
//! applied in key order with each table opened once and each touched block written once
//! (`blocks::apply`), and each counter moves once by the batch's sum. It is the
//! same transaction, so a crash still leaves the records and their entries together or
//! neither.
//!
//! While entries are pending the index tables do not show them, so the list reads refuse to
//! run ([`super::super::StoreError::IndexPending`]) instead of answering from a stale index.

use super::super::StoreError;
use super::super::tables::{LIST_BLOCKS, LIST_COUNTS, WORD_BLOCKS};
use super::blocks::{self, Op};
use super::spill::{Spill, Target};
use crate::store::tables::BUILD_RUNS;
use redb::WriteTransaction;

/// The maps below are looked up once per entry (some 50 per record in an initial sync):
/// foldhash, seeded per process, instead of SipHash, which was a visible share of a build.
/// Their keys are list names this process spells, a flush's worth at a time.
type HashMap<K, V> = foldhash::HashMap<K, V>;

/// Entries held before they are written anyway: bounds the memory a large batch (10,000
/// devices have some 270,000 entries) holds, at a few MB, while keeping most of the
/// locality. Flushing early is exact: chunks are applied in the order they were asked.
const FLUSH_AT: usize = 32_768;

/// One change to an entry of a list: its sort key is `bytes[at..at + len]` of its [`Run`].
struct RunOp {
    /// The key's first bytes (`blocks::head`): most comparisons of a sort stop there.
    head: u64,
    at: u32,
    len: u32,
    id: u64,
    owner: Option<u64>,
}

/// One list's pending changes, in the order asked, their sort keys in one buffer (one
/// allocation per list, not two per entry).
#[derive(Default)]
struct Run {
    bytes: Vec<u8>,
    ops: Vec<RunOp>,
}

impl Run {
    fn push(&mut self, key: &[u8], id: u64, owner: Option<u64>) {
        let at = self.bytes.len() as u32;
        self.bytes.extend_from_slice(key);
        self.ops.push(RunOp {
            head: blocks::head(key),
            at,
            len: key.len() as u32,
            id,
            owner,
        });
    }

    /// Sort the changes by (key, id). A run asked in key order (a list filled in its own
    /// order) needs no sort; stable otherwise, so equal keys keep the order they were asked in.
    fn sort(&mut self) {
        let bytes = &self.bytes;
        let key = |op: &RunOp| {
            let at = op.at as usize;
            bytes.get(at..at + op.len as usize).unwrap_or(&[])
        };
        let cmp = |a: &RunOp, b: &RunOp| {
            a.head
                .cmp(&b.head)
                .then_with(|| (key(a), a.id).cmp(&(key(b), b.id)))
        };
        if !self.ops.is_sorted_by(|a, b| cmp(a, b).is_le()) {
            self.ops.sort_by(cmp);
        }
    }

    /// The changes sorted by (key, id), the last one asked for each key only: applied in
    /// any order after that, they leave what applying them all in turn would have.
    fn netted(&mut self) -> Vec<Op<'_>> {
        self.sort();
        let bytes = &self.bytes;
        let key = |op: &RunOp| {
            let at = op.at as usize;
            bytes.get(at..at + op.len as usize).unwrap_or(&[])
        };
        let mut out: Vec<Op<'_>> = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            let next = Op {
                key: key(op),
                id: op.id,
                owner: op.owner,
            };
            match out.last_mut() {
                Some(prev) if prev.key == next.key && prev.id == next.id => *prev = next,
                _ => out.push(next),
            }
        }
        out
    }
}

/// Entries to insert (`Some(owner)`) or remove (`None`), per list, in the order they were
/// asked for.
pub(crate) struct Pending {
    lists: HashMap<Vec<u8>, Run>,
    /// Search words: the scope is the list, the word the sort key (see `blocks.rs`).
    words: HashMap<Vec<u8>, Run>,
    held: usize,
    counts: HashMap<Vec<u8>, i64>,
    /// Entries held before they are written anyway.
    flush_at: usize,
    /// (company, kind) → are its lists deferred (`bulk.rs`)? The marks this writer has read
    /// or written, so a batch of puts reads each once.
    deferred: HashMap<(u64, u8), bool>,
    /// A build's flushes spill their large runs here, merged at its end (`spill.rs`).
    spill: Option<Spill>,
}

impl Default for Pending {
    fn default() -> Self {
        Self::flushing_at(FLUSH_AT)
    }
}

/// A list's run, new (called when `map` does not hold it: most entries go to a list already
/// held, and look it up without copying its key).
fn run_for<'m>(map: &'m mut HashMap<Vec<u8>, Run>, list: &[u8]) -> &'m mut Run {
    map.entry(list.to_vec()).or_default()
}

impl Pending {
    /// Pending upkeep written whenever `flush_at` entries are held (a build holds more than a
    /// sync batch, see `bulk.rs`).
    pub(crate) fn flushing_at(flush_at: usize) -> Self {
        Self {
            lists: HashMap::default(),
            words: HashMap::default(),
            held: 0,
            counts: HashMap::default(),
            flush_at,
            deferred: HashMap::default(),
            spill: None,
        }
    }

    /// Pending upkeep for a build that only adds entries: each flush spills its large runs
    /// as sorted scratch runs, and [`Self::finish_build`] merges them into the index once.
    pub(crate) fn spilling_at(flush_at: usize) -> Self {
        Self {
            spill: Some(Spill::default()),
            ..Self::flushing_at(flush_at)
        }
    }

    /// Write everything a spilling build holds: the last flush, then the spilled runs,
    /// merged list by list.
    pub(crate) fn finish_build(mut self, txn: &WriteTransaction) -> Result<(), StoreError> {
        self.flush(txn)?;
        let Some(spill) = self.spill.take() else {
            return Ok(());
        };
        let mut lists = txn.open_table(LIST_BLOCKS)?;
        let mut words = txn.open_table(WORD_BLOCKS)?;
        spill.finish(txn, &mut lists, &mut words)
    }

    /// Entries held (not yet written).
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// Sort every run held, so the flush that writes them finds them in order: a build
    /// prepares its entries on another thread than the one that writes (`bulk.rs`).
    pub(crate) fn sort_runs(&mut self) {
        for run in self.lists.values_mut().chain(self.words.values_mut()) {
            run.sort();
        }
    }

    /// Write the entries `other` holds as this one's own (its spill, if it spills), then
    /// start empty again. `other`'s deferred marks are not taken: it only carries entries.
    pub(crate) fn flush_from(
        &mut self,
        other: Pending,
        txn: &WriteTransaction,
    ) -> Result<(), StoreError> {
        self.flush(txn)?;
        self.lists = other.lists;
        self.words = other.words;
        self.counts = other.counts;
        self.held = other.held;
        self.flush(txn)
    }

    pub(crate) fn deferred(&self, company: u64, kind: u8) -> Option<bool> {
        self.deferred.get(&(company, kind)).copied()
    }

    pub(crate) fn note_deferred(&mut self, company: u64, kind: u8, deferred: bool) {
        self.deferred.insert((company, kind), deferred);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.held == 0 && self.counts.is_empty()
    }

    /// Should the entries held be written now (see [`FLUSH_AT`])?
    pub(crate) fn full(&self) -> bool {
        self.held >= self.flush_at
    }

    pub(crate) fn list(&mut self, list: &[u8], key: &[u8], id: u64, owner: Option<u64>) {
        self.held += 1;
        match self.lists.get_mut(list) {
            Some(run) => run.push(key, id, owner),
            None => run_for(&mut self.lists, list).push(key, id, owner),
        }
    }

    pub(crate) fn word(&mut self, scope: &[u8], word: &str, id: u64, owner: Option<u64>) {
        self.held += 1;
        match self.words.get_mut(scope) {
            Some(run) => run.push(word.as_bytes(), id, owner),
            None => run_for(&mut self.words, scope).push(word.as_bytes(), id, owner),
        }
    }

    pub(crate) fn count(&mut self, scope: &[u8], by: i64) {
        // Most counts move a scope already held: no key copy for those.
        match self.counts.get_mut(scope) {
            Some(n) => *n += by,
            None => {
                self.counts.insert(scope.to_vec(), by);
            }
        }
    }

    /// Write everything pending into `txn` and start empty again: list by list, in key
    /// order, each touched block read and written once (`blocks::apply`).
    pub(crate) fn flush(&mut self, txn: &WriteTransaction) -> Result<(), StoreError> {
        for (table, target, runs) in [
            (LIST_BLOCKS, Target::Lists, std::mem::take(&mut self.lists)),
            (WORD_BLOCKS, Target::Words, std::mem::take(&mut self.words)),
        ] {
            if runs.is_empty() {
                continue;
            }
            let mut runs: Vec<(Vec<u8>, Run)> = runs.into_iter().collect();
            runs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let mut t = txn.open_table(table)?;
            let mut scratch = match self.spill {
                Some(_) => Some(txn.open_table(BUILD_RUNS)?),
                None => None,
            };
            for (list, mut run) in runs {
                let ops = run.netted();
                match (self.spill.as_mut(), scratch.as_mut()) {
                    (Some(spill), Some(scratch)) if Spill::takes(ops.len()) => {
                        spill.write(scratch, target, &list, &ops)?
                    }
                    _ => blocks::apply(&mut t, &list, &ops)?,
                }
            }
        }
        if let Some(spill) = self.spill.as_mut() {
            spill.next_run();
        }
        self.held = 0;
        let mut counts: Vec<(Vec<u8>, i64)> = std::mem::take(&mut self.counts)
            .into_iter()
            .filter(|(_, by)| *by != 0)
            .collect();
        counts.sort_unstable();
        if !counts.is_empty() {
            let mut t = txn.open_table(LIST_COUNTS)?;
            for (scope, by) in &counts {
                super::add(&mut t, scope, *by)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Run;

    #[test]
    fn the_last_change_to_a_key_wins_and_keys_come_sorted() {
        let mut run = Run::default();
        for (k, owner) in [
            (3u8, Some(1)),
            (1, Some(7)),
            (3, None),
            (2, None),
            (1, None),
            (1, Some(9)),
        ] {
            run.push(&[k], 5, owner);
        }
        let got: Vec<(Vec<u8>, Option<u64>)> = run
            .netted()
            .iter()
            .map(|o| (o.key.to_vec(), o.owner))
            .collect();
        assert_eq!(
            got,
            vec![(vec![1], Some(9)), (vec![2], None), (vec![3], None)]
        );
    }
}
