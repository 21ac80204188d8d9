//! Lists stored as blocks of consecutive entries (schema v18): one redb row holds up to
//! `2 * B` entries of one list, so an initial sync writes one row per `B` entries instead of
//! one per entry, and a deep `page=` skips whole blocks by their entry count.
//!
//! WHY: with one B-tree entry per index entry, an initial sync of 100,000 users and devices
//! (some 6.5 million entries) spent about 12 CPU-seconds in `Table::insert` (descent, tuple
//! compare, key serialisation, leaf memmove, two allocations per entry), most of the sync.
//!
//! The format (see `keys.rs`' note): a table keyed `(list, first sort key, first id)` whose
//! value is the block, encoded as
//! `varint count`, then per entry `varint shared, varint suffix length, suffix bytes, varint
//! id, varint owner`, where `shared` is how many leading bytes the entry's sort key shares
//! with the previous entry's (0 for the first). Invariants (checked by [`check`]): the blocks
//! of a list partition it in order, a block's key is exactly its first entry, a block holds
//! 1 to `2 * B` entries, and fewer than `B / 4` only when it is its list's only block.
//!
//! The search words use the same layout in their own table: the scope is the list and the
//! word's bytes are the sort key, so the words of one scope are one contiguous run of blocks
//! (a prefix walk is a seek and a forward walk).

use super::keys;
use crate::store::StoreError;
use redb::{ReadableTable, Table};
use std::ops::Bound::Excluded;

pub(crate) use super::block_walk::{Walk, count_below, walk};

/// A blocked table's key: (list, first sort key, first id).
pub(crate) type BlockKey<'a> = (&'a [u8], &'a [u8], u64);

/// Entries per block written by a build (blocks hold up to twice this before they split).
/// 64 was chosen, not measured against 32 or 128 (BENCHMARKS.md, "Blocked lists"): a larger
/// block makes a build cheaper and a sparse change (one entry in a large list) dearer.
pub(crate) const B: usize = 64;
/// Largest block (a block over this splits).
pub(crate) const MAX: usize = 2 * B;
/// A block under this merges into a neighbour (when its list has another block).
pub(crate) const MIN: usize = B / 4;

/// One entry of a list: its sort key, its row id and the row's owner (company id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    pub key: Vec<u8>,
    pub id: u64,
    pub owner: u64,
}

/// A change to one entry: insert (or set) `Some(owner)`, remove `None`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Op<'a> {
    pub key: &'a [u8],
    pub id: u64,
    pub owner: Option<u64>,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn corrupt() -> StoreError {
    StoreError::Corrupt("an index block is malformed".into())
}

fn get_varint(b: &[u8], at: &mut usize) -> Result<u64, StoreError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at).ok_or_else(corrupt)?;
        *at += 1;
        v |= u64::from(byte & 0x7F) << shift;
        if byte < 0x80 {
            return Ok(v);
        }
    }
    Err(corrupt())
}

/// Encode entries (in order) as a block.
pub(crate) fn encode<'e>(
    entries: impl IntoIterator<Item = (&'e [u8], u64, u64)>,
    n: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + n * 16);
    encode_into(&mut out, entries, n);
    out
}

/// [`encode`], appended to `out` (a prebuild writes a run's blocks into one buffer).
pub(crate) fn encode_into<'e>(
    out: &mut Vec<u8>,
    entries: impl IntoIterator<Item = (&'e [u8], u64, u64)>,
    n: usize,
) {
    put_varint(out, n as u64);
    let mut prev: &[u8] = &[];
    for (key, id, owner) in entries {
        put_entry(out, prev, key, id, owner);
        prev = key;
    }
}

/// One entry of a block, after the entry whose key is `prev`: the length of the prefix it
/// shares with `prev`, the rest of its key, its id and owner. The one place that writes the
/// format ([`encode`], [`ListWriter`]); [`get_entry`] reads it.
fn put_entry(out: &mut Vec<u8>, prev: &[u8], key: &[u8], id: u64, owner: u64) {
    let shared = prev.iter().zip(key).take_while(|(a, b)| a == b).count();
    put_varint(out, shared as u64);
    put_varint(out, (key.len() - shared) as u64);
    out.extend_from_slice(&key[shared..]);
    put_varint(out, id);
    put_varint(out, owner);
}

