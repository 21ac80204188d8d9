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

/// 303 to one of our own paths (never an absolute URL).
pub fn see_other(path: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, safe_local_path(path)))
        .finish()
}

/// Only same-site absolute paths are allowed as redirect targets: `//evil.example` and
/// `/\evil.example` are protocol-relative to browsers and would leave the site.
pub fn safe_local_path(p: &str) -> &str {
    let ok = p.starts_with('/')
        && !p.starts_with("//")
        && !p.starts_with("/\\")
        && !p.contains(['\r', '\n']);
    if ok { p } else { "/companies" }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redirects_stay_on_site() {
        assert_eq!(super::safe_local_path("/companies/3"), "/companies/3");
        assert_eq!(super::safe_local_path("//evil.example/x"), "/companies");
        assert_eq!(super::safe_local_path("/\\evil.example"), "/companies");
        assert_eq!(super::safe_local_path("https://evil.example"), "/companies");
    }
}
