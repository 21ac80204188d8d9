//! The audit log page with filters and CSV export. Every filter value arrives as text and a
//! bad one is refused with a 400 that names it (never a 500).

use crate::model::{AuditFilter, ListQuery, Outcome, Page};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::pager::Pager;
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::audit::{AuditPage, AuditRow, CompanyOption};
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

/// Events per page.
const PER_PAGE: usize = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit_get))
        .route("/audit.csv", web::get().to(audit_csv_get));
}

/// The filter form as sent (all text; empty means "any").
#[derive(Debug, Default, Deserialize)]
struct AuditQ {
    company: Option<String>,
    kind: Option<String>,
    outcome: Option<String>,
    /// Dates (`YYYY-MM-DD`, UTC); `to` includes that whole day.
    from: Option<String>,
    to: Option<String>,
    /// Optional exact times (`datetime-local`, UTC); they win over the dates.
    from_at: Option<String>,
    to_at: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

/// A value, with an empty one (as HTML forms send) counting as absent.
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `YYYY-MM-DD` (start of that day, or the start of the next day for an end bound),
/// `YYYY-MM-DDTHH:MM[:SS]` as a `datetime-local` input sends it (UTC), or RFC 3339.
fn parse_time(
    name: &str,
    v: Option<&str>,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, WebError> {
    let Some(s) = v else { return Ok(None) };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Some(t.and_utc()));
        }
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| if end_of_day { d.succ_opt() } else { Some(d) })
        .and_then(|d| d.and_hms_opt(0, 0, 0));
    match day {
        Some(t) => Ok(Some(t.and_utc())),
        None => Err(WebError::BadRequest(format!(
            "The “{name}” filter {s:?} is not a date or time. Use a date like 2026-01-31, \
             or a time like 2026-01-31T08:00 (UTC)."
        ))),
    }
}

/// The parsed filter plus the query string that reproduces it (for paging and CSV links).
struct Parsed {
    filter: AuditFilter,
    query: String,
}

fn parse_filter(q: &AuditQ) -> Result<Parsed, WebError> {
    let company_id = match present(&q.company) {
        None => None,
        Some(s) => Some(s.parse::<u64>().map_err(|_| {
            WebError::BadRequest(format!("The “company” filter {s:?} is not a company id."))
        })?),
    };
    let kind = match present(&q.kind) {
        None => None,
        Some(k) => {
            let ok = k.len() <= 100
                && !k.starts_with('.')
                && !k.ends_with('.')
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !ok {
                return Err(WebError::BadRequest(format!(
                    "The “kind” filter {k:?} is not an event kind or prefix, like company or staff.sign_in."
                )));
            }
            Some(k.to_string())
        }
    };
    let outcome = match present(&q.outcome) {
        None | Some("any") => None,
        Some("success") => Some(Outcome::Success),
        Some("failure") => Some(Outcome::Failure),
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "The “outcome” filter {other:?} is not one of any, success, failure."
            )));
        }
    };
    let from = match present(&q.from_at) {
        Some(s) => parse_time("from time", Some(s), false)?,
        None => parse_time("from", present(&q.from), false)?,
    };
    let to = match present(&q.to_at) {
        Some(s) => parse_time("to time", Some(s), false)?,
        None => parse_time("to", present(&q.to), true)?,
    };
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(WebError::BadRequest(format!(
            "The time range is empty: “from” ({}) must be before “to” ({}).",
            f.format("%Y-%m-%d %H:%M UTC"),
            t.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    let mut enc = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("company", &q.company),
        ("kind", &q.kind),
        ("outcome", &q.outcome),
        ("from", &q.from),
        ("to", &q.to),
        ("from_at", &q.from_at),
        ("to_at", &q.to_at),
    ] {
        if let Some(v) = present(v).filter(|v| !(k == "outcome" && *v == "any")) {
            enc.append_pair(k, v);
        }
    }
    Ok(Parsed {
        filter: AuditFilter {
            company_id,
            kind,
            outcome,
            from,
            to,
        },
        query: enc.finish(),
    })
}

fn parse_page(name: &str, v: &Option<String>, default: usize) -> Result<usize, WebError> {
    match present(v) {
        None => Ok(default),
        Some(s) => s.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            WebError::BadRequest(format!("“{name}” {s:?} is not a number of 1 or more."))
        }),
    }
}

