//! Settings → Notifications (`/settings/notifications`): e-mail, webhooks and alert rules.
//! Secrets go in, never out.

use crate::domain::alerts::NotificationsView;
use crate::model;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// SMTP settings (without the password).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// Empty: no e-mail.
    #[serde(default)]
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// `starttls`, `tls`, or `none` (loopback relays only).
    #[serde(default = "default_security")]
    pub security: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: Vec<String>,
}

fn default_port() -> u16 {
    587
}
fn default_security() -> String {
    "starttls".into()
}

impl From<model::SmtpSettings> for Smtp {
    fn from(s: model::SmtpSettings) -> Self {
        Self {
            host: s.host,
            port: s.port,
            security: s.security.as_str().into(),
            username: s.username,
            from: s.from,
            to: s.to,
        }
    }
}

/// A webhook as shown: its format and host, never its URL.
#[derive(Debug, Serialize)]
pub struct WebhookShown {
    pub format: &'static str,
    pub host: String,
}

/// A webhook as given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// `generic`, `teams` or `slack`.
    pub format: String,
    pub url: String,
}

/// One alert rule.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `sync_failed`, `credentials`, `expiry`, `resync`, `stuck`.
    pub rule: String,
    pub enabled: bool,
    #[serde(default = "one")]
    pub threshold: u32,
}

fn one() -> u32 {
    1
}

impl From<model::RuleSetting> for Rule {
    fn from(r: model::RuleSetting) -> Self {
        Self {
            rule: r.rule.as_str().into(),
            enabled: r.enabled,
            threshold: r.threshold,
        }
    }
}

/// The settings as the API shows them.
#[derive(Debug, Serialize)]
pub struct Notifications {
    pub smtp: Smtp,
    pub smtp_password_set: bool,
    pub webhooks: Vec<WebhookShown>,
    pub rules: Vec<Rule>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<NotificationsView> for Notifications {
    fn from(v: NotificationsView) -> Self {
        Self {
            smtp: v.settings.smtp.into(),
            smtp_password_set: v.smtp_password_set,
            webhooks: v
                .webhooks
                .into_iter()
                .map(|w| WebhookShown {
                    format: w.format.as_str(),
                    host: w.host,
                })
                .collect(),
            rules: v.settings.rules.into_iter().map(Rule::from).collect(),
            updated_at: v.settings.updated_at,
        }
    }
}

/// `PUT` body. `smtp_password`: absent keeps the stored one, `null` removes it, a string
/// replaces it. `webhooks`: absent keeps them, a list replaces them all. `rules`: absent
/// keeps them; a rule missing from a given list is switched off.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsBody {
    pub smtp: Smtp,
    #[serde(default, deserialize_with = "present")]
    pub smtp_password: Option<Option<String>>,
    #[serde(default)]
    pub webhooks: Option<Vec<WebhookBody>>,
    #[serde(default)]
    pub rules: Option<Vec<Rule>>,
}

/// Tells an absent field (None, from `default`) from `null` (Some(None)).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

/// `POST …/test` answer: the delivery job that sends it.
#[derive(Debug, Serialize)]
pub struct TestQueued {
    pub job_id: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_is_pinned_and_holds_no_secret() {
        let view = NotificationsView {
            settings: model::NotificationSettings::default(),
            smtp_password_set: true,
            webhooks: vec![model::WebhookInfo {
                format: model::WebhookFormat::Teams,
                host: "contoso.webhook.office.com".into(),
            }],
        };
        let v = serde_json::to_value(Notifications::from(view)).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({
                "smtp": {"host": "", "port": 587, "security": "starttls", "username": "",
                         "from": "", "to": []},
                "smtp_password_set": true,
                "webhooks": [{"format": "teams", "host": "contoso.webhook.office.com"}],
                "rules": [
                    {"rule": "sync_failed", "enabled": true, "threshold": 3},
                    {"rule": "credentials", "enabled": true, "threshold": 1},
                    {"rule": "expiry", "enabled": true, "threshold": 30},
                    {"rule": "resync", "enabled": true, "threshold": 1},
                    {"rule": "stuck", "enabled": true, "threshold": 30},
                ],
                "updated_at": null,
            })
        );
        let b: NotificationsBody =
            serde_json::from_str(r#"{"smtp": {"host": ""}, "smtp_password": null}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.smtp_password, Some(None));
        let b: NotificationsBody =
            serde_json::from_str(r#"{"smtp": {"host": ""}}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.smtp_password, None);
    }
}
