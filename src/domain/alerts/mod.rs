//! Alerts (#13): Settings → Notifications (SMTP and webhooks, secrets sealed), the rules that
//! open and clear incidents (`rules`), and delivery as a durable job (`deliver`), formatted
//! per channel (`format`). See docs/alerts.md.
//!
//! The flow: a job ends (`Services::complete_job` calls [`Services::alerts_after_job`]) or
//! the watch loop ticks ([`Services::alerts_scan`]) → a rule opens or clears an incident in
//! `ALERT_INCIDENTS` → in the same write transaction a message goes to `ALERT_OUTBOX` and an
//! `alert_delivery` job is queued → the job sends it to every channel, retrying with the
//! queue's backoff; each failed delivery is audited.

mod deliver;
mod format;
mod rules;
mod validate;

use super::authority::AdminActor;
use super::{DomainResult, Services};
use crate::model::{
    Actor, AlertMessage, AlertRule, Job, JobKind, MessageKind, NewAuditEvent, NotificationSettings,
    Requester, RuleSetting, SmtpSettings, Trigger, Webhook, WebhookInfo,
};
use crate::store::{StoreError, Writer};
use chrono::{DateTime, Utc};

pub use rules::day_of;
pub use validate::host_of;

/// The job kind that delivers queued alert messages.
pub const ALERT_DELIVERY: &str = "alert_delivery";

/// Settings → Notifications as pages and the API show it: no password, no webhook URL.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationsView {
    pub settings: NotificationSettings,
    pub smtp_password_set: bool,
    pub webhooks: Vec<WebhookInfo>,
}

/// What to change. `None` keeps a secret as it is (pages never show them, so an empty
/// field means "unchanged").
#[derive(Debug, Clone, Default)]
pub struct NotificationsInput {
    pub smtp: SmtpSettings,
    /// Some(new password), or None to keep the stored one.
    pub smtp_password: Option<String>,
    /// Forget the stored password (no authentication, or a new one follows).
    pub clear_smtp_password: bool,
    /// Some(list) replaces every webhook; None keeps them, then `remove_webhooks` (indexes
    /// into the stored list) and `add_webhooks` apply.
    pub webhooks: Option<Vec<Webhook>>,
    pub remove_webhooks: Vec<usize>,
    pub add_webhooks: Vec<Webhook>,
    pub rules: Vec<RuleSetting>,
}

impl Services {
    pub async fn notifications(&self) -> DomainResult<NotificationsView> {
        Ok(self
            .store
            .read(|r| {
                Ok::<_, StoreError>(NotificationsView {
                    settings: r.notification_settings()?,
                    smtp_password_set: r.smtp_password_set()?,
                    webhooks: r.webhooks()?.iter().map(info).collect(),
                })
            })
            .await?)
    }

