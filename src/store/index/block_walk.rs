//! Walking a blocked list (`blocks.rs`): entries forwards or backwards between two bounds,
//! a block decoded at a time, whole blocks skipped by their entry count for an offset, and a
//! count below a key that decodes only the last block.

use super::blocks::{BlockKey, Entry, count, decode};
use crate::store::StoreError;
use redb::ReadableTable;
use std::ops::Bound::{self, Excluded, Included, Unbounded};

/// A position in a list: (sort key, id).
pub(crate) type Pos<'a> = (&'a [u8], u64);

fn cmp_pos(e: &Entry, p: &(Vec<u8>, u64)) -> std::cmp::Ordering {
    (e.key.as_slice(), e.id).cmp(&(p.0.as_slice(), p.1))
}

fn owned(b: Bound<Pos<'_>>) -> Bound<(Vec<u8>, u64)> {
    match b {
        Included((k, i)) => Included((k.to_vec(), i)),
        Excluded((k, i)) => Excluded((k.to_vec(), i)),
        Unbounded => Unbounded,
    }
}

/// One list's entries walked in order (or reversed) between two bounds, block by block.
pub(crate) struct Walk<'t> {
    blocks: std::iter::Peekable<redb::Range<'t, BlockKey<'static>, &'static [u8]>>,
    /// The decoded block's entries still to hand out (in walking order, reversed: popped
    /// from the end).
    buf: Vec<Entry>,
    desc: bool,
    lo: Bound<(Vec<u8>, u64)>,
    hi: Bound<(Vec<u8>, u64)>,
    /// Past the far bound: nothing more.
    done: bool,
    /// Blocks decoded so far (the first may straddle the near bound).
    decoded: usize,
}

fn below_hi(e: &Entry, hi: &Bound<(Vec<u8>, u64)>) -> bool {
    match hi {
        Included(p) => cmp_pos(e, p).is_le(),
        Excluded(p) => cmp_pos(e, p).is_lt(),
        Unbounded => true,
    }
}

fn above_lo(e: &Entry, lo: &Bound<(Vec<u8>, u64)>) -> bool {
    match lo {
        Included(p) => cmp_pos(e, p).is_ge(),
        Excluded(p) => cmp_pos(e, p).is_gt(),
        Unbounded => true,
    }
}

/// Walk the entries of `list` within `lo`..`hi` (positions), ascending or descending.
pub(crate) fn walk<'t, T: ReadableTable<BlockKey<'static>, &'static [u8]>>(
    t: &'t T,
    list: &[u8],
    lo: Bound<Pos<'_>>,
    hi: Bound<Pos<'_>>,
    desc: bool,
) -> Result<Walk<'t>, StoreError> {
    let end = super::keys::after(list);
    let list_lo: BlockKey<'_> = (list, &[], 0);
    let list_hi: BlockKey<'_> = (end.as_slice(), &[], 0);
    let blocks = if desc {
        // Blocks starting before the upper bound (a block starting exactly at an excluded
        // bound holds nothing below it).
        let upper: Bound<BlockKey<'_>> = match hi {
            Included((k, i)) => Included((list, k, i)),
            Excluded((k, i)) => Excluded((list, k, i)),
            Unbounded => Excluded(list_hi),
        };
        t.range::<BlockKey<'_>>((Included(list_lo), upper))?
    } else {
        // From the block that holds the lower bound (or the list's first block).
        let first = match lo {
            Included((k, i)) | Excluded((k, i)) => {
                let at: BlockKey<'_> = (list, k, i);
                t.range(list_lo..=at)?
                    .next_back()
                    .transpose()?
                    .map(|(k, _)| {
                        let (_, s, i) = k.value();
                        (s.to_vec(), i)
                    })
            }
            Unbounded => None,
        };
        match &first {
            Some((s, i)) => {
                t.range::<BlockKey<'_>>((Included((list, s.as_slice(), *i)), Excluded(list_hi)))?
            }
            None => t.range::<BlockKey<'_>>((Included(list_lo), Excluded(list_hi)))?,
        }
    };
    Ok(Walk {
        blocks: blocks.peekable(),
        buf: Vec::new(),
        desc,
        lo: owned(lo),
        hi: owned(hi),
        done: false,
        decoded: 0,
    })
}

