//! PSA → Contacts and PSA → Assets across every company, and the tables the company page reuses.

use crate::domain::DomainError;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::filters::{AssetFilterParams, ComplianceBar, ContactFilterParams, FilterView};
use crate::web::ids::Id;
use crate::web::pager::{self, ListParams, Pager};
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::directory::{
    AssetPage, AssetRow, AssetsPage, ContactPage, ContactRow, ContactsPage, DecisionRow, Table,
};
use actix_web::web;
use std::collections::HashMap;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts", web::get().to(contacts_get))
        .route("/assets", web::get().to(assets_get))
        .route("/companies/{id}/contacts/{cid}", web::get().to(contact_get))
        .route("/companies/{id}/assets/{aid}", web::get().to(asset_get));
}

/// An asset's page: primary user, sources, compliance, encryption, where each field comes
/// from, and the review pairs and remembered decisions about its records. Another company's
/// asset id is 404.
async fn asset_get(
    staff: Staff,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    q: web::Query<crate::web::handlers::NoticeQuery>,
) -> Result<AssetPage, WebError> {
    let (company_id, asset_id) = path.into_inner();
    let company = st.services.company(company_id.get()).await?;
    let detail = st.services.asset_detail(company.id, asset_id.get()).await?;
    let prov = st
        .services
        .asset_provenance(company.id, asset_id.get())
        .await?;
    Ok(AssetPage {
        chrome: Chrome::new(&staff, "psa", q.notice.as_deref()),
        review: prov.review,
        decisions: prov
            .decisions
            .into_iter()
            .map(|((intune_id, level_id), d)| DecisionRow {
                intune_id,
                level_id,
                merged: d.kind == crate::model::PairDecisionKind::Merge,
                by: d.by,
                at: d.at,
            })
            .collect(),
        row: AssetRow {
            asset: detail.asset,
            company: company.name.clone(),
            today: st.services.now().date_naive(),
        },
        primary_user: detail.primary_user,
        company,
    })
}

/// A contact's page: Entra identity, groups, devices. Another company's contact id is 404.
async fn contact_get(
    staff: Staff,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
) -> Result<ContactPage, WebError> {
    let (company_id, contact_id) = path.into_inner();
    let company = st.services.company(company_id.get()).await?;
    let detail = st
        .services
        .contact_detail(company.id, contact_id.get())
        .await?;
    let today = st.services.now().date_naive();
    let devices = detail
        .devices
        .iter()
        .cloned()
        .map(|asset| AssetRow {
            asset,
            company: company.name.clone(),
            today,
        })
        .collect();
    Ok(ContactPage {
        chrome: Chrome::new(&staff, "psa", None),
        company,
        detail,
        devices,
    })
}

pub async fn contact_table(
    st: &AppState,
    company: Option<u64>,
    params: &ListParams,
    filter: &ContactFilterParams,
    base: &str,
    names: Option<&HashMap<u64, String>>,
    group_choices: Option<Vec<(u64, String)>>,
) -> Result<Table<ContactRow>, WebError> {
    let f = filter.filter().map_err(DomainError::from)?;
    let services = &st.services;
    // Every contact list pages by cursor both ways, a group's members too (by contact id:
    // the store reads them backwards for a Previous link).
    // Without the names (every company's list), they come with the page, in its read.
    let with_names = names.is_none();
    let (q, page, cursors) = pager::fetch(params, move |q| {
        services.contacts_read_named(company, q, f.clone(), with_names)
    })
    .await?;
    // The group choice is offered on a company's page only (group ids are per company);
    // the company page reads them with its header.
    let groups = match (group_choices, company) {
        (Some(g), _) => g,
        (None, Some(c)) => st.services.group_choices(c).await?,
        (None, None) => Vec::new(),
    };
    let base = format!("{base}{}", with_sep(base, &filter.query_string()));
    let pager = Pager::new(&base, &q, &page).with(&cursors);
    let rows = page
        .items
        .into_iter()
        .map(|(c, read)| ContactRow {
            company: names
                .and_then(|n| n.get(&c.company_id).cloned())
                .unwrap_or(read),
            contact: c,
        })
        .collect();
    let mut f = FilterView::contacts(filter, groups);
    f.export_url = export_url(company, "contacts", params, &filter.query_string());
    Ok(Table {
        rows,
        pager,
        f,
        why_empty: Default::default(),
    })
}

/// The CSV export of a company's list, or of every company's, with the page's search, sort,
/// direction and filters (`filters`: `&k=v...`), so the file holds what the page lists.
fn export_url(company: Option<u64>, what: &str, params: &ListParams, filters: &str) -> String {
    let path = match company {
        Some(c) => format!("/companies/{c}/{what}.csv"),
        None => format!("/{what}.csv"),
    };
    let mut extra = String::new();
    for (k, v) in [
        ("q", &params.q),
        ("sort", &params.sort),
        ("dir", &params.dir),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            let v: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            extra.push_str(&format!("&{k}={v}"));
        }
    }
    extra.push_str(filters);
    format!("{path}{}", with_sep(&path, &extra))
}

/// `extra` (`&k=v...`) to append to `base`: its first `&` becomes `?` when `base` has no query.
fn with_sep(base: &str, extra: &str) -> String {
    match extra.strip_prefix('&') {
        Some(rest) if !base.contains('?') => format!("?{rest}"),
        _ => extra.to_string(),
    }
}

pub async fn asset_table(
    st: &AppState,
    company: Option<u64>,
    params: &ListParams,
    filter: &AssetFilterParams,
    base: &str,
    names: Option<&HashMap<u64, String>>,
) -> Result<Table<AssetRow>, WebError> {
    let f = filter
        .filter(st.services.now())
        .map_err(DomainError::from)?;
    let services = &st.services;
    // Without the names (every company's list), they come with the page, in its read.
    let with_names = names.is_none();
    let (q, page, cursors) = pager::fetch(params, move |q| {
        services.assets_read_named(company, q, f.clone(), with_names)
    })
    .await?;
    let base = format!("{base}{}", with_sep(base, &filter.query_string()));
    let pager = Pager::new(&base, &q, &page).with(&cursors);
    let today = st.services.now().date_naive();
    let rows = page
        .items
        .into_iter()
        .map(|(a, read)| AssetRow {
            company: names
                .and_then(|n| n.get(&a.company_id).cloned())
                .unwrap_or(read),
            asset: a,
            today,
        })
        .collect();
    let counts = st.services.compliance_counts(company).await?;
    let mut f = FilterView::assets(filter);
    f.export_url = export_url(company, "assets", params, &filter.query_string());
    f.bar = (counts.total > 0).then(|| ComplianceBar::new(&counts));
    Ok(Table {
        rows,
        pager,
        f,
        why_empty: Default::default(),
    })
}

async fn contacts_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<ListParams>,
    f: web::Query<ContactFilterParams>,
) -> Result<ContactsPage, WebError> {
    // Company names of the rows shown, read with the page.
    let p = contact_table(&st, None, &q, &f, "/contacts", None, None).await?;
    Ok(ContactsPage {
        chrome: Chrome::new(&staff, "psa", None),
        p,
        show_company: true,
    })
}

async fn assets_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<ListParams>,
    f: web::Query<AssetFilterParams>,
) -> Result<AssetsPage, WebError> {
    let p = asset_table(&st, None, &q, &f, "/assets", None).await?;
    Ok(AssetsPage {
        chrome: Chrome::new(&staff, "psa", None),
        p,
        show_company: true,
    })
}
