//! A prebuild's entries not spilled yet (`runs.rs`): each list's entries in one buffer, the
//! twinned lists' once (`entries::TwinSink`), and the counter moves.
//!
//! WHY not `Pending` (#11): `Pending` serves every writer, so it nets changes (the last one
//! to a key wins), sorts stably and hands out a `Vec<Op>` per list; and it is fed from
//! `Entries`, two `Vec`s per entry. A first sync's prebuild only adds, and never sees the same
//! (list, key, id) twice (each record is read once, and a record written again makes the
//! prebuild invalid), so none of that is needed: entries go straight from the record's fields
//! into their list's buffer, are sorted unstably and encoded as blocks from there. Lists are
//! interned to small numbers that outlive a spill, so their buffers keep their capacity from
//! run to run (no growing by realloc), and a record's lists, which mostly repeat the previous
//! record's in the same order, are found by a byte compare before any hash lookup.

use super::super::blocks;
use super::super::entries::{TwinSink, twin_of};
use super::super::spill::Target;
use crate::store::StoreError;
use crate::store::tables::LIST_COUNTS;
use redb::WriteTransaction;

type HashMap<K, V> = foldhash::HashMap<K, V>;

/// A list that took this many entries in a run keeps its buffers' capacity for the next.
const KEEP_FROM: usize = 256;

/// One entry held: its sort key is `bytes[at..at + len]` of its list.
struct Held {
    head: u64,
    at: u32,
    len: u32,
    id: u64,
}

/// One list (or search-word scope) the prebuild has seen, and its entries not spilled yet.
pub(super) struct HeldList {
    pub(super) target: Target,
    pub(super) name: Vec<u8>,
    /// Its ALL_COMPANIES twin receives the same entries (`entries::twin_of`).
    pub(super) twin: bool,
    bytes: Vec<u8>,
    held: Vec<Held>,
}

/// What the prebuild of one company holds between spills.
pub(super) struct Holding {
    company: u64,
    /// The record being added.
    id: u64,
    pub(super) lists: Vec<HeldList>,
    lists_at: HashMap<Vec<u8>, u32>,
    words_at: HashMap<Vec<u8>, u32>,
    /// The lists the previous record's entries went to, in order, and where this record is.
    hint: Vec<u32>,
    pos: usize,
    held: usize,
    /// Counter moves: scope → (by, twinned).
    counts: HashMap<Vec<u8>, (i64, bool)>,
    /// An entry did not fit what the prebuild expects (see [`Self::fits`]).
    bad: Option<String>,
}

impl Holding {
    pub(super) fn new(company: u64) -> Self {
        Self {
            company,
            id: 0,
            lists: Vec::new(),
            lists_at: HashMap::default(),
            words_at: HashMap::default(),
            hint: Vec::new(),
            pos: 0,
            held: 0,
            counts: HashMap::default(),
            bad: None,
        }
    }

    /// Entries held (not spilled yet).
    pub(super) fn held(&self) -> usize {
        self.held
    }

    /// The next record's entries follow, for the row `id` of `owner`.
    pub(super) fn begin(&mut self, id: u64, owner: u64) {
        self.id = id;
        self.pos = 0;
        if owner != self.company {
            self.bad = Some(format!("record {id} belongs to company {owner}"));
        }
    }

    /// Anything unexpected since the prebuild began: it must not be used.
    pub(super) fn check(&self) -> Result<(), StoreError> {
        match &self.bad {
            None => Ok(()),
            Some(why) => Err(StoreError::Corrupt(format!(
                "a first sync's prebuild met an entry it does not expect: {why}"
            ))),
        }
    }

    /// Every scope the prebuild holds is its company's (`[kind, company, ...]`), so no
    /// twin (the same bytes with the company zeroed) can be a list it holds itself.
    fn fits(&mut self, scope: &[u8]) -> bool {
        let ok = twin_of(scope, self.company).is_some();
        if !ok && self.bad.is_none() {
            self.bad = Some(format!(
                "{scope:?} is not a scope of company {}",
                self.company
            ));
        }
        ok
    }

    /// The number of `(target, name)`, interned on first sight.
    fn list_index(&mut self, target: Target, name: &[u8], twin: bool) -> usize {
        if let Some(&i) = self.hint.get(self.pos)
            && let Some(l) = self.lists.get(i as usize)
            && l.target == target
            && l.name == name
        {
            self.pos += 1;
            return self.checked(i as usize, twin);
        }
        let map = match target {
            Target::Lists => &self.lists_at,
            Target::Words => &self.words_at,
        };
        let i = match map.get(name) {
            Some(&i) => i as usize,
            None => {
                let i = self.lists.len();
                self.fits(name);
                self.lists.push(HeldList {
                    target,
                    name: name.to_vec(),
                    twin,
                    bytes: Vec::new(),
                    held: Vec::new(),
                });
                let map = match target {
                    Target::Lists => &mut self.lists_at,
                    Target::Words => &mut self.words_at,
                };
                map.insert(name.to_vec(), i as u32);
                i
            }
        };
        match self.hint.get_mut(self.pos) {
            Some(h) => *h = i as u32,
            None => self.hint.push(i as u32),
        }
        self.pos += 1;
        self.checked(i, twin)
    }

