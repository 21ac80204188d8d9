//! The navigation bar of the staff member a request is served for, remembered when their
//! session is loaded so that an error page can keep it.
//!
//! WHY a task-local: a `WebError` renders without the request (actix calls
//! `error_response(&self)`), and an error page without the bar leaves a signed-in person only
//! the Back button. Nothing is remembered for portal users or signed-out visitors, so their
//! error pages stay as they were.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use std::cell::RefCell;

/// What `templates/nav.html` shows (the same fields as `views::Chrome`, which error pages
/// cannot name: the session module that builds a Chrome depends on the error module).
#[derive(Debug, Clone)]
pub struct NavBar {
    pub email: String,
    pub is_admin: bool,
    pub csrf: String,
    /// No section is highlighted on an error page.
    pub section: &'static str,
}

tokio::task_local! {
    static SIGNED_IN: RefCell<Option<NavBar>>;
}

/// Middleware: an empty slot for each request.
pub async fn scope<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    SIGNED_IN.scope(RefCell::new(None), next.call(req)).await
}

/// Called once a staff session is verified.
pub fn remember(bar: NavBar) {
    // Outside a request (no slot) there is no page to show it on.
    let _ = SIGNED_IN.try_with(|slot| slot.replace(Some(bar)));
}

/// The signed-in staff member's bar, if this request loaded one.
pub fn current() -> Option<NavBar> {
    SIGNED_IN
        .try_with(|slot| slot.borrow().clone())
        .ok()
        .flatten()
}
