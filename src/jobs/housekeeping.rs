//! Small periodic chores beside the job queue: writing the audit summaries of anonymous
//! failures once their minute is over, and the daily audit, evidence and finished-job retention prunes.

use super::{Shutdown, stopped};
use crate::domain::Services;
use crate::domain::audit::AuditRetention;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// How often summaries whose minute is over are written: a summary lands at most this long
/// after its minute, even when no further event arrives to carry it.
const FLUSH_EVERY: Duration = Duration::from_secs(20);
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// The first prune waits a little, so it does not compete with the start itself.
const FIRST_PRUNE_AFTER: Duration = Duration::from_secs(60);

pub fn spawn_housekeeping(
    services: Services,
    retention: AuditRetention,
    evidence_retention_days: u32,
    jobs_keep_days: u32,
    shutdown: Shutdown,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        flush.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut prune = tokio::time::interval_at(Instant::now() + FIRST_PRUNE_AFTER, PRUNE_EVERY);
        prune.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = flush.tick() => {
                    if let Err(e) = services.flush_refusal_summaries().await {
                        tracing::error!(error = %e, "could not write audit summaries");
                    }
                }
                _ = prune.tick() => {
                    match services.prune_audit(retention).await {
                        Ok(0) => {}
                        Ok(removed) => tracing::info!(removed, "audit retention removed old entries"),
                        Err(e) => tracing::error!(error = %e, "audit retention prune failed"),
                    }
                    match services.prune_evidence(evidence_retention_days).await {
                        Ok(0) => {}
                        Ok(removed) => tracing::info!(removed, "evidence retention removed old snapshots"),
                        Err(e) => tracing::error!(error = %e, "evidence retention prune failed"),
                    }
                    match services.prune_jobs(jobs_keep_days).await {
                        Ok(0) => {}
                        Ok(removed) => tracing::info!(removed, "job retention removed old finished jobs"),
                        Err(e) => tracing::error!(error = %e, "job retention prune failed"),
                    }
                }
                _ = stopped(shutdown.clone()) => return,
            }
        }
    })
}
