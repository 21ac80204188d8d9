//! `/api/v1/audit`: the audit log with the same filters as the page (`company`, `kind`,
//! `outcome`, `from`, `to`), paged, and `/api/v1/audit.csv` for the whole filtered log.
//!
//! Also the query-value parsing the other API list endpoints share: every value arrives as
//! text and a bad one is refused with a 400 `invalid_input` that names the parameter.

use super::types::audit::AuditEvent;
use super::{ApiCaller, ApiError, ApiPage, ApiResult};
use crate::model::{AuditFilter, AuditFilterInput, ListQuery};
use crate::web::AppState;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use std::str::FromStr;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(list))
        .route("/audit.csv", web::get().to(csv));
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    #[serde(flatten)]
    filter: AuditFilterInput,
    page: Option<String>,
    per_page: Option<String>,
    /// A previous page's `next_cursor` (keyset paging; `page` is then ignored).
    cursor: Option<String>,
}

async fn list(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<AuditQuery>,
) -> ApiResult<web::Json<ApiPage<AuditEvent>>> {
    let filter = filter(&st, &q).await?;
    let page = parse_num("page", q.page.as_deref())?.unwrap_or(1);
    let per_page =
        parse_num("per_page", q.per_page.as_deref())?.unwrap_or(ListQuery::DEFAULT_PER_PAGE);
    check_paging(page, per_page)?;
    let q = super::with_cursor(
        ListQuery::new(Some(page), Some(per_page), None, None, None),
        q.cursor.as_deref(),
    )?;
    Ok(web::Json(super::types::page(
        st.services.audit_list(filter, q).await?,
    )))
}

async fn csv(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let filter = filter(&st, &q).await?;
    Ok(crate::web::csv_stream::csv_response(
        st.services.audit_csv_chunks(filter),
    ))
}

/// The filter a query asks for (parsed as the Audit page parses it); an unknown `company` is a
/// 404 like everywhere else.
async fn filter(st: &AppState, q: &AuditQuery) -> ApiResult<AuditFilter> {
    let filter = AuditFilter::parse(&q.filter).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(id) = filter.company_id {
        st.services.company(id).await?;
    }
    Ok(filter)
}

/// A parameter's value, with an empty one (as HTML forms send) counting as absent.
pub(super) fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// A numeric query parameter, refused with its name when it is not a number.
pub(super) fn parse_num<T: FromStr>(name: &str, v: Option<&str>) -> ApiResult<Option<T>> {
    present(v)
        .map(|s| {
            s.parse::<T>().map_err(|_| {
                ApiError::bad_request(format!("{name} {s:?} is not a valid non-negative number"))
            })
        })
        .transpose()
}

/// `page` ≥ 1 and `per_page` in 1..=500.
pub(super) fn check_paging(page: usize, per_page: usize) -> ApiResult<()> {
    if page == 0 {
        return Err(ApiError::bad_request("page must be 1 or more".into()));
    }
    if (page - 1).checked_mul(per_page).is_none() {
        return Err(ApiError::bad_request(format!(
            "page {page} is out of range"
        )));
    }
    if per_page == 0 || per_page > ListQuery::MAX_PER_PAGE {
        return Err(ApiError::bad_request(format!(
            "per_page must be between 1 and {}",
            ListQuery::MAX_PER_PAGE
        )));
    }
    Ok(())
}

/// Paging and sorting for list endpoints, checked.
pub(super) fn list_query(
    page: Option<&str>,
    per_page: Option<&str>,
    sort: Option<&str>,
    dir: Option<&str>,
    search: Option<&str>,
) -> ApiResult<ListQuery> {
    let page_n = parse_num::<usize>("page", page)?;
    let per_page_n = parse_num::<usize>("per_page", per_page)?;
    check_paging(
        page_n.unwrap_or(1),
        per_page_n.unwrap_or(ListQuery::DEFAULT_PER_PAGE),
    )?;
    let dir = present(dir);
    if let Some(d) = dir.filter(|d| !matches!(*d, "asc" | "desc")) {
        return Err(ApiError::bad_request(format!(
            "dir {d:?} is not one of asc, desc"
        )));
    }
    Ok(ListQuery::new(
        page_n,
        per_page_n,
        present(sort),
        dir,
        search,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_paging_are_checked_by_name() {
        assert_eq!(parse_num::<u64>("company", Some("7")).unwrap(), Some(7));
        assert!(
            parse_num::<u64>("company", Some("x"))
                .unwrap_err()
                .message
                .starts_with("company ")
        );
        assert!(list_query(None, Some("501"), None, None, None).is_err());
        assert!(list_query(Some("0"), None, None, None, None).is_err());
        assert!(list_query(None, None, None, Some("sideways"), None).is_err());
        assert_eq!(
            list_query(Some("3"), Some("500"), None, None, None)
                .unwrap()
                .per_page,
            500
        );
    }
}
