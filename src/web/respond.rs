//! How a handler answers: a rendered page, a redirect to one of our own paths, a redirect to
//! Microsoft, a sign-in page that says "wait". A leaf of the web layer: staff pages, the
//! portal and the sign-in callback all use it, and it uses none of them.

use crate::web::error::WebError;
use crate::web::redirect::LocalPath;
use actix_web::HttpResponse;
use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};

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
        .map_err(|e| WebError::internal("rendering the page", e))?;
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

/// Send the browser to Microsoft (admin consent or sign-in), with the cookie that binds a
/// sign-in to this browser when there is one. The URL is built by the domain from the
/// configured login host, never from request input, so this is not an open redirect.
pub fn to_microsoft(url: &str, cookie: Option<Cookie<'static>>) -> HttpResponse {
    let mut r = HttpResponse::SeeOther();
    r.insert_header((header::LOCATION, url.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(c) = cookie {
        r.cookie(c);
    }
    r.finish()
}

/// What a sign-in page says when this client started too many sign-ins.
pub(crate) fn too_many_starts(retry_after_secs: u64) -> String {
    format!(
        "Too many sign-ins were started from your network just now. Wait {retry_after_secs} seconds, then try again."
    )
}

/// A sign-in page answering 429, with the `Retry-After` that goes with it.
pub(crate) fn with_retry_after(mut page: HttpResponse, retry_after_secs: u64) -> HttpResponse {
    *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    page.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(retry_after_secs),
    );
    page
}