impl Walk<'_> {
    fn next_block(&mut self) -> Option<Result<Vec<u8>, StoreError>> {
        let r = if self.desc {
            self.blocks.next_back()
        } else {
            self.blocks.next()
        };
        r.map(|r| r.map(|(_, v)| v.value().to_vec()).map_err(StoreError::from))
    }

    /// Decode the next block into `buf` (reversed, for popping). False at the end.
    fn refill(&mut self) -> Result<bool, StoreError> {
        let r = if self.desc {
            self.blocks.next_back()
        } else {
            self.blocks.next()
        };
        let Some(r) = r else {
            return Ok(false);
        };
        let mut entries = decode(r?.1.value())?;
        self.decoded += 1;
        if !self.desc {
            entries.reverse();
        }
        self.buf = entries;
        Ok(true)
    }

    fn next_entry(&mut self) -> Result<Option<Entry>, StoreError> {
        loop {
            if self.done {
                return Ok(None);
            }
            let Some(e) = self.buf.pop() else {
                if !self.refill()? {
                    self.done = true;
                }
                continue;
            };
            if self.desc {
                if !below_hi(&e, &self.hi) {
                    continue;
                }
                if !above_lo(&e, &self.lo) {
                    self.done = true;
                    return Ok(None);
                }
            } else {
                if !above_lo(&e, &self.lo) {
                    continue;
                }
                if !below_hi(&e, &self.hi) {
                    self.done = true;
                    return Ok(None);
                }
            }
            return Ok(Some(e));
        }
    }

    /// Skip up to `n` entries; returns how many were skipped. Whole blocks are skipped by
    /// their entry count, without decoding, when the far bound cannot cut them (no far
    /// bound, past the first block).
    pub(crate) fn skip_entries(&mut self, n: usize) -> Result<usize, StoreError> {
        let far_open = if self.desc {
            matches!(self.lo, Unbounded)
        } else {
            matches!(self.hi, Unbounded)
        };
        let mut skipped = 0;
        while skipped < n && !self.done {
            if self.buf.is_empty() && far_open && self.decoded > 0 {
                // The next block lies wholly within the walk: count it.
                let peeked = if self.desc {
                    None
                } else {
                    match self.blocks.peek() {
                        Some(Ok((_, v))) => Some(count(v.value())?),
                        _ => None,
                    }
                };
                let whole = match peeked {
                    Some(c) => Some(c),
                    None if self.desc => {
                        // A reversed walk cannot peek at the back: take the block and either
                        // count it or keep it decoded.
                        match self.next_block() {
                            Some(b) => {
                                let b = b?;
                                let c = count(&b)?;
                                if skipped + c <= n {
                                    skipped += c;
                                    continue;
                                }
                                self.buf = decode(&b)?;
                                self.decoded += 1;
                                None
                            }
                            None => {
                                self.done = true;
                                None
                            }
                        }
                    }
                    None => None,
                };
                if let Some(c) = whole
                    && skipped + c <= n
                {
                    self.blocks.next();
                    skipped += c;
                    continue;
                }
            }
            match self.next_entry()? {
                Some(_) => skipped += 1,
                None => break,
            }
        }
        Ok(skipped)
    }
}

impl Iterator for Walk<'_> {
    type Item = Result<Entry, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

/// How many entries of `list` sort before `(below, 0)`: every block but the last one
/// starting below it is counted by its header; the last is decoded.
pub(crate) fn count_below<T: ReadableTable<BlockKey<'static>, &'static [u8]>>(
    t: &T,
    list: &[u8],
    below: &[u8],
) -> Result<usize, StoreError> {
    let lo: BlockKey<'_> = (list, &[], 0);
    let hi: BlockKey<'_> = (list, below, 0);
    let mut range = t.range(lo..hi)?;
    let Some(last) = range.next_back() else {
        return Ok(0);
    };
    let last = decode(last?.1.value())?;
    let mut n = last.iter().filter(|e| e.key.as_slice() < below).count();
    for r in range {
        n += count(r?.1.value())?;
    }
    Ok(n)
}