    /// A list is twinned for every record or for none (else its twin would differ).
    fn checked(&mut self, i: usize, twin: bool) -> usize {
        if self.lists[i].twin != twin && self.bad.is_none() {
            self.bad = Some(format!(
                "{:?} is twinned for some rows only",
                self.lists[i].name
            ));
        }
        i
    }

    fn push(&mut self, target: Target, list: &[u8], key: &[u8], twin: bool) {
        let i = self.list_index(target, list, twin);
        let l = &mut self.lists[i];
        l.held.push(Held {
            head: blocks::head(key),
            at: l.bytes.len() as u32,
            len: key.len() as u32,
            id: self.id,
        });
        l.bytes.extend_from_slice(key);
        self.held += 1;
    }

    /// Hand each list's held entries, sorted by (key, id), to `write` (as `(key, id)`), and
    /// hold none after; the lists and their buffers stay for the next run.
    pub(super) fn drain_sorted(
        &mut self,
        mut write: impl FnMut(
            usize,
            &mut dyn Iterator<Item = (&[u8], u64)>,
            usize,
        ) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for (i, l) in self.lists.iter_mut().enumerate() {
            let HeldList { bytes, held, .. } = l;
            if held.is_empty() {
                continue;
            }
            let key = |h: &Held| {
                bytes
                    .get(h.at as usize..(h.at + h.len) as usize)
                    .unwrap_or(&[])
            };
            held.sort_unstable_by(|a, b| {
                a.head
                    .cmp(&b.head)
                    .then_with(|| key(a).cmp(key(b)))
                    .then(a.id.cmp(&b.id))
            });
            // Never expected (see the module note), but a repeated entry is written once,
            // as `Pending`'s netting would.
            held.dedup_by(|b, a| a.id == b.id && a.head == b.head && key(a) == key(b));
            let n = held.len();
            write(i, &mut held.iter().map(|h| (key(h), h.id)), n)?;
            if n < KEEP_FROM {
                // A list that takes a few entries a run (the search's per-prefix lists of
                // rare first letters) would otherwise keep its buffers until the build.
                *held = Vec::new();
                *bytes = Vec::new();
            } else {
                held.clear();
                bytes.clear();
            }
        }
        self.held = 0;
        Ok(())
    }

    /// Let go of every list's buffers and of the lookups (the lists and their names stay):
    /// after the last spill nothing is added, the runs are merged from the scratch file, and
    /// what was kept for the next run would only add to the end of the round, the sync's
    /// peak of memory.
    pub(super) fn release_buffers(&mut self) {
        for l in &mut self.lists {
            l.bytes = Vec::new();
            l.held = Vec::new();
        }
        self.hint = Vec::new();
        self.lists_at = HashMap::default();
        self.words_at = HashMap::default();
    }

    /// Move every counter (and its twin's) by what the covered records add.
    pub(super) fn write_counts(&mut self, txn: &WriteTransaction) -> Result<(), StoreError> {
        let mut moves: Vec<(Vec<u8>, i64)> = Vec::with_capacity(self.counts.len() * 2);
        for (scope, (by, twin)) in std::mem::take(&mut self.counts) {
            if twin {
                let t = twin_of(&scope, self.company).ok_or_else(|| {
                    StoreError::Corrupt("a prebuild's counter has no twin".into())
                })?;
                moves.push((t, by));
            }
            moves.push((scope, by));
        }
        // In key order: consecutive moves walk the same pages of the table.
        moves.sort_unstable();
        let mut t = txn.open_table(LIST_COUNTS)?;
        for (scope, by) in &moves {
            super::super::add(&mut t, scope, *by)?;
        }
        Ok(())
    }
}

impl TwinSink for Holding {
    fn sorted(&mut self, list: &[u8], key: &[u8], twin: bool) {
        self.push(Target::Lists, list, key, twin);
    }

    fn word(&mut self, scope: &[u8], word: &str) {
        self.push(Target::Words, scope, word.as_bytes(), false);
    }

    fn counted(&mut self, scope: &[u8], twin: bool) {
        match self.counts.get_mut(scope) {
            Some((n, t)) => {
                *n += 1;
                if *t != twin && self.bad.is_none() {
                    self.bad = Some(format!("counter {scope:?} twinned for some rows only"));
                }
            }
            None => {
                self.fits(scope);
                self.counts.insert(scope.to_vec(), (1, twin));
            }
        }
    }
}
