//! `POST /api/v1/companies/sync` (sync the companies named, skipping with the reason those
//! that cannot sync) and the CSV exports `GET /api/v1/contacts.csv` and `/api/v1/assets.csv`.

use super::types::bulk::{BulkSyncResults, SyncSelected};
use super::{ApiCaller, ApiResult};
use crate::model::Trigger;
use crate::web::AppState;
use crate::web::csv_export::{self, Export, ExportQuery};
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/companies/sync", web::post().to(sync_selected))
        .route("/contacts.csv", web::get().to(contacts_csv))
        .route("/assets.csv", web::get().to(assets_csv));
}

async fn sync_selected(
    who: ApiCaller,
    st: web::Data<AppState>,
    body: web::Json<SyncSelected>,
) -> ApiResult<HttpResponse> {
    let lines = st
        .services
        .bulk_sync(who.actor(), &body.ids, Trigger::Api)
        .await?;
    Ok(HttpResponse::Accepted().json(BulkSyncResults {
        companies: lines.into_iter().map(Into::into).collect(),
    }))
}

/// `company` (optional) and the list's `q`, `sort`, `dir` and filters, as the list endpoints
/// take them.
#[derive(Debug, Deserialize)]
struct CompanyQ {
    company: Option<String>,
    #[serde(flatten)]
    export: ExportQuery,
}

async fn export(st: web::Data<AppState>, what: Export, q: CompanyQ) -> ApiResult<HttpResponse> {
    let company = super::audit::parse_num("company", q.company.as_deref())?;
    // A missing company answers the API's JSON 404 before the stream starts.
    if let Some(id) = company {
        st.services.company(id).await?;
    }
    csv_export::respond(st, what, company, q.export)
        .await
        .map_err(|e| super::ApiError::bad_request(e.to_string()))
}

async fn contacts_csv(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<CompanyQ>,
) -> ApiResult<HttpResponse> {
    export(st, Export::Contacts, q.into_inner()).await
}

async fn assets_csv(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<CompanyQ>,
) -> ApiResult<HttpResponse> {
    export(st, Export::Assets, q.into_inner()).await
}
