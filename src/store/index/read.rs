//! Reading a list through its index: a page by walking the list's keys (records are read
//! for the page's rows only), the total from the scope's counter, and a search: through
//! per-prefix word lists in the page's order where the list has them (`search.rs`), otherwise by
//! looking its longest word up as a prefix, reading just the rows that match it and keeping
//! only the rows up to the asked page.

use super::blocks::{self, BlockKey, Entry};
use super::id_set::{self, IdSet};
use super::keys;
use crate::store::Window;
use crate::store::tables::{LIST_BLOCKS, LIST_COUNTS, WORD_BLOCKS};
use crate::store::{ReadTables, StoreError, Txn};
use redb::ReadableTable;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A search match by its place in the list: (sort key, id), reversed for a descending list,
/// so the heap's top is always the match furthest from the page.
#[derive(PartialEq, Eq)]
pub(super) struct Ranked {
    pub key: Vec<u8>,
    pub id: u64,
    pub owner: u64,
    pub flip: bool,
    /// Which list it came from (a merge's walk), 0 otherwise.
    pub at: usize,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let o = (&self.key, self.id).cmp(&(&other.key, other.id));
        if self.flip { o.reverse() } else { o }
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The scopes whose search words a search looks up.
pub(crate) enum WordScopes {
    /// These scopes (one company's, or a list's own).
    Listed(Vec<Vec<u8>>),
    /// Every company's scope of this kind. Named, not listed: listing them walks every
    /// company's key (about 0.3 ms across 1,000 companies), which only a search that looks
    /// its words up company by company needs; a search by name across companies walks the
    /// per-prefix lists kept across companies instead (`index::search`).
    EachCompany(u8),
}

/// One list as a reader asks for it.
pub(crate) struct ListSpec<'a, T> {
    /// What the list holds (counter key).
    pub scope: Vec<u8>,
    /// When `scope` is counted but not listed (a filtered list across companies): the
    /// scopes whose lists together hold its rows (one per company), merged for a page.
    pub parts: Vec<Vec<u8>>,
    /// The order's byte (see `entries`).
    pub order: u8,
    pub desc: bool,
    /// The scopes whose words a search looks up (together they may be wider than `scope`,
    /// see `keep`): one scope, or each company's for a list across companies (search words
    /// are kept per company only, see `entries::contact`).
    pub word_scopes: WordScopes,
    /// The record behind (id, company id); None when it vanished (never, in one snapshot).
    pub fetch: &'a dyn Fn(u64, u64) -> Result<Option<T>, StoreError>,
    /// The record's key in this order (as the index has it).
    pub sort_key: &'a dyn Fn(&T) -> Vec<u8>,
    /// The texts search looks at.
    pub texts: &'a dyn Fn(&T) -> Vec<&str>,
    /// For a search: is a match in `scope`? (When `word_scopes` are wider.)
    pub keep: &'a dyn Fn(&T) -> bool,
    /// Does `keep` (or `below`) narrow the word scopes? False when every record the word
    /// scopes hold is in `scope`: a search's matches are then known from the index alone.
    pub filtered: bool,
    /// The row's id (its place in a list is (sort key, id)).
    pub id: &'a dyn Fn(&T) -> u64,
    /// Only rows whose sort key is below this (a range filter, like "checked in before").
    /// A search applies it through `keep`.
    pub below: Option<Vec<u8>>,
    /// The kind of the per-prefix word lists (`keys::word_scope`) that hold the word scopes' rows
    /// in this list's order, when there are such lists: a search then walks them in page
    /// order (`index::search`). None: a search ranks its candidates.
    pub word_lists: Option<u8>,
}

/// One page of a list as the store read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    /// Every row of the list (every match, for a search).
    pub total: usize,
    /// Where the next page starts (keyset paging), when this page is full.
    pub next: Option<Vec<u8>>,
    /// `total` is a lower bound: a search counts its matches up to a cap (see
    /// `index::search`), so "at least `total`".
    pub total_is_lower_bound: bool,
}

/// A row's place as a cursor: its id (8 bytes) then its sort key.
pub(super) fn cursor(key: &[u8], id: u64) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(key);
    v
}

pub(super) fn from_cursor(c: &[u8]) -> Option<(&[u8], u64)> {
    let (id, key) = c.split_at_checked(8)?;
    Some((key, u64::from_be_bytes(id.try_into().ok()?)))
}

