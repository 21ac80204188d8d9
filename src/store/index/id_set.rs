//! Sets of row ids for a search's checks (`search.rs`, `read.rs`). A search builds a set of
//! some thousands of ids per word and company, and looks one up per candidate: with the
//! standard library's SipHash the hashing cost about as much as the key step that found the
//! id. Ids are this database's own sequence numbers, never chosen by whoever searches, so
//! SipHash's resistance to chosen keys buys nothing here; a multiply-rotate hash (as rustc's
//! Fx hash) spreads sequential ids well enough for the table's buckets.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// Row ids.
pub(crate) type IdSet = HashSet<u64, BuildHasherDefault<IdHasher>>;

/// (company id, row id) pairs.
#[cfg(test)]
pub(crate) type RowSet = HashSet<(u64, u64), BuildHasherDefault<IdHasher>>;

/// An empty set sized for `n` ids.
pub(crate) fn with_capacity(n: usize) -> IdSet {
    IdSet::with_capacity_and_hasher(n, BuildHasherDefault::default())
}

/// Fx-style hashing of integers (see the module note).
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl IdHasher {
    fn add(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(SEED);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.add(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_are_kept_apart() {
        let mut s = with_capacity(0);
        for id in 0..100_000u64 {
            assert!(s.insert(id));
        }
        assert!((0..100_000u64).all(|id| s.contains(&id)));
        assert!(!s.contains(&100_000));
        let mut pairs = RowSet::default();
        assert!(pairs.insert((1, 2)) && !pairs.insert((1, 2)) && pairs.insert((2, 1)));
    }
}
