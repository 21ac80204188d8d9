//! The blocked lists (`index::blocks`) at their boundaries, and random changes against a
//! `BTreeSet` model: every walk, both ways, from every cursor, and the block invariants.

use super::Gen;
use crate::store::index::blocks::{self, B, Entry, MAX, MIN, Op};
use crate::store::tables::{BlockTableDef, LIST_BLOCKS};
use redb::{Database, ReadableDatabase};
use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Unbounded};

const T: BlockTableDef = LIST_BLOCKS;
const LIST: &[u8] = b"\x01list";

fn db(dir: &std::path::Path) -> Database {
    Database::create(dir.join("b.redb")).expect("create")
}

/// Apply `ops` (any order; the last per key wins) to `LIST`, in one transaction.
fn apply(db: &Database, ops: &[(Vec<u8>, u64, Option<u64>)]) {
    let mut sorted: Vec<(Vec<u8>, u64, Option<u64>)> = Vec::new();
    let mut by_key: BTreeMap<(Vec<u8>, u64), Option<u64>> = BTreeMap::new();
    for (k, id, o) in ops {
        by_key.insert((k.clone(), *id), *o);
    }
    for ((k, id), o) in by_key {
        sorted.push((k, id, o));
    }
    let edits: Vec<Op<'_>> = sorted
        .iter()
        .map(|(k, id, o)| Op {
            key: k,
            id: *id,
            owner: *o,
        })
        .collect();
    let txn = db.begin_write().expect("write");
    {
        let mut t = txn.open_table(T).expect("table");
        blocks::apply(&mut t, LIST, &edits).expect("apply");
    }
    txn.commit().expect("commit");
}

/// The sizes of `LIST`'s blocks, in order, after checking every invariant.
fn sizes(db: &Database) -> Vec<usize> {
    let txn = db.begin_read().expect("read");
    let t = txn.open_table(T).expect("table");
    let mut problems = Vec::new();
    blocks::check(&t, "test", |p| problems.push(p), |_, _| {}).expect("check");
    assert!(problems.is_empty(), "{problems:#?}");
    t.range::<(&[u8], &[u8], u64)>(..)
        .expect("range")
        .map(|r| blocks::count(r.expect("row").1.value()).expect("count"))
        .collect()
}

/// Every entry of `LIST` walked from `from` (exclusive), forwards or backwards.
fn walk(db: &Database, from: Option<(&[u8], u64)>, desc: bool) -> Vec<Entry> {
    let txn = db.begin_read().expect("read");
    let t = txn.open_table(T).expect("table");
    let (lo, hi) = match (from, desc) {
        (None, _) => (Unbounded, Unbounded),
        (Some(p), false) => (Excluded(p), Unbounded),
        (Some(p), true) => (Unbounded, Excluded(p)),
    };
    blocks::walk(&t, LIST, lo, hi, desc)
        .expect("walk")
        .collect::<Result<Vec<_>, _>>()
        .expect("entries")
}

fn key(i: usize) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

fn inserts(range: std::ops::Range<usize>) -> Vec<(Vec<u8>, u64, Option<u64>)> {
    range.map(|i| (key(i), i as u64, Some(7))).collect()
}

#[test]
fn a_list_of_b_2b_and_2b_plus_one_entries_is_one_one_and_three_blocks() {
    for (n, want) in [(B, vec![B]), (MAX, vec![MAX]), (MAX + 1, vec![])] {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = db(dir.path());
        apply(&db, &inserts(0..n));
        let got = sizes(&db);
        if n <= MAX {
            assert_eq!(got, want, "{n} entries");
        } else {
            // Split evenly: no block is small, none is over B + 1.
            assert_eq!(got.len(), n.div_ceil(B), "{n} entries: {got:?}");
            assert_eq!(got.iter().sum::<usize>(), n);
            assert!(got.iter().all(|s| *s >= B / 2 && *s <= B + 1), "{got:?}");
        }
        assert_eq!(walk(&db, None, false).len(), n);
    }
}