/// Keyset paging: is the row at (`key`, `id`) past the cursor `after`, in the list's direction?
/// (Every row is, without a cursor.)
pub(super) fn past_cursor(key: &[u8], id: u64, after: Option<(&[u8], u64)>, desc: bool) -> bool {
    let Some((k, i)) = after else {
        return true;
    };
    let o = (key, id).cmp(&(k, i));
    if desc {
        o == Ordering::Less
    } else {
        o == Ordering::Greater
    }
}

/// Keep the row `(key, id, owner)` among the `want` rows nearest the page's start, if it is
/// past the cursor `after` in the list's direction (`desc`): a bounded heap, whose top is the
/// row furthest from the page, dropped when one too many is held.
pub(super) fn keep_nearest(
    best: &mut BinaryHeap<Ranked>,
    (key, id, owner): (Vec<u8>, u64, u64),
    after: Option<(&[u8], u64)>,
    desc: bool,
    want: usize,
) {
    if !past_cursor(&key, id, after, desc) {
        return;
    }
    // Descending pages want the largest keys: flip the order the heap keeps.
    best.push(Ranked {
        key,
        id,
        owner,
        flip: desc,
        at: 0,
    });
    if best.len() > want {
        best.pop();
    }
}

/// A page as the reader gets it: the cursor after its last row when the page is full.
pub(super) fn page_of<T>(
    spec: &ListSpec<'_, T>,
    rows: Vec<T>,
    limit: usize,
    total: usize,
    total_is_lower_bound: bool,
) -> Listed<T> {
    let next = match rows.last() {
        Some(last) if rows.len() == limit => Some(cursor(&(spec.sort_key)(last), (spec.id)(last))),
        _ => None,
    };
    Listed {
        rows,
        total,
        next,
        total_is_lower_bound,
    }
}

/// One list's entries walked in order (or reversed), block by block (`blocks::Walk`).
pub(super) type Walk<'t> = blocks::Walk<'t>;

/// One list's entries walked in order (or reversed): from the start or after the row `after`
/// names, below `below` only. Yields [`Entry`] (sort key, id, owner).
pub(super) fn list_range<'t>(
    t: &'t impl ReadableTable<BlockKey<'static>, &'static [u8]>,
    list: &[u8],
    below: Option<&[u8]>,
    desc: bool,
    after: Option<(&[u8], u64)>,
) -> Result<Walk<'t>, StoreError> {
    use std::ops::Bound::{Excluded, Unbounded};
    let below = below.map_or(Unbounded, |b| Excluded((b, 0)));
    if desc {
        let hi = after.map_or(below, Excluded);
        blocks::walk(t, list, Unbounded, hi, true)
    } else {
        let lo = after.map_or(Unbounded, Excluded);
        blocks::walk(t, list, lo, below, false)
    }
}

/// The word entries of `scope` whose word starts with `prefix`, in (word, id) order.
/// Yields [`Entry`] with the word's bytes as its key.
pub(crate) fn word_range<'t>(
    t: &'t impl ReadableTable<BlockKey<'static>, &'static [u8]>,
    scope: &[u8],
    prefix: &str,
) -> Result<impl Iterator<Item = Result<Entry, StoreError>> + 't, StoreError> {
    prefix_range(t, scope, prefix.as_bytes())
}

/// The entries of `list` whose sort key starts with `prefix`, in (key, id) order.
pub(crate) fn prefix_range<'t>(
    t: &'t impl ReadableTable<BlockKey<'static>, &'static [u8]>,
    list: &[u8],
    prefix: &[u8],
) -> Result<impl Iterator<Item = Result<Entry, StoreError>> + 't, StoreError> {
    use std::ops::Bound::{Included, Unbounded};
    let prefix = prefix.to_vec();
    let walk = blocks::walk(t, list, Included((prefix.as_slice(), 0)), Unbounded, false)?;
    Ok(walk.take_while(move |r| r.as_ref().map_or(true, |e| e.key.starts_with(&prefix))))
}

/// The next entry of a merge's walk number `at`, ready for the merge's heap.
fn next_head(walk: &mut Walk<'_>, at: usize, flip: bool) -> Result<Option<Ranked>, StoreError> {
    let Some(r) = walk.next() else {
        return Ok(None);
    };
    let e = r?;
    Ok(Some(Ranked {
        key: e.key,
        id: e.id,
        owner: e.owner,
        flip,
        at,
    }))
}

