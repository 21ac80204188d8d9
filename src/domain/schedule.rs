//! The sync schedules: when they fire, catching up a slot missed while the service was
//! down, and what firing does (queue one job per eligible company; nothing else).

use super::{DomainError, DomainResult, Services};
use crate::model::{Actor, Job, NewAuditEvent, Requester, Trigger};
use crate::store::keys;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A named schedule (identity or evidence) with its cron expression and time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: &'static str,
    pub job_kind: &'static str,
    pub cron: cron::Schedule,
    pub tz: Tz,
}

impl Schedule {
    /// The first fire time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .after(&after.with_timezone(&self.tz))
            .next()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The next `n` fire times after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        self.cron
            .after(&after.with_timezone(&self.tz))
            .take(n)
            .map(|t| t.with_timezone(&Utc))
            .collect()
    }

    /// The most recent slot in `(last, now]`, if any: a slot missed while the service was
    /// down runs once, however many were missed (a sync brings everything current anyway).
    pub fn missed_slot(&self, last: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut found = None;
        let mut cursor = last;
        // Walk forward; bounded because schedules fire at most once a second and downtime is finite,
        // but cap the walk so a year of downtime on a per-second schedule cannot stall start-up.
        for _ in 0..100_000 {
            match self.next_after(cursor) {
                Some(t) if t <= now => {
                    found = Some(t);
                    cursor = t;
                }
                _ => return found,
            }
        }
        found
    }
}

impl Services {
    /// When a schedule last fired (None before its first run).
    pub async fn schedule_last_fired(&self, name: &str) -> DomainResult<Option<DateTime<Utc>>> {
        let key = keys::meta::schedule_last(name);
        Ok(self.store.read(move |r| r.meta(&key)).await?)
    }

    /// Remember `at` as the schedule's starting point without firing (first start ever).
    pub async fn schedule_mark(&self, name: &str, at: DateTime<Utc>) -> DomainResult<()> {
        let key = keys::meta::schedule_last(name);
        Ok(self.store.write(move |w| w.set_meta(&key, &at)).await?)
    }

    /// Fire a schedule for `slot`: queue a job for every connected, active company, record
    /// the slot and an audit event, all in one transaction. Archived companies are skipped.
    pub async fn fire_schedule(
        &self,
        schedule: &Schedule,
        slot: DateTime<Utc>,
    ) -> DomainResult<usize> {
        let now = self.now();
        let key = keys::meta::schedule_last(schedule.name);
        let kind = schedule.job_kind;
        let name = schedule.name;
        let max_attempts = self.config.job_max_attempts;
        let queued = self
            .store
            .write(move |w| {
                let mut queued = 0usize;
                for c in w.all_companies()?.into_iter().filter(|c| c.syncs()) {
                    let job = Job::new(
                        kind,
                        Some(c.id),
                        Trigger::Schedule,
                        Requester::scheduler(),
                        max_attempts,
                        now,
                        serde_json::Value::Null,
                    );
                    if matches!(w.enqueue_job(job)?, crate::store::Enqueued::New(_)) {
                        queued += 1;
                    }
                }
                w.set_meta(&key, &slot)?;
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        Actor::scheduler(),
                        &format!("schedule.{name}"),
                        format!("{name} schedule fired for {slot}: {queued} job(s) queued"),
                    )
                    .details(serde_json::json!({"slot": slot, "queued": queued})),
                )?;
                Ok::<_, DomainError>(queued)
            })
            .await?;
        self.job_notify.notify_waiters();
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::str::FromStr;

    fn sched(expr: &str, tz: Tz) -> Schedule {
        Schedule {
            name: "t",
            job_kind: "k",
            cron: cron::Schedule::from_str(expr).expect("cron"),
            tz,
        }
    }
    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, h, m, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn identity_fires_every_four_hours_on_the_hour() {
        let s = sched("0 0 */4 * * *", Tz::UTC);
        let start = Utc
            .with_ymd_and_hms(2026, 2, 28, 23, 59, 59)
            .single()
            .expect("time");
        let got = s.upcoming(start, 7);
        let want: Vec<_> = [0, 4, 8, 12, 16, 20]
            .iter()
            .map(|h| at(*h, 0))
            .chain([at(0, 0) + chrono::Duration::days(1)])
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn evidence_fires_every_six_hours_at_quarter_past() {
        let s = sched("0 15 */6 * * *", Tz::UTC);
        let start = Utc
            .with_ymd_and_hms(2026, 2, 28, 23, 59, 59)
            .single()
            .expect("time");
        assert_eq!(
            s.upcoming(start, 4),
            vec![at(0, 15), at(6, 15), at(12, 15), at(18, 15)]
        );
        // Exactly on a slot: the next one is the following slot.
        assert_eq!(s.next_after(at(6, 15)), Some(at(12, 15)));
    }

    #[test]
    fn evidence_slots_never_meet_identity_slots() {
        let identity = sched("0 0 */4 * * *", Tz::UTC);
        let evidence = sched("0 15 */6 * * *", Tz::UTC);
        let start = at(0, 0) - chrono::Duration::seconds(1);
        // Four weeks of slots: 6 identity and 4 evidence runs a day.
        let id_slots = identity.upcoming(start, 6 * 28);
        let ev_slots = evidence.upcoming(start, 4 * 28);
        assert_eq!(ev_slots.len(), 4 * 28);
        for e in &ev_slots {
            assert_eq!(e.format("%M:%S").to_string(), "15:00", "{e}");
            assert_eq!(chrono::Timelike::hour(e) % 6, 0, "{e}");
            // Never the same minute as an identity run: at least 15 minutes apart.
            let nearest = id_slots
                .iter()
                .map(|i| (*e - *i).num_minutes().abs())
                .min()
                .expect("identity slots");
            assert!(nearest >= 15, "{e} is {nearest} min from an identity slot");
        }
        // Six hours apart, every time.
        for w in ev_slots.windows(2) {
            assert_eq!(w[1] - w[0], chrono::Duration::hours(6));
        }
    }

    #[test]
    fn a_missed_slot_runs_once_and_only_the_latest() {
        let s = sched("0 0 */4 * * *", Tz::UTC);
        // Down from 03:00 to 13:30: slots 04:00, 08:00 and 12:00 were missed; catch up 12:00 once.
        assert_eq!(s.missed_slot(at(3, 0), at(13, 30)), Some(at(12, 0)));
        // Nothing missed between 12:00 and 15:59.
        assert_eq!(s.missed_slot(at(12, 0), at(15, 59)), None);
        // A slot exactly at `now` counts as due.
        assert_eq!(s.missed_slot(at(12, 0), at(16, 0)), Some(at(16, 0)));
    }

    #[test]
    fn schedules_follow_the_configured_time_zone() {
        let s = sched("0 0 */4 * * *", chrono_tz::Europe::Berlin);
        // 00:00 in Berlin (winter, UTC+1) is 23:00 UTC the day before.
        let next = s.next_after(
            Utc.with_ymd_and_hms(2026, 1, 10, 22, 30, 0)
                .single()
                .expect("time"),
        );
        assert_eq!(next, Utc.with_ymd_and_hms(2026, 1, 10, 23, 0, 0).single());
    }
}
