//! A search page that costs its page, not its match count (#11).
//!
//! Where a list keeps per-prefix word lists in its order (contacts by name, schema v19,
//! `prefix_lists`), each query word is one list (its first letters'; a one- or two-letter
//! word the run of lists that start with it), filtered by the word each entry carries, and
//! the page is the intersection of those lists walked in page order from the page's start:
//! each list seeks to the furthest one's row (leapfrog), so rows that have one word only are
//! skipped by a seek, and only the page's records are read. The same lists serve a company
//! and every company (their copy across companies): a search across a million contacts is
//! one intersection, not one per company.
//!
//! The total is counted, not listed: the same intersection from the list's start, up to
//! `COUNT_CAP` matches; past it the total is a lower bound ("1,000+"). So a broad search
//! across a million contacts counts a thousand matches and never holds them.
//!
//! Short words that start more lists than a budget (`a` in a large company) make a search
//! broad: it is counted through the word index (`WORD_BLOCKS`, the driver's ids checked
//! against the other words'), and its page found by walking the list and checking each row's
//! record, which a broad search fills fast (or ranked from the counted matches when they are
//! few). Either way the page holds every match that sorts first.
//!
//! Other orders (and filtered lists) rank their candidates (`read.rs`); that path holds
//! every candidate id, so the domain lets only a few of them read at once, and makes the
//! others wait before their read (`domain::search_turns`), holding nothing.

use super::blocks::BlockKey;
use super::id_set::{self, IdSet};
use super::keys;
use super::prefix_lists;
use super::read::{ListSpec, Ranked, keep_nearest, list_range, word_range};
use crate::model::SearchQuery;
use crate::store::tables::{LIST_BLOCKS, WORD_BLOCKS};
use crate::store::{ReadTables, StoreError, Txn};
use redb::ReadableTable;
use std::collections::BinaryHeap;

/// Matches counted exactly; past this, the total is "at least this many" (a person reads a
/// few pages of a search, then refines it).
pub(crate) const COUNT_CAP: usize = 1_000;

/// Ids of another search word kept per company to check rows against; a word with more
/// (a one-letter word in a large company) is checked on the row's record instead.
const OTHER_WORD_CAP: usize = 32_768;

/// Word lists a search may intersect before it is taken as broad (see the module note):
/// one scope's lists, across companies too, so the budget does not grow with companies.
const LISTS_BUDGET: usize = 64;

#[cfg(test)]
thread_local! {
    /// Tests move the count cap and the word-list budget to reach them with a small
    /// generated world.
    pub(crate) static TEST_COUNT_CAP: std::cell::Cell<Option<usize>> =
        const { std::cell::Cell::new(None) };
    pub(crate) static TEST_LISTS_BUDGET: std::cell::Cell<Option<usize>> =
        const { std::cell::Cell::new(None) };
}

fn count_cap() -> usize {
    #[cfg(test)]
    if let Some(c) = TEST_COUNT_CAP.with(std::cell::Cell::get) {
        return c;
    }
    COUNT_CAP
}

fn lists_budget() -> usize {
    #[cfg(test)]
    if let Some(b) = TEST_LISTS_BUDGET.with(std::cell::Cell::get) {
        return b;
    }
    LISTS_BUDGET
}

/// The search's words other than the driver, checked for the rows of one company: their
/// ids in the company's word index, read when a row first needs them.
struct OtherWords<'q> {
    words: Vec<&'q str>,
    /// Per word: its ids in the company, or None when it has more than `OTHER_WORD_CAP`.
    ids: Option<Vec<Option<IdSet>>>,
}

impl<'q> OtherWords<'q> {
    fn new(search: &'q SearchQuery, driver: &str) -> Self {
        Self {
            words: search
                .words
                .iter()
                .map(String::as_str)
                .filter(|w| *w != driver)
                .collect(),
            ids: None,
        }
    }

    /// Does the row (id, owner) of the company `scope` have every other word?
    fn check<Tx: ReadTables, T>(
        &mut self,
        txn: &Txn<Tx>,
        spec: &ListSpec<'_, T>,
        search: &SearchQuery,
        scope: &[u8],
        id: u64,
        owner: u64,
    ) -> Result<bool, StoreError> {
        if self.words.is_empty() {
            return Ok(true);
        }
        if self.ids.is_none() {
            let mut all = Vec::with_capacity(self.words.len());
            for w in &self.words {
                let mut ids = IdSet::default();
                let complete = txn.word_ids(scope, w, OTHER_WORD_CAP, &mut ids)?;
                all.push(complete.then_some(ids));
            }
            self.ids = Some(all);
        }
        let Some(sets) = &self.ids else {
            return Ok(false);
        };
        if sets.iter().all(Option::is_some) {
            return Ok(sets.iter().flatten().all(|s| s.contains(&id)));
        }
        // Rule out by the words known by id first, then read the record.
        if sets.iter().flatten().any(|s| !s.contains(&id)) {
            return Ok(false);
        }
        Ok(match (spec.fetch)(id, owner)? {
            Some(row) => search.matches((spec.texts)(&row)),
            None => false,
        })
    }
}

