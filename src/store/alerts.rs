//! Alerts (#13): open incidents, failure streaks, the outbox of messages to deliver, the
//! notification settings (secrets sealed), and the daily counts the dashboard's sparklines
//! read. Every table here is small: open incidents and non-zero streaks only, undelivered
//! messages only, and one row per company and day.

use super::codec::{dec, enc};
use super::index::entries::{self, audit_scope};
use super::index::keys::{self, kind};
use super::tables::{
    ALERT_INCIDENTS, ALERT_OUTBOX, ALERT_STREAKS, AUDIT, AUDIT_INDEX, DAILY_COUNTS, JOB_ACTIVE,
    JOBS,
};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{
    AlertMessage, AlertRule, DailyCount, Incident, Job, JobState, NotificationSettings, Webhook,
};
use redb::ReadableTable;

/// Keys of the notification settings in the `settings` table.
pub mod settings_keys {
    /// `NotificationSettings` (no secrets).
    pub const NOTIFICATIONS: &str = "notifications";
    /// The SMTP password, sealed.
    pub const SMTP_PASSWORD: &str = "notifications_smtp_password";
    /// The webhooks (format and URL) as one JSON list, sealed.
    pub const WEBHOOKS: &str = "notifications_webhooks";
}

/// The id sequence of alert messages.
const SEQ_ALERT_MESSAGE: &str = "alert_message";

impl<Tx: ReadTables> Txn<Tx> {
    pub fn notification_settings(&self) -> Result<NotificationSettings, StoreError> {
        Ok(self
            .setting::<NotificationSettings>(settings_keys::NOTIFICATIONS)?
            .unwrap_or_default()
            .normalised())
    }

    /// Is an SMTP password stored? (Never returned to a page.)
    pub fn smtp_password_set(&self) -> Result<bool, StoreError> {
        Ok(self
            .setting::<String>(settings_keys::SMTP_PASSWORD)?
            .is_some())
    }

    pub fn smtp_password(&self) -> Result<Option<String>, StoreError> {
        self.secret_setting(settings_keys::SMTP_PASSWORD)
    }

    /// The webhooks, unsealed (for delivery only).
    pub fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        match self.secret_setting(settings_keys::WEBHOOKS)? {
            Some(json) => Ok(serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("notification webhooks: {e}")))?),
            None => Ok(Vec::new()),
        }
    }

    pub fn incident(
        &self,
        company_id: u64,
        rule: AlertRule,
    ) -> Result<Option<Incident>, StoreError> {
        let t = self.table(ALERT_INCIDENTS)?;
        t.get((company_id, rule.as_str()))?
            .map(|g| dec(g.value()))
            .transpose()
    }

    /// Every open incident (a short table: only what is wrong now).
    pub fn open_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        let t = self.table(ALERT_INCIDENTS)?;
        t.iter()?.map(|r| dec(r?.1.value())).collect()
    }

    /// How many `kind` jobs of the company failed in a row (0 after a success).
    pub fn failure_streak(&self, company_id: u64, kind: &str) -> Result<u32, StoreError> {
        Ok(self
            .table(ALERT_STREAKS)?
            .get((company_id, kind))?
            .map_or(0, |g| g.value()))
    }

    /// Companies whose last `kind` job failed, with the streak.
    pub fn failing_companies(&self, kind: &str) -> Result<Vec<(u64, u32)>, StoreError> {
        let t = self.table(ALERT_STREAKS)?;
        let mut out = Vec::new();
        for r in t.iter()? {
            let (k, v) = r?;
            let (company, k_kind) = k.value();
            if k_kind == kind {
                out.push((company, v.value()));
            }
        }
        Ok(out)
    }

    /// Messages still to deliver, oldest first.
    pub fn alert_outbox(&self) -> Result<Vec<AlertMessage>, StoreError> {
        let t = self.table(ALERT_OUTBOX)?;
        t.iter()?.map(|r| dec(r?.1.value())).collect()
    }

    /// Daily counts of a company from `from_day` on, oldest first (at most one per day).
    pub fn daily_counts(
        &self,
        company_id: u64,
        from_day: i64,
    ) -> Result<Vec<DailyCount>, StoreError> {
        let t = self.table(DAILY_COUNTS)?;
        t.range((company_id, from_day)..=(company_id, i64::MAX))?
            .map(|r| {
                let (k, v) = r?;
                let (contacts, devices) = v.value();
                Ok(DailyCount {
                    day: k.value().1,
                    contacts,
                    devices,
                })
            })
            .collect()
    }

    /// A company's active contacts and its devices, from the list counters (no counting).
    pub fn contact_and_device_counts(&self, company_id: u64) -> Result<(u64, u64), StoreError> {
        let contacts = self.count(&keys::contact_filter_scope(company_id, Some(true), None))?;
        let devices = self.count(&keys::scope(kind::ASSET, &[company_id]))?;
        Ok((contacts, devices))
    }

    /// Open support requests of a company, from its counter.
    pub fn open_request_count(&self, company_id: u64) -> Result<u64, StoreError> {
        self.count(&keys::request_scope(
            company_id,
            Some(crate::model::RequestStatus::Open),
        ))
    }

    /// Jobs of a company that failed for good at or after `since`: the failed `job.*` audit
    /// entries `complete_job` writes. Walks the company's `job` audit index newest first and
    /// stops at the first older entry, so it reads the window, not the log. (Not every failed
    /// audit entry: a tenant without a licence audits its evidence gaps as failures daily.)
    pub fn failures_since(
        &self,
        company_id: u64,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError> {
        let scope = audit_scope(company_id, "job");
        let t = self.table(AUDIT_INDEX)?;
        let floor = keys::time(since);
        let mut n = 0;
        for r in t
            .range((scope.as_slice(), 0)..=(scope.as_slice(), u64::MAX))?
            .rev()
        {
            let (_, v) = r?;
            let v = v.value();
            let Some((outcome, time)) = v.split_last() else {
                continue;
            };
            if time < floor.as_slice() {
                break;
            }
            if *outcome == 1 {
                n += 1;
            }
        }
        Ok(n)
    }

    /// When the company's latest audit event of exactly `kind` happened (one index lookup
    /// and one event read).
    pub fn last_audit_at(
        &self,
        company_id: u64,
        kind: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        let scope = audit_scope(company_id, kind);
        let id = {
            let t = self.table(AUDIT_INDEX)?;
            let last = t
                .range((scope.as_slice(), 0)..=(scope.as_slice(), u64::MAX))?
                .next_back()
                .transpose()?;
            match last {
                Some((k, _)) => k.value().1,
                None => return Ok(None),
            }
        };
        let t = self.table(AUDIT)?;
        let Some(g) = t.get(id)? else {
            return Ok(None);
        };
        let e: crate::model::AuditEvent = dec(g.value())?;
        Ok((e.kind == kind).then_some(e.at))
    }

    /// Active companies' ids in name order: the company index's keys, no records.
    pub fn active_company_ids_by_name(&self) -> Result<Vec<u64>, StoreError> {
        let scope = keys::scope(kind::COMPANY, &[keys::company_scope::ACTIVE]);
        let list = keys::list(
            &scope,
            entries::company_order(crate::model::CompanySort::Name),
        );
        Ok(self
            .list_ids(&list, false, None, 0, usize::MAX)?
            .into_iter()
            .map(|(id, _)| id)
            .collect())
    }

    /// Jobs running now (at most one per company and kind: read through the active map).
    pub fn running_jobs_now(&self) -> Result<Vec<Job>, StoreError> {
        let active = self.table(JOB_ACTIVE)?;
        let jobs = self.table(JOBS)?;
        let mut out = Vec::new();
        for r in active.iter()? {
            let id = r?.1.value();
            if let Some(g) = jobs.get(id)? {
                let job: Job = dec(g.value())?;
                if job.state == JobState::Running {
                    out.push(job);
                }
            }
        }
        Ok(out)
    }
}

