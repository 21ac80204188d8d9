//! Failures of anonymous clients (refused sign-ins, bogus callbacks), aggregated so a flood
//! cannot bloat the audit log.
//!
//! Per source (the client address, IPv6 by /64), kind, refusal code and company, the first
//! failure of a minute is written in full, as before; further ones in that minute are only
//! counted here; once the minute is over one summary entry carries the count ("N more refused
//! sign-ins from ADDRESS between HH:MM and HH:MM", `details.count`). Nothing is dropped: a
//! minute's entries add up to its failures.
//!
//! WHY the code is part of the key: a summary then says what was refused, and the codes are a
//! fixed set, so the key space an attacker controls is still only the address.

use crate::domain::throttle::source_of;
use crate::model::{Actor, NewAuditEvent, Outcome};
use chrono::{DateTime, Duration, DurationRound, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

const ANONYMOUS: &str = "anonymous:";
/// Sources tracked at once; beyond it the oldest minute is summarised early. One entry per
/// source a minute is written anyway, so this only bounds memory.
const TRACKED_MAX: usize = 1_000;

/// Should `e` go through the aggregation? Failed events of anonymous clients only: everything
/// a signed-in actor or the system does stays one entry per event.
pub(super) fn is_anonymous_failure(e: &NewAuditEvent) -> bool {
    e.outcome == Outcome::Failure && e.actor.0.starts_with(ANONYMOUS)
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    source: String,
    kind: String,
    code: String,
    company_id: Option<u64>,
}

#[derive(Clone, Copy, Debug)]
struct Minute {
    start: DateTime<Utc>,
    /// Failures after the first, which was written in full.
    more: u64,
}

/// The failures counted but not yet written, per key.
pub struct RefusalSummaries {
    minutes: Mutex<HashMap<Key, Minute>>,
    cap: usize,
}

impl Default for RefusalSummaries {
    fn default() -> Self {
        Self::with_cap(TRACKED_MAX)
    }
}

fn minute_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::minutes(1)).unwrap_or(t)
}

impl RefusalSummaries {
    pub fn with_cap(cap: usize) -> Self {
        Self {
            minutes: Mutex::new(HashMap::new()),
            cap: cap.max(1),
        }
    }

    /// Count an anonymous failure. Returns whether to write it in full (the first of its
    /// minute), and the summaries that are due now (minutes that are over), oldest first.
    pub fn observe(&self, e: &NewAuditEvent, now: DateTime<Utc>) -> (bool, Vec<NewAuditEvent>) {
        let key = Key {
            source: source_of(e.actor.0.trim_start_matches(ANONYMOUS)),
            kind: e.kind.clone(),
            code: e.details["code"].as_str().unwrap_or_default().to_string(),
            company_id: e.company_id,
        };
        let minute = minute_of(e.at);
        let mut map = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = take_due(&mut map, now, false);
        match map.get_mut(&key) {
            Some(m) if m.start == minute => {
                m.more += 1;
                (false, summaries(out, now))
            }
            Some(m) => {
                // Another minute that is not over by `now` (the clock moved back): close it.
                out.push((key.clone(), *m));
                *m = Minute {
                    start: minute,
                    more: 0,
                };
                (true, summaries(out, now))
            }
            None => {
                if map.len() >= self.cap
                    && let Some(oldest) = map
                        .iter()
                        .min_by_key(|(_, m)| m.start)
                        .map(|(k, _)| k.clone())
                    && let Some(m) = map.remove(&oldest)
                {
                    out.push((oldest, m));
                }
                map.insert(
                    key,
                    Minute {
                        start: minute,
                        more: 0,
                    },
                );
                (true, summaries(out, now))
            }
        }
    }

    /// Summaries of the minutes that are over by `now`; with `all`, of every minute counted so
    /// far (at shutdown, so nothing counted is lost).
    pub fn due(&self, now: DateTime<Utc>, all: bool) -> Vec<NewAuditEvent> {
        let mut map = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        summaries(take_due(&mut map, now, all), now)
    }
}

fn take_due(map: &mut HashMap<Key, Minute>, now: DateTime<Utc>, all: bool) -> Vec<(Key, Minute)> {
    let over: Vec<Key> = map
        .iter()
        .filter(|(_, m)| all || m.start + Duration::minutes(1) <= now)
        .map(|(k, _)| k.clone())
        .collect();
    over.into_iter()
        .filter_map(|k| map.remove(&k).map(|m| (k, m)))
        .collect()
}

