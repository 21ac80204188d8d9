//! The MSP's own tenant through the API, as Settings → Integrations → Microsoft Entra ID does
//! it: `POST /settings/entra/connect` answers the admin-consent URL (open it in a browser, or
//! follow it in a script; Microsoft's redirect to `/connect/callback` completes it), and
//! `POST /settings/entra/disconnect` forgets the tenant. Staff sign-in with Microsoft
//! (`PUT /settings/sso`) needs the tenant connected first.

use super::types::microsoft::ConsentUrl;
use super::{AdminCaller, ApiResult};
use crate::domain::consent::ConsentTarget;
use crate::web::AppState;
use actix_web::{HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/entra/connect", web::post().to(connect))
        .route("/settings/entra/disconnect", web::post().to(disconnect));
}

async fn connect(who: AdminCaller, st: web::Data<AppState>) -> ApiResult<web::Json<ConsentUrl>> {
    let consent_url = st
        .services
        .start_consent(who.actor(), ConsentTarget::Msp)
        .await?;
    Ok(web::Json(ConsentUrl { consent_url }))
}

/// 204; 409 `conflict` when no MSP tenant is connected.
async fn disconnect(who: AdminCaller, st: web::Data<AppState>) -> ApiResult<HttpResponse> {
    st.services
        .disconnect_msp_tenant(who.admin_actor()?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
