//! Index upkeep deferred to the end of a write transaction, for writers that put many records
//! at once (a sync batch).
//!
//! WHY: written one record at a time, each put opens the three index tables and inserts its
//! entries where they fall: a batch of 2,000 contacts dirties pages all over `LIST_INDEX` and
//! `SEARCH_WORDS` (their keys lead with the list, then the sort key), and every put reads and
//! writes the same two counters. Deferred, the batch's entries are netted (the last change to
//! a key wins, so a record put twice leaves only its final entries), applied in key order
//! with each table opened once, and each counter moves once by the batch's sum. It is the
//! same transaction, so a crash still leaves the records and their entries together or
//! neither.
//!
//! While entries are pending the index tables do not show them, so the list reads refuse to
//! run ([`super::super::StoreError::IndexPending`]) instead of answering from a stale index.

use super::super::StoreError;
use super::super::tables::{LIST_COUNTS, LIST_INDEX, SEARCH_WORDS};
use redb::WriteTransaction;
use std::collections::HashMap;

/// Entries held before they are written anyway: bounds the memory a large batch (10,000
/// devices have some 270,000 entries) holds, at about 5 MB, while keeping most of the
/// locality. Flushing early is exact: chunks are applied in the order they were asked.
const FLUSH_AT: usize = 32_768;

type ListKey = (Vec<u8>, Vec<u8>, u64);
type WordKey = (Vec<u8>, String, u64);

/// Entries to insert (`Some(owner)`) or remove (`None`), in the order they were asked for.
pub(crate) struct Pending {
    list: Vec<(ListKey, Option<u64>)>,
    words: Vec<(WordKey, Option<u64>)>,
    counts: HashMap<Vec<u8>, i64>,
    /// Entries held before they are written anyway.
    flush_at: usize,
    /// (company, kind) → are its lists deferred (`bulk.rs`)? The marks this writer has read
    /// or written, so a batch of puts reads each once.
    deferred: HashMap<(u64, u8), bool>,
}

impl Default for Pending {
    fn default() -> Self {
        Self::flushing_at(FLUSH_AT)
    }
}

impl Pending {
    /// Pending upkeep written whenever `flush_at` entries are held (a build holds more than a
    /// sync batch, see `bulk.rs`).
    pub(crate) fn flushing_at(flush_at: usize) -> Self {
        Self {
            list: Vec::new(),
            words: Vec::new(),
            counts: HashMap::new(),
            flush_at,
            deferred: HashMap::new(),
        }
    }

    pub(crate) fn deferred(&self, company: u64, kind: u8) -> Option<bool> {
        self.deferred.get(&(company, kind)).copied()
    }

    pub(crate) fn note_deferred(&mut self, company: u64, kind: u8, deferred: bool) {
        self.deferred.insert((company, kind), deferred);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty() && self.words.is_empty() && self.counts.is_empty()
    }

    /// Should the entries held be written now (see [`FLUSH_AT`])?
    pub(crate) fn full(&self) -> bool {
        self.list.len() + self.words.len() >= self.flush_at
    }

    pub(crate) fn list(&mut self, key: ListKey, owner: Option<u64>) {
        self.list.push((key, owner));
    }

    pub(crate) fn word(&mut self, key: WordKey, owner: Option<u64>) {
        self.words.push((key, owner));
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

    /// Write everything pending into `txn` and start empty again.
    pub(crate) fn flush(&mut self, txn: &WriteTransaction) -> Result<(), StoreError> {
        let list = last_per_key(std::mem::take(&mut self.list));
        if !list.is_empty() {
            let mut t = txn.open_table(LIST_INDEX)?;
            for ((l, k, id), owner) in &list {
                let key = (l.as_slice(), k.as_slice(), *id);
                match owner {
                    Some(o) => t.insert(key, *o)?,
                    None => t.remove(key)?,
                };
            }
        }
        drop(list);
        let words = last_per_key(std::mem::take(&mut self.words));
        if !words.is_empty() {
            let mut t = txn.open_table(SEARCH_WORDS)?;
            for ((s, w, id), owner) in &words {
                let key = (s.as_slice(), w.as_str(), *id);
                match owner {
                    Some(o) => t.insert(key, *o)?,
                    None => t.remove(key)?,
                };
            }
        }
        drop(words);
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

/// The changes sorted by key, keeping only the last one asked for each key: applied in any
/// order after that, they leave what applying them all in turn would have.
fn last_per_key<K: Ord>(mut ops: Vec<(K, Option<u64>)>) -> Vec<(K, Option<u64>)> {
    // Stable: equal keys keep the order they were asked in, so the last is the last asked.
    ops.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<(K, Option<u64>)> = Vec::with_capacity(ops.len());
    for op in ops {
        match out.last_mut() {
            Some(prev) if prev.0 == op.0 => *prev = op,
            _ => out.push(op),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::last_per_key;

    #[test]
    fn the_last_change_to_a_key_wins_and_keys_come_sorted() {
        let ops = vec![
            (3, Some(1)),
            (1, Some(7)),
            (3, None),
            (2, None),
            (1, None),
            (1, Some(9)),
        ];
        assert_eq!(last_per_key(ops), vec![(1, Some(9)), (2, None), (3, None)]);
    }
}
