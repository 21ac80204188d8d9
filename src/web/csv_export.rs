//! Contacts and assets as CSV, per company or across all companies, for the pages and the
//! API. The body is streamed: each chunk is one page of the list read through its index
//! (keyset paging), so an export holds one page in memory whatever the list's size.
//!
//! An export lists what its page lists: the page's search, sort, direction and filters ride
//! on the "Export CSV" link (and the API's query), so the file has exactly the page's rows in
//! the page's order, all pages of it.
//!
//! WHY the `'` prefix: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a
//! tab or carriage return) as a formula, and names and job titles come from the client's
//! tenant: prefixing such cells keeps them text (OWASP "CSV injection").

use crate::domain::DomainError;
use crate::model::{Asset, AssetFilter, Contact, ContactFilter, ListQuery};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::filters::{AssetFilterParams, ContactFilterParams};
use crate::web::pager::ListParams;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// What an export lists, as query parameters: the list page's `q`, `sort`, `dir` and filters
/// (`page` and `per_page` are ignored: an export has every page). The contact filters apply to
/// contacts, the asset filters to assets.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExportQuery {
    #[serde(flatten)]
    pub list: ListParams,
    #[serde(flatten)]
    pub assets: AssetFilterParams,
    #[serde(flatten)]
    pub contacts: ContactFilterParams,
}

/// The filter an export applies, checked before the first byte is sent.
#[derive(Debug, Clone)]
enum Filter {
    Contacts(ContactFilter),
    Assets(AssetFilter),
}

/// Rows per chunk (the list's largest page).
const CHUNK: usize = ListQuery::MAX_PER_PAGE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Contacts,
    Assets,
}

impl Export {
    fn noun(self) -> &'static str {
        match self {
            Export::Contacts => "contacts",
            Export::Assets => "assets",
        }
    }

    fn header(self) -> &'static [&'static str] {
        match self {
            Export::Contacts => &[
                "Company",
                "Name",
                "E-mail",
                "Sign-in name (UPN)",
                "Department",
                "Job title",
                "Status",
                "Guest",
                "Enabled in Entra",
                "Entra object id",
                "Last changed (UTC)",
            ],
            Export::Assets => &[
                "Company",
                "Hostname",
                "OS",
                "OS version",
                "Serial number",
                "Compliance",
                "Encrypted",
                "Last check-in (UTC)",
                "Status",
                "Last changed (UTC)",
                "Sources",
                "Warranty end",
            ],
        }
    }
}

