//! Settings → Integrations → Microsoft Entra ID: the app registration (certificate, the
//! recommended credential, or client secret), connecting the MSP
//! tenant by admin consent, the connected tenants with their last and next syncs, Sync now;
//! and `/connect/callback`, where Microsoft sends the admin back after consent.

use super::see_other;
use crate::domain::consent::{ConsentCallback, ConsentOutcome, ConsentTarget};
use crate::domain::{DomainError, entra::PERMISSIONS};
use crate::model::{JobKind, Trigger};
use crate::web::AppState;
use crate::web::csrf::{AdminForm, StaffForm};
use crate::web::error::WebError;
use crate::web::handlers::NoticeQuery;
use crate::web::respond::to_microsoft;
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::entra::{EntraPage, NotConnectedPage, Retry, TenantRow};
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/integrations/entra", web::get().to(entra_get))
        .route("/settings/integrations/entra/app", web::post().to(app_post))
        .route(
            "/settings/integrations/entra/certificate",
            web::post().to(certificate_post),
        )
        .route(
            "/settings/integrations/entra/certificate/remove",
            web::post().to(certificate_remove_post),
        )
        .route(
            "/settings/integrations/entra/connect",
            web::post().to(connect_post),
        )
        .route(
            "/settings/integrations/entra/disconnect",
            web::post().to(disconnect_post),
        )
        .route(
            "/settings/integrations/entra/sync",
            web::post().to(sync_all_post),
        )
        .route("/connect/callback", web::get().to(callback_get));
}

async fn page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    error: String,
) -> Result<EntraPage, WebError> {
    let s = &st.services;
    let now = s.now();
    let fmt = |kind: &str| {
        if st.config.idle_job_kinds.iter().any(|k| k == kind) {
            return "— (not in this version yet)".to_string();
        }
        st.schedules
            .iter()
            .find(|x| x.job_kind == kind)
            .and_then(|x| x.next_after(now))
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "—".into())
    };
    let mut tenants = Vec::new();
    let mut refresh = false;
    // Every linked company (a page of 500 would silently drop tenants past it).
    for c in s.linked_companies().await? {
        let Some(t) = c.tenant.clone() else { continue };
        let report = s.sync_report(c.id).await?;
        let job = s.active_sync_job(c.id).await?;
        refresh |= job.is_some();
        tenants.push(TenantRow {
            company_id: c.id,
            company: c.name.clone(),
            tenant_id: t.tenant_id,
            tenant_name: t.tenant_name,
            connected: t.connected,
            archived: c.is_archived(),
            last_sync: report
                .as_ref()
                .and_then(|r| r.finished_at)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "never".into()),
            verdict: report.as_ref().map(|r| r.verdict()),
            summary: report
                .map(|r| {
                    r.devices_error
                        .map(|d| format!("{} — {d}", r.summary))
                        .unwrap_or(r.summary)
                })
                .unwrap_or_default(),
            job,
        });
    }
    let redirect_uri = s.microsoft.redirect_uri.clone();
    // "Sync queued" rides in the URL: once nothing is queued or running any more, the page
    // (which refreshed until then) says the sync finished, above each tenant's outcome.
    let notice = match notice {
        Some("sync_all_queued") if !refresh => Some("sync_finished"),
        other => other,
    };
    Ok(EntraPage {
        chrome: Chrome::new(staff, "settings", notice),
        app: s.entra_app().await?,
        msp: s.msp_tenant().await?,
        signin_redirect_uri: s.signin_redirect_uri(),
        redirect_uri,
        permissions: PERMISSIONS.to_vec(),
        tenants,
        next_identity: fmt(JobKind::IDENTITY_SYNC),
        next_evidence: fmt(JobKind::EVIDENCE_SYNC),
        refresh,
        error,
    })
}

async fn entra_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<NoticeQuery>,
) -> Result<EntraPage, WebError> {
    page(&st, &staff, q.notice.as_deref(), String::new()).await
}

#[derive(Deserialize)]
struct AppForm {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
}

