//! Lists that include a company whose lists are not built yet (its first sync, see
//! `bulk.rs`): the index answers for the other companies, the pending companies' records
//! are read and merged in, so the page is what the built lists will show.
//!
//! WHY read the records rather than say "indexing…": an admin who opens a client during its
//! first sync expects to see the users arriving, as before the bulk path; the build takes
//! seconds, and only the pending companies' records are read, never the others'. The cost
//! is that of the old full scan, for that window only. Memory holds the page's worth of the
//! best rows, not the company.

use super::ListSpec;
use super::read::{from_cursor, page_of, past_cursor};
use crate::store::codec::dec;
use crate::store::{Listed, ReadTables, StoreError, Txn, Window};
use redb::{ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;

/// Rows kept while merging: (sort key, id, row).
type Kept<T> = Vec<(Vec<u8>, u64, T)>;

impl<Tx: ReadTables> Txn<Tx> {
    /// [`Self::list_page`], with the records of the `pending` companies (read from
    /// `records`, narrowed by the spec's `keep`, `below` and the window's search) merged in.
    pub(crate) fn list_page_with_pending<T: DeserializeOwned>(
        &self,
        spec: &ListSpec<'_, T>,
        w: Window<'_>,
        records: TableDefinition<'static, (u64, u64), &'static [u8]>,
        pending: &[u64],
    ) -> Result<Listed<T>, StoreError> {
        if pending.is_empty() {
            return self.list_page(spec, w);
        }
        let want = w.offset.saturating_add(w.limit);
        // The index's rows up to the end of the page (the pending companies have none there).
        let indexed = self.list_page(
            spec,
            Window {
                offset: 0,
                limit: want,
                ..w
            },
        )?;
        let mut total = indexed.total;
        // The pending records are all read and counted; only the index's share can be a bound.
        let total_is_lower_bound = indexed.total_is_lower_bound;
        let mut kept: Kept<T> = indexed
            .rows
            .into_iter()
            .map(|r| ((spec.sort_key)(&r), (spec.id)(&r), r))
            .collect();
        let after = w.after.and_then(from_cursor);
        let t = self.table(records)?;
        for company in pending {
            for r in t.range((*company, 0)..=(*company, u64::MAX))? {
                let row: T = dec(r?.1.value())?;
                if !(spec.keep)(&row) || w.search.is_some_and(|s| !s.matches((spec.texts)(&row))) {
                    continue;
                }
                let key = (spec.sort_key)(&row);
                if spec.below.as_ref().is_some_and(|b| key >= *b) {
                    continue;
                }
                total += 1;
                let id = (spec.id)(&row);
                if !past_cursor(&key, id, after, spec.desc) {
                    continue;
                }
                kept.push((key, id, row));
                if kept.len() >= want.saturating_mul(2).max(256) {
                    trim(&mut kept, spec.desc, want);
                }
            }
        }
        trim(&mut kept, spec.desc, want);
        let rows: Vec<T> = kept.into_iter().skip(w.offset).map(|(_, _, r)| r).collect();
        Ok(page_of(spec, rows, w.limit, total, total_is_lower_bound))
    }

    /// How many of the `pending` companies' records pass `keep` (a counter's share that the
    /// counters do not hold yet).
    pub(crate) fn count_pending<T: DeserializeOwned>(
        &self,
        records: TableDefinition<'static, (u64, u64), &'static [u8]>,
        pending: &[u64],
        keep: &dyn Fn(&T) -> bool,
    ) -> Result<u64, StoreError> {
        let t = self.table(records)?;
        let mut n = 0;
        for company in pending {
            for r in t.range((*company, 0)..=(*company, u64::MAX))? {
                if keep(&dec::<T>(r?.1.value())?) {
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

/// Sort `kept` in the list's order and keep the first `want`.
fn trim<T>(kept: &mut Kept<T>, desc: bool, want: usize) {
    kept.sort_by(|a, b| {
        let o = (&a.0, a.1).cmp(&(&b.0, b.1));
        if desc { o.reverse() } else { o }
    });
    kept.truncate(want);
}
