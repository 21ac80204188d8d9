//! Views of the settings pages.

use super::Chrome;
use crate::model::{ApiToken, StaffUser};
use askama::Template;
use askama_web::WebTemplate;

/// One sync schedule as Settings → Integrations shows it (times already formatted).
#[derive(Debug, Clone)]
pub struct ScheduleRow {
    pub name: &'static str,
    pub job_kind: &'static str,
    pub cron: String,
    pub timezone: &'static str,
    /// When the schedule last fired (from its audit events).
    pub last_fired: Option<String>,
    /// Before the first firing: the instant the schedule started counting from.
    pub counting_from: Option<String>,
    pub next_run: Option<String>,
    /// RFC 3339, for the `<time datetime>` attribute.
    pub next_run_iso: Option<String>,
    /// The same instant in the schedule's own time zone (None when that is UTC).
    pub next_run_local: Option<String>,
    /// The few fire times after the next one.
    pub later: Vec<String>,
    /// This build has no handler for the job kind, so the schedule is not started.
    pub idle: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/integrations.html")]
pub struct IntegrationsPage {
    pub chrome: Chrome,
    /// "name (tenant id)" of the MSP's own tenant once connected.
    pub msp_tenant: Option<String>,
    pub app_configured: bool,
    /// How many client companies are linked to a tenant.
    pub connected_companies: usize,
    pub login_url: String,
    pub graph_url: String,
    pub now: String,
    pub schedules: Vec<ScheduleRow>,
    /// Effective configuration, secrets masked.
    pub config_summary: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub users: Vec<StaffUser>,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/user.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub user: StaffUser,
    pub is_self: bool,
    pub error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/tokens.html")]
pub struct TokensPage {
    pub chrome: Chrome,
    pub tokens: Vec<ApiToken>,
    pub name: String,
    pub role: String,
    pub error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/token_created.html")]
pub struct TokenCreatedPage {
    pub chrome: Chrome,
    pub token: ApiToken,
    pub plain: String,
    pub curl: String,
}
