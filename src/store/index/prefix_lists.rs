//! Per-prefix word lists (schema v19, #11) and their intersection in page order.
//!
//! Each search word of a contact is an entry of one list: its first `PREFIX_CHARS` letters'
//! (the whole word when shorter), per company and across companies, in the contacts' name
//! order. The entry's key is the contact's place in that order (`place`: name, then id)
//! followed by the word, so a query word is one list filtered by the word each entry carries
//! (no record read), and a search of several words is an intersection of such lists walked
//! in page order: each list seeks to the furthest list's place (leapfrog), so rows that
//! match one word only are skipped by a seek, not read one by one.
//!
//! Before v19 each *word* had its list (schema v15): a query word that starts thousands of
//! words (`oka` against every e-mail's `okafor<n>`) was thousands of lists to merge.
//! A query word shorter than the prefix is the lists whose prefix starts with it (a run of
//! lists, merged as one).

use super::blocks::{self, BlockKey, Entry, Walk};
use super::keys;
use crate::store::StoreError;
use redb::ReadableTable;
use std::cmp::Ordering;
use std::ops::Bound::{Excluded, Included, Unbounded};

/// Letters of a word that name its list: three keeps a list per common word start (`han`,
/// `oka`) without a list per word.
pub(crate) const PREFIX_CHARS: usize = 3;

/// Entries stepped over one by one before a list seeks instead: within a decoded block a
/// step is cheap, a seek is a B-tree descent and a block decode.
const STEPS_BEFORE_SEEK: usize = 16;

/// The list a word is kept under: its first `PREFIX_CHARS` letters.
pub(crate) fn prefix_of(word: &str) -> &str {
    match word.char_indices().nth(PREFIX_CHARS) {
        Some((i, _)) => &word[..i],
        None => word,
    }
}

/// A row's place in the name order, as bytes that compare as (name key, id) do: the name key
/// with each 0 byte written 0, 0xFF, then 0, 0, then the id big-endian. (No place is a prefix
/// of another, and a word never holds a 0xFF byte, so `place ++ [0xFF]` sorts after every
/// entry of the place and before the next place.)
pub(crate) fn place(name: &[u8], id: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(name.len() + 10);
    for &b in name {
        v.push(b);
        if b == 0 {
            v.push(0xFF);
        }
    }
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&id.to_be_bytes());
    v
}

/// The sort key of a word's entry: the row's place, then the word.
pub(crate) fn entry_key(name: &[u8], id: u64, word: &str) -> Vec<u8> {
    let mut v = place(name, id);
    v.extend_from_slice(word.as_bytes());
    v
}

