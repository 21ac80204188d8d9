use super::Chrome;
use crate::domain::consent::MspTenant;
use crate::domain::entra::EntraAppView;
use crate::model::Job;
use askama::Template;
use askama_web::WebTemplate;

pub struct TenantRow {
    pub company_id: u64,
    pub company: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub connected: bool,
    pub archived: bool,
    pub last_sync: String,
    /// How the last identity sync ended (None before the first).
    pub verdict: Option<crate::model::Verdict>,
    pub summary: String,
    pub job: Option<Job>,
}

#[derive(Template, WebTemplate)]
#[template(path = "entra/settings.html")]
pub struct EntraPage {
    pub chrome: Chrome,
    pub app: EntraAppView,
    pub msp: Option<MspTenant>,
    pub redirect_uri: String,
    pub signin_redirect_uri: String,
    pub permissions: Vec<(&'static str, &'static str)>,
    pub tenants: Vec<TenantRow>,
    pub next_identity: String,
    pub next_evidence: String,
    pub refresh: bool,
    pub error: String,
}

/// Where Microsoft's redirect back lands when nothing was connected (cancelled, refused, or
/// the tenant not confirmed): what happened, and the way back to where the admin started.
#[derive(Template)]
#[template(path = "entra/not_connected.html")]
pub struct NotConnectedPage {
    /// None when the callback came without a staff session (a script, another browser).
    pub chrome: Option<Chrome>,
    pub title: &'static str,
    pub message: String,
    /// A cancel is the admin's choice, not a failure: shown as a notice, not an error.
    pub cancelled: bool,
    pub back_href: String,
    pub back_label: String,
    /// "Try again" starts the consent again: the company's Sync With M365, or the MSP tenant's
    /// Connect; neither when this person may not. (Literal actions in the template, so the
    /// confirmation check can see that the form does not destroy anything.)
    pub retry: Retry,
}

/// What "Try again" on the not-connected page does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    None,
    Company(u64),
    Msp,
}