/// One CSV cell: formula-safe, quoted when it must be.
pub fn cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn line(cells: &[String], out: &mut Vec<u8>) {
    let row: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    out.extend_from_slice(row.join(",").as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn yes_no(b: bool) -> String {
    if b { "Yes" } else { "No" }.to_string()
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn contact_row(c: &Contact, company: &str) -> Vec<String> {
    vec![
        company.to_string(),
        c.display_name.clone(),
        c.email.clone(),
        c.upn.clone(),
        c.department.clone(),
        c.job_title.clone(),
        if c.active { "Active" } else { "Inactive" }.to_string(),
        yes_no(c.is_guest),
        yes_no(c.account_enabled),
        c.entra_object_id.clone().unwrap_or_default(),
        when(Some(c.updated_at)),
    ]
}

fn asset_row(a: &Asset, company: &str) -> Vec<String> {
    vec![
        company.to_string(),
        a.hostname.clone(),
        a.os.clone(),
        a.os_version.clone(),
        a.serial_number.clone(),
        crate::domain::portal::compliance_label(&a.compliance_state)
            .0
            .to_string(),
        a.intune_encrypted().map(yes_no).unwrap_or_default(),
        when(a.last_check_in),
        if a.active { "Active" } else { "Removed" }.to_string(),
        when(Some(a.updated_at)),
        crate::web::views::asset_merge::sources_label(a).to_string(),
        // The date, or Level's text when it is not one (as the page shows it, without the badge:
        // a spreadsheet compares dates itself).
        a.merge
            .warranty_end
            .map(|d| d.format("%Y-%m-%d").to_string())
            .or_else(|| a.merge.warranty_text.clone())
            .unwrap_or_default(),
    ]
}

/// One chunk: the page after `cursor` (None: the first) as CSV lines, and the next cursor.
async fn chunk(
    st: &AppState,
    list: &ListParams,
    filter: &Filter,
    company: Option<u64>,
    cursor: Option<String>,
) -> Result<(Vec<u8>, Option<String>), WebError> {
    let mut q = ListQuery::new(
        None,
        Some(CHUNK),
        list.sort.as_deref(),
        list.dir.as_deref(),
        list.q.as_deref(),
    );
    if let Some(c) = cursor.as_deref() {
        q = q
            .with_cursor(c)
            .map_err(|e| WebError::BadRequest(e.to_string()))?;
    }
    // Each row's company name comes with the page, in its read.
    let mut out = Vec::new();
    let next = match filter {
        Filter::Contacts(f) => {
            let page = st
                .services
                .contacts_read_named(company, q, f.clone(), true)
                .await?;
            for (c, name) in &page.items {
                line(&contact_row(c, name), &mut out);
            }
            page.next_cursor
        }
        Filter::Assets(f) => {
            let page = st
                .services
                .assets_read_named(company, q, f.clone(), true)
                .await?;
            for (a, name) in &page.items {
                line(&asset_row(a, name), &mut out);
            }
            page.next_cursor
        }
    };
    Ok((out, next))
}

enum Step {
    Header,
    Page(Option<String>),
    Done,
}

/// The streamed CSV response: `tenantry-contacts-2026-12-04.csv`, or with the company's
/// slug for one company. An unknown company or a bad filter is refused before anything is
/// sent.
pub async fn respond(
    st: web::Data<AppState>,
    what: Export,
    company: Option<u64>,
    query: ExportQuery,
) -> Result<HttpResponse, WebError> {
    // The stale cutoff is counted once, so every chunk applies the same one.
    let filter = match what {
        Export::Contacts => Filter::Contacts(query.contacts.filter().map_err(DomainError::from)?),
        Export::Assets => Filter::Assets(
            query
                .assets
                .filter(st.services.now())
                .map_err(DomainError::from)?,
        ),
    };
    if let (Filter::Contacts(f), None) = (&filter, company)
        && f.group.is_some()
    {
        return Err(WebError::BadRequest(
            "a group filter needs a company: group ids belong to one company".into(),
        ));
    }
    let list = query.list;
    let prefix = match company {
        Some(id) => {
            let c = st.services.company(id).await?;
            crate::model::slug_from_name(&c.name, c.id)
        }
        None => "all-companies".to_string(),
    };
    let filename = format!(
        "{prefix}-{}-{}.csv",
        what.noun(),
        st.services.now().format("%Y-%m-%d")
    );
    let body = futures_util::stream::unfold(Step::Header, move |step| {
        let st = st.clone();
        let (list, filter) = (list.clone(), filter.clone());
        async move {
            match step {
                Step::Done => None,
                Step::Header => {
                    let mut out = Vec::new();
                    let cells: Vec<String> = what.header().iter().map(|h| h.to_string()).collect();
                    line(&cells, &mut out);
                    Some((Ok(web::Bytes::from(out)), Step::Page(None)))
                }
                Step::Page(cursor) => match chunk(&st, &list, &filter, company, cursor).await {
                    Ok((bytes, next)) => {
                        let step = match next {
                            Some(n) => Step::Page(Some(n)),
                            None => Step::Done,
                        };
                        Some((Ok(web::Bytes::from(bytes)), step))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "CSV export stopped");
                        Some((
                            Err(actix_web::error::ErrorInternalServerError("export failed")),
                            Step::Done,
                        ))
                    }
                },
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_kept_as_text() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1 555"), "'+1 555");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Ada, Lovelace"), "\"Ada, Lovelace\"");
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell(""), "");
    }
}
