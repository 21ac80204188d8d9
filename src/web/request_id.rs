//! Every request gets an id: in the tracing span of everything logged while serving it, in
//! the `X-Request-Id` response header, on error pages ("quote this id") and in JSON error
//! bodies, so a user's screenshot leads to the log line.
//!
//! The id is minted here and never taken from the client: a header anyone can set must not
//! be able to forge or collide with another request's log lines.

use crate::crypto::random_token;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, when called while serving one.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

pub async fn assign<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    // 12 characters of URL-safe base64: short enough to read out over the phone.
    let id = random_token(9);
    // At ERROR level so the span exists under any log filter: an `info` span would vanish
    // with `log_level = "warn"` and take the id off exactly the lines that need it.
    let span =
        tracing::error_span!("request", id = %id, method = %req.method(), path = %req.path());
    let mut res = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span))
        .await?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    Ok(res)
}
