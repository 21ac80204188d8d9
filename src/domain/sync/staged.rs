//! What a sync batch prepares before it writes: ids taken ahead for its new records, and
//! the records it writes, each once, to be written together at its end.

use crate::store::{StoreError, Writer};
use std::collections::HashMap;

/// Ids of one sequence taken ahead for a batch's new records. Should the batch need more
/// than it counted, the extra ones are taken one by one, so an id is never given twice.
pub(super) struct IdBlock {
    seq: &'static str,
    next: u64,
    left: u64,
}

impl IdBlock {
    pub(super) fn reserve(w: &mut Writer, seq: &'static str, n: u64) -> Result<Self, StoreError> {
        let next = if n == 0 { 0 } else { w.reserve_ids(seq, n)? };
        Ok(Self { seq, next, left: n })
    }

    pub(super) fn take(&mut self, w: &mut Writer) -> Result<u64, StoreError> {
        if self.left == 0 {
            return w.reserve_ids(self.seq, 1);
        }
        self.left -= 1;
        self.next += 1;
        Ok(self.next - 1)
    }
}

/// The records (contacts, assets) a batch writes, each once, in the order first written,
/// by id: a record written again in the batch (Graph replays an object) replaces its first
/// write, and is read from here rather than from the store.
pub(super) struct Written<T> {
    pub(super) records: Vec<T>,
    at: HashMap<u64, usize>,
}

impl<T> Default for Written<T> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            at: HashMap::new(),
        }
    }
}

impl<T> Written<T> {
    pub(super) fn get(&self, id: u64) -> Option<&T> {
        self.at.get(&id).and_then(|&i| self.records.get(i))
    }

    pub(super) fn put(&mut self, id: u64, r: T) {
        match self.at.get(&id).and_then(|&i| self.records.get_mut(i)) {
            Some(slot) => *slot = r,
            None => {
                self.at.insert(id, self.records.len());
                self.records.push(r);
            }
        }
    }
}