/// One entry of a block at `at` (moved past it), as [`put_entry`] wrote it: (the length of
/// the prefix shared with the previous key, the rest of the key, id, owner).
fn get_entry<'b>(
    block: &'b [u8],
    at: &mut usize,
) -> Result<(usize, &'b [u8], u64, u64), StoreError> {
    let shared = get_varint(block, at)? as usize;
    let len = get_varint(block, at)? as usize;
    let suffix = block.get(*at..*at + len).ok_or_else(corrupt)?;
    *at += len;
    let id = get_varint(block, at)?;
    let owner = get_varint(block, at)?;
    Ok((shared, suffix, id, owner))
}

fn encode_entries(entries: &[Entry]) -> Vec<u8> {
    encode(
        entries.iter().map(|e| (e.key.as_slice(), e.id, e.owner)),
        entries.len(),
    )
}

/// How many entries a block holds, without decoding it.
pub(crate) fn count(block: &[u8]) -> Result<usize, StoreError> {
    Ok(get_varint(block, &mut 0)? as usize)
}

/// Decode a block into its entries, in order.
pub(crate) fn decode(block: &[u8]) -> Result<Vec<Entry>, StoreError> {
    let mut at = 0;
    let n = get_varint(block, &mut at)? as usize;
    let mut out: Vec<Entry> = Vec::with_capacity(n.min(MAX * 2));
    let mut prev: &[u8] = &[];
    for _ in 0..n {
        let (shared, suffix, id, owner) = get_entry(block, &mut at)?;
        let mut key = Vec::with_capacity(shared + suffix.len());
        key.extend_from_slice(prev.get(..shared).ok_or_else(corrupt)?);
        key.extend_from_slice(suffix);
        out.push(Entry { key, id, owner });
        prev = out.last().map_or(&[], |e| e.key.as_slice());
    }
    Ok(out)
}

type OwnedStart = (Vec<u8>, u64);

/// The block that holds (or would hold) `(key, id)` in `list`: the last block starting at or
/// before it, else the list's first block (the entry would come before it). With its value.
fn block_for<T: ReadableTable<BlockKey<'static>, &'static [u8]>>(
    t: &T,
    list: &[u8],
    key: &[u8],
    id: u64,
) -> Result<Option<(OwnedStart, Vec<u8>)>, StoreError> {
    let lo: BlockKey<'_> = (list, &[], 0);
    let at: BlockKey<'_> = (list, key, id);
    if let Some(r) = t.range(lo..=at)?.next_back() {
        let (k, v) = r?;
        let (_, s, i) = k.value();
        return Ok(Some(((s.to_vec(), i), v.value().to_vec())));
    }
    let end = keys::after(list);
    let hi: BlockKey<'_> = (end.as_slice(), &[], 0);
    if let Some(r) = t.range(at..hi)?.next() {
        let (k, v) = r?;
        let (_, s, i) = k.value();
        return Ok(Some(((s.to_vec(), i), v.value().to_vec())));
    }
    Ok(None)
}

/// The start of the block after the one starting at `start`, in `list`.
fn next_start<T: ReadableTable<BlockKey<'static>, &'static [u8]>>(
    t: &T,
    list: &[u8],
    start: &OwnedStart,
) -> Result<Option<OwnedStart>, StoreError> {
    let end = keys::after(list);
    let from: BlockKey<'_> = (list, start.0.as_slice(), start.1);
    let hi: BlockKey<'_> = (end.as_slice(), &[], 0);
    match t
        .range::<BlockKey<'_>>((Excluded(from), Excluded(hi)))?
        .next()
    {
        Some(r) => {
            let (k, _) = r?;
            let (_, s, i) = k.value();
            Ok(Some((s.to_vec(), i)))
        }
        None => Ok(None),
    }
}

/// The block before the one starting at `start`, in `list`.
fn prev_block<T: ReadableTable<BlockKey<'static>, &'static [u8]>>(
    t: &T,
    list: &[u8],
    start: &OwnedStart,
) -> Result<Option<(OwnedStart, Vec<u8>)>, StoreError> {
    let lo: BlockKey<'_> = (list, &[], 0);
    let to: BlockKey<'_> = (list, start.0.as_slice(), start.1);
    match t.range(lo..to)?.next_back() {
        Some(r) => {
            let (k, v) = r?;
            let (_, s, i) = k.value();
            Ok(Some(((s.to_vec(), i), v.value().to_vec())))
        }
        None => Ok(None),
    }
}

