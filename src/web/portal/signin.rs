//! Portal sign-in with Microsoft against the company's own tenant.

use crate::web::AppState;
use crate::web::csrf::pre_session_token;
use crate::web::error::WebError;
use crate::web::handlers::render;
use crate::web::views::portal::PortalSignInPage;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn routes(_cfg: &mut web::ServiceConfig) {}

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