/// Where an entry key's place ends (its word starts); None when it is not one.
fn place_len(key: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        if *key.get(i)? == 0 {
            if *key.get(i + 1)? == 0 {
                let end = i + 2 + 8;
                return (key.len() >= end).then_some(end);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
}

/// A row that has a query word: its place, id and company.
#[derive(Clone, Debug)]
pub(super) struct Hit {
    pub place: Vec<u8>,
    pub id: u64,
    pub owner: u64,
}

/// The lists of one query word in a scope (a company, or `ALL_COMPANIES`), appended to
/// `out`; stops once `out` holds more than `budget` lists (the caller then gives up).
pub(super) fn lists_of<T: ReadableTable<BlockKey<'static>, &'static [u8]>>(
    t: &T,
    kind: u8,
    company: u64,
    order: u8,
    word: &str,
    budget: usize,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), StoreError> {
    if word.chars().count() >= PREFIX_CHARS {
        out.push(keys::list(
            &keys::word_scope(kind, company, prefix_of(word)),
            order,
        ));
        return Ok(());
    }
    // A short word: every list whose prefix starts with it (the word alone, then longer).
    let start = keys::word_scope(kind, company, word);
    let mut from = start.clone();
    while out.len() <= budget {
        let Some(list) = blocks::next_list(t, &from)? else {
            return Ok(());
        };
        if !list.starts_with(&start) {
            return Ok(());
        }
        from = keys::after(&list);
        out.push(list);
    }
    Ok(())
}

/// Is `a` at or past (`strict`: past) `b` in the walk's direction?
fn reached(a: &[u8], b: &[u8], strict: bool, desc: bool) -> bool {
    let o = a.cmp(b);
    let o = if desc { o.reverse() } else { o };
    if strict {
        o == Ordering::Greater
    } else {
        o != Ordering::Less
    }
}

/// One list of a query word, walked in page order from a place.
struct Cursor<'t, T: ReadableTable<BlockKey<'static>, &'static [u8]>> {
    t: &'t T,
    list: Vec<u8>,
    walk: Walk<'t>,
    head: Option<Hit>,
}

impl<'t, T: ReadableTable<BlockKey<'static>, &'static [u8]>> Cursor<'t, T> {
    fn open(
        t: &'t T,
        list: Vec<u8>,
        from: Option<(&[u8], bool)>,
        desc: bool,
        word: &[u8],
    ) -> Result<Self, StoreError> {
        let walk = Self::walk_from(t, &list, from, desc)?;
        let mut c = Self {
            t,
            list,
            walk,
            head: None,
        };
        c.head = c.next_hit(word)?;
        Ok(c)
    }

    /// A walk of `list` from the place `from` (`strict`: past it), or from its start.
    fn walk_from(
        t: &'t T,
        list: &[u8],
        from: Option<(&[u8], bool)>,
        desc: bool,
    ) -> Result<Walk<'t>, StoreError> {
        let mut past = Vec::new();
        let bound = from.map(|(p, strict)| {
            // Ascending: at or after `p` is key ≥ p; past it, key ≥ p ++ FF. Descending: at or
            // before is key < p ++ FF; before it, key < p.
            past.extend_from_slice(p);
            if strict != desc {
                past.push(0xFF);
            }
            past.as_slice()
        });
        match (bound, desc) {
            (None, _) => blocks::walk(t, list, Unbounded, Unbounded, desc),
            (Some(b), false) => blocks::walk(t, list, Included((b, 0)), Unbounded, false),
            (Some(b), true) => blocks::walk(t, list, Unbounded, Excluded((b, 0)), true),
        }
    }

    /// The next entry whose word starts with `word`.
    fn next_hit(&mut self, word: &[u8]) -> Result<Option<Hit>, StoreError> {
        for e in self.walk.by_ref() {
            let Entry { key, id, owner } = e?;
            let Some(end) = place_len(&key) else {
                continue;
            };
            if key[end..].starts_with(word) {
                let mut place = key;
                place.truncate(end);
                return Ok(Some(Hit { place, id, owner }));
            }
        }
        Ok(None)
    }

    /// Move to the first hit at or past (`strict`: past) `target`.
    fn seek(
        &mut self,
        target: &[u8],
        strict: bool,
        desc: bool,
        word: &[u8],
    ) -> Result<(), StoreError> {
        let mut steps = 0;
        while let Some(h) = &self.head {
            if reached(&h.place, target, strict, desc) {
                return Ok(());
            }
            if steps == STEPS_BEFORE_SEEK {
                self.walk = Self::walk_from(self.t, &self.list, Some((target, strict)), desc)?;
                self.head = self.next_hit(word)?;
                return Ok(());
            }
            self.head = self.next_hit(word)?;
            steps += 1;
        }
        Ok(())
    }
}

/// One query word: its lists (one, or a short word's several), merged.
struct Term<'t, T: ReadableTable<BlockKey<'static>, &'static [u8]>> {
    word: Vec<u8>,
    lists: Vec<Cursor<'t, T>>,
}

