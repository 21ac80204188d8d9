//! `POST /api/v1/companies/sync` (sync the companies named, skipping with the reason those
//! that cannot sync) and the CSV exports `GET /api/v1/contacts.csv` and `/api/v1/assets.csv`.

use super::{ApiCaller, ApiResult};
use crate::domain::bulk_sync::BulkSyncLine;
use crate::model::Trigger;
use crate::web::AppState;
use crate::web::csv_export::{self, Export};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/companies/sync", web::post().to(sync_selected))
        .route("/contacts.csv", web::get().to(contacts_csv))
        .route("/assets.csv", web::get().to(assets_csv));
}

#[derive(Debug, Deserialize)]
struct SyncSelected {
    /// Company ids (at most 500).
    ids: Vec<u64>,
}

/// One company's line of a bulk sync.
#[derive(Debug, Serialize)]
struct BulkSyncResult {
    /// The company.
    company_id: u64,
    /// Its name.
    name: String,
    /// `queued`, `already_queued` (a sync was queued or running) or `skipped`.
    outcome: &'static str,
    /// The sync job, when one was queued or already queued.
    job_id: Option<u64>,
    /// Why it was skipped (archived, not connected), in words.
    reason: Option<String>,
}

impl From<BulkSyncLine> for BulkSyncResult {
    fn from(l: BulkSyncLine) -> Self {
        let outcome = match (l.skipped(), l.created()) {
            (Some(_), _) => "skipped",
            (None, true) => "queued",
            (None, false) => "already_queued",
        };
        Self {
            company_id: l.company_id,
            outcome,
            job_id: l.job_id(),
            reason: l.skipped().map(str::to_string),
            name: l.name,
        }
    }
}

/// The lines of a bulk sync, in the order asked.
#[derive(Debug, Serialize)]
struct BulkSyncResults {
    /// One per company.
    companies: Vec<BulkSyncResult>,
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

#[derive(Debug, Deserialize)]
struct CompanyQ {
    company: Option<String>,
}

async fn export(st: web::Data<AppState>, what: Export, q: &CompanyQ) -> ApiResult<HttpResponse> {
    let company = super::audit::parse_num("company", q.company.as_deref())?;
    // A missing company answers the API's JSON 404 before the stream starts.
    if let Some(id) = company {
        st.services.company(id).await?;
    }
    csv_export::respond(st, what, company)
        .await
        .map_err(|e| super::ApiError::bad_request(e.to_string()))
}

async fn contacts_csv(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<CompanyQ>,
) -> ApiResult<HttpResponse> {
    export(st, Export::Contacts, &q).await
}

async fn assets_csv(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<CompanyQ>,
) -> ApiResult<HttpResponse> {
    export(st, Export::Assets, &q).await
}