impl Writer {
    pub fn set_notification_settings(
        &mut self,
        s: &NotificationSettings,
    ) -> Result<(), StoreError> {
        self.set_setting(settings_keys::NOTIFICATIONS, s)
    }

    pub fn set_smtp_password(&mut self, plain: Option<&str>) -> Result<(), StoreError> {
        self.set_secret_setting(settings_keys::SMTP_PASSWORD, plain)
    }

    pub fn set_webhooks(&mut self, hooks: &[Webhook]) -> Result<(), StoreError> {
        if hooks.is_empty() {
            return self.set_secret_setting(settings_keys::WEBHOOKS, None);
        }
        let json = serde_json::to_string(hooks)
            .map_err(|e| StoreError::Corrupt(format!("notification webhooks: {e}")))?;
        self.set_secret_setting(settings_keys::WEBHOOKS, Some(&json))
    }

    pub fn put_incident(&mut self, i: &Incident) -> Result<(), StoreError> {
        self.txn
            .open_table(ALERT_INCIDENTS)?
            .insert((i.company_id, i.rule.as_str()), enc(i)?.as_slice())?;
        Ok(())
    }

    pub fn delete_incident(&mut self, company_id: u64, rule: AlertRule) -> Result<(), StoreError> {
        self.txn
            .open_table(ALERT_INCIDENTS)?
            .remove((company_id, rule.as_str()))?;
        Ok(())
    }

    /// Set a failure streak; 0 removes the row.
    pub fn set_failure_streak(
        &mut self,
        company_id: u64,
        kind: &str,
        n: u32,
    ) -> Result<(), StoreError> {
        let mut t = self.txn.open_table(ALERT_STREAKS)?;
        if n == 0 {
            t.remove((company_id, kind))?;
        } else {
            t.insert((company_id, kind), n)?;
        }
        Ok(())
    }

    /// Queue a message (its id assigned here).
    pub fn push_alert_message(&mut self, mut m: AlertMessage) -> Result<AlertMessage, StoreError> {
        m.id = self.next_id(SEQ_ALERT_MESSAGE)?;
        self.put_alert_message(&m)?;
        Ok(m)
    }

    /// Save a message's remaining channels; none left removes it.
    pub fn put_alert_message(&mut self, m: &AlertMessage) -> Result<(), StoreError> {
        let mut t = self.txn.open_table(ALERT_OUTBOX)?;
        if m.pending.is_empty() {
            t.remove(m.id)?;
        } else {
            t.insert(m.id, enc(m)?.as_slice())?;
        }
        Ok(())
    }

    pub fn delete_alert_message(&mut self, id: u64) -> Result<(), StoreError> {
        self.txn.open_table(ALERT_OUTBOX)?.remove(id)?;
        Ok(())
    }

    /// Record the day's counts (the day's last sync wins).
    pub fn put_daily_count(&mut self, company_id: u64, c: DailyCount) -> Result<(), StoreError> {
        self.txn
            .open_table(DAILY_COUNTS)?
            .insert((company_id, c.day), (c.contacts, c.devices))?;
        Ok(())
    }
}
