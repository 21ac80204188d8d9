//! Alerts (#13): what staff configure under Settings → Notifications, the incidents the rules
//! open and clear, and the messages waiting for delivery. Plain data; the rules themselves
//! run in `domain::alerts`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (refused if the server does not offer it);
    /// usually port 587.
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS"); usually port 465.
    Tls,
    /// No encryption: only for a relay on this machine (loopback), e.g. a local postfix.
    None,
}

impl SmtpSecurity {
    pub fn as_str(&self) -> &'static str {
        match self {
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "starttls" => Some(SmtpSecurity::Starttls),
            "tls" => Some(SmtpSecurity::Tls),
            "none" => Some(SmtpSecurity::None),
            _ => None,
        }
    }
}

/// E-mail delivery, without its password (kept sealed apart, never shown again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SmtpSettings {
    /// Empty: e-mail is off.
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// Empty: no authentication.
    pub username: String,
    /// The sender address.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
}

impl SmtpSettings {
    pub fn enabled(&self) -> bool {
        !self.host.is_empty() && !self.to.is_empty()
    }
}

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// Our own JSON document (see docs/alerts.md).
    Generic,
    /// A Microsoft Teams Workflows webhook: a message with one Adaptive Card.
    Teams,
    /// A Slack incoming webhook: `{"text": …}`.
    Slack,
}

impl WebhookFormat {
    pub const ALL: [WebhookFormat; 3] = [
        WebhookFormat::Generic,
        WebhookFormat::Teams,
        WebhookFormat::Slack,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            WebhookFormat::Generic => "generic",
            WebhookFormat::Teams => "teams",
            WebhookFormat::Slack => "slack",
        }
    }
    pub fn words(&self) -> &'static str {
        match self {
            WebhookFormat::Generic => "Generic JSON",
            WebhookFormat::Teams => "Microsoft Teams",
            WebhookFormat::Slack => "Slack",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }
}

/// A webhook as stored, sealed as a whole (its URL is a credential: Slack's and Teams' URLs
/// carry the token that lets anyone post).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub format: WebhookFormat,
    pub url: String,
}

/// A webhook as pages and the API show it: its format and host, never its URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookInfo {
    pub format: WebhookFormat,
    pub host: String,
}

/// The rules an alert can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertRule {
    /// A company's identity sync failed N times in a row.
    SyncFailed,
    /// Consent revoked, or the app's secret or certificate refused by Entra.
    Credentials,
    /// The app certificate or the stored client secret expires within the threshold's days.
    Expiry,
    /// A delta token expired and a full resync ran.
    Resync,
    /// A job ran past its heartbeat.
    Stuck,
}

impl AlertRule {
    pub const ALL: [AlertRule; 5] = [
        AlertRule::SyncFailed,
        AlertRule::Credentials,
        AlertRule::Expiry,
        AlertRule::Resync,
        AlertRule::Stuck,
    ];
    /// The stored and API spelling (part of the incident key: do not rename).
    pub fn as_str(&self) -> &'static str {
        match self {
            AlertRule::SyncFailed => "sync_failed",
            AlertRule::Credentials => "credentials",
            AlertRule::Expiry => "expiry",
            AlertRule::Resync => "resync",
            AlertRule::Stuck => "stuck",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn words(&self) -> &'static str {
        match self {
            AlertRule::SyncFailed => "Identity sync failed N times in a row",
            AlertRule::Credentials => {
                "Consent revoked, or the app's secret or certificate rejected"
            }
            AlertRule::Expiry => "App certificate or client secret expires within N days",
            AlertRule::Resync => "Delta token expired: a full resync ran",
            AlertRule::Stuck => "A job ran N minutes past its last heartbeat",
        }
    }
    /// What the threshold counts, or None when the rule has none.
    pub fn threshold_unit(&self) -> Option<&'static str> {
        match self {
            AlertRule::SyncFailed => Some("failed syncs"),
            AlertRule::Expiry => Some("days"),
            AlertRule::Stuck => Some("minutes"),
            AlertRule::Credentials | AlertRule::Resync => None,
        }
    }
    pub fn default_threshold(&self) -> u32 {
        match self {
            AlertRule::SyncFailed => 3,
            AlertRule::Expiry => 30,
            AlertRule::Stuck => 30,
            AlertRule::Credentials | AlertRule::Resync => 1,
        }
    }
    /// An event rule sends one message and has nothing to recover from.
    pub fn is_event(&self) -> bool {
        matches!(self, AlertRule::Resync)
    }
}

/// One rule's switch and threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSetting {
    pub rule: AlertRule,
    pub enabled: bool,
    pub threshold: u32,
}

/// Settings → Notifications, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    pub smtp: SmtpSettings,
    /// Every rule, in [`AlertRule::ALL`]'s order.
    pub rules: Vec<RuleSetting>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            smtp: SmtpSettings {
                port: 587,
                ..SmtpSettings::default()
            },
            rules: AlertRule::ALL
                .into_iter()
                .map(|rule| RuleSetting {
                    rule,
                    enabled: true,
                    threshold: rule.default_threshold(),
                })
                .collect(),
            updated_at: None,
        }
    }
}

impl NotificationSettings {
    /// The setting of `rule` (its default when a stored document predates it).
    pub fn rule(&self, rule: AlertRule) -> RuleSetting {
        self.rules
            .iter()
            .find(|r| r.rule == rule)
            .copied()
            .unwrap_or(RuleSetting {
                rule,
                enabled: true,
                threshold: rule.default_threshold(),
            })
    }
    /// Every rule once, in order, missing ones at their defaults.
    pub fn normalised(mut self) -> Self {
        self.rules = AlertRule::ALL.into_iter().map(|r| self.rule(r)).collect();
        self
    }
}

/// An open incident: a rule that fired for a company (or for the appliance, company 0) and
/// has not cleared yet. Only open incidents are stored; their history is the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub company_id: u64,
    pub rule: AlertRule,
    pub opened_at: DateTime<Utc>,
    /// What the alert said.
    pub summary: String,
}

/// Whether a message announces an incident, its end, or is a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Alert,
    Recovery,
    Test,
}

impl MessageKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageKind::Alert => "alert",
            MessageKind::Recovery => "recovery",
            MessageKind::Test => "test",
        }
    }
}

/// A message waiting for delivery, with the channels it still has to reach (`email`,
/// `webhook/<n>`). Removed once every channel took it, or when delivery gives up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertMessage {
    pub id: u64,
    pub kind: MessageKind,
    pub rule: Option<AlertRule>,
    pub company_id: Option<u64>,
    pub company_name: String,
    pub created_at: DateTime<Utc>,
    pub subject: String,
    pub text: String,
    pub pending: Vec<String>,
}

/// A company's contact and device counts at the end of one day's last identity sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCount {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub contacts: u64,
    pub devices: u64,
}
