//! `/api/v1/settings/sso` (staff sign-in with Microsoft) and `/api/v1/companies/{id}/portal`
//! (a company's support portal authentication): the same settings as the pages, for scripts.

use super::{AdminCaller, AdminJson, ApiCaller, ApiResult};
use crate::domain::portal::PortalInput;
use crate::domain::sso::StaffSso;
use crate::model::PortalSettings;
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::web;
use serde::{Deserialize, Serialize};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/sso", web::get().to(sso_get))
        .route("/settings/sso", web::put().to(sso_put))
        .route("/companies/{id}/portal", web::get().to(portal_get))
        .route("/companies/{id}/portal", web::put().to(portal_put));
}

#[derive(Serialize)]
struct SsoView {
    #[serde(flatten)]
    settings: StaffSso,
    /// Register this on the Entra app (shared by staff and portal sign-in).
    redirect_uri: String,
    msp_tenant_id: Option<String>,
}

async fn sso_view(st: &AppState, settings: StaffSso) -> ApiResult<web::Json<SsoView>> {
    Ok(web::Json(SsoView {
        settings,
        redirect_uri: st.services.signin_redirect_uri(),
        msp_tenant_id: st.services.msp_tenant().await?.map(|m| m.tenant_id),
    }))
}

async fn sso_get(_admin: AdminCaller, st: web::Data<AppState>) -> ApiResult<web::Json<SsoView>> {
    let s = st.services.staff_sso().await?;
    sso_view(&st, s).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SsoBody {
    enabled: bool,
    #[serde(default = "yes")]
    match_email: bool,
    #[serde(default)]
    auto_create_group_id: String,
    #[serde(default)]
    local_login_loopback_only: bool,
}

fn yes() -> bool {
    true
}

async fn sso_put(
    admin: AdminJson<SsoBody>,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<SsoView>> {
    let AdminJson { caller: who, body } = admin;
    let b = body;
    let saved = st
        .services
        .update_staff_sso(
            who.actor(),
            StaffSso {
                enabled: b.enabled,
                match_email: b.match_email,
                auto_create_group_id: b.auto_create_group_id,
                local_login_loopback_only: b.local_login_loopback_only,
                updated_at: None,
            },
        )
        .await?;
    sso_view(&st, saved).await
}

#[derive(Serialize)]
struct PortalView {
    #[serde(flatten)]
    settings: PortalSettings,
    /// Path of the portal on this appliance.
    path: String,
}

fn portal_view(settings: PortalSettings) -> web::Json<PortalView> {
    web::Json(PortalView {
        path: format!("/portal/{}", settings.slug),
        settings,
    })
}

async fn portal_get(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<PortalView>> {
    // Any staff token may read; changing who gets in is an admin's call.
    let _ = who;
    Ok(portal_view(st.services.portal_settings(id.get()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortalBody {
    sso_enabled: bool,
    /// Omitted: keep the current address.
    #[serde(default)]
    slug: Option<String>,
    /// Contact groups allowed in (empty: every active contact). Members of groups nested in
    /// them, at any depth, count too.
    #[serde(default)]
    allowed_group_ids: Vec<u64>,
    /// Portal admins; members of nested groups count too.
    #[serde(default)]
    admin_group_id: Option<u64>,
}

async fn portal_put(
    admin: AdminJson<PortalBody>,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<PortalView>> {
    let AdminJson { caller: who, body } = admin;
    let b = body;
    let slug = match b.slug {
        Some(s) => s,
        None => st.services.portal_settings(id.get()).await?.slug,
    };
    let saved = st
        .services
        .update_portal_settings(
            who.actor(),
            id.get(),
            PortalInput {
                slug,
                sso_enabled: b.sso_enabled,
                allowed_group_ids: b.allowed_group_ids,
                admin_group_id: b.admin_group_id,
            },
        )
        .await?;
    Ok(portal_view(saved))
}