/// A bounded count: `n` matches so far; `more` when it stopped at the cap. `found` keeps the
/// matches counted, (id, company id), at most the cap of them: when they are all the
/// matches (not `more`), a page that cannot be found through the word lists is ranked from
/// them (see `search_by_word_lists`).
#[derive(Default)]
struct Count {
    n: usize,
    more: bool,
    found: Vec<(u64, u64)>,
}

impl<Tx: ReadTables> Txn<Tx> {
    /// Put the ids of `scope`'s rows with a word starting with `prefix` into `ids`, at most
    /// `cap` entries; false when it stopped at the cap.
    fn word_ids(
        &self,
        scope: &[u8],
        prefix: &str,
        cap: usize,
        ids: &mut IdSet,
    ) -> Result<bool, StoreError> {
        let words = self.table(WORD_BLOCKS)?;
        for (n, e) in word_range(&words, scope, prefix)?.enumerate() {
            let e = e?;
            if n >= cap {
                return Ok(false);
            }
            ids.insert(e.id);
        }
        Ok(true)
    }

    /// Count the search's matches in the company `scope` into `count`, up to `cap` in all.
    /// Walks the driver's word index entries, not the records.
    #[allow(clippy::too_many_arguments)]
    fn count_in<T>(
        &self,
        words: &impl ReadableTable<BlockKey<'static>, &'static [u8]>,
        spec: &ListSpec<'_, T>,
        search: &SearchQuery,
        driver: &str,
        scope: &[u8],
        others: &mut OtherWords<'_>,
        cap: usize,
        count: &mut Count,
    ) -> Result<(), StoreError> {
        // A row with two words under the driver (`ada`, `adams`) is one match.
        let mut seen = id_set::with_capacity(0);
        for e in word_range(words, scope, driver)? {
            let e = e?;
            let id = e.id;
            if !seen.insert(id) || !others.check(self, spec, search, scope, id, e.owner)? {
                continue;
            }
            if count.n == cap {
                count.more = true;
                return Ok(());
            }
            count.n += 1;
            count.found.push((id, e.owner));
        }
        Ok(())
    }

