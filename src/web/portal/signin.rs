//! Portal sign-in with Microsoft against the company's own tenant.

use crate::domain::DomainError;
use crate::web::AppState;
use crate::web::client::client_ip;
use crate::web::csrf::{PublicForm, pre_session_token};
use crate::web::error::WebError;
use crate::web::respond::{render, to_microsoft, too_many_starts, with_retry_after};
use crate::web::session::signin_state_cookie;
use crate::web::views::portal::PortalSignInPage;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/portal/{slug}/signin", web::post().to(signin_post));
}

#[derive(serde::Deserialize)]
struct Empty {}

/// "Sign in with Microsoft" on a portal: off to the company's own tenant.
async fn signin_post(
    req: HttpRequest,
    st: web::Data<AppState>,
    path: web::Path<String>,
    _form: PublicForm<Empty>,
) -> Result<HttpResponse, WebError> {
    let slug = path.into_inner().to_ascii_lowercase();
    let (company, _) = st.services.portal_by_slug(&slug).await?;
    match st
        .services
        .begin_portal_sign_in(company.id, None, &client_ip(&req))
        .await
    {
        Ok((url, sealed)) => Ok(to_microsoft(
            &url,
            Some(signin_state_cookie(st.config.secure_cookies, sealed)),
        )),
        Err(DomainError::Conflict(msg)) => signin_page(&req, &st, &slug, msg).await,
        Err(DomainError::RateLimited { retry_after_secs }) => {
            let page = signin_page(&req, &st, &slug, too_many_starts(retry_after_secs)).await?;
            Ok(with_retry_after(page, retry_after_secs))
        }
        Err(e) => Err(e.into()),
    }
}

/// The sign-in page of the portal at `slug` (404 for an unknown portal).
pub(super) async fn signin_page(
    req: &HttpRequest,
    st: &web::Data<AppState>,
    slug: &str,
    error: String,
) -> Result<HttpResponse, WebError> {
    let (company, settings) = st.services.portal_by_slug(slug).await?;
    let (csrf, cookie) = pre_session_token(req);
    let signed_out = req.query_string().contains("signed_out=1");
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    render(
        PortalSignInPage {
            company_name: company.name,
            slug: settings.slug,
            csrf,
            sso_enabled: settings.sso_enabled
                && !company.status.eq(&crate::model::CompanyStatus::Archived),
            error,
            notice: if signed_out {
                "You are signed out.".into()
            } else {
                String::new()
            },
        },
        status,
        cookie,
    )
}
