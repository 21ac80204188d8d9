//! The alert watch (#13): the checks no job's end triggers — a job running past its
//! heartbeat, the app certificate's expiry — once a minute. Like the scheduler, it only
//! writes incidents and queues delivery jobs; the job queue sends.

use super::{Shutdown, stopped};
use crate::domain::Services;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

const EVERY: Duration = Duration::from_secs(60);

pub fn spawn_alert_watch(services: Services, shutdown: Shutdown) -> JoinHandle<()> {
    tokio::spawn(async move {
        // The first look waits a minute, so it does not compete with the start itself.
        let mut tick = tokio::time::interval_at(Instant::now() + EVERY, EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = services.alerts_scan().await {
                        tracing::error!(error = %e, "alert checks failed");
                    }
                }
                _ = stopped(shutdown.clone()) => return,
            }
        }
    })
}
