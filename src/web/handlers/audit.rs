//! The audit log page with filters and CSV export. Every filter value arrives as text and a
//! bad one is refused with a 400 that names it (never a 500).

use crate::model::audit_present as present;
use crate::model::{AuditFilter, AuditFilterInput, ListQuery, Page};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::pager::{self, ListParams, Pager};
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::audit::{AuditPage, AuditRow, CompanyOption};
use crate::web::views::jobs::Choice;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// Events per page.
const PER_PAGE: usize = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit_get))
        .route("/audit.csv", web::get().to(audit_csv_get));
}

/// The filter form as sent, plus paging.
#[derive(Debug, Default, Deserialize)]
struct AuditQ {
    #[serde(flatten)]
    filter: AuditFilterInput,
    page: Option<String>,
    per_page: Option<String>,
    /// Cursor links of the shared pager (see `web::pager`).
    cursor: Option<String>,
    before: Option<String>,
    last: Option<String>,
}

/// The parsed filter plus the query string that reproduces it (for paging and CSV links).
struct Parsed {
    filter: AuditFilter,
    query: String,
}

fn parse_filter(q: &AuditQ) -> Result<Parsed, WebError> {
    let filter = AuditFilter::parse(&q.filter)
        .map_err(|e| WebError::BadRequest(format!("The audit filter is not valid: {e}.")))?;
    let q = &q.filter;
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
        filter,
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
    // The company filter offers every company (by name, through the companies index).
    let choices = st.services.company_choices().await?;
    let names: std::collections::HashMap<u64, String> = choices.iter().cloned().collect();
    // Newest first is the log's only order, so no sort or direction is taken from the link.
    let params = ListParams {
        page: Some(page_n),
        per_page: Some(per_page),
        cursor: q.cursor.clone(),
        before: q.before.clone(),
        last: q.last.clone(),
        ..ListParams::default()
    };
    let services = &st.services;
    let wanted = parsed.filter.clone();
    let (list, page, cursors): (_, Page<_>, _) =
        pager::fetch(&params, move |q| services.audit_list(wanted.clone(), q)).await?;
    let base = if parsed.query.is_empty() {
        "/audit".to_string()
    } else {
        format!("/audit?{}", parsed.query)
    };
    let pager = Pager::new(&base, &list, &page).with(&cursors);
    let rows = page
        .items
        .into_iter()
        .map(|e| AuditRow {
            verdict: crate::model::Verdict::of_audit(&e),
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
    let companies: Vec<CompanyOption> = choices
        .into_iter()
        .map(|(id, name)| CompanyOption {
            selected: parsed.filter.company_id == Some(id),
            id,
            name,
        })
        .collect();
    let text = |v: &Option<String>| present(v).unwrap_or("").to_string();
    Ok(AuditPage {
        chrome: Chrome::new(&staff, "audit", None),
        rows,
        pager,
        companies,
        kinds: kind_choices(&text(&q.filter.kind)),
        outcome: match parsed.filter.outcome {
            Some(o) => o.as_str(),
            None => "any",
        },
        from: text(&q.filter.from),
        to: text(&q.filter.to),
        from_at: text(&q.filter.from_at),
        to_at: text(&q.filter.to_at),
        filtered: !parsed.query.is_empty(),
        csv_url: if parsed.query.is_empty() {
            "/audit.csv".to_string()
        } else {
            format!("/audit.csv?{}", parsed.query)
        },
    })
}

/// The Kind filter's list, with `current` added when it is not a known kind (a link or an
/// older bookmark), so the page still shows what it filters by.
fn kind_choices(current: &str) -> Vec<Choice> {
    let mut all: Vec<(String, String)> = crate::model::AUDIT_KINDS
        .iter()
        .map(|(k, l)| (k.to_string(), format!("{l} ({k})")))
        .collect();
    if !current.is_empty() && !all.iter().any(|(k, _)| k == current) {
        all.push((current.to_string(), current.to_string()));
    }
    Choice::list(all, current)
}

async fn audit_csv_get(
    _staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<AuditQ>,
) -> Result<HttpResponse, WebError> {
    let parsed = parse_filter(&q)?;
    Ok(crate::web::csv_stream::csv_response(
        st.services.audit_csv_chunks(parsed.filter),
    ))
}
