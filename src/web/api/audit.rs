//! `/api/v1/audit`: the audit log with the same filters as the page (`company`, `kind`,
//! `outcome`, `from`, `to`), paged, and `/api/v1/audit.csv` for the whole filtered log.
//!
//! Also the query-value parsing the other API list endpoints share: every value arrives as
//! text and a bad one is refused with a 400 `invalid_input` that names the parameter.

use super::types::audit::AuditEvent;
use super::{ApiCaller, ApiError, ApiPage, ApiResult};
use crate::model::{AuditFilter, ListQuery, Outcome};
use crate::web::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use std::str::FromStr;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(list))
        .route("/audit.csv", web::get().to(csv));
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    company: Option<String>,
    kind: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
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
    Ok(web::Json(super::types::page(
        st.services.audit_page(filter, page, per_page).await?,
    )))
}

async fn csv(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let filter = filter(&st, &q).await?;
    let body = st.services.audit_csv(filter).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            "attachment; filename=\"tenantry-audit.csv\"",
        ))
        .body(body))
}

/// The filter a query asks for; an unknown `company` is a 404 like everywhere else.
async fn filter(st: &AppState, q: &AuditQuery) -> ApiResult<AuditFilter> {
    let company_id = parse_num::<u64>("company", q.company.as_deref())?;
    if let Some(id) = company_id {
        st.services.company(id).await?;
    }
    let kind = match present(q.kind.as_deref()) {
        None => None,
        Some(k) => {
            let ok = k.len() <= 100
                && !k.starts_with('.')
                && !k.ends_with('.')
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !ok {
                return Err(ApiError::bad_request(format!(
                    "kind {k:?} is not a dotted event kind or prefix like `company` or `company.archive`"
                )));
            }
            Some(k.to_string())
        }
    };
    let outcome = match present(q.outcome.as_deref()) {
        None => None,
        Some("success") => Some(Outcome::Success),
        Some("failure") => Some(Outcome::Failure),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "outcome {other:?} is not one of success, failure"
            )));
        }
    };
    let from = parse_time("from", q.from.as_deref(), false)?;
    let to = parse_time("to", q.to.as_deref(), true)?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(ApiError::bad_request(format!(
            "from ({}) must be before to ({})",
            f.to_rfc3339(),
            t.to_rfc3339()
        )));
    }
    Ok(AuditFilter {
        company_id,
        kind,
        outcome,
        from,
        to,
    })
}

/// A parameter's value, with an empty one (as HTML forms send) counting as absent.
fn present(v: Option<&str>) -> Option<&str> {
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

/// RFC 3339, or a date (YYYY-MM-DD, UTC). A date in `to` includes that whole day.
fn parse_time(name: &str, v: Option<&str>, end_of_day: bool) -> ApiResult<Option<DateTime<Utc>>> {
    let Some(s) = present(v) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| if end_of_day { d.succ_opt() } else { Some(d) })
        .and_then(|d| d.and_hms_opt(0, 0, 0));
    match day {
        Some(t) => Ok(Some(t.and_utc())),
        None => Err(ApiError::bad_request(format!(
            "{name} {s:?} is not a time: use RFC 3339 (2026-01-31T08:00:00Z) or a date (2026-01-31)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_rfc3339_or_dates() {
        let t = parse_time("from", Some("2026-01-31"), false).unwrap();
        assert_eq!(t.unwrap().to_rfc3339(), "2026-01-31T00:00:00+00:00");
        let t = parse_time("to", Some("2026-01-31"), true).unwrap();
        assert_eq!(t.unwrap().to_rfc3339(), "2026-02-01T00:00:00+00:00");
        let t = parse_time("to", Some("2026-01-31T10:00:00+02:00"), true).unwrap();
        assert_eq!(t.unwrap().to_rfc3339(), "2026-01-31T08:00:00+00:00");
        assert!(parse_time("from", Some(""), false).unwrap().is_none());
        let e = parse_time("from", Some("yesterday"), false).unwrap_err();
        assert!(e.message.starts_with("from "));
        assert_eq!(e.code, "invalid_input");
    }

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
