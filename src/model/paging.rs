//! Paging and sorting shared by every list page and API endpoint.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

/// What a list request asks for. `per_page` is clamped to 1..=500.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub page: usize,
    pub per_page: usize,
    pub sort: String,
    pub dir: SortDir,
    pub search: String,
    /// Keyset paging: start after the row this cursor names (a previous page's
    /// `next_cursor`), instead of at `page`.
    pub after: Option<Vec<u8>>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self::new(None, None, None, None, None)
    }
}

impl ListQuery {
    pub const MAX_PER_PAGE: usize = 500;
    pub const DEFAULT_PER_PAGE: usize = 50;

    pub fn new(
        page: Option<usize>,
        per_page: Option<usize>,
        sort: Option<&str>,
        dir: Option<&str>,
        search: Option<&str>,
    ) -> Self {
        Self {
            page: page.unwrap_or(1).max(1),
            per_page: per_page
                .unwrap_or(Self::DEFAULT_PER_PAGE)
                .clamp(1, Self::MAX_PER_PAGE),
            sort: sort.unwrap_or("").to_string(),
            dir: if dir == Some("desc") {
                SortDir::Desc
            } else {
                SortDir::Asc
            },
            search: search.unwrap_or("").trim().to_lowercase(),
            after: None,
        }
    }

    /// Continue after a previous page's `next_cursor` (opaque, URL-safe base64).
    pub fn with_cursor(mut self, cursor: &str) -> Result<Self, super::ValidationError> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor.trim())
            .ok()
            .filter(|b| b.len() >= 8)
            .ok_or_else(|| {
                super::ValidationError::new(
                    "cursor",
                    "is not a cursor this list gave out (use a page's next_cursor as it is)",
                )
            })?;
        self.after = Some(bytes);
        Ok(self)
    }

    /// Where this page starts in the whole list.
    pub fn offset(&self) -> usize {
        self.page.saturating_sub(1).saturating_mul(self.per_page)
    }

    /// The search as words, or None when nothing was typed.
    pub fn search_query(&self) -> Option<super::SearchQuery> {
        (!self.search.is_empty()).then(|| super::SearchQuery::parse(&self.search))
    }

    /// A page of `items` (this page's rows, already cut) out of `total`.
    pub fn page_of<T>(&self, items: Vec<T>, total: usize) -> Page<T> {
        Page {
            items,
            total,
            page: self.page,
            per_page: self.per_page,
            next_cursor: None,
            total_is_lower_bound: false,
        }
    }

    /// Sort `items` by the key `key_of` returns for the requested column, then cut the page.
    pub fn apply<T, K: Ord>(&self, mut items: Vec<T>, key_of: impl Fn(&T) -> K) -> Page<T> {
        items.sort_by_key(|a| key_of(a));
        if self.dir == SortDir::Desc {
            items.reverse();
        }
        let total = items.len();
        let start = self
            .page
            .saturating_sub(1)
            .saturating_mul(self.per_page)
            .min(total);
        let page_items: Vec<T> = items.into_iter().skip(start).take(self.per_page).collect();
        Page {
            items: page_items,
            total,
            page: self.page,
            per_page: self.per_page,
            next_cursor: None,
            total_is_lower_bound: false,
        }
    }
}

/// One page of a sorted list, with the total so the UI and API can show "1–50 of 10,000".
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    /// Where the next page starts, for keyset paging (lists that offer it, when this page
    /// is full).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// A search that stopped at its candidate cap: there are at least `total` matches.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub total_is_lower_bound: bool,
}

impl<T> Page<T> {
    /// Name the next page's start: the cursor bytes of this page's last row.
    pub fn with_next(mut self, after_last: Option<Vec<u8>>) -> Self {
        use base64::Engine as _;
        self.next_cursor =
            after_last.map(|b| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b));
        self
    }
    pub fn pages(&self) -> usize {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
    pub fn first_index(&self) -> usize {
        if self.total == 0 {
            0
        } else {
            (self.page - 1) * self.per_page + 1
        }
    }
    pub fn last_index(&self) -> usize {
        if self.items.is_empty() {
            0
        } else {
            (self.page.saturating_sub(1) * self.per_page + self.items.len()).min(self.total)
        }
    }
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            per_page: self.per_page,
            next_cursor: self.next_cursor,
            total_is_lower_bound: self.total_is_lower_bound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_item_once() {
        let q = |p| ListQuery::new(Some(p), Some(7), None, None, None);
        let mut seen = Vec::new();
        for p in 1..=3 {
            seen.extend(q(p).apply((0..20).collect::<Vec<_>>(), |x| *x).items);
        }
        assert_eq!(seen, (0..20).collect::<Vec<_>>());
        assert_eq!(q(1).apply((0..20).collect::<Vec<_>>(), |x| *x).pages(), 3);
        let desc =
            ListQuery::new(Some(1), Some(3), None, Some("desc"), None).apply(vec![1, 3, 2], |x| *x);
        assert_eq!(desc.items, vec![3, 2, 1]);
    }
}