    /// A search page through the per-prefix word lists (see the module note): (rows, total,
    /// total is a lower bound). None when the list has no word lists in its order, or is
    /// narrowed by more than the search: the caller ranks the candidates.
    pub(super) fn search_by_word_lists<T>(
        &self,
        spec: &ListSpec<'_, T>,
        search: &SearchQuery,
        driver: &str,
        after: Option<(&[u8], u64)>,
        offset: usize,
        limit: usize,
    ) -> Result<Option<(Vec<T>, usize, bool)>, StoreError> {
        let Some(word_kind) = spec.word_lists else {
            return Ok(None);
        };
        if spec.filtered || spec.below.is_some() {
            return Ok(None);
        }
        self.index_current()?;
        let want = offset.saturating_add(limit);
        let cap = count_cap().max(want);
        let lists = self.table(LIST_BLOCKS)?;
        // The list's company (or `ALL_COMPANIES`): the prefix lists have both scopes.
        let company = spec
            .scope
            .get(1..9)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes);
        let budget = lists_budget();
        let mut words: Vec<(&str, Vec<Vec<u8>>)> = Vec::with_capacity(search.words.len());
        let mut opened = 0usize;
        if let Some(company) = company {
            for w in &search.words {
                let mut of = Vec::new();
                prefix_lists::lists_of(
                    &lists,
                    word_kind,
                    company,
                    spec.order,
                    w,
                    budget.saturating_sub(opened),
                    &mut of,
                )?;
                opened += of.len();
                words.push((w.as_str(), of));
            }
        }
        if company.is_none() || opened > budget {
            // Short words that start more lists than the budget (`a`): broad.
            return self
                .search_broad(spec, search, driver, after, offset, limit)
                .map(Some);
        }
        // Walk the words with the most selective (a single list) first: they lead the leapfrog.
        words.sort_by_key(|(_, l)| l.len());
        // The capped count, in page order from the start: without a cursor its first rows
        // are the page.
        let mut all = prefix_lists::Intersection::open(&lists, &words, spec.desc, None)?;
        let (mut n, mut more) = (0usize, false);
        let mut page: Vec<(u64, u64)> = Vec::with_capacity(want.min(500));
        while let Some(h) = all.next_match()? {
            if n == cap {
                more = true;
                break;
            }
            n += 1;
            if after.is_none() && page.len() < want {
                page.push((h.id, h.owner));
            }
        }
        if let Some((key, id)) = after
            && n > 0
            && limit > 0
        {
            let from = prefix_lists::place(key, id);
            let mut past =
                prefix_lists::Intersection::open(&lists, &words, spec.desc, Some(&from))?;
            while page.len() < want {
                let Some(h) = past.next_match()? else {
                    break;
                };
                page.push((h.id, h.owner));
            }
        }
        let mut rows = Vec::with_capacity(limit.min(page.len()));
        for (id, owner) in page.into_iter().skip(offset).take(limit) {
            if let Some(row) = (spec.fetch)(id, owner)? {
                rows.push(row);
            }
        }
        Ok(Some((rows, n, more)))
    }

    /// A search whose short words start too many lists to intersect (`a`): counted through
    /// the word index (capped), the page ranked from the counted matches when they are few,
    /// otherwise found by walking the list and checking records (a broad search fills it
    /// fast).
    fn search_broad<T>(
        &self,
        spec: &ListSpec<'_, T>,
        search: &SearchQuery,
        driver: &str,
        after: Option<(&[u8], u64)>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<T>, usize, bool), StoreError> {
        let want = offset.saturating_add(limit);
        let cap = count_cap().max(want);
        let words = self.table(WORD_BLOCKS)?;
        let mut count = Count::default();
        for scope in self.scopes_of(&spec.word_scopes)?.iter() {
            if count.more {
                break;
            }
            let mut others = OtherWords::new(search, driver);
            self.count_in(
                &words,
                spec,
                search,
                driver,
                scope,
                &mut others,
                cap,
                &mut count,
            )?;
        }
        if count.n == 0 || limit == 0 {
            return Ok((Vec::new(), count.n, count.more));
        }
        let page = if !count.more && self.rare(spec, count.n, want)? {
            // Few matches: the count holds every one, so the page is ranked from them, a
            // record each (at most the cap). Walking the list and checking records would
            // read the whole list to find a handful (measured: a rare search in the 100 k
            // company read its 100,000 records).
            self.rank_found(spec, &count.found, after, want)?
        } else {
            self.walk_list_checking(spec, search, after, want)?
        };
        let mut rows = Vec::with_capacity(limit.min(page.len()));
        for (id, owner) in page.into_iter().skip(offset).take(limit) {
            if let Some(row) = (spec.fetch)(id, owner)? {
                rows.push(row);
            }
        }
        Ok((rows, count.n, count.more))
    }

    /// Are `total` matches too few for walking the list to find `want` of them? Walking
    /// reads about `want × listed / total` records if the matches are spread evenly, ranking
    /// reads `total`: rank unless walking reads a quarter of that (so a list whose matches
    /// cluster at its end costs a small list's walk: `total` is at most the cap).
    fn rare<T>(
        &self,
        spec: &ListSpec<'_, T>,
        total: usize,
        want: usize,
    ) -> Result<bool, StoreError> {
        let listed = self.count(&spec.scope)? as usize;
        let walk = want.saturating_mul(listed).saturating_mul(4);
        Ok(walk >= total.saturating_mul(total))
    }

    /// The first `want` of `found` (every match) in page order, after `after`: their records
    /// read for their sort keys, one page of them held (a bounded heap).
    fn rank_found<T>(
        &self,
        spec: &ListSpec<'_, T>,
        found: &[(u64, u64)],
        after: Option<(&[u8], u64)>,
        want: usize,
    ) -> Result<Vec<(u64, u64)>, StoreError> {
        let mut best: BinaryHeap<Ranked> = BinaryHeap::new();
        for &(id, owner) in found {
            let Some(row) = (spec.fetch)(id, owner)? else {
                continue;
            };
            let key = (spec.sort_key)(&row);
            keep_nearest(&mut best, (key, id, owner), after, spec.desc, want);
        }
        Ok(best
            .into_sorted_vec()
            .into_iter()
            .map(|m| (m.id, m.owner))
            .collect())
    }

    /// The first `want` matches in page order by walking the list and checking each row's
    /// record: for a broad search, whose matches are dense. Streams: holds one page.
    fn walk_list_checking<T>(
        &self,
        spec: &ListSpec<'_, T>,
        search: &SearchQuery,
        after: Option<(&[u8], u64)>,
        want: usize,
    ) -> Result<Vec<(u64, u64)>, StoreError> {
        let t = self.table(LIST_BLOCKS)?;
        let list = keys::list(&spec.scope, spec.order);
        let mut page = Vec::with_capacity(want.min(500));
        for e in list_range(&t, &list, None, spec.desc, after)? {
            let e = e?;
            let (id, owner) = (e.id, e.owner);
            let Some(row) = (spec.fetch)(id, owner)? else {
                continue;
            };
            if (spec.keep)(&row) && search.matches((spec.texts)(&row)) {
                page.push((id, owner));
                if page.len() >= want {
                    break;
                }
            }
        }
        Ok(page)
    }
}
