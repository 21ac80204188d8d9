//! Web errors: the right status, a page that says what happened and what to do, and the
//! cause logged once. API paths get JSON instead (see `api::ApiError`).

mod api;

use crate::domain::DomainError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
pub use api::ApiError;
use askama::Template;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("Please sign in.")]
    SignInRequired { next: String },
    /// Not signed in to the support portal at `/portal/{slug}`.
    #[error("Please sign in to the support portal.")]
    PortalSignInRequired { slug: String },
    #[error("{0}")]
    Forbidden(String),
    #[error(
        "This form has expired or did not come from this site. Go back, reload the page and try again."
    )]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("The request is too large (limit {0} KiB).")]
    TooLarge(usize),
    #[error("Too many attempts. Try again in {0} seconds.")]
    RateLimited(u64),
    #[error("Tenantry is busy checking other passwords. Try again in {0} seconds.")]
    Busy(u64),
    /// More requests in flight than the appliance takes on (503 with `Retry-After`).
    #[error("Tenantry is busy with other requests right now. Try again in {0} seconds.")]
    Overloaded(u64),
    /// Unexpected: the cause (with its chain) goes to the log once, people see a plain page.
    #[error("Something went wrong on our side; the details are in the service log.")]
    Internal(#[source] anyhow::Error),
}

impl WebError {
    /// An unexpected failure in the web layer itself, with its cause and what we were doing.
    pub fn internal<E>(context: &str, cause: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        WebError::Internal(anyhow::Error::new(cause).context(context.to_string()))
    }

    /// A body that could not be read: too large (413) or malformed (400).
    pub fn from_payload(e: &actix_web::Error) -> Self {
        match e.as_error::<actix_web::error::PayloadError>() {
            Some(actix_web::error::PayloadError::Overflow) => WebError::TooLarge(0),
            _ if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE => {
                WebError::TooLarge(0)
            }
            _ => WebError::BadRequest(format!("The request body could not be read: {e}")),
        }
    }
}

impl From<DomainError> for WebError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation(v) => WebError::BadRequest(v.to_string()),
            DomainError::NotFound(what) => {
                WebError::NotFound(format!("That {what} does not exist."))
            }
            DomainError::Forbidden(m) | DomainError::Unauthorized(m) => WebError::Forbidden(m),
            DomainError::Conflict(m) => WebError::Conflict(m),
            DomainError::RateLimited { retry_after_secs } => {
                WebError::RateLimited(retry_after_secs)
            }
            DomainError::Busy { retry_after_secs } => WebError::Busy(retry_after_secs),
            DomainError::Overloaded { retry_after_secs } => WebError::Overloaded(retry_after_secs),
            e @ (DomainError::Internal(_) | DomainError::Store(_)) => {
                WebError::Internal(anyhow::Error::new(e))
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: String,
    /// Shown so a user can quote it; the same id is on every log line of the request.
    request_id: String,
    /// A signed-in staff member keeps the navigation bar.
    chrome: Option<super::request_scope::NavBar>,
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::SignInRequired { .. } | WebError::PortalSignInRequired { .. } => {
                StatusCode::SEE_OTHER
            }
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::RateLimited(_) | WebError::Busy(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::SignInRequired { next } = self {
            let target = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .finish();
        }
        if let WebError::PortalSignInRequired { slug } = self {
            // The slug came from our own route match; encode it anyway so the header is inert.
            let target = format!(
                "/portal/{}",
                url::form_urlencoded::byte_serialize(slug.as_bytes()).collect::<String>()
            );
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .finish();
        }
        if let WebError::Internal(cause) = self {
            tracing::error!(cause = format!("{cause:#}"), "request failed");
        }
        let status = self.status_code();
        let title = status.canonical_reason().unwrap_or("Error");
        let message = match self {
            WebError::TooLarge(_) => "The request is too large.".to_string(),
            other => other.to_string(),
        };
        let body = ErrorPage {
            status: status.as_u16(),
            title,
            message,
            request_id: super::request_scope::current_id().unwrap_or_default(),
            chrome: super::request_scope::current_nav(),
        }
        .render()
        .unwrap_or_else(|_| title.to_string());
        let mut resp = HttpResponse::build(status);
        resp.content_type("text/html; charset=utf-8");
        if let WebError::RateLimited(secs) | WebError::Busy(secs) | WebError::Overloaded(secs) =
            self
        {
            resp.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        resp.body(body)
    }
}

fn is_api(req: &HttpRequest) -> bool {
    req.path().starts_with("/api/")
}

fn bad_input(req: &HttpRequest, msg: String, too_large: bool) -> actix_web::Error {
    match (is_api(req), too_large) {
        (true, true) => ApiError::too_large().into(),
        (true, false) => ApiError::bad_request(msg).into(),
        (false, true) => WebError::TooLarge(0).into(),
        (false, false) => WebError::BadRequest(msg).into(),
    }
}

pub fn form_error(e: actix_web::error::UrlencodedError, req: &HttpRequest) -> actix_web::Error {
    let too_large = matches!(e, actix_web::error::UrlencodedError::Overflow { .. });
    bad_input(req, format!("The form could not be read: {e}"), too_large)
}

pub fn json_error(e: actix_web::error::JsonPayloadError, req: &HttpRequest) -> actix_web::Error {
    let too_large = matches!(
        e,
        actix_web::error::JsonPayloadError::Overflow { .. }
            | actix_web::error::JsonPayloadError::OverflowKnownLength { .. }
    );
    bad_input(
        req,
        format!("The JSON body could not be read: {e}"),
        too_large,
    )
}

pub fn query_error(e: actix_web::error::QueryPayloadError, req: &HttpRequest) -> actix_web::Error {
    bad_input(req, format!("The query string is not valid: {e}"), false)
}

pub fn path_error(e: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    if is_api(req) {
        ApiError::not_found(format!("no such resource ({e})")).into()
    } else {
        WebError::NotFound("That page does not exist.".into()).into()
    }
}

pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    if is_api(&req) {
        Err(ApiError::not_found("no such endpoint".into()).into())
    } else {
        Err(WebError::NotFound("That page does not exist.".into()).into())
    }
}
