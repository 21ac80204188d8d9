//! The `alert_delivery` job: send every message in the outbox to the channels it has not
//! reached yet. A channel that fails keeps the message (and only that channel) for the next
//! attempt, which the job queue schedules with its backoff; every failed delivery is audited.
//! Secrets stay out of errors and logs: webhook errors drop the URL, SMTP errors never carry
//! the password.

use super::format;
use crate::domain::Services;
use crate::domain::jobs::RunResult;
use crate::model::{Actor, AlertMessage, Job, NewAuditEvent, SmtpSecurity, SmtpSettings};
use crate::store::StoreError;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::time::Duration;

/// A webhook or SMTP server that has not answered in this long is down for this attempt.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

struct Failure {
    message: AlertMessage,
    channel: String,
    error: String,
}

impl Services {
    /// Run one delivery job (see the module docs).
    pub async fn run_alert_delivery(&self, job: &Job) -> RunResult {
        let read = self
            .store
            .read(|r| {
                Ok::<_, StoreError>((
                    r.notification_settings()?,
                    r.smtp_password()?,
                    r.webhooks()?,
                    r.alert_outbox()?,
                ))
            })
            .await;
        let (settings, password, hooks, outbox) = match read {
            Ok(v) => v,
            Err(e) => return RunResult::Retry(format!("could not read the alert outbox: {e}")),
        };
        if outbox.is_empty() {
            return RunResult::Succeeded {
                counts: BTreeMap::new(),
                summary: "Nothing to deliver".into(),
            };
        }
        let http = match crate::http_client::build(&crate::http_client::HttpClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: SEND_TIMEOUT,
            follow_redirects: false,
        }) {
            Ok(c) => c,
            Err(e) => return RunResult::Retry(e.to_string()),
        };
        let now = self.now();
        let mut updated = Vec::new();
        let mut failures = Vec::new();
        let mut delivered: Vec<(AlertMessage, Vec<String>)> = Vec::new();
        for mut m in outbox {
            let mut still = Vec::new();
            let mut done = Vec::new();
            for ch in &m.pending {
                let sent = if ch == "email" {
                    if !settings.smtp.enabled() {
                        // E-mail was switched off since: nothing to deliver there.
                        Ok(())
                    } else {
                        send_email(&settings.smtp, password.as_deref(), &m, now).await
                    }
                } else if let Some(i) = ch
                    .strip_prefix("webhook/")
                    .and_then(|i| i.parse::<usize>().ok())
                {
                    match hooks.get(i) {
                        // Any 2xx is delivered. reqwest's errors quote the URL, which is
                        // a credential: `without_url` keeps it out of the audit log.
                        Some(h) => match http
                            .post(&h.url)
                            .json(&format::webhook_body(h.format, &m))
                            .send()
                            .await
                        {
                            Ok(r) if r.status().is_success() => Ok(()),
                            Ok(r) => Err(format!(
                                "{} webhook at {} answered HTTP {}",
                                h.format.words(),
                                super::host_of(&h.url),
                                r.status().as_u16()
                            )),
                            Err(e) => Err(format!(
                                "{} webhook at {}: {}",
                                h.format.words(),
                                super::host_of(&h.url),
                                e.without_url()
                            )),
                        },
                        None => Ok(()), // removed since
                    }
                } else {
                    Ok(())
                };
                match sent {
                    Ok(()) => done.push(ch.clone()),
                    Err(error) => {
                        still.push(ch.clone());
                        failures.push(Failure {
                            message: m.clone(),
                            channel: ch.clone(),
                            error,
                        });
                    }
                }
            }
            m.pending = still;
            if !done.is_empty() {
                delivered.push((m.clone(), done));
            }
            updated.push(m);
        }
        let attempt = job.attempts;
        let job_id = job.id;
        let n_failed = failures.len();
        let n_sent = delivered.len();
        let first_error = failures
            .first()
            .map(|f| format!("{}: {}", f.channel, f.error))
            .unwrap_or_default();
        let saved = self
            .store
            .write(move |w| {
                for m in &updated {
                    w.put_alert_message(m)?;
                }
                for (m, channels) in delivered {
                    let mut e = NewAuditEvent::new(
                        now,
                        Actor::system(),
                        "alert.sent",
                        format!("Sent \"{}\" to {}", m.subject, channels.join(", ")),
                    )
                    .details(serde_json::json!({
                        "message_id": m.id, "kind": m.kind.as_str(), "channels": channels,
                        "job_id": job_id,
                    }));
                    e.company_id = m.company_id;
                    w.append_audit(e)?;
                }
                for f in failures {
                    let mut e = NewAuditEvent::new(
                        now,
                        Actor::system(),
                        "alert.delivery",
                        format!(
                            "Could not deliver \"{}\" to {} (attempt {attempt}): {}",
                            f.message.subject, f.channel, f.error
                        ),
                    )
                    .failed()
                    .details(serde_json::json!({
                        "message_id": f.message.id, "channel": f.channel, "error": f.error,
                        "attempt": attempt, "job_id": job_id,
                    }));
                    e.company_id = f.message.company_id;
                    w.append_audit(e)?;
                }
                Ok::<_, StoreError>(())
            })
            .await;
        if let Err(e) = saved {
            return RunResult::Retry(format!("could not record deliveries: {e}"));
        }
        if n_failed > 0 {
            return RunResult::Retry(format!(
                "{n_failed} delivery(ies) failed, first: {first_error}"
            ));
        }
        RunResult::Succeeded {
            counts: BTreeMap::from([("messages".to_string(), n_sent as u64)]),
            summary: format!("Delivered {n_sent} message(s)"),
        }
    }
}

async fn send_email(
    s: &SmtpSettings,
    password: Option<&str>,
    m: &AlertMessage,
    now: DateTime<Utc>,
) -> Result<(), String> {
    use lettre::message::Mailbox;
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let from: Mailbox = s.from.parse().map_err(|e| format!("sender address: {e}"))?;
    let mut b = Message::builder()
        .from(from)
        .subject(m.subject.clone())
        .date(std::time::SystemTime::from(now));
    for to in &s.to {
        let to: Mailbox = to.parse().map_err(|e| format!("recipient {to}: {e}"))?;
        b = b.to(to);
    }
    let email = b
        .header(ContentType::TEXT_PLAIN)
        .body(m.text.clone())
        .map_err(|e| format!("building the e-mail: {e}"))?;
    let builder = match s.security {
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
            .map_err(|e| format!("SMTP {}: {e}", s.host))?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
            .map_err(|e| format!("SMTP {}: {e}", s.host))?,
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
    };
    let mut builder = builder.port(s.port).timeout(Some(SEND_TIMEOUT));
    if !s.username.is_empty() {
        builder = builder.credentials(Credentials::new(
            s.username.clone(),
            password.unwrap_or_default().to_string(),
        ));
    }
    builder
        .build()
        .send(email)
        .await
        .map(|_| ())
        .map_err(|e| format!("SMTP {}:{}: {e}", s.host, s.port))
}