#[test]
fn a_block_splits_when_it_grows_past_2b_one_entry_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db(dir.path());
    for i in 0..=MAX {
        apply(&db, &inserts(i..i + 1));
    }
    let got = sizes(&db);
    assert!(got.len() > 1, "split: {got:?}");
    assert_eq!(got.iter().sum::<usize>(), MAX + 1);
}

#[test]
fn removing_a_blocks_first_entry_re_keys_it_and_inserting_before_the_first_entry_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db(dir.path());
    apply(&db, &inserts(10..10 + 3 * B));
    let firsts = |db: &Database| -> Vec<(Vec<u8>, u64)> {
        let txn = db.begin_read().expect("read");
        let t = txn.open_table(T).expect("table");
        t.range::<(&[u8], &[u8], u64)>(..)
            .expect("range")
            .map(|r| {
                let (k, _) = r.expect("row");
                let (_, s, i) = k.value();
                (s.to_vec(), i)
            })
            .collect()
    };
    let before = firsts(&db);
    assert_eq!(before.len(), 3);
    // The second block's first entry goes: that block is keyed by its next entry.
    let (k, id) = before[1].clone();
    apply(&db, &[(k.clone(), id, None)]);
    let after = firsts(&db);
    assert_eq!(after.len(), 3);
    assert_eq!(after[1], (key(id as usize + 1), id + 1));
    sizes(&db);
    // An entry before the list's first: the first block is keyed by it.
    apply(&db, &[(key(3), 3, Some(1))]);
    assert_eq!(firsts(&db)[0], (key(3), 3));
    sizes(&db);
    let all = walk(&db, None, false);
    assert_eq!(all.len(), 3 * B);
    assert_eq!(all[0].key, key(3));
    assert!(!all.iter().any(|e| e.key == k));
}

#[test]
fn a_block_under_a_quarter_merges_into_its_neighbour_and_an_empty_one_goes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db(dir.path());
    apply(&db, &inserts(0..3 * B));
    assert_eq!(sizes(&db).len(), 3);
    // Empty the middle block but one entry: it merges into the next.
    let removed: Vec<_> = (B..2 * B - 1).map(|i| (key(i), i as u64, None)).collect();
    apply(&db, &removed);
    let got = sizes(&db);
    assert_eq!(got, vec![B, B + 1]);
    // Empty the last block but for fewer than MIN: merged into the one before.
    let removed: Vec<_> = (2 * B - 2 + MIN..3 * B)
        .map(|i| (key(i), i as u64, None))
        .collect();
    apply(&db, &removed);
    assert_eq!(sizes(&db), vec![B + MIN - 1]);
    // Everything gone: no block left.
    let removed: Vec<_> = (0..3 * B).map(|i| (key(i), i as u64, None)).collect();
    apply(&db, &removed);
    assert!(sizes(&db).is_empty());
}

#[test]
fn a_descending_cursor_walk_crosses_block_boundaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db(dir.path());
    let n = 3 * B + 5;
    apply(&db, &inserts(0..n));
    // From just past each block boundary (and at it), walking down.
    for at in [B - 1, B, B + 1, 2 * B, n - 1] {
        let got = walk(&db, Some((&key(at), at as u64)), true);
        let want: Vec<Vec<u8>> = (0..at).rev().map(key).collect();
        assert_eq!(
            got.iter().map(|e| e.key.clone()).collect::<Vec<_>>(),
            want,
            "from {at}"
        );
        let up = walk(&db, Some((&key(at), at as u64)), false);
        assert_eq!(up.len(), n - at - 1, "up from {at}");
    }
}