async fn audit_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<AuditQ>,
) -> Result<AuditPage, WebError> {
    let parsed = parse_filter(&q)?;
    let page_n = parse_page("page", &q.page, 1)?;
    let per_page = parse_page("per_page", &q.per_page, PER_PAGE)?.min(ListQuery::MAX_PER_PAGE);
    let names = st.services.company_names().await?;
    let page: Page<_> = st
        .services
        .audit_page(parsed.filter.clone(), page_n, per_page)
        .await?;
    let base = if parsed.query.is_empty() {
        "/audit".to_string()
    } else {
        format!("/audit?{}", parsed.query)
    };
    let list = ListQuery::new(Some(page.page), Some(page.per_page), None, None, None);
    let pager = Pager::new(&base, &list, &page);
    let rows = page
        .items
        .into_iter()
        .map(|e| AuditRow {
            company: e.company_id.map(|id| {
                names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("Company #{id}"))
            }),
            details: if e.details.is_null() {
                String::new()
            } else {
                serde_json::to_string_pretty(&e.details).unwrap_or_default()
            },
            event: e,
        })
        .collect();
    let mut companies: Vec<CompanyOption> = names
        .into_iter()
        .map(|(id, name)| CompanyOption {
            selected: parsed.filter.company_id == Some(id),
            id,
            name,
        })
        .collect();
    companies.sort_by_key(|c| c.name.to_lowercase());
    let text = |v: &Option<String>| present(v).unwrap_or("").to_string();
    Ok(AuditPage {
        chrome: Chrome::new(&staff, "audit", None),
        rows,
        pager,
        companies,
        kind: text(&q.kind),
        outcome: match parsed.filter.outcome {
            Some(o) => o.as_str(),
            None => "any",
        },
        from: text(&q.from),
        to: text(&q.to),
        from_at: text(&q.from_at),
        to_at: text(&q.to_at),
        filtered: !parsed.query.is_empty(),
        csv_url: if parsed.query.is_empty() {
            "/audit.csv".to_string()
        } else {
            format!("/audit.csv?{}", parsed.query)
        },
    })
}

async fn audit_csv_get(
    _staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<AuditQ>,
) -> Result<HttpResponse, WebError> {
    let parsed = parse_filter(&q)?;
    let body = st.services.audit_csv(parsed.filter).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"tenantry-audit.csv\"",
        ))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> AuditQ {
        let s = serde_urlencoded::to_string(pairs).unwrap_or_default();
        serde_urlencoded::from_str(&s).unwrap_or_default()
    }

    #[test]
    fn filters_parse_and_round_trip() {
        let p = parse_filter(&q(&[
            ("company", "7"),
            ("kind", "company"),
            ("outcome", "failure"),
            ("from", "2026-01-30"),
            ("to", "2026-01-31"),
        ]))
        .expect("parses");
        assert_eq!(p.filter.company_id, Some(7));
        assert_eq!(p.filter.outcome, Some(Outcome::Failure));
        assert_eq!(
            p.filter.to.map(|t| t.to_rfc3339()),
            Some("2026-02-01T00:00:00+00:00".into())
        );
        assert_eq!(
            p.query,
            "company=7&kind=company&outcome=failure&from=2026-01-30&to=2026-01-31"
        );
    }

    #[test]
    fn exact_times_win_over_dates() {
        let p = parse_filter(&q(&[
            ("from", "2026-01-30"),
            ("from_at", "2026-01-30T08:30"),
        ]));
        assert_eq!(
            p.ok().and_then(|p| p.filter.from).map(|t| t.to_rfc3339()),
            Some("2026-01-30T08:30:00+00:00".into())
        );
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        for (k, v) in [
            ("from", "yesterday-ish"),
            ("to", "2026-13-01"),
            ("company", "acme"),
            ("outcome", "meh"),
            ("kind", "a b"),
        ] {
            match parse_filter(&q(&[(k, v)])) {
                Err(WebError::BadRequest(m)) => assert!(m.contains(k), "{m}"),
                _ => panic!("{k}={v} was accepted"),
            }
        }
        assert!(parse_filter(&q(&[("from", "2026-02-01"), ("to", "2026-01-01")])).is_err());
    }
}
