//! Paging and sorting links for list pages, built from the current query string.
//!
//! Lists whose store read is keyset-paged (their pages carry a `next_cursor`) page by cursor:
//! Next starts after this page's last row (`cursor=`), Previous ends before its first row
//! (`before=`, read as the list in the other direction), Last reads the list from its end
//! (`last=1`), First is page 1. WHY: a page by number costs every index key before it, so
//! page 1,500 of a 100,000-row list walked 75,000 keys; a cursor page costs its own rows.
//! `page=` keeps working (old links, bookmarks) and rides along on cursor links as the
//! label ("Page 7 of 2,000"; only the cursor decides which rows are shown). Plain GET links:
//! no form, no script, nothing to protect with CSRF.

use crate::model::{ListQuery, Page, SortDir};
use serde::Deserialize;
use std::future::Future;

/// Common list query parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    // Read as text then parsed: under `#[serde(flatten)]` (list params inside a larger query
    // struct) serde hands numbers over as strings and a plain usize would be refused.
    #[serde(default, deserialize_with = "opt_number")]
    pub page: Option<usize>,
    #[serde(default, deserialize_with = "opt_number")]
    pub per_page: Option<usize>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub q: Option<String>,
    /// Next links: the page after the row this names (a page's `next_cursor`).
    pub cursor: Option<String>,
    /// Previous links: the page that ends before the row this names.
    pub before: Option<String>,
    /// Last links (`last=1`): the list's last page, read from its end.
    pub last: Option<String>,
}

fn opt_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{v:?} is not a page number"))),
    }
}

impl ListParams {
    /// The list query these parameters ask for. A `cursor` that does not decode (edited by
    /// hand) is ignored: the page starts where `page` says, as an old link would.
    pub fn query(&self) -> ListQuery {
        let q = ListQuery::new(
            self.page,
            self.per_page,
            self.sort.as_deref(),
            self.dir.as_deref(),
            self.q.as_deref(),
        );
        match decoded(self.cursor.as_deref()) {
            Some(after) => ListQuery {
                after: Some(after),
                ..q
            },
            None => q,
        }
    }

    fn before(&self) -> Option<Vec<u8>> {
        decoded(self.before.as_deref())
    }

    fn wants_last(&self) -> bool {
        self.last
            .as_deref()
            .is_some_and(|v| !v.trim().is_empty() && v != "0")
    }
}

/// A cursor's bytes, or None when absent, empty or not one a list gave out.
fn decoded(cursor: Option<&str>) -> Option<Vec<u8>> {
    let c = cursor.map(str::trim).filter(|c| !c.is_empty())?;
    ListQuery::default().with_cursor(c).ok()?.after
}

/// What [`fetch`] learnt besides the page: where the Previous link ends, and whether the list
/// can be read backwards (so a Last link is offered).
#[derive(Debug, Clone, Default)]
pub struct Cursors {
    prev: Option<String>,
    reversible: bool,
}

/// `q` read in the other direction, from the start of that direction or after `after`.
fn flipped(q: &ListQuery, after: Option<Vec<u8>>, per_page: usize) -> ListQuery {
    ListQuery {
        page: 1,
        per_page,
        dir: match q.dir {
            SortDir::Asc => SortDir::Desc,
            SortDir::Desc => SortDir::Asc,
        },
        after,
        ..q.clone()
    }
}