    /// Save Settings → Notifications (admins only), audited without secrets.
    pub async fn update_notifications(
        &self,
        admin: AdminActor,
        input: NotificationsInput,
    ) -> DomainResult<NotificationsView> {
        let actor: Actor = admin.into();
        let now = self.now();
        let smtp = validate::smtp(input.smtp)?;
        let rules = validate::rules(&input.rules)?;
        let added = input
            .add_webhooks
            .into_iter()
            .chain(input.webhooks.clone().unwrap_or_default())
            .map(validate::webhook)
            .collect::<DomainResult<Vec<_>>>()?;
        let password = match input.smtp_password.map(|p| p.trim().to_string()) {
            Some(p) if p.is_empty() => None,
            other => other,
        };
        let replace = input.webhooks.is_some();
        let remove = input.remove_webhooks;
        let clear = input.clear_smtp_password;
        self.store
            .write(move |w| {
                let mut hooks = if replace { Vec::new() } else { w.webhooks()? };
                let mut i = 0;
                hooks.retain(|_| {
                    let keep = !remove.contains(&i);
                    i += 1;
                    keep
                });
                hooks.extend(added);
                let settings = NotificationSettings {
                    smtp,
                    rules,
                    updated_at: Some(now),
                }
                .normalised();
                w.set_notification_settings(&settings)?;
                if clear {
                    w.set_smtp_password(None)?;
                }
                if let Some(p) = &password {
                    w.set_smtp_password(Some(p))?;
                }
                w.set_webhooks(&hooks)?;
                let on: Vec<&str> = settings
                    .rules
                    .iter()
                    .filter(|r| r.enabled)
                    .map(|r| r.rule.as_str())
                    .collect();
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        actor,
                        "settings.notifications",
                        format!(
                            "Notifications saved: e-mail {}, {} webhook(s), rules on: {}",
                            if settings.smtp.enabled() { "on" } else { "off" },
                            hooks.len(),
                            if on.is_empty() {
                                "none".to_string()
                            } else {
                                on.join(", ")
                            }
                        ),
                    )
                    .details(serde_json::json!({
                        "smtp_host": settings.smtp.host,
                        "smtp_password_changed": password.is_some() || clear,
                        "webhooks": hooks.iter().map(|h| serde_json::json!({
                            "format": h.format.as_str(),
                            "host": host_of(&h.url),
                        })).collect::<Vec<_>>(),
                        "rules": settings.rules,
                    })),
                )?;
                Ok::<_, StoreError>(NotificationsView {
                    smtp_password_set: w.smtp_password_set()?,
                    webhooks: hooks.iter().map(info).collect(),
                    settings,
                })
            })
            .await
            .map_err(Into::into)
    }

    /// Did this company's Intune sweep ever complete a page? Then Intune answering "not
    /// applicable" now is a lost licence or a broken tenant, not a tenant that never had
    /// Intune (whose every sweep fails on the first page, so its round stays 0).
    pub async fn had_intune(&self, company_id: u64) -> bool {
        self.store
            .read(move |r| r.sync_state(company_id, crate::store::keys::sync_state::DEVICES))
            .await
            .ok()
            .flatten()
            .is_some_and(|s| s.round > 0)
    }

    /// **Send test**: one test message to every configured channel, through the same
    /// delivery job as a real alert. Returns the delivery job.
    pub async fn send_test_notification(&self, actor: Actor) -> DomainResult<Job> {
        let now = self.now();
        let requester = self.requester(actor.clone()).await?;
        let max_attempts = self.config.job_max_attempts;
        let job = self
            .store
            .write(move |w| {
                let channels = channels(w)?;
                if channels.is_empty() {
                    return Err(super::DomainError::Conflict(
                        "Nothing to send to: set up e-mail or add a webhook first.".into(),
                    ));
                }
                let (subject, text) = format::test_message(&requester.name);
                let m = AlertMessage {
                    id: 0,
                    kind: MessageKind::Test,
                    rule: None,
                    company_id: None,
                    company_name: String::new(),
                    created_at: now,
                    subject,
                    text,
                    pending: channels,
                };
                let m = w.push_alert_message(m)?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    actor,
                    "alert.test",
                    format!("Test notification #{} queued", m.id),
                ))?;
                Ok(queue_delivery(w, requester, max_attempts, now)?)
            })
            .await?;
        self.job_notify.notify_waiters();
        Ok(job)
    }
}

fn info(h: &Webhook) -> WebhookInfo {
    WebhookInfo {
        format: h.format,
        host: host_of(&h.url),
    }
}

/// The channels a message goes to now: `email` and `webhook/<n>`.
fn channels(w: &Writer) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    if w.notification_settings()?.smtp.enabled() {
        out.push("email".to_string());
    }
    for i in 0..w.webhooks()?.len() {
        out.push(format!("webhook/{i}"));
    }
    Ok(out)
}

/// Queue the delivery job in this transaction (or find the one already queued: it delivers
/// every message in the outbox, this one included).
fn queue_delivery(
    w: &mut Writer,
    requester: Requester,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> Result<Job, StoreError> {
    let job = Job::new(
        ALERT_DELIVERY,
        None,
        Trigger::Manual,
        requester,
        max_attempts,
        now,
        serde_json::Value::Null,
    );
    Ok(w.enqueue_job(job)?.into_job())
}

/// Queue a message about `rule` for every channel (nothing when no channel is set up), and
/// the delivery job, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
fn push_message(
    w: &mut Writer,
    kind: MessageKind,
    rule: AlertRule,
    company_id: u64,
    company_name: &str,
    text: String,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let pending = channels(w)?;
    if pending.is_empty() {
        return Ok(false);
    }
    let subject = format::subject(kind, rule, company_name);
    w.push_alert_message(AlertMessage {
        id: 0,
        kind,
        rule: Some(rule),
        company_id: (company_id != 0).then_some(company_id),
        company_name: company_name.to_string(),
        created_at: now,
        subject,
        text,
        pending,
    })?;
    queue_delivery(w, Requester::system(), max_attempts, now)?;
    Ok(true)
}

/// Is `kind` the delivery job's kind?
pub fn is_delivery(kind: &JobKind) -> bool {
    kind.as_str() == ALERT_DELIVERY
}
