//! The rules: when an incident opens and when it clears. A job's end is looked at once, in
//! one write transaction that updates the incident, queues the message and its delivery job,
//! and audits the change, so a crash cannot send an alert twice or lose one.

use super::{ALERT_DELIVERY, push_message};
use crate::domain::{DomainResult, Services};
use crate::model::{
    Actor, AlertRule, DailyCount, Incident, Job, JobKind, JobState, MessageKind, NewAuditEvent,
    NotificationSettings, Requester,
};
use crate::store::{StoreError, Writer};
use chrono::{DateTime, Duration, Utc};

/// Codes in a failed job's error that mean Microsoft refused the app itself: the secret or
/// certificate (AADSTS7000215 invalid secret, 7000222 expired secret, 700027 certificate not
/// registered), the consent (700016 app not found in the tenant, 7000112 app disabled, 65001
/// no consent), or a permission (Graph's `Authorization_RequestDenied`). The job error is the
/// Graph client's own rendering of the token endpoint's or Graph's answer, which quotes these
/// codes (never Microsoft's prose); see docs/microsoft.md#graph-errors.
const REFUSAL_CODES: [&str; 7] = [
    "AADSTS7000215",
    "AADSTS7000222",
    "AADSTS700027",
    "AADSTS700016",
    "AADSTS7000112",
    "AADSTS65001",
    "Authorization_RequestDenied",
];

/// Does this job error say Microsoft refused the app's credentials or consent?
pub(super) fn credentials_refused(error: &str) -> bool {
    REFUSAL_CODES.iter().any(|c| error.contains(c))
}

/// The UTC day number of `t` (days since 1970-01-01).
pub fn day_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(86_400)
}

/// Open `rule` for the company unless it is open already; queue the alert. True if opened.
#[allow(clippy::too_many_arguments)]
fn open(
    w: &mut Writer,
    by: &Actor,
    settings: &NotificationSettings,
    rule: AlertRule,
    company_id: u64,
    company_name: &str,
    text: String,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if !settings.rule(rule).enabled || w.incident(company_id, rule)?.is_some() {
        return Ok(false);
    }
    if !rule.is_event() {
        w.put_incident(&Incident {
            company_id,
            rule,
            opened_at: now,
            summary: text.clone(),
        })?;
    }
    let queued = push_message(
        w,
        MessageKind::Alert,
        rule,
        company_id,
        company_name,
        text.clone(),
        max_attempts,
        now,
    )?;
    // Audited as whoever started the job that tripped the rule (the appliance for the
    // watch's checks), like every other entry that job writes.
    let mut e = NewAuditEvent::new(
        now,
        by.clone(),
        "alert.open",
        format!(
            "Alert: {}",
            super::format::subject(MessageKind::Alert, rule, company_name)
        ),
    )
    .failed()
    .details(serde_json::json!({"rule": rule.as_str(), "text": text, "sent": queued, "requested_by": by.0}));
    e.company_id = (company_id != 0).then_some(company_id);
    w.append_audit(e)?;
    Ok(true)
}

/// Clear `rule` for the company if it is open; queue the recovery message.
fn clear(
    w: &mut Writer,
    by: &Actor,
    rule: AlertRule,
    company_id: u64,
    company_name: &str,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(incident) = w.incident(company_id, rule)? else {
        return Ok(false);
    };
    w.delete_incident(company_id, rule)?;
    let lasted = (now - incident.opened_at).num_minutes();
    let text = format!(
        "Resolved after {lasted} minute(s). The alert was: {}",
        incident.summary
    );
    let queued = push_message(
        w,
        MessageKind::Recovery,
        rule,
        company_id,
        company_name,
        text,
        max_attempts,
        now,
    )?;
    let mut e = NewAuditEvent::new(
        now,
        by.clone(),
        "alert.clear",
        format!(
            "Resolved: {}",
            super::format::subject(MessageKind::Alert, rule, company_name)
        ),
    )
    .details(
        serde_json::json!({"rule": rule.as_str(), "opened_at": incident.opened_at, "sent": queued, "requested_by": by.0}),
    );
    e.company_id = (company_id != 0).then_some(company_id);
    w.append_audit(e)?;
    Ok(true)
}

