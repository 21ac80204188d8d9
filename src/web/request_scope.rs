//! What one request carries from the moment it arrives until its answer is written, for code
//! that renders without the request (actix calls `error_response(&self)`):
//!
//! * **its id**: in the tracing span of everything logged while serving it, in the
//!   `X-Request-Id` response header, on error pages ("quote this id") and in JSON error bodies,
//!   so a user's screenshot leads to the log line. Minted here, never taken from the client: a
//!   header anyone can set must not forge or collide with another request's log lines.
//! * **the signed-in staff member's navigation bar**, remembered when their session loads, so
//!   an error page keeps it instead of leaving only the Back button. Nothing is remembered for
//!   portal users or signed-out visitors, so their error pages stay plain.

use crate::crypto::random_token;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use std::cell::RefCell;
use tracing::Instrument;

/// What `templates/nav.html` shows (the same fields as `views::Chrome`, which error pages
/// cannot name: the session module that builds a Chrome depends on the error module).
#[derive(Debug, Clone)]
pub struct NavBar {
    pub email: String,
    pub is_admin: bool,
    pub csrf: String,
    /// Requests that still need the MSP (the nav's badge).
    pub open_requests: u64,
    /// No section is highlighted on an error page.
    pub section: &'static str,
}

struct Scope {
    id: String,
    nav: RefCell<Option<NavBar>>,
}

tokio::task_local! {
    static REQUEST: Scope;
}

/// The id of the request being served, when called while serving one.
pub fn current_id() -> Option<String> {
    REQUEST.try_with(|r| r.id.clone()).ok()
}

/// Called once a staff session is verified.
pub fn remember_nav(bar: NavBar) {
    // Outside a request there is no page to show it on.
    let _ = REQUEST.try_with(|r| r.nav.replace(Some(bar)));
}

/// The signed-in staff member's bar, if this request loaded one.
pub fn current_nav() -> Option<NavBar> {
    REQUEST.try_with(|r| r.nav.borrow().clone()).ok().flatten()
}

/// Middleware, outermost: opens the request's scope and span, and stamps the answer.
pub async fn open<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    // 12 characters of URL-safe base64: short enough to read out over the phone.
    let id = random_token(9);
    // At ERROR level so the span exists under any log filter: an `info` span would vanish
    // with `log_level = "warn"` and take the id off exactly the lines that need it.
    let span =
        tracing::error_span!("request", id = %id, method = %req.method(), path = %req.path());
    let scope = Scope {
        id: id.clone(),
        nav: RefCell::new(None),
    };
    let mut res = REQUEST
        .scope(scope, next.call(req).instrument(span))
        .await?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    Ok(res)
}