impl<T: ReadableTable<BlockKey<'static>, &'static [u8]>> Term<'_, T> {
    /// The nearest hit of its lists.
    fn head(&self, desc: bool) -> Option<&Hit> {
        self.lists
            .iter()
            .filter_map(|c| c.head.as_ref())
            .min_by(|a, b| {
                let o = a.place.cmp(&b.place);
                if desc { o.reverse() } else { o }
            })
    }

    fn seek(&mut self, target: &[u8], strict: bool, desc: bool) -> Result<(), StoreError> {
        for c in &mut self.lists {
            c.seek(target, strict, desc, &self.word)?;
        }
        Ok(())
    }
}

/// The rows that have every query word, in page order: the intersection of the words' lists.
pub(super) struct Intersection<'t, T: ReadableTable<BlockKey<'static>, &'static [u8]>> {
    terms: Vec<Term<'t, T>>,
    desc: bool,
}

impl<'t, T: ReadableTable<BlockKey<'static>, &'static [u8]>> Intersection<'t, T> {
    /// `words` with their lists (from `lists_of`), walked from the start or past `after`
    /// (a place).
    pub(super) fn open(
        t: &'t T,
        words: &[(&str, Vec<Vec<u8>>)],
        desc: bool,
        after: Option<&[u8]>,
    ) -> Result<Self, StoreError> {
        let mut terms = Vec::with_capacity(words.len());
        for (word, lists) in words {
            let word = word.as_bytes().to_vec();
            let mut cursors = Vec::with_capacity(lists.len());
            for list in lists {
                cursors.push(Cursor::open(
                    t,
                    list.clone(),
                    after.map(|p| (p, true)),
                    desc,
                    &word,
                )?);
            }
            terms.push(Term {
                word,
                lists: cursors,
            });
        }
        Ok(Self { terms, desc })
    }

    /// The next row with every word, or None when one word's lists are done.
    pub(super) fn next_match(&mut self) -> Result<Option<Hit>, StoreError> {
        let desc = self.desc;
        let n = self.terms.len();
        let Some(first) = self.terms.first() else {
            return Ok(None);
        };
        let Some(mut target) = first.head(desc).cloned() else {
            return Ok(None);
        };
        // Leapfrog: each word's lists move to the furthest place seen; a place every word
        // reaches exactly is a match.
        let (mut agree, mut i) = (1, 1 % n);
        while agree < n {
            let Some(term) = self.terms.get_mut(i) else {
                return Ok(None);
            };
            term.seek(&target.place, false, desc)?;
            let Some(h) = term.head(desc) else {
                return Ok(None);
            };
            if h.place == target.place {
                agree += 1;
            } else {
                target = h.clone();
                agree = 1;
            }
            i = (i + 1) % n;
        }
        for term in &mut self.terms {
            term.seek(&target.place, true, desc)?;
        }
        Ok(Some(target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_sort_as_name_then_id_and_split_from_their_word() {
        let names: [&[u8]; 6] = [b"", b"a", b"a\0", b"a\0b", b"ab", b"b"];
        let mut all = Vec::new();
        for n in names {
            for id in [1u64, 2, 300] {
                all.push(((n.to_vec(), id), place(n, id)));
            }
        }
        for a in &all {
            for b in &all {
                assert_eq!(a.0.cmp(&b.0), a.1.cmp(&b.1), "{a:?} {b:?}");
                // Every entry of a sorts before the next place, after the previous.
                let ka = entry_key(&a.0.0, a.0.1, "zz9");
                if a.1 < b.1 {
                    assert!(ka < b.1 && [a.1.clone(), vec![0xFF]].concat() < b.1);
                }
            }
            let k = entry_key(&a.0.0, a.0.1, "hana");
            assert_eq!(place_len(&k), Some(a.1.len()));
        }
        assert_eq!(prefix_of("okafor47"), "oka");
        assert_eq!(prefix_of("ÉMil"), "ÉMi");
        assert_eq!(prefix_of("c1"), "c1");
    }
}