/// Read the page `params` ask for through `read` (one domain list call), following cursor
/// links both ways: returns the query the page answers (for the pager's links), the page,
/// and the cursors for Previous and Last. `read` must be keyset-paged in both directions
/// (a page read after a cursor, in either `dir`, starts right after that row); a list whose
/// pages carry no `next_cursor` is read by page number as before.
///
/// A backward page costs two reads: the page itself and, for its Next link, the place of
/// its last row (a one-row read). A forward page reached by a cursor reads one row more the
/// same way, for its Previous link. Both walk a page's keys, never the rows before it (a
/// search reads its matches again for the extra read, as it does for any page).
pub async fn fetch<T, E, F, Fut>(
    params: &ListParams,
    read: F,
) -> Result<(ListQuery, Page<T>, Cursors), E>
where
    F: Fn(ListQuery) -> Fut,
    Fut: Future<Output = Result<Page<T>, E>>,
{
    let q = params.query();
    let per_page = q.per_page;
    if let Some(before) = params.before() {
        let back = flipped(&q, Some(before), per_page);
        let mut page = read(back.clone()).await?;
        // Fewer rows than a page before the cursor: that is the list's start, shown as page 1
        // (so the pages stay aligned on the list's start).
        if q.page > 1 && page.items.len() == per_page {
            page.items.reverse();
            let prev = page.next_cursor.take();
            let last_row = read(ListQuery {
                per_page: 1,
                ..back
            })
            .await?;
            let page = Page {
                items: page.items,
                total: page.total,
                page: q.page,
                per_page,
                next_cursor: last_row.next_cursor,
                total_is_lower_bound: page.total_is_lower_bound,
            };
            let cursors = Cursors {
                prev,
                reversible: true,
            };
            return Ok((q, page, cursors));
        }
        let first = ListQuery {
            page: 1,
            after: None,
            ..q
        };
        return forward(first, read).await;
    }
    if params.wants_last() {
        // The total first (one row), then exactly the last page's rows, so it is aligned as
        // page N of N and its Previous link leads to a whole page N − 1.
        let probe = read(flipped(&q, None, 1)).await?;
        let pages = probe.total.div_ceil(per_page).max(1);
        if pages > 1 && probe.next_cursor.is_some() {
            let rows = probe.total - (pages - 1) * per_page;
            let mut page = read(flipped(&q, None, rows)).await?;
            page.items.reverse();
            let prev = page.next_cursor.take();
            let page = Page {
                items: page.items,
                total: page.total,
                page: pages,
                per_page,
                next_cursor: None,
                total_is_lower_bound: page.total_is_lower_bound,
            };
            let q = ListQuery {
                page: pages,
                after: None,
                ..q
            };
            let cursors = Cursors {
                prev,
                reversible: true,
            };
            return Ok((q, page, cursors));
        }
        let first = ListQuery {
            page: 1,
            after: None,
            ..q
        };
        return forward(first, read).await;
    }
    forward(q, read).await
}

/// A page read forwards, from `page` or after `q.after`; reached by a cursor, also the place
/// of its first row for the Previous link.
async fn forward<T, E, F, Fut>(q: ListQuery, read: F) -> Result<(ListQuery, Page<T>, Cursors), E>
where
    F: Fn(ListQuery) -> Fut,
    Fut: Future<Output = Result<Page<T>, E>>,
{
    let page = read(q.clone()).await?;
    let reversible = page.next_cursor.is_some() || q.after.is_some();
    let prev = if q.after.is_some() && q.page > 1 && !page.items.is_empty() {
        read(ListQuery {
            per_page: 1,
            ..q.clone()
        })
        .await?
        // A full one-row page's cursor names its row: this page's first.
        .next_cursor
    } else {
        None
    };
    Ok((q, page, Cursors { prev, reversible }))
}