impl<Tx: ReadTables> Txn<Tx> {
    /// How many rows `scope` lists.
    pub(crate) fn count(&self, scope: &[u8]) -> Result<u64, StoreError> {
        self.index_current()?;
        Ok(self
            .table(LIST_COUNTS)?
            .get(scope)?
            .map_or(0, |g| g.value()))
    }

    /// How many entries of `list` have a sort key below `below`.
    fn count_below(&self, list: &[u8], below: &[u8]) -> Result<usize, StoreError> {
        blocks::count_below(&self.table(LIST_BLOCKS)?, list, below)
    }

    /// (id, company id) of `limit` rows of `list` from `offset`, in order or reversed.
    /// Walks keys only: skipping to a far page reads no record, and skips whole blocks by
    /// their entry count.
    /// With `after` (a row's place: its sort key and id), starts after that row instead.
    pub(crate) fn list_ids(
        &self,
        list: &[u8],
        desc: bool,
        after: Option<(&[u8], u64)>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(u64, u64)>, StoreError> {
        self.list_ids_below(list, None, desc, after, offset, limit)
    }

    /// Every (id, owner) of `list` whose sort key starts with `prefix`, in order.
    pub(crate) fn list_ids_with_prefix(
        &self,
        list: &[u8],
        prefix: &[u8],
    ) -> Result<Vec<(u64, u64)>, StoreError> {
        self.index_current()?;
        let t = self.table(LIST_BLOCKS)?;
        prefix_range(&t, list, prefix)?
            .map(|e| e.map(|e| (e.id, e.owner)))
            .collect()
    }

    /// [`Self::list_ids`] over the rows whose sort key is below `below` only.
    pub(crate) fn list_ids_below(
        &self,
        list: &[u8],
        below: Option<&[u8]>,
        desc: bool,
        after: Option<(&[u8], u64)>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(u64, u64)>, StoreError> {
        let mut out = Vec::with_capacity(limit.min(500));
        if limit == 0 {
            return Ok(out);
        }
        self.index_current()?;
        let t = self.table(LIST_BLOCKS)?;
        let mut walk = list_range(&t, list, below, desc, after)?;
        if walk.skip_entries(offset)? < offset {
            return Ok(out);
        }
        for e in walk {
            let e = e?;
            out.push((e.id, e.owner));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// [`Self::list_ids_below`] over the union of `lists` (each in the same order): a
    /// k-way merge that seeks each list once and then walks `offset + limit` keys in all.
    pub(crate) fn merged_ids(
        &self,
        lists: &[Vec<u8>],
        below: Option<&[u8]>,
        desc: bool,
        after: Option<(&[u8], u64)>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(u64, u64)>, StoreError> {
        self.index_current()?;
        let mut out = Vec::with_capacity(limit.min(500));
        if limit == 0 {
            return Ok(out);
        }
        let t = self.table(LIST_BLOCKS)?;
        let mut walks = Vec::with_capacity(lists.len());
        let mut heads: BinaryHeap<Ranked> = BinaryHeap::new();
        for list in lists {
            let mut walk = list_range(&t, list, below, desc, after)?;
            if let Some(head) = next_head(&mut walk, walks.len(), !desc)? {
                heads.push(head);
            }
            walks.push(walk);
        }
        let mut skipped = 0usize;
        // The heap's top is the next row in the list's order (`flip` reverses an ascending
        // list's order so the max-heap yields its smallest key first).
        while let Some(top) = heads.pop() {
            if skipped < offset {
                skipped += 1;
            } else {
                out.push((top.id, top.owner));
                if out.len() >= limit {
                    break;
                }
            }
            let at = top.at;
            if let Some(walk) = walks.get_mut(at)
                && let Some(head) = next_head(walk, at, !desc)?
            {
                heads.push(head);
            }
        }
        Ok(out)
    }

    /// Call `visit(id, company id)` for the entries of `list` in order (or reversed), from the
    /// start or after the row `after` names, below `below` only, until it returns false.
    fn walk_list(
        &self,
        list: &[u8],
        below: Option<&[u8]>,
        desc: bool,
        after: Option<(&[u8], u64)>,
        mut visit: impl FnMut(u64, u64) -> bool,
    ) -> Result<(), StoreError> {
        self.index_current()?;
        let t = self.table(LIST_BLOCKS)?;
        for e in list_range(&t, list, below, desc, after)? {
            let e = e?;
            if !visit(e.id, e.owner) {
                break;
            }
        }
        Ok(())
    }

    /// Call `f(id, company id)` for each entry of `scopes` whose word starts with `prefix`, at
    /// most `cap` entries; false when it stopped at the cap.
    /// The scopes `ws` stands for (each company's listed now, when it names them).
    pub(super) fn scopes_of<'w>(
        &self,
        ws: &'w WordScopes,
    ) -> Result<std::borrow::Cow<'w, [Vec<u8>]>, StoreError> {
        Ok(match ws {
            WordScopes::Listed(v) => std::borrow::Cow::Borrowed(v.as_slice()),
            WordScopes::EachCompany(kind) => std::borrow::Cow::Owned(
                self.company_ids()?
                    .into_iter()
                    .map(|c| keys::scope(*kind, &[c]))
                    .collect(),
            ),
        })
    }

    fn each_word_match(
        &self,
        scopes: &[Vec<u8>],
        prefix: &str,
        cap: usize,
        mut f: impl FnMut(u64, u64),
    ) -> Result<bool, StoreError> {
        self.index_current()?;
        let words = self.table(WORD_BLOCKS)?;
        let mut n = 0usize;
        for scope in scopes {
            for e in word_range(&words, scope, prefix)? {
                let e = e?;
                if n >= cap {
                    return Ok(false);
                }
                n += 1;
                f(e.id, e.owner);
            }
        }
        Ok(true)
    }

    /// One page of a list, the list's total (the matches' count for a search), and the
    /// cursor after the page's last row when the page is full.
    pub(crate) fn list_page<T>(
        &self,
        spec: &ListSpec<'_, T>,
        w: Window<'_>,
    ) -> Result<Listed<T>, StoreError> {
        let (rows, total, total_is_lower_bound) = self.list_rows(spec, w)?;
        Ok(page_of(spec, rows, w.limit, total, total_is_lower_bound))
    }

    /// A search page found by walking the list in its order and keeping the matches, when
    /// `matches` are exactly the search's matches: the total is their number, and the page
    /// costs the keys walked up to its last row and its own records, not a record per match.
    /// None when walking would cost more than reading the matches (a rare search in a large
    /// list): the caller ranks the matches instead.
    fn search_in_list_order<T>(
        &self,
        spec: &ListSpec<'_, T>,
        matches: &[(u64, u64)],
        after: Option<(&[u8], u64)>,
        offset: usize,
        limit: usize,
    ) -> Result<Option<(Vec<T>, usize)>, StoreError> {
        let total = matches.len();
        let want = offset.saturating_add(limit);
        if total == 0 || limit == 0 {
            return Ok(Some((Vec::new(), total)));
        }
        // At worst every row that is not a match comes first (a search on a name's words
        // clusters its matches in the name order: `hana oka` sits at "h"), so the walk reads
        // up to `listed - total + want` keys. Walk only when even that costs less than ranking
        // the matches: a key step costs roughly a sixteenth of reading and decoding a record.
        // So a broad search (`a`, a domain word) costs its page; a rare one its matches.
        let listed = self.count(&spec.scope)? as usize;
        let worst = listed.saturating_sub(total).saturating_add(want);
        if worst > total.saturating_mul(16) {
            return Ok(None);
        }
        let set: IdSet = matches.iter().map(|(id, _)| *id).collect();
        let list = keys::list(&spec.scope, spec.order);
        let mut page = Vec::with_capacity(limit.min(500));
        let (mut skipped, mut seen) = (0usize, 0usize);
        self.walk_list(&list, None, spec.desc, after, |id, owner| {
            if !set.contains(&id) {
                return true;
            }
            seen += 1;
            if skipped < offset {
                skipped += 1;
            } else {
                page.push((id, owner));
            }
            // Every match already met: the rest of the list holds none.
            page.len() < limit && seen < total
        })?;
        let mut rows = Vec::with_capacity(page.len());
        for (id, owner) in page {
            if let Some(row) = (spec.fetch)(id, owner)? {
                rows.push(row);
            }
        }
        Ok(Some((rows, total)))
    }

    fn list_rows<T>(
        &self,
        spec: &ListSpec<'_, T>,
        w: Window<'_>,
    ) -> Result<(Vec<T>, usize, bool), StoreError> {
        let (offset, limit) = (w.offset, w.limit);
        let after = w.after.and_then(from_cursor);
        let Some(search) = w.search else {
            let below = spec.below.as_deref();
            let lists: Vec<Vec<u8>> = if spec.parts.is_empty() {
                vec![keys::list(&spec.scope, spec.order)]
            } else {
                spec.parts
                    .iter()
                    .map(|p| keys::list(p, spec.order))
                    .collect()
            };
            let ids = match lists.as_slice() {
                [list] => self.list_ids_below(list, below, spec.desc, after, offset, limit)?,
                _ => self.merged_ids(&lists, below, spec.desc, after, offset, limit)?,
            };
            let mut rows = Vec::with_capacity(limit.min(500));
            for (id, owner) in ids {
                if let Some(row) = (spec.fetch)(id, owner)? {
                    rows.push(row);
                }
            }
            let total = match below {
                // A range has no counter: its keys are counted (keys only, no record).
                Some(b) => {
                    let mut n = 0;
                    for list in &lists {
                        n += self.count_below(list, b)?;
                    }
                    n
                }
                None => self.count(&spec.scope)? as usize,
            };
            return Ok((rows, total, false));
        };
        let Some(driver) = search.driver() else {
            return Ok((Vec::new(), 0, false));
        };
        if let Some(found) =
            self.search_by_word_lists(spec, search, driver, after, offset, limit)?
        {
            return Ok(found);
        }
        // What follows holds every candidate's id (and a record per candidate, one at a
        // time): the domain lets a few such searches read at once only (before their read:
        // `domain::search_turns`), so fifty of them cannot hold a gigabyte.
        // Every match has a word starting with the driver word; the other words and the
        // scope are checked on the candidates' records. Only the rows up to the end of the
        // asked page are kept (a bounded heap of sort keys), so a broad search over a large
        // list reads its matches but holds one page's worth of them.
        let want = offset.saturating_add(limit);
        let mut best: BinaryHeap<Ranked> = BinaryHeap::new();
        let mut total = 0usize;
        // The driver's candidates (a record with two words under the prefix, `ada` and
        // `adams`, is one), then narrowed by the other words' ids where those are few enough
        // to be worth a key walk: ids are cheap to compare, records are not to decode.
        let mut seen = id_set::with_capacity(0);
        let mut candidates: Vec<(u64, u64)> = Vec::new();
        let word_scopes = self.scopes_of(&spec.word_scopes)?;
        self.each_word_match(&word_scopes, driver, usize::MAX, |id, owner| {
            if seen.insert(id) {
                candidates.push((id, owner));
            }
        })?;
        // Exact: every word narrowed the candidates by the index and nothing else narrows the
        // list, so the candidates are the matches (an index word is a record's search word).
        let mut exact = !spec.filtered && spec.below.is_none();
        for w in search.words.iter().filter(|w| w.as_str() != driver) {
            let cap = candidates.len().saturating_mul(4).saturating_add(64);
            let mut ids = IdSet::default();
            let complete = self.each_word_match(&word_scopes, w, cap, |id, _| {
                ids.insert(id);
            })?;
            if complete {
                candidates.retain(|(id, _)| ids.contains(id));
            } else {
                exact = false;
            }
        }
        if exact
            && let Some(found) =
                self.search_in_list_order(spec, &candidates, after, offset, limit)?
        {
            return Ok((found.0, found.1, false));
        }
        for (id, owner) in candidates {
            let Some(row) = (spec.fetch)(id, owner)? else {
                continue;
            };
            if !((spec.keep)(&row) && search.matches((spec.texts)(&row))) {
                continue;
            }
            total += 1;
            if want == 0 {
                continue;
            }
            let key = (spec.sort_key)(&row);
            keep_nearest(&mut best, (key, id, owner), after, spec.desc, want);
        }
        let ranked = best.into_sorted_vec();
        let mut rows = Vec::with_capacity(limit.min(ranked.len()));
        for m in ranked.into_iter().skip(offset).take(limit) {
            if let Some(row) = (spec.fetch)(m.id, m.owner)? {
                rows.push(row);
            }
        }
        Ok((rows, total, false))
    }
}
