//! Settings → Notifications (#13): e-mail, webhooks and alert rules.

use super::Chrome;
use crate::domain::alerts::NotificationsView;
use crate::model::{AlertRule, SmtpSecurity, WebhookFormat};
use askama::Template;
use askama_web::WebTemplate;

/// One rule as the form shows it.
pub struct RuleRow {
    pub name: &'static str,
    pub words: &'static str,
    pub enabled: bool,
    pub threshold: u32,
    pub unit: Option<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/notifications.html")]
pub struct NotificationsPage {
    pub chrome: Chrome,
    pub view: NotificationsView,
    /// The recipients as typed (comma-separated).
    pub to: String,
    pub rules: Vec<RuleRow>,
    pub error: String,
}

impl NotificationsPage {
    pub fn new(chrome: Chrome, view: NotificationsView, error: String) -> Self {
        let rules = AlertRule::ALL
            .into_iter()
            .map(|r| {
                let s = view.settings.rule(r);
                RuleRow {
                    name: r.as_str(),
                    words: r.words(),
                    enabled: s.enabled,
                    threshold: s.threshold,
                    unit: r.threshold_unit(),
                }
            })
            .collect();
        Self {
            chrome,
            to: view.settings.smtp.to.join(", "),
            view,
            rules,
            error,
        }
    }
    pub fn securities(&self) -> [(&'static str, &'static str, bool); 3] {
        let cur = self.view.settings.smtp.security;
        [
            (
                "starttls",
                "STARTTLS (usually port 587)",
                cur == SmtpSecurity::Starttls,
            ),
            (
                "tls",
                "TLS from the start (usually port 465)",
                cur == SmtpSecurity::Tls,
            ),
            (
                "none",
                "None — only to a relay on this machine",
                cur == SmtpSecurity::None,
            ),
        ]
    }
    pub fn formats(&self) -> [(&'static str, &'static str); 3] {
        WebhookFormat::ALL.map(|f| (f.as_str(), f.words()))
    }
}
