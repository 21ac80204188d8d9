//! Microsoft 365 through the API: the app registration, connecting a company (answers with
//! the consent URL; the browser, or a script following redirects, completes it), and queuing
//! syncs (202 with the job; 409 for archived or unconnected companies).

use super::{AdminCaller, AdminJson, ApiCaller, ApiError, ApiResult};
use crate::domain::consent::ConsentTarget;
use crate::model::{Job, Trigger};
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/entra", web::get().to(entra_get))
        .route("/settings/entra", web::put().to(entra_put))
        .route(
            "/settings/entra/certificate",
            web::delete().to(entra_certificate_delete),
        )
        .route("/companies/{id}/connect", web::post().to(connect))
        .route("/companies/{id}/disconnect", web::post().to(disconnect))
        .route("/companies/{id}/sync", web::post().to(sync_company))
        .route("/sync", web::post().to(sync_all));
}

#[derive(Serialize)]
struct EntraView {
    client_id: String,
    has_secret: bool,
    source: &'static str,
    /// What token requests use: `certificate`, `secret` or `none`.
    credential: &'static str,
    /// Thumbprint, subject and expiry of the certificate credential (never its key).
    certificate: Option<crate::domain::entra::CertificateSummary>,
    redirect_uri: String,
    permissions: Vec<&'static str>,
    msp_tenant: Option<crate::domain::consent::MspTenant>,
}

async fn entra_get(
    _admin: AdminCaller,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<EntraView>> {
    let app = st.services.entra_app().await?;
    Ok(web::Json(EntraView {
        client_id: app.client_id,
        has_secret: app.has_secret,
        source: app.source,
        credential: app.credential,
        certificate: app.certificate,
        redirect_uri: st.services.microsoft.redirect_uri.clone(),
        permissions: crate::domain::entra::PERMISSIONS
            .iter()
            .map(|p| p.0)
            .collect(),
        msp_tenant: st.services.msp_tenant().await?,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntraBody {
    client_id: String,
    #[serde(default)]
    client_secret: String,
    /// PEM certificate uploaded to the app registration; with `private_key_pem`, token
    /// requests use it instead of the secret. Both omitted: the stored certificate is kept.
    #[serde(default)]
    certificate_pem: String,
    #[serde(default)]
    private_key_pem: String,
}

async fn entra_put(
    admin: AdminJson<EntraBody>,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<EntraView>> {
    let AdminJson { caller: who, body } = admin;
    // Check the certificate before saving anything, so a bad pair changes nothing.
    if !body.certificate_pem.is_empty() || !body.private_key_pem.is_empty() {
        st.services
            .check_entra_certificate(&body.private_key_pem, &body.certificate_pem)?;
    }
    st.services
        .set_entra_app(who.actor(), &body.client_id, &body.client_secret)
        .await?;
    if !body.certificate_pem.is_empty() || !body.private_key_pem.is_empty() {
        st.services
            .set_entra_certificate(who.actor(), &body.private_key_pem, &body.certificate_pem)
            .await?;
    }
    entra_get(who, st).await
}

/// Remove the stored certificate credential (404 when none is stored).
async fn entra_certificate_delete(
    who: AdminCaller,
    st: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    st.services.remove_entra_certificate(who.actor()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
struct ConsentUrl {
    consent_url: String,
}

async fn connect(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<ConsentUrl>> {
    let consent_url = st
        .services
        .start_consent(who.actor(), ConsentTarget::Company(id.get()))
        .await?;
    Ok(web::Json(ConsentUrl { consent_url }))
}

async fn disconnect(
    who: AdminCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<HttpResponse> {
    st.services
        .disconnect_company_tenant(who.actor(), id.get())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
struct QueuedJob {
    job: Job,
    /// False when a sync was already queued or running; this is that job.
    created: bool,
}

async fn sync_company(
    _who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<HttpResponse> {
    let q = st
        .services
        .queue_company_sync(id.get(), Trigger::Api)
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("location", format!("/api/v1/jobs/{}", q.job.id)))
        .json(QueuedJob {
            job: q.job,
            created: q.created,
        }))
}

#[derive(Serialize)]
struct QueuedAll {
    jobs: Vec<Job>,
}

async fn sync_all(_who: ApiCaller, st: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let jobs = st
        .services
        .queue_all_syncs(Trigger::Api)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Accepted().json(QueuedAll { jobs }))
}
