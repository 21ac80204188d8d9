//! Small periodic chores beside the job queue: writing the audit summaries of anonymous
//! failures once their minute is over.

use super::{Shutdown, stopped};
use crate::domain::Services;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often summaries whose minute is over are written: a summary lands at most this long
/// after its minute, even when no further event arrives to carry it.
const FLUSH_EVERY: Duration = Duration::from_secs(20);

pub fn spawn_housekeeping(services: Services, shutdown: Shutdown) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = flush.tick() => {
                    if let Err(e) = services.flush_refusal_summaries().await {
                        tracing::error!(error = %e, "could not write audit summaries");
                    }
                }
                _ = stopped(shutdown.clone()) => return,
            }
        }
    })
}
