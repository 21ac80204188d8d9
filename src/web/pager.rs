//! Paging and sorting links for list pages, built from the current query string.

use crate::model::{ListQuery, Page, SortDir};
use serde::Deserialize;

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
    pub fn query(&self) -> ListQuery {
        ListQuery::new(
            self.page,
            self.per_page,
            self.sort.as_deref(),
            self.dir.as_deref(),
            self.q.as_deref(),
        )
    }
}

/// What the pager and sortable headers render.
#[derive(Debug, Clone)]
pub struct Pager {
    pub total: usize,
    pub first: usize,
    pub last: usize,
    pub page: usize,
    pub pages: usize,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
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
        let mut p = Pager {
            total: page.total,
            first: page.first_index(),
            last: page.last_index(),
            page: page.page,
            pages: page.pages(),
            prev_url: None,
            next_url: None,
            base: base.to_string(),
            sort: q.sort.clone(),
            dir: q.dir,
            q: q.search.clone(),
            per_page: q.per_page,
        };
        if p.page > 1 {
            p.prev_url = Some(p.url(p.page - 1, &p.sort, p.dir));
        }
        if p.page < p.pages {
            p.next_url = Some(p.url(p.page + 1, &p.sort, p.dir));
        }
        p
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