#[test]
fn skipping_whole_blocks_lands_where_walking_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db(dir.path());
    let n = 5 * B + 3;
    apply(&db, &inserts(0..n));
    let txn = db.begin_read().expect("read");
    let t = txn.open_table(T).expect("table");
    for desc in [false, true] {
        for skip in [0, 1, B - 1, B, B + 1, 3 * B, n - 1, n, n + 10] {
            let mut w = blocks::walk(&t, LIST, Unbounded, Unbounded, desc).expect("walk");
            let skipped = w.skip_entries(skip).expect("skip");
            assert_eq!(skipped, skip.min(n));
            let next = w.next().transpose().expect("next").map(|e| e.id);
            let want = (skip < n).then(|| if desc { n - 1 - skip } else { skip } as u64);
            assert_eq!(next, want, "skip {skip} desc {desc}");
        }
    }
}

#[test]
fn random_inserts_and_removes_match_a_btreeset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db(dir.path());
    let mut model: BTreeMap<(Vec<u8>, u64), u64> = BTreeMap::new();
    let mut g = Gen::new(42);
    for round in 0..120 {
        // Batches of 1 to ~300 changes over a small key space (many hits, ties on the key).
        let n = 1 + g.below(if round % 10 == 0 { 300 } else { 40 }) as usize;
        let mut ops = Vec::with_capacity(n);
        for _ in 0..n {
            let k = format!("k{:03}", g.below(120)).into_bytes();
            let id = g.below(6);
            let op = if g.chance(60) { Some(g.below(3)) } else { None };
            ops.push((k, id, op));
        }
        for (k, id, o) in &ops {
            match o {
                Some(owner) => model.insert((k.clone(), *id), *owner),
                None => model.remove(&(k.clone(), *id)),
            };
        }
        apply(&db, &ops);
        sizes(&db);
        let want: Vec<Entry> = model
            .iter()
            .map(|((k, id), o)| Entry {
                key: k.clone(),
                id: *id,
                owner: *o,
            })
            .collect();
        assert_eq!(walk(&db, None, false), want, "round {round}");
        let mut rev = want.clone();
        rev.reverse();
        assert_eq!(walk(&db, None, true), rev, "round {round} reversed");
        // From a few cursors, both ways.
        for _ in 0..4 {
            let k = format!("k{:03}", g.below(120)).into_bytes();
            let id = g.below(6);
            let up: Vec<Entry> = want
                .iter()
                .filter(|e| (e.key.as_slice(), e.id) > (k.as_slice(), id))
                .cloned()
                .collect();
            assert_eq!(walk(&db, Some((&k, id)), false), up);
            let down: Vec<Entry> = rev
                .iter()
                .filter(|e| (e.key.as_slice(), e.id) < (k.as_slice(), id))
                .cloned()
                .collect();
            assert_eq!(walk(&db, Some((&k, id)), true), down);
            let txn = db.begin_read().expect("read");
            let t = txn.open_table(T).expect("table");
            assert_eq!(
                blocks::get(&t, LIST, &k, id).expect("get"),
                model.get(&(k.clone(), id)).copied()
            );
            let below = blocks::count_below(&t, LIST, &k).expect("count");
            assert_eq!(below, want.iter().filter(|e| e.key < k).count());
        }
    }
    assert!(!model.is_empty());
}

#[test]
fn a_block_decodes_what_it_encoded() {
    let entries = vec![
        (b"".as_slice(), 0u64, 0u64),
        (b"abc", 1, 300),
        (b"abd", u64::MAX, 1),
        (b"abdzzzz", 5, u64::MAX),
    ];
    let block = blocks::encode(entries.iter().copied(), entries.len());
    assert_eq!(blocks::count(&block).expect("count"), 4);
    let got = blocks::decode(&block).expect("decode");
    let back: Vec<(&[u8], u64, u64)> = got
        .iter()
        .map(|e| (e.key.as_slice(), e.id, e.owner))
        .collect();
    assert_eq!(back, entries);
    assert!(blocks::decode(&block[..block.len() - 1]).is_err());
}

