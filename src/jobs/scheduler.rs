//! The cron loop: decides *when*, and only enqueues. One task per schedule; each sleeps until
//! its next slot, racing the shutdown signal. A slot missed while the service was down runs
//! once at start.

use super::{Shutdown, stopped};
use crate::domain::Services;
use crate::domain::schedule::Schedule;
use tokio::task::JoinHandle;

pub fn spawn_schedulers(
    schedules: Vec<Schedule>,
    services: Services,
    shutdown: Shutdown,
) -> Vec<JoinHandle<()>> {
    schedules
        .into_iter()
        .map(|s| {
            let (svc, sd) = (services.clone(), shutdown.clone());
            tokio::spawn(async move { schedule_loop(s, svc, sd).await })
        })
        .collect()
}

async fn schedule_loop(schedule: Schedule, services: Services, shutdown: Shutdown) {
    let now = services.now();
    let mut last = match services.schedule_last_fired(schedule.name).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            // First start ever: begin counting from now; nothing was missed.
            if let Err(e) = services.schedule_mark(schedule.name, now).await {
                tracing::error!(schedule = schedule.name, error = %e, "could not record schedule start");
            }
            now
        }
        Err(e) => {
            tracing::error!(schedule = schedule.name, error = %e, "could not read schedule state; starting from now");
            now
        }
    };
    if let Some(slot) = schedule.missed_slot(last, now) {
        tracing::info!(schedule = schedule.name, %slot, "running a slot missed while the service was down");
        fire(&schedule, &services, slot).await;
        last = slot;
    }
    loop {
        let from = last.max(services.now());
        let Some(next) = schedule.next_after(from) else {
            tracing::error!(
                schedule = schedule.name,
                "schedule has no future fire time; stopping it"
            );
            return;
        };
        tracing::info!(schedule = schedule.name, next = %next, "next run");
        let wait = (next - services.now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped(shutdown.clone()) => return,
        }
        // Guard against waking early (clock adjustments): only fire once the slot is reached.
        if services.now() < next {
            continue;
        }
        fire(&schedule, &services, next).await;
        last = next;
    }
}

async fn fire(schedule: &Schedule, services: &Services, slot: chrono::DateTime<chrono::Utc>) {
    match services.fire_schedule(schedule, slot).await {
        Ok(n) => tracing::info!(schedule = schedule.name, %slot, queued = n, "schedule fired"),
        Err(e) => {
            tracing::error!(schedule = schedule.name, %slot, error = %e, "schedule could not queue jobs")
        }
    }
}

/// systemd's watchdog: every `interval`, ping if the store answers a read and every schedule
/// loop is still running. A wedged runtime, a stuck blocking pool or a dead scheduler stops
/// the pings, and systemd restarts the service (`WatchdogSec=` in the unit).
pub fn spawn_watchdog(
    interval: std::time::Duration,
    services: Services,
    schedulers_alive: std::sync::Arc<dyn Fn() -> bool + Send + Sync>,
    ping: std::sync::Arc<dyn Fn() + Send + Sync>,
    shutdown: Shutdown,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if schedulers_alive() && services.store_ready().await {
                ping();
            } else {
                tracing::error!("watchdog: scheduler or store not answering; not pinging systemd");
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stopped(shutdown.clone()) => return,
            }
        }
    })
}