/// One summary entry per minute with failures beyond the first. Written at `now`, not at the
/// minute's end, so event ids keep growing with time (the audit page relies on that).
fn summaries(mut closed: Vec<(Key, Minute)>, now: DateTime<Utc>) -> Vec<NewAuditEvent> {
    closed.sort_by_key(|(_, m)| m.start);
    closed
        .into_iter()
        .filter(|(_, m)| m.more > 0)
        .map(|(k, m)| {
            let end = m.start + Duration::minutes(1);
            let what = match (k.kind.ends_with("sign_in"), m.more) {
                (true, 1) => "refused sign-in".to_string(),
                (true, _) => "refused sign-ins".to_string(),
                (false, 1) => format!("failed {} event", k.kind),
                (false, _) => format!("failed {} events", k.kind),
            };
            let mut e = NewAuditEvent::new(
                now,
                Actor::anonymous(&k.source),
                &k.kind,
                format!(
                    "{} more {what} from {} between {} and {} UTC",
                    m.more,
                    k.source,
                    m.start.format("%H:%M"),
                    end.format("%H:%M"),
                ),
            )
            .failed()
            .details(serde_json::json!({
                "count": m.more,
                "code": k.code,
                "source": k.source,
                "from": m.start.to_rfc3339(),
                "to": end.to_rfc3339(),
                "aggregated": true,
            }));
            if let Some(c) = k.company_id {
                e = e.company(c);
            }
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 10)
            .single()
            .expect("time")
    }

    fn refused(ip: &str, at: DateTime<Utc>) -> NewAuditEvent {
        NewAuditEvent::new(at, Actor::anonymous(ip), "staff.sign_in", "refused")
            .failed()
            .details(serde_json::json!({ "code": "invalid_state" }))
    }

    fn count(written: usize, summaries: &[NewAuditEvent]) -> u64 {
        written as u64
            + summaries
                .iter()
                .map(|s| s.details["count"].as_u64().unwrap_or(0))
                .sum::<u64>()
    }

    #[test]
    fn only_anonymous_failures_are_aggregated() {
        let ok = NewAuditEvent::new(t0(), Actor::anonymous("1.2.3.4"), "x", "s");
        assert!(!is_anonymous_failure(&ok));
        let staff = NewAuditEvent::new(t0(), Actor::staff("a@b.c"), "x", "s").failed();
        assert!(!is_anonymous_failure(&staff));
        assert!(is_anonymous_failure(&refused("1.2.3.4", t0())));
    }

    #[test]
    fn the_first_failure_of_a_minute_is_written_and_the_rest_summarised_once_it_is_over() {
        let r = RefusalSummaries::default();
        let mut written = 0;
        let mut sums = Vec::new();
        for i in 0..500 {
            let at = t0() + Duration::milliseconds(i * 10);
            let (write, due) = r.observe(&refused("198.51.100.7", at), at);
            written += usize::from(write);
            sums.extend(due);
        }
        assert_eq!(
            (written, sums.len()),
            (1, 0),
            "one entry while the minute runs"
        );
        assert!(
            r.due(t0() + Duration::seconds(40), false).is_empty(),
            "09:00 not over"
        );
        let due = r.due(t0() + Duration::seconds(50), false);
        assert_eq!(due.len(), 1);
        assert_eq!(
            due[0].summary,
            "499 more refused sign-ins from 198.51.100.7 between 09:00 and 09:01 UTC"
        );
        assert_eq!(due[0].details["code"], "invalid_state");
        assert_eq!(due[0].outcome, Outcome::Failure);
        assert_eq!(count(written, &due), 500);
        assert!(
            r.due(t0() + Duration::hours(1), true).is_empty(),
            "nothing left"
        );
    }

    #[test]
    fn the_next_event_flushes_minutes_that_are_over_and_sources_are_kept_apart() {
        let r = RefusalSummaries::default();
        for ip in ["2001:db8:0:1::1", "2001:db8:0:1::2", "203.0.113.1"] {
            r.observe(&refused(ip, t0()), t0());
            r.observe(&refused(ip, t0()), t0());
        }
        let later = t0() + Duration::minutes(2);
        // Any next event, of whoever, brings the summaries of the minutes that are over.
        let (write, due) = r.observe(&refused("192.0.2.9", later), later);
        assert!(write);
        let mut lines: Vec<_> = due.iter().map(|e| e.summary.clone()).collect();
        lines.sort();
        assert_eq!(
            lines,
            [
                "1 more refused sign-in from 203.0.113.1 between 09:00 and 09:01 UTC",
                "3 more refused sign-ins from 2001:db8:0:1::/64 between 09:00 and 09:01 UTC",
            ]
        );
    }

    #[test]
    fn too_many_sources_summarise_the_oldest_early_and_nothing_is_lost() {
        let r = RefusalSummaries::with_cap(10);
        let (mut written, mut sums) = (0, Vec::new());
        for i in 0..1_000u32 {
            let ip = format!("10.0.{}.{}", i / 256, i % 256);
            let at = t0() + Duration::milliseconds(i64::from(i));
            for _ in 0..3 {
                let (w, due) = r.observe(&refused(&ip, at), at);
                written += usize::from(w);
                sums.extend(due);
            }
            assert!(r.minutes.lock().expect("lock").len() <= 10);
        }
        sums.extend(r.due(t0(), true));
        assert_eq!(count(written, &sums), 3_000);
    }
}
