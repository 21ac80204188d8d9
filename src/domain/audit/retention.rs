//! Audit retention: entries older than the retention period go, and beyond the size cap the
//! oldest go, so the log of a long-running appliance stays bounded on a small disk.

use crate::domain::{DomainResult, Services};
use crate::model::{Actor, NewAuditEvent};
use chrono::Duration;

/// Entries removed per write transaction: the writer lock is released between batches, so
/// sign-ins and syncs are not held up by a large first prune.
const BATCH: u64 = 5_000;

/// `[audit]` in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditRetention {
    pub retention_days: u32,
    pub max_entries: u64,
}

impl Services {
    /// Remove what the retention policy says must go; returns how many entries were removed.
    /// Records one system entry saying so when anything was removed (nothing when idle, so the
    /// daily check adds no noise). That entry may leave the log one above `max_entries` until
    /// the next prune.
    pub async fn prune_audit(&self, policy: AuditRetention) -> DomainResult<u64> {
        let now = self.now();
        let cutoff = now - Duration::days(i64::from(policy.retention_days));
        let max = policy.max_entries;
        let prunable = self
            .store
            .read(move |r| r.audit_prunable(cutoff, max))
            .await?;
        if !prunable {
            return Ok(0);
        }
        let removed = self
            .remove_in_batches(BATCH, move |w| w.prune_audit(cutoff, max, BATCH))
            .await?;
        if removed > 0 {
            self.record(
                NewAuditEvent::new(
                    now,
                    Actor::system(),
                    "audit.prune",
                    format!(
                        "Removed {removed} audit entries (older than {} days, or beyond the newest {max})",
                        policy.retention_days
                    ),
                )
                .details(serde_json::json!({
                    "removed": removed,
                    "retention_days": policy.retention_days,
                    "max_entries": max,
                    "cutoff": cutoff.to_rfc3339(),
                })),
            )
            .await?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::crypto::SecretBox;
    use crate::domain::DomainConfig;
    use crate::model::{AuditEvent, AuditFilter};
    use crate::store::Store;
    use chrono::{DateTime, TimeZone, Utc};
    use std::sync::Arc;

    fn services(dir: &std::path::Path, clock: &ManualClock) -> Services {
        let store = Store::open(&dir.join("t.redb"), SecretBox::from_key([2; 32])).expect("open");
        Services::new(
            store,
            Arc::new(clock.clone()),
            DomainConfig {
                session_hours: 12,
                job_max_attempts: 3,
                job_backoff_seconds: 1,
            },
        )
    }

    fn day(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0)
            .single()
            .expect("time")
            + Duration::days(n)
    }

    async fn log(s: &Services) -> Vec<AuditEvent> {
        s.audit_page(AuditFilter::default(), 1, 500)
            .await
            .expect("audit")
            .items
    }

    async fn add(s: &Services, at: DateTime<Utc>, what: &str) {
        s.record(NewAuditEvent::new(at, Actor::system(), "test.event", what))
            .await
            .expect("recorded");
    }

    #[tokio::test]
    async fn retention_removes_entries_older_than_the_period_and_records_how_many() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = ManualClock::new(day(0));
        let s = services(dir.path(), &clock);
        for d in 0..10 {
            add(&s, day(d), &format!("day {d}")).await;
        }
        clock.set(day(400 + 5));
        let policy = AuditRetention {
            retention_days: 400,
            max_entries: 1_000_000,
        };
        // Day 5 is exactly 400 days old: kept; days 0..4 are older.
        assert_eq!(s.prune_audit(policy).await.expect("pruned"), 5);
        let left = log(&s).await;
        let summaries: Vec<&str> = left.iter().map(|e| e.summary.as_str()).collect();
        assert_eq!(left.len(), 6, "{summaries:?}");
        assert!(left[0].summary.starts_with("Removed 5 audit entries"));
        assert_eq!(left[0].kind, "audit.prune");
        assert_eq!(left[0].actor, "system");
        assert_eq!(left[0].details["removed"], 5);
        assert_eq!(left.last().map(|e| e.summary.as_str()), Some("day 5"));

        // Nothing more to do: nothing removed, nothing recorded.
        assert_eq!(s.prune_audit(policy).await.expect("pruned"), 0);
        assert_eq!(log(&s).await.len(), 6);
    }

    #[tokio::test]
    async fn above_the_cap_the_oldest_entries_go_in_batches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = ManualClock::new(day(0));
        let s = services(dir.path(), &clock);
        let n = BATCH + 1_000;
        s.store
            .write(move |w| {
                for i in 0..n {
                    w.append_audit(NewAuditEvent::new(
                        day(0),
                        Actor::system(),
                        "test.event",
                        format!("entry {i}"),
                    ))?;
                }
                Ok::<_, crate::domain::DomainError>(())
            })
            .await
            .expect("filled");
        let policy = AuditRetention {
            retention_days: 400,
            max_entries: 100,
        };
        assert_eq!(s.prune_audit(policy).await.expect("pruned"), n - 100);
        let left = s
            .audit_page(AuditFilter::default(), 1, 500)
            .await
            .expect("audit");
        assert_eq!(left.total, 101, "the newest 100 and the prune's own entry");
        assert_eq!(
            left.items.last().map(|e| e.summary.clone()),
            Some(format!("entry {}", n - 100))
        );
    }
}
