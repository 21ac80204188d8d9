//! Workers: claim → run one job → record the outcome. Each job runs in its own task so a
//! panic fails that job (and is retried) instead of killing the worker.

use super::{JobContext, Registry, Shutdown, stopped};
use crate::domain::Services;
use crate::domain::jobs::RunResult;
use std::time::Duration;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Longest a worker sleeps before looking at the queue again, even without a wake-up.
const IDLE_POLL: Duration = Duration::from_secs(5);

pub fn spawn_workers(
    n: u32,
    services: Services,
    registry: Registry,
    shutdown: Shutdown,
    grace: Duration,
) -> Vec<JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let (s, r, sd) = (services.clone(), registry.clone(), shutdown.clone());
            tokio::spawn(async move { worker_loop(i, s, r, sd, grace).await })
        })
        .collect()
}

async fn worker_loop(
    index: u32,
    services: Services,
    registry: Registry,
    shutdown: Shutdown,
    grace: Duration,
) {
    tracing::debug!(worker = index, "job worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Register interest before looking, so an enqueue between the look and the sleep wakes us.
        let notified = services.job_notify.notified();
        match services.claim_job().await {
            Ok(Some(job)) => run_one(&services, &registry, job, shutdown.clone(), grace).await,
            Ok(None) => {
                let wait = match services.next_job_due().await {
                    Ok(Some(due)) => (due - services.now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .min(IDLE_POLL),
                    _ => IDLE_POLL,
                };
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep(wait.max(Duration::from_millis(20))) => {}
                    _ = stopped(shutdown.clone()) => break,
                }
            }
            Err(e) => {
                tracing::error!(worker = index, error = %e, "could not claim a job");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stopped(shutdown.clone()) => break,
                }
            }
        }
    }
    tracing::debug!(worker = index, "job worker stopped");
}

/// Run every job that is due by the services' clock, one after another in the caller's task,
/// until none is left; returns how many ran. For tests and tools that drive time with a
/// [`crate::clock::ManualClock`] instead of waiting for workers.
pub async fn run_due(
    services: &Services,
    registry: &Registry,
) -> Result<usize, crate::domain::DomainError> {
    // Never signalled: a job run here is never cut short by a shutdown.
    let (_keep, never) = tokio::sync::watch::channel(false);
    let mut n = 0;
    while let Some(job) = services.claim_job().await? {
        run_one(services, registry, job, never.clone(), Duration::ZERO).await;
        n += 1;
    }
    Ok(n)
}

async fn run_one(
    services: &Services,
    registry: &Registry,
    job: crate::model::Job,
    shutdown: Shutdown,
    grace: Duration,
) {
    // `instrument`, not `span.enter()`: a guard held across awaits would tag whatever else
    // this thread polls meanwhile with this job's span.
    // ERROR level for the same reason as the request span: present under any log filter.
    let span = tracing::error_span!("job", id = job.id, kind = job.kind.as_str(), company = ?job.company_id, attempt = job.attempts);
    run_one_in_span(services, registry, job, shutdown, grace)
        .instrument(span)
        .await
}

async fn run_one_in_span(
    services: &Services,
    registry: &Registry,
    job: crate::model::Job,
    shutdown: Shutdown,
    grace: Duration,
) {
    tracing::info!("job started");
    let Some(handler) = registry.get(job.kind.as_str()) else {
        let msg = format!(
            "no handler for job kind {:?} in this version of Tenantry",
            job.kind.as_str()
        );
        if let Err(e) = services.complete_job(job, RunResult::Abort(msg)).await {
            tracing::error!(error = %e, "could not record job failure");
        }
        return;
    };
    let ctx = JobContext {
        job: job.clone(),
        services: services.clone(),
    };
    let mut task = tokio::spawn(handler(ctx));
    let result = tokio::select! {
        r = &mut task => Some(r),
        _ = async {
            stopped(shutdown).await;
            tokio::time::sleep(grace).await;
        } => None,
    };
    let outcome = match result {
        Some(Ok(r)) => r,
        Some(Err(e)) if e.is_panic() => {
            RunResult::Retry("the job crashed (panic); see the service log".into())
        }
        Some(Err(e)) => RunResult::Retry(format!("the job was cancelled: {e}")),
        None => {
            // Shutdown grace ran out: stop the job and put it back for the next start.
            task.abort();
            tracing::warn!("shutdown grace period over; requeueing the running job");
            if let Err(e) = services.requeue_running(job.id).await {
                tracing::error!(error = %e, "could not requeue job at shutdown (it is requeued at next start)");
            }
            return;
        }
    };
    match &outcome {
        RunResult::Succeeded { .. } => tracing::info!("job succeeded"),
        RunResult::Retry(m) => {
            tracing::warn!(error = %m, "job failed; will retry if attempts remain")
        }
        RunResult::Abort(m) => tracing::error!(error = %m, "job failed"),
    }
    if let Err(e) = services.complete_job(job, outcome).await {
        tracing::error!(error = %e, "could not record job outcome");
    }
}
