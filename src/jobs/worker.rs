//! Workers: claim → run one job → record the outcome, and claim the next job in that same
//! commit, which the outcomes of other workers finishing at the same time share (group
//! commit, `committer.rs`; see `Services::complete_and_claim_group`). Each job runs in its own
//! task so a panic fails that job (and is retried) instead of killing the worker.
//!
//! The pool is sized for I/O (a sync spends its time waiting on Graph, not on a core), and a
//! claim never takes a job of a company that has one running (the store checks, inside the
//! claim's transaction), so each tenant sees at most one job of ours at a time.

use super::committer::Committer;
use super::{JobContext, Registry, Shutdown, stopped};
use crate::domain::Services;
use crate::domain::jobs::RunResult;
use std::collections::HashSet;
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
    let committer = Committer::spawn(services.clone());
    (0..n)
        .map(|i| {
            let (s, r, sd) = (services.clone(), registry.clone(), shutdown.clone());
            let c = committer.clone();
            tokio::spawn(async move { worker_loop(i, s, r, sd, grace, c).await })
        })
        .collect()
}

async fn worker_loop(
    index: u32,
    services: Services,
    registry: Registry,
    shutdown: Shutdown,
    grace: Duration,
    committer: Committer,
) {
    tracing::debug!(worker = index, "job worker started");
    // A job claimed together with the previous one's outcome, to run without a claim of its own.
    let mut next: Option<crate::model::Job> = None;
    loop {
        if *shutdown.borrow() {
            if let Some(job) = next.take() {
                // Claimed just before the signal: put it back, its attempt not counted.
                if let Err(e) = services.requeue_running(job.id).await {
                    tracing::error!(job = job.id, error = %e, "could not requeue job at shutdown (it is requeued at next start)");
                }
            }
            break;
        }
        // Register interest before looking, so an enqueue between the look and the sleep wakes us.
        let notified = services.job_notify.notified();
        let claimed = match next.take() {
            Some(job) => Ok(Some(job)),
            None => services.claim_job().await,
        };
        match claimed {
            Ok(Some(job)) => {
                if let Some(outcome) =
                    run_one(&services, &registry, job.clone(), shutdown.clone(), grace).await
                {
                    let go_on = !*shutdown.borrow();
                    next = committer.finish(job, outcome, go_on).await;
                }
            }
            Ok(None) => {
                let due = services.next_job_due().await.unwrap_or_default();
                let wait = match due {
                    // Due yet not claimed: its company has a job running, whose end (a
                    // group commit) wakes us.
                    Some(due) if due <= services.now() => IDLE_POLL,
                    Some(due) => (due - services.now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .min(IDLE_POLL),
                    None => IDLE_POLL,
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
/// [`crate::clock::ManualClock`] instead of waiting for workers. Each outcome commits with the
/// next claim, as in the worker pool.
pub async fn run_due(
    services: &Services,
    registry: &Registry,
) -> Result<usize, crate::domain::DomainError> {
    // Never signalled: a job run here is never cut short by a shutdown.
    let (_keep, never) = tokio::sync::watch::channel(false);
    let mut n = 0;
    let mut next = services.claim_job().await?;
    while let Some(job) = next {
        n += 1;
        let Some(outcome) = run_one(
            services,
            registry,
            job.clone(),
            never.clone(),
            Duration::ZERO,
        )
        .await
        else {
            next = services.claim_job().await?;
            continue;
        };
        next = services
            .complete_and_claim(job, outcome, HashSet::new(), true)
            .await?
            .1;
    }
    Ok(n)
}

async fn run_one(
    services: &Services,
    registry: &Registry,
    job: crate::model::Job,
    shutdown: Shutdown,
    grace: Duration,
) -> Option<RunResult> {
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
) -> Option<RunResult> {
    tracing::info!("job started");
    let Some(handler) = registry.get(job.kind.as_str()) else {
        let msg = format!(
            "no handler for job kind {:?} in this version of Tenantry",
            job.kind.as_str()
        );
        return Some(RunResult::Abort(msg));
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
            return None;
        }
    };
    match &outcome {
        RunResult::Succeeded { .. } | RunResult::SucceededWith { .. } => {
            tracing::info!("job succeeded")
        }
        RunResult::Retry(m) => {
            tracing::warn!(error = %m, "job failed; will retry if attempts remain")
        }
        RunResult::Abort(m) => tracing::error!(error = %m, "job failed"),
    }
    Some(outcome)
}