async fn app_post(
    st: web::Data<AppState>,
    form: AdminForm<AppForm>,
) -> Result<HttpResponse, WebError> {
    let AdminForm { staff, form: f } = form;
    match st
        .services
        .set_entra_app(staff.admin_actor()?, &f.client_id, &f.client_secret)
        .await
    {
        Ok(_) => Ok(see_other("/settings/integrations/entra?notice=entra_saved")),
        Err(DomainError::Validation(v)) => {
            let p = page(&st, &staff, None, v.to_string()).await?;
            super::render(p, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, None)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct CertificateForm {
    #[serde(default)]
    private_key_pem: String,
    #[serde(default)]
    certificate_pem: String,
}

/// Store the certificate credential. The key is never echoed back, not even on a validation
/// error (the form comes back empty).
async fn certificate_post(
    st: web::Data<AppState>,
    form: AdminForm<CertificateForm>,
) -> Result<HttpResponse, WebError> {
    let AdminForm { staff, form: f } = form;
    match st
        .services
        .set_entra_certificate(staff.admin_actor()?, &f.private_key_pem, &f.certificate_pem)
        .await
    {
        Ok(_) => Ok(see_other(
            "/settings/integrations/entra?notice=entra_certificate_saved",
        )),
        Err(DomainError::Validation(v)) => {
            let p = page(&st, &staff, None, v.to_string()).await?;
            super::render(p, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, None)
        }
        Err(e) => Err(e.into()),
    }
}

async fn certificate_remove_post(
    st: web::Data<AppState>,
    form: AdminForm<Empty>,
) -> Result<HttpResponse, WebError> {
    st.services
        .remove_entra_certificate(form.staff.admin_actor()?)
        .await?;
    Ok(see_other(
        "/settings/integrations/entra?notice=entra_certificate_removed",
    ))
}

#[derive(Deserialize)]
struct Empty {}

async fn connect_post(
    st: web::Data<AppState>,
    form: AdminForm<Empty>,
) -> Result<HttpResponse, WebError> {
    let url = st
        .services
        .start_consent(form.staff.actor(), ConsentTarget::Msp)
        .await?;
    Ok(to_microsoft(&url, None))
}

async fn disconnect_post(
    st: web::Data<AppState>,
    form: AdminForm<Empty>,
) -> Result<HttpResponse, WebError> {
    st.services
        .disconnect_msp_tenant(form.staff.admin_actor()?)
        .await?;
    Ok(see_other(
        "/settings/integrations/entra?notice=msp_disconnected",
    ))
}

async fn sync_all_post(
    st: web::Data<AppState>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, WebError> {
    let jobs = st
        .services
        .queue_all_syncs(form.staff.actor(), Trigger::Manual)
        .await?;
    let notice = if jobs.is_empty() {
        "nothing_to_sync"
    } else {
        "sync_all_queued"
    };
    Ok(see_other(&format!(
        "/settings/integrations/entra?notice={notice}"
    )))
}

/// Microsoft's redirect back. The single-use state is the proof; no session is needed (a
/// script following redirects can complete a consent started through the API). A staff
/// session, when there is one, only adds the navigation to the "not connected" page.
async fn callback_get(
    st: web::Data<AppState>,
    staff: Option<Staff>,
    q: web::Query<ConsentCallback>,
) -> Result<HttpResponse, WebError> {
    match st.services.finish_consent(q.into_inner()).await? {
        ConsentOutcome::MspConnected(_) => Ok(see_other(
            "/settings/integrations/entra?notice=msp_connected",
        )),
        ConsentOutcome::CompanyConnected { company_id, .. } => Ok(see_other(&format!(
            "/companies/{company_id}?notice=sync_queued"
        ))),
        ConsentOutcome::NotConnected {
            target,
            cancelled,
            message,
        } => not_connected(&st, staff.as_ref(), target, cancelled, message).await,
    }
}

/// The page that says nothing was connected and leads back to where the consent started:
/// the company, or Settings → Integrations → Microsoft Entra ID for the MSP's own tenant.
async fn not_connected(
    st: &AppState,
    staff: Option<&Staff>,
    target: ConsentTarget,
    cancelled: bool,
    message: String,
) -> Result<HttpResponse, WebError> {
    let (section, back_href, back_label, retry) = match target {
        ConsentTarget::Company(id) => {
            // The company may have been deleted while the admin was at Microsoft.
            let (href, label) = match st.services.company(id).await {
                Ok(c) => (format!("/companies/{id}"), format!("Back to {}", c.name)),
                Err(DomainError::NotFound(_)) => {
                    ("/companies".to_string(), "Back to Companies".to_string())
                }
                Err(e) => return Err(e.into()),
            };
            (
                "psa",
                href,
                label,
                if staff.is_some() {
                    Retry::Company(id)
                } else {
                    Retry::None
                },
            )
        }
        ConsentTarget::Msp => (
            "settings",
            "/settings/integrations/entra".to_string(),
            "Back to Settings → Integrations → Microsoft Entra ID".to_string(),
            // Connecting the MSP tenant is for admins only.
            if staff.is_some_and(Staff::is_admin) {
                Retry::Msp
            } else {
                Retry::None
            },
        ),
    };
    let page = NotConnectedPage {
        chrome: staff.map(|s| Chrome::new(s, section, None)),
        title: if cancelled {
            "Consent cancelled"
        } else {
            "Not connected"
        },
        message,
        cancelled,
        back_href,
        back_label,
        retry,
    };
    // A cancel is the admin's choice; anything else is a refusal the status should show.
    let status = if cancelled {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::CONFLICT
    };
    super::render(page, status, None)
}
