//! The confirmation page of a form that destroys or disconnects.

use super::Chrome;
use askama::Template;
use askama_web::WebTemplate;

/// "Are you sure?": what the action does, what it keeps, a red button posting the real form
/// (with the session's CSRF token) and a way back.
#[derive(Template, WebTemplate)]
#[template(path = "confirm.html")]
pub struct ConfirmActionPage {
    pub chrome: Chrome,
    /// The question, as the page's heading ("Disconnect Contoso from Microsoft 365?").
    pub title: String,
    /// What will happen.
    pub happens: String,
    /// What stays as it is.
    pub kept: String,
    /// A consequence worth reading twice (shown as a warning); empty when there is none.
    pub warning: String,
    /// The form's action: the POST handler that does it, unchanged.
    pub action: String,
    /// The red button's label.
    pub button: &'static str,
    /// Where Cancel goes back to.
    pub cancel: String,
}
