//! Companies list → "Sync selected" (a confirmation page, then the syncs queued), and the
//! contacts and assets CSV exports (per company and across all companies).

use crate::domain::DomainError;
use crate::model::{Trigger, ValidationError};
use crate::web::AppState;
use crate::web::csrf::StaffForm;
use crate::web::csv_export::{self, Export, ExportQuery};
use crate::web::error::WebError;
use crate::web::ids::Id;
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::bulk::BulkSyncPage;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/companies/sync-selected", web::get().to(bulk_sync_get))
        .route("/companies/sync-selected", web::post().to(bulk_sync_post))
        .route("/contacts.csv", web::get().to(contacts_csv))
        .route("/assets.csv", web::get().to(assets_csv))
        .route(
            "/companies/{id}/contacts.csv",
            web::get().to(company_contacts_csv),
        )
        .route(
            "/companies/{id}/assets.csv",
            web::get().to(company_assets_csv),
        );
}

/// Company ids from repeated `id` fields (the list's checkboxes) or a comma-separated `ids`.
pub fn selected_ids(query: &str) -> Result<Vec<u64>, ValidationError> {
    let mut out = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let parts: Vec<&str> = match k.as_ref() {
            "id" => vec![v.as_ref()],
            "ids" => v.split(',').collect(),
            _ => continue,
        };
        for p in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
            out.push(
                p.parse().map_err(|_| {
                    ValidationError::new("ids", format!("{p:?} is not a company id"))
                })?,
            );
        }
    }
    Ok(out)
}

fn joined(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

async fn bulk_sync_get(
    staff: Staff,
    st: web::Data<AppState>,
    req: HttpRequest,
) -> Result<BulkSyncPage, WebError> {
    let ids = selected_ids(req.query_string()).map_err(DomainError::from)?;
    let lines = st.services.plan_bulk_sync(&ids).await?;
    Ok(BulkSyncPage {
        chrome: Chrome::new(&staff, "psa", None),
        ids: joined(&lines.iter().map(|l| l.company_id).collect::<Vec<_>>()),
        lines,
        done: false,
    })
}

#[derive(Deserialize)]
struct BulkForm {
    #[serde(default)]
    ids: String,
}

async fn bulk_sync_post(
    st: web::Data<AppState>,
    form: StaffForm<BulkForm>,
) -> Result<BulkSyncPage, WebError> {
    let StaffForm { staff, form: f } = form;
    let query = format!(
        "ids={}",
        url::form_urlencoded::byte_serialize(f.ids.as_bytes()).collect::<String>()
    );
    let ids = selected_ids(&query).map_err(DomainError::from)?;
    let lines = st
        .services
        .bulk_sync(staff.actor(), &ids, Trigger::CompanyButton)
        .await?;
    Ok(BulkSyncPage {
        chrome: Chrome::new(&staff, "psa", None),
        ids: String::new(),
        lines,
        done: true,
    })
}

/// `company` (optional) and the list page's search, sort and filters.
#[derive(Deserialize)]
struct CompanyQ {
    company: Option<String>,
    #[serde(flatten)]
    export: ExportQuery,
}

fn company_param(q: &CompanyQ) -> Result<Option<u64>, WebError> {
    match q
        .company
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => Ok(None),
        Some(c) => c
            .parse()
            .map(Some)
            .map_err(|_| WebError::BadRequest(format!("{c:?} is not a company id"))),
    }
}

async fn contacts_csv(
    _: Staff,
    st: web::Data<AppState>,
    q: web::Query<CompanyQ>,
) -> Result<HttpResponse, WebError> {
    let company = company_param(&q)?;
    csv_export::respond(st, Export::Contacts, company, q.into_inner().export).await
}

async fn assets_csv(
    _: Staff,
    st: web::Data<AppState>,
    q: web::Query<CompanyQ>,
) -> Result<HttpResponse, WebError> {
    let company = company_param(&q)?;
    csv_export::respond(st, Export::Assets, company, q.into_inner().export).await
}

async fn company_contacts_csv(
    _: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, WebError> {
    csv_export::respond(st, Export::Contacts, Some(id.get()), q.into_inner()).await
}

async fn company_assets_csv(
    _: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, WebError> {
    csv_export::respond(st, Export::Assets, Some(id.get()), q.into_inner()).await
}