/// Look at a job that just ended, in the caller's write transaction (the job's outcome
/// transaction, so the incident, the failure streak and the day's counts commit with the
/// outcome: one commit per job less; see `Services::complete_and_claim_group`). True when
/// a message was queued (wake the delivery worker).
fn alerts_in_txn(
    w: &mut Writer,
    job: &Job,
    now: DateTime<Utc>,
    max_attempts: u32,
) -> Result<bool, StoreError> {
    if super::is_delivery(&job.kind) {
        return Ok(false);
    }
    let kind = job.kind.as_str();
    let is_identity = kind == JobKind::IDENTITY_SYNC;
    if !(is_identity || kind == JobKind::EVIDENCE_SYNC) {
        return Ok(false);
    }
    let Some(company_id) = job.company_id else {
        return Ok(false);
    };
    // A retry is not an outcome yet: one message per incident, not one per attempt.
    if !matches!(job.state, JobState::Succeeded | JobState::Failed) {
        return Ok(false);
    }
    let by = job.requester().actor;
    let by = &by;
    let settings = w.notification_settings()?;
    let name = w
        .company(company_id)?
        .map(|c| c.name)
        .unwrap_or_else(|| format!("company {company_id}"));
    let before = w.alert_outbox()?.len();
    let kind = kind.to_string();
    match job.state {
        JobState::Failed => {
            let error = job.error.clone().unwrap_or_default();
            let refused = credentials_refused(&error);
            if refused {
                open(
                    w,
                    by,
                    &settings,
                    AlertRule::Credentials,
                    company_id,
                    &name,
                    format!(
                        "Microsoft refused Tenantry's app for {name}: consent revoked, or the client secret or certificate rejected. Run admin consent again (company page → Connect) or renew the credential under Settings → Integrations → Microsoft Entra ID.\n\nJob #{} ({}): {error}",
                        job.id, kind
                    ),
                    max_attempts,
                    now,
                )?;
            }
            if is_identity {
                let streak = w.failure_streak(company_id, &kind)?.saturating_add(1);
                w.set_failure_streak(company_id, &kind, streak)?;
                let threshold = settings.rule(AlertRule::SyncFailed).threshold;
                // The credentials alert already names the cause of these failures.
                let covered = w.incident(company_id, AlertRule::Credentials)?.is_some();
                if streak >= threshold && !covered {
                    open(
                        w,
                        by,
                        &settings,
                        AlertRule::SyncFailed,
                        company_id,
                        &name,
                        format!(
                            "The identity sync of {name} failed {streak} time(s) in a row. Last error (job #{}): {error}",
                            job.id
                        ),
                        max_attempts,
                        now,
                    )?;
                }
            }
        }
        JobState::Succeeded => {
            clear(
                w,
                by,
                AlertRule::Credentials,
                company_id,
                &name,
                max_attempts,
                now,
            )?;
            if is_identity {
                w.set_failure_streak(company_id, &kind, 0)?;
                clear(
                    w,
                    by,
                    AlertRule::SyncFailed,
                    company_id,
                    &name,
                    max_attempts,
                    now,
                )?;
                let (contacts, devices) = w.contact_and_device_counts(company_id)?;
                w.put_daily_count(
                    company_id,
                    DailyCount {
                        day: day_of(now),
                        contacts,
                        devices,
                    },
                )?;
                let started = job.started_at.unwrap_or(job.created_at);
                let resynced = w
                    .last_audit_at(company_id, "sync.identity.resync")?
                    .is_some_and(|at| at >= started);
                if resynced {
                    open(
                        w,
                        by,
                        &settings,
                        AlertRule::Resync,
                        company_id,
                        &name,
                        format!(
                            "The identity sync of {name} (job #{}) found its delta token expired and ran a full resync. Nothing is lost, but a full resync reads every user and group again; if it happens often, the sync is not running often enough (Microsoft keeps delta tokens about 7 days).",
                            job.id
                        ),
                        max_attempts,
                        now,
                    )?;
                }
            }
        }
        JobState::Queued | JobState::Running => {}
    }
    Ok(w.alert_outbox()?.len() > before)
}

