//! `/api/v1/settings/sso` (staff sign-in with Microsoft) and `/api/v1/companies/{id}/portal`
//! (a company's support portal authentication): the same settings as the pages, for scripts.

use super::types::settings::{PortalBody, PortalSettings, SsoBody, SsoSettings};
use super::{AdminCaller, AdminJson, ApiCaller, ApiResult};
use crate::domain::portal::PortalInput;
use crate::domain::sso::StaffSso;
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/sso", web::get().to(sso_get))
        .route("/settings/sso", web::put().to(sso_put))
        .route("/companies/{id}/portal", web::get().to(portal_get))
        .route("/companies/{id}/portal", web::put().to(portal_put));
}

async fn sso_view(st: &AppState, settings: StaffSso) -> ApiResult<web::Json<SsoSettings>> {
    Ok(web::Json(SsoSettings::new(
        settings,
        st.services.signin_redirect_uri(),
        st.services.msp_tenant().await?.map(|m| m.tenant_id),
    )))
}

async fn sso_get(
    _admin: AdminCaller,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<SsoSettings>> {
    let s = st.services.staff_sso().await?;
    sso_view(&st, s).await
}

async fn sso_put(
    admin: AdminJson<SsoBody>,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<SsoSettings>> {
    let AdminJson { caller: who, body } = admin;
    let b = body;
    let saved = st
        .services
        .update_staff_sso(
            who.admin_actor()?,
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

async fn portal_get(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<PortalSettings>> {
    // Any staff token may read; changing who gets in is an admin's call.
    let _ = who;
    Ok(web::Json(
        st.services.portal_settings(id.get()).await?.into(),
    ))
}

async fn portal_put(
    admin: AdminJson<PortalBody>,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<PortalSettings>> {
    let AdminJson { caller: who, body } = admin;
    let b = body;
    let slug = match b.slug {
        Some(s) => s,
        None => st.services.portal_settings(id.get()).await?.slug,
    };
    let saved = st
        .services
        .update_portal_settings(
            who.admin_actor()?,
            id.get(),
            PortalInput {
                slug,
                sso_enabled: b.sso_enabled,
                allowed_group_ids: b.allowed_group_ids,
                admin_group_id: b.admin_group_id,
            },
        )
        .await?;
    Ok(web::Json(saved.into()))
}
