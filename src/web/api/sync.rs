//! Microsoft 365 through the API: the app registration, connecting a company (answers with
//! the consent URL; the browser, or a script following redirects, completes it), and queuing
//! syncs (202 with the job; 409 for archived or unconnected companies).

use super::types::jobs::{QueuedJob, QueuedJobs};
use super::types::microsoft::{ConsentUrl, EntraBody, EntraSettings};
use super::{AdminCaller, AdminJson, ApiCaller, ApiError, ApiResult};
use crate::domain::consent::ConsentTarget;
use crate::model::Trigger;
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::{HttpResponse, web};

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
        .route(
            "/companies/{id}/sync-with-m365",
            web::post().to(sync_with_m365),
        )
        .route("/sync", web::post().to(sync_all));
}

async fn entra_get(
    _admin: AdminCaller,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<EntraSettings>> {
    let app = st.services.entra_app().await?;
    Ok(web::Json(EntraSettings::new(
        app,
        st.services.microsoft.redirect_uri.clone(),
        crate::domain::entra::PERMISSIONS
            .iter()
            .map(|p| p.0)
            .collect(),
        st.services.msp_tenant().await?,
    )))
}

async fn entra_put(
    admin: AdminJson<EntraBody>,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<EntraSettings>> {
    let AdminJson { caller: who, body } = admin;
    // Check the certificate before saving anything, so a bad pair changes nothing.
    if !body.certificate_pem.is_empty() || !body.private_key_pem.is_empty() {
        st.services
            .check_entra_certificate(&body.private_key_pem, &body.certificate_pem)?;
    }
    st.services
        .set_entra_app(who.admin_actor()?, &body.client_id, &body.client_secret)
        .await?;
    if !body.certificate_pem.is_empty() || !body.private_key_pem.is_empty() {
        st.services
            .set_entra_certificate(
                who.admin_actor()?,
                &body.private_key_pem,
                &body.certificate_pem,
            )
            .await?;
    }
    entra_get(who, st).await
}

/// Remove the stored certificate credential (404 when none is stored).
async fn entra_certificate_delete(
    who: AdminCaller,
    st: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    st.services
        .remove_entra_certificate(who.admin_actor()?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
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
        .disconnect_company_tenant(who.admin_actor()?, id.get())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn sync_company(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<HttpResponse> {
    let q = st
        .services
        .queue_company_sync(who.actor(), id.get(), Trigger::Api)
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("location", format!("/api/v1/jobs/{}", q.job.id)))
        .json(QueuedJob {
            job: q.job.into(),
            created: q.created,
        }))
}

/// The company page's "Sync With M365" button: the consent URL when the company is not
/// connected yet (open it in a browser; the first sync follows), else a queued sync.
async fn sync_with_m365(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<HttpResponse> {
    use crate::domain::tenants::SyncWithM365;
    match st
        .services
        .sync_with_m365(who.actor(), id.get(), Trigger::Api)
        .await?
    {
        SyncWithM365::Consent { url } => {
            Ok(HttpResponse::Ok().json(ConsentUrl { consent_url: url }))
        }
        SyncWithM365::Queued(q) => Ok(HttpResponse::Accepted()
            .insert_header(("location", format!("/api/v1/jobs/{}", q.job.id)))
            .json(QueuedJob {
                job: q.job.into(),
                created: q.created,
            })),
    }
}

async fn sync_all(who: ApiCaller, st: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let jobs = st
        .services
        .queue_all_syncs(who.actor(), Trigger::Api)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Accepted().json(QueuedJobs {
        jobs: jobs.into_iter().map(Into::into).collect(),
    }))
}