impl Services {
    /// [`alerts_in_txn`] for the job queue's outcome transaction. An associated function of
    /// `Services` so `domain::jobs` calls it without importing this module (which imports
    /// `domain::jobs`).
    pub(crate) fn alert_rules_in_txn(
        w: &mut Writer,
        job: &Job,
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<bool, StoreError> {
        alerts_in_txn(w, job, now, max_attempts)
    }

    /// Is `kind` the alert delivery job (whose end is looked at apart, after its commit)?
    pub(crate) fn is_alert_delivery(kind: &JobKind) -> bool {
        super::is_delivery(kind)
    }

    /// Look at a job that just ended (or was requeued): open or clear incidents, keep the
    /// failure streak and the day's counts, and keep alert delivery going. Never fails the
    /// caller: a problem here is logged, the job's own outcome is already stored.
    pub async fn alerts_after_job(&self, job: &Job) {
        if let Err(e) = self.alerts_after_job_inner(job).await {
            tracing::error!(job = job.id, error = %e, "could not evaluate alert rules");
        }
    }

    async fn alerts_after_job_inner(&self, job: &Job) -> DomainResult<()> {
        if super::is_delivery(&job.kind) {
            return self.after_delivery(job).await;
        }
        let now = self.now();
        let max_attempts = self.config.job_max_attempts;
        let job = job.clone();
        let queued = self
            .store
            .write(move |w| alerts_in_txn(w, &job, now, max_attempts))
            .await?;
        if queued {
            self.job_notify.notify_waiters();
        }
        Ok(())
    }

    /// After a delivery job: when it gave up, drop the messages it was given (audited), and
    /// when messages arrived while it ran, queue the next delivery.
    async fn after_delivery(&self, job: &Job) -> DomainResult<()> {
        let now = self.now();
        let max_attempts = self.config.job_max_attempts;
        let job = job.clone();
        let queued = self
            .store
            .write(move |w| {
                if !matches!(job.state, JobState::Succeeded | JobState::Failed) {
                    return Ok::<_, StoreError>(false);
                }
                let started = job.started_at.unwrap_or(job.created_at);
                let mut left = 0;
                for m in w.alert_outbox()? {
                    if job.state == JobState::Failed && m.created_at <= started {
                        w.delete_alert_message(m.id)?;
                        let mut e = NewAuditEvent::new(
                            now,
                            Actor::system(),
                            "alert.delivery",
                            format!(
                                "Gave up delivering \"{}\" to {} after {} attempt(s)",
                                m.subject,
                                m.pending.join(", "),
                                job.attempts
                            ),
                        )
                        .failed()
                        .details(serde_json::json!({
                            "message_id": m.id,
                            "channels": m.pending,
                            "job_id": job.id,
                            "error": job.error,
                        }));
                        e.company_id = m.company_id;
                        w.append_audit(e)?;
                    } else {
                        left += 1;
                    }
                }
                if left > 0 {
                    let next = Job::new(
                        ALERT_DELIVERY,
                        None,
                        crate::model::Trigger::Manual,
                        Requester::system(),
                        max_attempts,
                        now,
                        serde_json::Value::Null,
                    );
                    w.enqueue_job(next)?;
                }
                Ok(left > 0)
            })
            .await?;
        if queued {
            self.job_notify.notify_waiters();
        }
        Ok(())
    }

    /// The periodic checks that no job's end triggers: a job running past its heartbeat, and
    /// the app certificate's expiry. Called by the alert watch loop (and by tests).
    pub async fn alerts_scan(&self) -> DomainResult<()> {
        let now = self.now();
        let max_attempts = self.config.job_max_attempts;
        // The certificate, as the Entra page shows it (a configured or stored one).
        let cert = self
            .entra_app()
            .await
            .ok()
            .and_then(|a| a.certificate)
            .map(|c| (c.thumbprint, c.expires_at));
        let queued = self
            .store
            .write(move |w| {
                let by = &Actor::system();
                let settings = w.notification_settings()?;
                let before = w.alert_outbox()?.len();
                // Stuck jobs: running, with no heartbeat (progress) for `threshold` minutes.
                let limit = Duration::minutes(i64::from(settings.rule(AlertRule::Stuck).threshold));
                let mut stuck_companies = std::collections::BTreeSet::new();
                for j in w.running_jobs_now()? {
                    let beat = j.heartbeat_at.or(j.started_at).unwrap_or(j.created_at);
                    if now - beat < limit {
                        continue;
                    }
                    let company = j.company_id.unwrap_or(0);
                    stuck_companies.insert(company);
                    let name = match j.company_id {
                        Some(id) => w.company(id)?.map(|c| c.name).unwrap_or_default(),
                        None => String::new(),
                    };
                    let text = format!(
                        "Job #{} ({}) has been running since {} with no progress for {} minute(s). Check the Jobs page and the service log; a restart requeues it.",
                        j.id,
                        j.kind.as_str(),
                        j.started_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                        (now - beat).num_minutes()
                    );
                    open(w, by, &settings, AlertRule::Stuck, company, &name, text, max_attempts, now)?;
                }
                for i in w.open_incidents()? {
                    if i.rule == AlertRule::Stuck && !stuck_companies.contains(&i.company_id) {
                        let name = w.company(i.company_id)?.map(|c| c.name).unwrap_or_default();
                        clear(w, by, AlertRule::Stuck, i.company_id, &name, max_attempts, now)?;
                    }
                }
                // The app certificate's expiry (company 0: the appliance itself). A client
                // secret's expiry is not known to the appliance (Entra does not return it to
                // the app), so only the certificate is watched.
                let days = i64::from(settings.rule(AlertRule::Expiry).threshold);
                match cert {
                    Some((thumb, expires)) if expires - now <= Duration::days(days) => {
                        let text = format!(
                            "The Entra app certificate {thumb} expires on {} ({} day(s) left). Upload a new certificate under Settings → Integrations → Microsoft Entra ID and add it to the app registration before then, or every sync will fail.",
                            expires.format("%Y-%m-%d %H:%M UTC"),
                            (expires - now).num_days()
                        );
                        open(w, by, &settings, AlertRule::Expiry, 0, "", text, max_attempts, now)?;
                    }
                    _ => {
                        clear(w, by, AlertRule::Expiry, 0, "", max_attempts, now)?;
                    }
                }
                Ok::<_, StoreError>(w.alert_outbox()?.len() > before)
            })
            .await?;
        if queued {
            self.job_notify.notify_waiters();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_recognised_by_code() {
        assert!(credentials_refused(
            "users: token request refused: invalid_client: AADSTS7000222: The provided client secret keys are expired"
        ));
        assert!(credentials_refused(
            "users: token request refused: unauthorized_client: AADSTS700016: Application not found"
        ));
        assert!(credentials_refused(
            "Graph /users failed: HTTP 403 Authorization_RequestDenied: Insufficient privileges"
        ));
        assert!(!credentials_refused(
            "Graph /users still throttled: HTTP 429"
        ));
    }

    #[test]
    fn days_are_utc_days() {
        let t = DateTime::parse_from_rfc3339("1970-01-02T23:59:59Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(day_of(t), 1);
    }
}