#[test]
fn other_lists_are_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db(dir.path());
    let txn = db.begin_write().expect("write");
    {
        let mut t = txn.open_table(T).expect("table");
        for list in [b"\x01lisa".as_slice(), b"\x01list\x00", b"\x01lisu"] {
            let op = Op {
                key: b"x",
                id: 1,
                owner: Some(9),
            };
            blocks::apply(&mut t, list, &[op]).expect("apply");
        }
    }
    txn.commit().expect("commit");
    apply(&db, &inserts(0..3));
    assert_eq!(walk(&db, None, false).len(), 3);
    assert_eq!(walk(&db, None, true).len(), 3);
    apply(&db, &[(b"a".to_vec(), 0, Some(1))]);
    assert_eq!(walk(&db, None, false).len(), 4);
    let txn = db.begin_read().expect("read");
    let t = txn.open_table(T).expect("table");
    assert_eq!(t.range::<(&[u8], &[u8], u64)>(..).expect("r").count(), 4);
}

#[test]
fn a_spilling_build_merges_its_runs_into_what_applying_them_would_write() {
    use crate::store::index::Pending;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db(dir.path());
    // A list that already holds entries (another company's, in a list across companies).
    apply(
        &db,
        &(0..150)
            .map(|i| (key(i * 7), i as u64, Some(1)))
            .collect::<Vec<_>>(),
    );
    let mut model: BTreeMap<(Vec<u8>, u64), u64> =
        (0..150).map(|i| ((key(i * 7), i as u64), 1)).collect();
    let mut g = Gen::new(9);
    let txn = db.begin_write().expect("write");
    // Small flushes, so the build writes many runs: large ones spill, small ones apply.
    let mut p = Pending::spilling_at(300);
    let mut longs: Vec<(Vec<u8>, u64)> = Vec::new();
    for n in 0..2_000u64 {
        let id = 1_000 + n;
        let k = key(g.below(5_000) as usize);
        p.list(LIST, &k, id, Some(2));
        model.insert((k.clone(), id), 2);
        // A second list with few entries per flush (applied, not spilled).
        if n % 50 == 0 {
            p.list(b"\x01small", &k, id, Some(2));
        }
        p.word(b"\x01scope", &format!("w{}", g.below(900)), id, Some(2));
        // A list empty before the build (streamed into blocks at its end) whose keys share
        // their first 8 bytes and more, so the merge's order rests on the whole key; some
        // keys repeat (the id orders those).
        let long = format!("same-long-prefix-{}", g.below(1_500));
        p.list(b"\x01long", long.as_bytes(), id, Some(2));
        longs.push((long.into_bytes(), id));
        if p.full() {
            p.flush(&txn).expect("flush");
        }
    }
    p.finish_build(&txn).expect("finish");
    txn.commit().expect("commit");
    let want: Vec<Entry> = model
        .iter()
        .map(|((k, id), o)| Entry {
            key: k.clone(),
            id: *id,
            owner: *o,
        })
        .collect();
    assert_eq!(walk(&db, None, false), want);
    longs.sort();
    let txn = db.begin_read().expect("read");
    let mut problems = Vec::new();
    let lists = txn.open_table(T).expect("lists");
    let got: Vec<(Vec<u8>, u64)> = blocks::walk(
        &lists,
        b"\x01long",
        std::ops::Bound::Unbounded,
        std::ops::Bound::Unbounded,
        false,
    )
    .expect("walk")
    .map(|e| e.map(|e| (e.key, e.id)))
    .collect::<Result<_, _>>()
    .expect("entries");
    assert_eq!(got, longs);
    let n = blocks::check(&lists, "lists", |p| problems.push(p), |_, _| {}).expect("check");
    assert_eq!(n, 2_150 + 40 + 2_000);
    let words = txn
        .open_table(crate::store::tables::WORD_BLOCKS)
        .expect("words");
    let n = blocks::check(&words, "words", |p| problems.push(p), |_, _| {}).expect("check");
    assert_eq!(n, 2_000);
    assert!(problems.is_empty(), "{problems:#?}");
    // The scratch table is gone with the build.
    assert!(
        txn.open_table(crate::store::tables::BUILD_RUNS).is_err(),
        "scratch left behind"
    );
}
