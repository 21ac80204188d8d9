//! Page handlers, one file per area. Names: `<page>_get` / `<page>_post`.

mod audit;
mod auth;
mod authentication;
mod companies;
mod directory;
mod entra;
mod health;
mod jobs;
mod requests;
mod settings;
mod sso;

pub(crate) use sso::{to_microsoft, too_many_starts, with_retry_after};

use crate::web::error::WebError;
use crate::web::redirect::LocalPath;
use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(|| async { see_other("/companies") }));
    health::routes(cfg);
    auth::routes(cfg);
    sso::routes(cfg);
    authentication::routes(cfg);
    companies::routes(cfg);
    directory::routes(cfg);
    settings::routes(cfg);
    entra::routes(cfg);
    audit::routes(cfg);
    jobs::routes(cfg);
    requests::routes(cfg);
}

/// `?notice=code` on a page reached by post/redirect/get (codes only, see `views::notice_text`).
#[derive(serde::Deserialize)]
pub(crate) struct NoticeQuery {
    pub notice: Option<String>,
}

/// Render a template with a status (for answers other than 200, e.g. a re-shown form).
pub fn render(
    page: impl askama::Template,
    status: StatusCode,
    cookie: Option<Cookie<'static>>,
) -> Result<HttpResponse, WebError> {
    let body = page
        .render()
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let mut r = HttpResponse::build(status);
    r.content_type("text/html; charset=utf-8");
    if let Some(c) = cookie {
        r.cookie(c);
    }
    Ok(r.body(body))
}

/// 303 to one of our own paths (never an absolute URL; see [`LocalPath`]).
pub fn see_other(path: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, LocalPath::or_default(path).into_string()))
        .finish()
}
