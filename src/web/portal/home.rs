//! The portal's home page: the signed-in user's profile as synced, and their devices.

use super::session::{PortalUser, portal_cookie_name};
use crate::domain::portal::{compliance_label, compliance_meaning};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::respond::{NoticeQuery, render, see_other};
use crate::web::session::removal_cookie;
use crate::web::views::portal::{DeviceRow, PortalChrome, PortalHomePage};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/portal/{slug}", web::get().to(home_get))
        .route("/portal/{slug}/signout", web::post().to(signout_post));
}

async fn home_get(
    req: actix_web::HttpRequest,
    st: web::Data<AppState>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    let user = match PortalUser::load(&req).await {
        Ok(u) => u,
        Err(WebError::PortalSignInRequired { slug }) => {
            return super::signin::signin_page(&req, &st, &slug, String::new()).await;
        }
        Err(e) => return Err(e),
    };
    let (devices, groups) = st.services.portal_profile(&user.0).await?;
    let c = &user.0.contact;
    let page = PortalHomePage {
        portal: PortalChrome::new(&user.0, "home", q.notice.as_deref()),
        display_name: c.display_name.clone(),
        email: c.email.clone(),
        upn: c.upn.clone(),
        department: c.department.clone(),
        job_title: c.job_title.clone(),
        groups,
        devices: devices
            .into_iter()
            .map(|a| DeviceRow {
                meaning: compliance_meaning(&a.compliance_state),
                hostname: a.hostname,
                os: [a.os, a.os_version].join(" ").trim().to_string(),
                serial_number: a.serial_number,
                compliance_state: compliance_label(&a.compliance_state).0.to_string(),
                last_check_in: a
                    .last_check_in
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        synced_at: c.updated_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    };
    render(page, StatusCode::OK, None)
}

async fn signout_post(
    st: web::Data<AppState>,
    form: super::session::PortalForm<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    let user = form.user;
    st.services.portal_sign_out(&user.0).await?;
    let secure = st.config.secure_cookies;
    let mut resp = see_other(&format!("/portal/{}?signed_out=1", user.slug()));
    resp.add_removal_cookie(&removal_cookie(portal_cookie_name(secure), secure))
        .map_err(|e| WebError::internal("setting a cookie", e))?;
    Ok(resp)
}