fn before(e: &Entry, op: &Op<'_>) -> bool {
    (e.key.as_slice(), e.id) < (op.key, op.id)
}

/// Apply `ops` (sorted by (key, id), one per key) to the entries of a block; true when
/// anything changed.
fn merge(entries: Vec<Entry>, ops: &[Op<'_>]) -> (Vec<Entry>, bool) {
    let mut out = Vec::with_capacity(entries.len() + ops.len());
    let mut changed = false;
    let mut it = entries.into_iter().peekable();
    for op in ops {
        while let Some(e) = it.next_if(|e| before(e, op)) {
            out.push(e);
        }
        let same = it.next_if(|e| e.key.as_slice() == op.key && e.id == op.id);
        match (same, op.owner) {
            (Some(e), Some(o)) => {
                changed |= e.owner != o;
                out.push(Entry { owner: o, ..e });
            }
            (Some(_), None) => changed = true,
            (None, Some(o)) => {
                changed = true;
                out.push(Entry {
                    key: op.key.to_vec(),
                    id: op.id,
                    owner: o,
                });
            }
            (None, None) => {}
        }
    }
    out.extend(it);
    (out, changed)
}

/// The sizes of the blocks `n` entries written at once are cut into: one block up to
/// [`MAX`], otherwise blocks of about [`B`] each (even sizes, so none is small).
fn block_sizes(n: usize) -> impl Iterator<Item = usize> {
    let parts = match n {
        0 => 0,
        n if n <= MAX => 1,
        n => n.div_ceil(B),
    };
    let (base, extra) = (
        n.checked_div(parts).unwrap_or(0),
        n.checked_rem(parts).unwrap_or(0),
    );
    (0..parts).map(move |p| base + usize::from(p < extra))
}

/// The first 8 bytes of a sort key as a big-endian number (zero-padded): keys whose heads
/// differ compare as their heads do, so most comparisons of a sort or merge are one integer
/// compare instead of a `memcmp` of two long keys (a build's keys share long prefixes: the
/// list's lowercased names, the e-mail domains).
pub(crate) fn head(key: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = key.len().min(8);
    b[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(b)
}

/// Write `entries` (in order) as blocks of `list` (cut as [`block_sizes`] says).
fn write_blocks(
    t: &mut Table<BlockKey<'static>, &'static [u8]>,
    list: &[u8],
    entries: &[Entry],
) -> Result<(), StoreError> {
    let mut at = 0;
    for len in block_sizes(entries.len()) {
        let chunk = &entries[at..at + len];
        at += len;
        let first = &chunk[0];
        t.insert(
            (list, first.key.as_slice(), first.id),
            encode_entries(chunk).as_slice(),
        )?;
    }
    Ok(())
}

/// A list with no block cut into blocks from its entries in order, `total` in all, without
/// holding them: the blocks [`write_blocks`] would write for all of them at once. A build's
/// merge (`spill.rs`) inserts each block as it is done; a prebuild's merging thread
/// (`prebuild/runs.rs`) hands them to the writer.
pub(crate) struct ListWriter {
    sizes: Box<dyn Iterator<Item = usize>>,
    /// Entries the block being encoded still takes (0: the next entry starts a block).
    left: usize,
    buf: Vec<u8>,
    prev: Vec<u8>,
    first: (Vec<u8>, u64),
}

impl ListWriter {
    pub(crate) fn new(total: usize) -> Self {
        Self {
            sizes: Box::new(block_sizes(total)),
            left: 0,
            buf: Vec::new(),
            prev: Vec::new(),
            first: (Vec::new(), 0),
        }
    }

    /// The next entry (after every one pushed before it). When it completes a block, `done`
    /// gets the block's first key, first id and bytes (the list's block key and value).
    pub(crate) fn push(
        &mut self,
        key: &[u8],
        id: u64,
        owner: u64,
        done: impl FnOnce(&[u8], u64, &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if self.left == 0 {
            // More entries than announced: the merged runs do not add up.
            self.left = self.sizes.next().ok_or_else(corrupt)?;
            self.buf.clear();
            put_varint(&mut self.buf, self.left as u64);
            self.prev.clear();
            self.first.0.clear();
            self.first.0.extend_from_slice(key);
            self.first.1 = id;
        }
        put_entry(&mut self.buf, &self.prev, key, id, owner);
        self.prev.clear();
        self.prev.extend_from_slice(key);
        self.left -= 1;
        if self.left == 0 {
            done(&self.first.0, self.first.1, &self.buf)?;
        }
        Ok(())
    }

    /// Every announced entry was pushed (else the list would be left with a short block).
    pub(crate) fn finish(mut self) -> Result<(), StoreError> {
        if self.left != 0 || self.sizes.next().is_some() {
            return Err(corrupt());
        }
        Ok(())
    }
}

/// A decoded block whose keys share one buffer: a build's merge steps through millions of
/// entries, and a `Vec` per key was an allocation and a free per step.
#[derive(Default)]
pub(crate) struct FlatBlock {
    bytes: Vec<u8>,
    items: Vec<FlatEntry>,
}

/// One entry of a [`FlatBlock`]: its key is `bytes[at..at + len]`.
#[derive(Clone, Copy)]
pub(crate) struct FlatEntry {
    at: u32,
    len: u32,
    pub head: u64,
    pub id: u64,
    pub owner: u64,
}

impl FlatBlock {
    /// Decode `block` in place of what this held (its buffers are reused).
    pub(crate) fn decode(&mut self, block: &[u8]) -> Result<(), StoreError> {
        self.bytes.clear();
        self.items.clear();
        let mut at = 0;
        let n = get_varint(block, &mut at)? as usize;
        self.items.reserve(n.min(MAX * 2));
        let mut prev = 0..0;
        for _ in 0..n {
            let (shared, suffix, id, owner) = get_entry(block, &mut at)?;
            if shared > prev.len() {
                return Err(corrupt());
            }
            let start = self.bytes.len();
            self.bytes
                .extend_from_within(prev.start..prev.start + shared);
            self.bytes.extend_from_slice(suffix);
            let key = start..self.bytes.len();
            self.items.push(FlatEntry {
                at: start as u32,
                len: key.len() as u32,
                head: head(&self.bytes[key.clone()]),
                id,
                owner,
            });
            prev = key;
        }
        Ok(())
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The entry at `i` and its key (None past the end).
    pub(crate) fn get(&self, i: usize) -> Option<(&FlatEntry, &[u8])> {
        let e = self.items.get(i)?;
        let at = e.at as usize;
        Some((e, self.bytes.get(at..at + e.len as usize)?))
    }
}

/// Apply `ops` (sorted by (key, id), at most one per key) to `list`: each touched block is
/// read, changed and written once (not at all when nothing in it changed), re-keyed when its
/// first entry changed, split past [`MAX`], dropped when empty, and merged into a neighbour
/// under [`MIN`]. Into a list with no block, the entries are written as full blocks.
pub(crate) fn apply(
    t: &mut Table<BlockKey<'static>, &'static [u8]>,
    list: &[u8],
    ops: &[Op<'_>],
) -> Result<(), StoreError> {
    let mut i = 0;
    while i < ops.len() {
        let op = ops[i];
        let Some((start, value)) = block_for(t, list, op.key, op.id)? else {
            // An empty list: its insertions, as full blocks.
            let entries: Vec<Entry> = ops[i..]
                .iter()
                .filter_map(|o| {
                    o.owner.map(|owner| Entry {
                        key: o.key.to_vec(),
                        id: o.id,
                        owner,
                    })
                })
                .collect();
            return write_blocks(t, list, &entries);
        };
        let next = next_start(t, list, &start)?;
        // The ops that fall in this block: up to the next block's first entry.
        let mut j = i;
        while j < ops.len()
            && next
                .as_ref()
                .is_none_or(|(k, id)| (ops[j].key, ops[j].id) < (k.as_slice(), *id))
        {
            j += 1;
        }
        let (mut entries, changed) = merge(decode(&value)?, &ops[i..j]);
        i = j;
        if !changed {
            continue;
        }
        if !entries.is_empty() && entries.len() < MIN {
            // Small: merged into the next block, or else the previous one, if any.
            let next_block = match &next {
                Some((nk, nid)) => t
                    .remove((list, nk.as_slice(), *nid))?
                    .map(|v| v.value().to_vec()),
                None => None,
            };
            if let Some(nv) = next_block {
                entries.extend(decode(&nv)?);
            } else if let Some(((pk, pid), pv)) = prev_block(t, list, &start)? {
                t.remove((list, pk.as_slice(), pid))?;
                let mut all = decode(&pv)?;
                all.append(&mut entries);
                entries = all;
            }
        }
        // The block keeps its key when its first entry stayed (the write overwrites it: one
        // descent, not two); otherwise it is re-keyed.
        if entries
            .first()
            .is_none_or(|f| f.key != start.0 || f.id != start.1)
        {
            t.remove((list, start.0.as_slice(), start.1))?;
        }
        write_blocks(t, list, &entries)?;
    }
    Ok(())
}

/// The entry `(key, id)` of `list`: its owner, when present.
pub(crate) fn get<T: ReadableTable<BlockKey<'static>, &'static [u8]>>(
    t: &T,
    list: &[u8],
    key: &[u8],
    id: u64,
) -> Result<Option<u64>, StoreError> {
    let lo: BlockKey<'_> = (list, &[], 0);
    let at: BlockKey<'_> = (list, key, id);
    let Some(r) = t.range(lo..=at)?.next_back() else {
        return Ok(None);
    };
    let entries = decode(r?.1.value())?;
    Ok(entries
        .binary_search_by(|e| (e.key.as_slice(), e.id).cmp(&(key, id)))
        .ok()
        .and_then(|i| entries.get(i))
        .map(|e| e.owner))
}

/// The first list at or after `from` (for walking the lists that share a prefix).
pub(crate) fn next_list<T: ReadableTable<BlockKey<'static>, &'static [u8]>>(
    t: &T,
    from: &[u8],
) -> Result<Option<Vec<u8>>, StoreError> {
    let lo: BlockKey<'_> = (from, &[], 0);
    match t.range(lo..)?.next() {
        Some(r) => Ok(Some(r?.0.value().0.to_vec())),
        None => Ok(None),
    }
}

/// Every entry of a blocked table, as (list, entry), checking the block invariants on the
/// way (see the module note): each broken one is reported through `problem`. Returns the
/// number of entries.
pub(crate) fn check<T: ReadableTable<BlockKey<'static>, &'static [u8]>>(
    t: &T,
    what: &str,
    mut problem: impl FnMut(String),
    mut entry: impl FnMut(&[u8], &Entry),
) -> Result<u64, StoreError> {
    let mut n = 0u64;
    // The list being walked: its bytes, its last entry so far, its blocks, a small block?
    let mut list_at: Option<(Vec<u8>, Entry, usize, bool)> = None;
    let end_list = |l: &Option<(Vec<u8>, Entry, usize, bool)>, problem: &mut dyn FnMut(String)| {
        if let Some((list, _, blocks, true)) = l
            && *blocks > 1
        {
            problem(format!(
                "{what}: list {list:?} has a block under {MIN} entries besides others"
            ));
        }
    };
    for r in t.iter()? {
        let (k, v) = r?;
        let (list, s, i) = k.value();
        let entries = decode(v.value())?;
        let size = entries.len();
        if size == 0 || size > MAX {
            problem(format!(
                "{what}: block {list:?}/{s:?}/{i} holds {size} entries"
            ));
        }
        match entries.first() {
            Some(f) if f.key.as_slice() == s && f.id == i => {}
            _ => problem(format!(
                "{what}: block {list:?}/{s:?}/{i} is not keyed by its first entry"
            )),
        }
        if entries
            .windows(2)
            .any(|w| (w[0].key.as_slice(), w[0].id) >= (w[1].key.as_slice(), w[1].id))
        {
            problem(format!("{what}: block {list:?}/{s:?}/{i} is out of order"));
        }
        let same = list_at.as_ref().is_some_and(|l| l.0 == list);
        if !same {
            end_list(&list_at, &mut problem);
            list_at = None;
        }
        if let Some((_, last, _, _)) = &list_at
            && (last.key.as_slice(), last.id) >= (s, i)
        {
            problem(format!(
                "{what}: block {list:?}/{s:?}/{i} overlaps the one before"
            ));
        }
        for e in &entries {
            entry(list, e);
        }
        n += size as u64;
        let small = size < MIN;
        if let Some(last) = entries.into_iter().last() {
            list_at = Some(match list_at.take() {
                Some((l, _, blocks, was_small)) => (l, last, blocks + 1, was_small || small),
                None => (list.to_vec(), last, 1, small),
            });
        }
    }
    end_list(&list_at, &mut problem);
    Ok(n)
}
