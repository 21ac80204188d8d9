//! The client support portal at `/portal/{slug}`: sign-in with the company's own tenant,
//! the user's profile and devices, and support requests. Staff pages live in `handlers`.

mod home;
mod requests;
pub mod session;
mod signin;

use crate::web::AppState;
use crate::web::error::WebError;
use actix_web::{HttpRequest, HttpResponse, web};

/// The portal's sign-in page showing why a Microsoft sign-in was refused.
pub async fn signin_refused(
    req: &HttpRequest,
    st: &web::Data<AppState>,
    slug: &str,
    message: String,
) -> Result<HttpResponse, WebError> {
    signin::signin_page(req, st, slug, message).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    signin::routes(cfg);
    requests::routes(cfg);
    home::routes(cfg);
}
