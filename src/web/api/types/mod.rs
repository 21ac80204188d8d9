//! The JSON of `/api/v1`: every answer body and request body, as types of the API's own.
//!
//! The model types are the redb schema; if the API serialized them, a change to what is
//! stored would silently change what scripts receive (and an internal field would leak the
//! day someone adds it). So handlers answer only with the types here, built by `From`
//! conversions that name every field: a changed model field fails to compile here instead of
//! reaching users. Each file's tests pin the exact JSON of its types (a golden snapshot), so an
//! accidental change fails CI.
//!
//! Versioning: within v1 only additive changes (a new field, a new endpoint, a new enum value
//! where documented as open). Removing or renaming a field, or changing its type, means
//! `/api/v2`. See `docs/api.md`.
//!
//! Request bodies keep the struct names they had before they moved here: serde names the
//! struct in some error messages ("expected struct CompanyBody"), and those stay as they were.

pub mod asset_merge;
pub mod audit;
pub mod bulk;
pub mod companies;
pub mod compliance;
pub mod directory;
pub mod jobs;
pub mod level;
pub mod microsoft;
pub mod notifications;
pub mod requests;
pub mod settings;
pub mod staff;

use super::ApiPage;
use serde::Serialize;

/// A whole, unpaged list (users, tokens, schedules).
#[derive(Debug, Serialize)]
pub struct List<T: Serialize> {
    /// Every item.
    pub items: Vec<T>,
    /// The number of items.
    pub total: usize,
}

impl<T: Serialize, M: Into<T>> FromIterator<M> for List<T> {
    fn from_iter<I: IntoIterator<Item = M>>(iter: I) -> Self {
        let items: Vec<T> = iter.into_iter().map(Into::into).collect();
        Self {
            total: items.len(),
            items,
        }
    }
}

/// A page of model values as a page of their API type.
pub fn page<M, T: Serialize + From<M>>(p: crate::model::Page<M>) -> ApiPage<T> {
    p.map(T::from).into()
}

#[cfg(test)]
pub(crate) mod golden {
    //! Fixed values for the snapshot tests of each resource file.

    use chrono::{DateTime, TimeZone, Utc};
    use serde::Serialize;

    /// 2026-01-31 08:00:00 UTC, plus `minutes`.
    pub fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 31, 8, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    /// The JSON of `v`, pretty-printed, must be exactly `golden` (field order included).
    #[track_caller]
    pub fn assert_json<T: Serialize>(v: &T, golden: &str) {
        let got = serde_json::to_string_pretty(v).unwrap();
        assert_eq!(
            got,
            golden.trim(),
            "the API's JSON changed; if this is intended (additive only within v1), update \
             the snapshot and docs/api.md"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::golden::assert_json;
    use super::*;

    #[test]
    fn lists_and_pages_have_their_shapes() {
        let list: List<u64> = vec![3u64, 4].into_iter().collect();
        assert_json(
            &list,
            r#"
{
  "items": [
    3,
    4
  ],
  "total": 2
}"#,
        );
        let p: ApiPage<u64> = page(crate::model::Page {
            items: vec![7u32],
            total: 51,
            page: 2,
            per_page: 50,
            next_cursor: None,
            total_is_lower_bound: false,
        });
        assert_json(
            &p,
            r#"
{
  "items": [
    7
  ],
  "total": 51,
  "page": 2,
  "per_page": 50
}"#,
        );
        let mut capped =
            crate::model::ListQuery::new(None, None, None, None, None).page_of(vec![7u32], 5000);
        capped.total_is_lower_bound = true;
        let p: ApiPage<u64> = page(capped);
        assert_json(
            &p,
            r#"
{
  "items": [
    7
  ],
  "total": 5000,
  "page": 1,
  "per_page": 50,
  "total_is_lower_bound": true
}"#,
        );
    }
}
