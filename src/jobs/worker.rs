//! Workers: claim → run one job → record the outcome, and claim the next job in that same
//! commit (one fsync per job less; see `Services::complete_and_claim`). Each job runs in its own task so a
//! panic fails that job (and is retried) instead of killing the worker.
//!
//! The pool is sized for I/O (a sync spends its time waiting on Graph, not on a core), and
//! the workers share the set of companies with a job running: a worker never claims a second
//! job of one of them, so each tenant sees at most one job of ours at a time.

use super::{JobContext, Registry, Shutdown, stopped};
use crate::domain::Services;
use crate::domain::jobs::RunResult;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
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
    let busy = Busy::default();
    (0..n)
        .map(|i| {
            let (s, r, sd) = (services.clone(), registry.clone(), shutdown.clone());
            let b = busy.clone();
            tokio::spawn(async move { worker_loop(i, s, r, sd, grace, b).await })
        })
        .collect()
}

/// Companies with a job running in this pool. Held across a claim, so two workers cannot
/// both claim a job of the same company (claims are one write transaction each anyway).
type Busy = Arc<Mutex<HashSet<u64>>>;

/// Claim a due job of a company that has none running, and mark the company busy.
async fn claim(
    services: &Services,
    busy: &Busy,
) -> Result<Option<crate::model::Job>, crate::domain::DomainError> {
    let mut held = busy.lock().await;
    let job = services.claim_job_except(held.clone()).await?;
    if let Some(c) = job.as_ref().and_then(|j| j.company_id) {
        held.insert(c);
    }
    Ok(job)
}

/// Record how `job` ended and claim the next job in the same commit (unless shutting down),
/// moving the busy mark from its company to the next job's.
async fn finish_and_claim(
    services: &Services,
    busy: &Busy,
    job: crate::model::Job,
    outcome: RunResult,
    claim_next: bool,
) -> Option<crate::model::Job> {
    let company = job.company_id;
    let mut held = busy.lock().await;
    if let Some(c) = company {
        held.remove(&c);
    }
    let next = match services
        .complete_and_claim(job, outcome, held.clone(), claim_next)
        .await
    {
        Ok((_, next)) => next,
        Err(e) => {
            tracing::error!(error = %e, "could not record job outcome");
            None
        }
    };
    if let Some(c) = next.as_ref().and_then(|j| j.company_id) {
        held.insert(c);
    }
    drop(held);
    if company.is_some() {
        // A job of the finished job's company may be waiting for it to end.
        services.job_notify.notify_waiters();
    }
    next
}

async fn worker_loop(
    index: u32,
    services: Services,
    registry: Registry,
    shutdown: Shutdown,
    grace: Duration,
    busy: Busy,
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
                if let Some(c) = job.company_id {
                    busy.lock().await.remove(&c);
                }
            }
            break;
        }
        // Register interest before looking, so an enqueue between the look and the sleep wakes us.
        let notified = services.job_notify.notified();
        let claimed = match next.take() {
            Some(job) => Ok(Some(job)),
            None => claim(&services, &busy).await,
        };
        match claimed {
            Ok(Some(job)) => {
                match run_one(&services, &registry, job.clone(), shutdown.clone(), grace).await {
                    Some(outcome) => {
                        let go_on = !*shutdown.borrow();
                        next = finish_and_claim(&services, &busy, job, outcome, go_on).await;
                    }
                    None => {
                        if let Some(c) = job.company_id {
                            busy.lock().await.remove(&c);
                        }
                    }
                }
            }
            Ok(None) => {
                let due = services.next_job_due().await.unwrap_or_default();
                let wait = match due {
                    // Due yet not claimed: its company is busy; the running job's end
                    // wakes us.
                    Some(due) if due <= services.now() && !busy.lock().await.is_empty() => {
                        IDLE_POLL
                    }
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