/// What the pager and sortable headers render.
#[derive(Debug, Clone)]
pub struct Pager {
    pub total: usize,
    /// `total` is a lower bound (a search at its candidate cap): shown as "N+", no Last link.
    pub more: bool,
    pub first: usize,
    pub last: usize,
    pub page: usize,
    pub pages: usize,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    /// Page 1, from page 3 on (on page 2 Previous is the same link).
    pub first_url: Option<String>,
    /// The last page, on lists read by cursor, up to the page before the one before it.
    pub last_url: Option<String>,
    base: String,
    sort: String,
    dir: SortDir,
    q: String,
    per_page: usize,
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Pager {
    /// `base` is the page path plus any fixed parameters, e.g. `/companies?tab=archived`.
    pub fn new<T>(base: &str, q: &ListQuery, page: &Page<T>) -> Self {
        // A lower bound counts the matches the search met (from its cursor, when it had one),
        // so the page's own rows and a next page are what is known for sure.
        let (total, pages, first, last) = if page.total_is_lower_bound {
            let before = page.page.saturating_sub(1) * page.per_page;
            let shown = before + page.items.len();
            let first = if page.items.is_empty() { 0 } else { before + 1 };
            let next = usize::from(page.next_cursor.is_some());
            (page.total.max(shown), page.page + next, first, shown)
        } else {
            (
                page.total,
                page.pages(),
                page.first_index(),
                page.last_index(),
            )
        };
        let mut p = Pager {
            total,
            more: page.total_is_lower_bound,
            first,
            last,
            page: page.page,
            pages,
            prev_url: None,
            next_url: None,
            first_url: None,
            last_url: None,
            base: base.to_string(),
            sort: q.sort.clone(),
            dir: q.dir,
            q: q.search.clone(),
            per_page: q.per_page,
        };
        if p.page > 1 {
            p.prev_url = Some(p.url(p.page - 1, &p.sort, p.dir));
        }
        if p.page > 2 {
            p.first_url = Some(p.url(1, &p.sort, p.dir));
        }
        if p.page < p.pages {
            p.next_url = Some(match &page.next_cursor {
                Some(c) => p.cursor_url("cursor", c, p.page + 1),
                None => p.url(p.page + 1, &p.sort, p.dir),
            });
        }
        p
    }

    /// [`Self::new`] for a page read by [`fetch`]: Previous by cursor when its place is
    /// known, and a Last link.
    pub fn with(mut self, cursors: &Cursors) -> Self {
        if self.page > 1
            && let Some(c) = &cursors.prev
        {
            self.prev_url = Some(self.cursor_url("before", c, self.page - 1));
        }
        if cursors.reversible && self.page + 1 < self.pages && !self.more {
            self.last_url = Some(format!(
                "{}&last=1",
                self.url(self.pages, &self.sort, self.dir)
            ));
        }
        self
    }

    /// A link to the page `label` that a cursor names (`cursor=` after it, `before=` before
    /// it). `page` stays in the link as the label only.
    fn cursor_url(&self, param: &str, cursor: &str, label: usize) -> String {
        format!(
            "{}&{param}={}",
            self.url(label, &self.sort, self.dir),
            enc(cursor)
        )
    }

    fn url(&self, page: usize, sort: &str, dir: SortDir) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        let mut u = format!("{}{sep}page={page}&per_page={}", self.base, self.per_page);
        if !sort.is_empty() {
            u.push_str(&format!("&sort={}", enc(sort)));
        }
        if dir == SortDir::Desc {
            u.push_str("&dir=desc");
        }
        if !self.q.is_empty() {
            u.push_str(&format!("&q={}", enc(&self.q)));
        }
        u
    }

    /// Link for a sortable column header: toggles direction when already sorted by it.
    pub fn sort_url(&self, column: &str) -> String {
        let dir = if self.sort == column && self.dir == SortDir::Asc {
            SortDir::Desc
        } else {
            SortDir::Asc
        };
        self.url(1, column, dir)
    }

    /// ▲/▼ marker for the active sort column.
    pub fn mark(&self, column: &str) -> &'static str {
        match (self.sort == column, self.dir) {
            (true, SortDir::Asc) => " ▲",
            (true, SortDir::Desc) => " ▼",
            _ => "",
        }
    }

    pub fn search(&self) -> &str {
        &self.q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A search at its candidate cap: "N+", as many pages as are known, no Last link.
    #[test]
    fn a_lower_bound_total_shows_what_is_known_and_no_last_page() {
        let q = ListQuery::new(Some(2), Some(10), Some("name"), None, Some("a"));
        let mut page = q.page_of((0..10).collect::<Vec<u32>>(), 4);
        page.total_is_lower_bound = true;
        let page = page.with_next(Some(vec![1, 2, 3]));
        let cursors = Cursors {
            prev: None,
            reversible: true,
        };
        let p = Pager::new("/contacts?x=1", &q, &page).with(&cursors);
        assert_eq!(
            (p.more, p.total, p.first, p.last, p.pages),
            (true, 20, 11, 20, 3)
        );
        assert!(p.last_url.is_none() && p.next_url.is_some());
        let mut exact = q.page_of((0..10).collect::<Vec<u32>>(), 95);
        exact.next_cursor = Some("c".into());
        let p = Pager::new("/contacts?x=1", &q, &exact).with(&cursors);
        assert_eq!((p.more, p.total, p.pages), (false, 95, 10));
        assert!(p.last_url.is_some());
    }
}
