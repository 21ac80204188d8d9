//! Workers: claim → run one job → record the outcome, and claim the next job in that same
//! commit, which the outcomes of other workers finishing at the same time share (group
//! commit, `committer.rs`; see `Services::complete_and_claim_group`). Each job runs in its own
//! task so a panic fails that job (and is retried) instead of killing the worker.
//!
//! A job that is done with remote requests releases its slot (`SlotRelease`): the worker
//! starts its next job while that one's last writes and outcome commit beside it.
//!
//! The pool is sized for I/O (a sync spends its time waiting on Graph, not on a core), and a
//! claim never takes a job of a company that has one running (the store checks, inside the
//! claim's transaction), so each tenant sees at most one job of ours at a time.

use super::committer::Committer;
use super::{JobContext, Registry, Shutdown, SlotRelease, stopped};
use crate::domain::Services;
use crate::domain::jobs::RunResult;
use crate::model::Job;
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
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
    let mut lane = Lane::default();
    loop {
        if *shutdown.borrow() {
            break;
        }
        if lane.finishing.as_ref().is_some_and(|f| f.is_finished()) {
            lane.finishing_ends().await;
        }
        // Register interest before looking, so an enqueue between the look and the sleep wakes us.
        let notified = services.job_notify.notified();
        let claimed = match lane.held.pop_front() {
            Some((job, _)) => Ok(Some(job)),
            None => services.claim_job().await,
        };
        match claimed {
            Ok(Some(job)) => {
                let (slot, released) = SlotRelease::new();
                let run = tokio::spawn(run_and_finish(
                    services.clone(),
                    registry.clone(),
                    committer.clone(),
                    job,
                    (shutdown.clone(), grace),
                    slot,
                ));
                lane.run(&services, run, released).await;
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
                    _ = lane.finishing_ends() => {}
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
    lane.close(&services).await;
    tracing::debug!(worker = index, "job worker stopped");
}

/// Longest a job claimed for a worker waits for it (while the worker's own job runs on)
/// before it goes back to the queue for another worker: a claim made ahead (by the outcome
/// of a job finishing beside) is taken within one job's time in a cycle of small syncs,
/// but the job running may be a first sync of minutes.
const HOLD_AT_MOST: Duration = Duration::from_secs(1);

/// What a worker holds besides the job it runs.
#[derive(Default)]
struct Lane {
    /// Jobs claimed for this worker and not started yet, with when: by an outcome's commit
    /// (with the previous job's end), or by a claim of its own. At most two.
    held: VecDeque<(Job, Instant)>,
    /// The job that released its slot (`SlotRelease`) and finishes beside the one running:
    /// at most one. It ends with the job its outcome's commit claimed for this worker.
    finishing: Option<JoinHandle<Option<Job>>>,
}

impl Lane {
    fn hold(&mut self, claimed: Option<Job>) {
        self.held.extend(claimed.map(|job| (job, Instant::now())));
    }

    /// Wait for the job finishing beside (never resolves when there is none) and hold the
    /// job its outcome claimed.
    async fn finishing_ends(&mut self) {
        let Some(f) = self.finishing.as_mut() else {
            return std::future::pending().await;
        };
        let ended = f.await;
        self.finishing = None;
        // A panic here is the recording's, not the job's (which runs in a task of its own):
        // the job stays `running` and is requeued at the next start, as after a crash.
        self.hold(ended.ok().flatten());
    }

    /// Wait until `run` ends or releases its slot (then it finishes beside); meanwhile take
    /// what the job finishing beside claimed, and give back jobs held too long.
    async fn run(
        &mut self,
        services: &Services,
        mut run: JoinHandle<Option<Job>>,
        released: tokio::sync::oneshot::Receiver<()>,
    ) {
        let released = async move {
            // Dropped unsent: the job ended without releasing; its end is taken below.
            if released.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::pin!(released);
        loop {
            let give_back_at = self.held.front().map(|(_, at)| *at + HOLD_AT_MOST);
            tokio::select! {
                ended = &mut run => {
                    self.hold(ended.ok().flatten());
                    return;
                }
                () = &mut released => {
                    // One job finishes beside at most: an older one ends first.
                    if self.finishing.is_some() {
                        self.finishing_ends().await;
                    }
                    self.finishing = Some(run);
                    return;
                }
                _ = self.finishing_ends() => {}
                _ = sleep_until_some(give_back_at) => self.give_back(services).await,
            }
        }
    }

    /// Put the jobs held back in the queue, for the other workers.
    async fn give_back(&mut self, services: &Services) {
        for (job, _) in self.held.drain(..) {
            if let Err(e) = services
                .requeue_claimed(job.id, "given back: its worker was busy")
                .await
            {
                tracing::error!(job = job.id, error = %e, "could not give back a claimed job (it is requeued at next start)");
            }
        }
    }

    /// At shutdown: a job finishing beside ends first (its outcome commits, claiming nothing
    /// now); jobs claimed and not started go back to the queue, their attempt not counted.
    async fn close(mut self, services: &Services) {
        if self.finishing.is_some() {
            self.finishing_ends().await;
        }
        for (job, _) in self.held {
            if let Err(e) = services.requeue_running(job.id).await {
                tracing::error!(job = job.id, error = %e, "could not requeue job at shutdown (it is requeued at next start)");
            }
        }
    }
}

/// Sleep until `at`; never wakes without one.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Run `job`, then record its outcome through group commit, claiming the worker's next job
/// in that commit unless the pool is stopping. `None`: no job was claimed (or the run was cut
/// short by shutdown and requeued).
async fn run_and_finish(
    services: Services,
    registry: Registry,
    committer: Committer,
    job: Job,
    (shutdown, grace): (Shutdown, Duration),
    slot: SlotRelease,
) -> Option<Job> {
    let outcome = run_one(
        &services,
        &registry,
        job.clone(),
        shutdown.clone(),
        grace,
        slot,
    )
    .await?;
    let go_on = !*shutdown.borrow();
    committer.finish(job, outcome, go_on).await
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
            SlotRelease::default(),
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
    slot: SlotRelease,
) -> Option<RunResult> {
    // `instrument`, not `span.enter()`: a guard held across awaits would tag whatever else
    // this thread polls meanwhile with this job's span.
    // ERROR level for the same reason as the request span: present under any log filter.
    let span = tracing::error_span!("job", id = job.id, kind = job.kind.as_str(), company = ?job.company_id, attempt = job.attempts);
    run_one_in_span(services, registry, job, shutdown, grace, slot)
        .instrument(span)
        .await
}

async fn run_one_in_span(
    services: &Services,
    registry: &Registry,
    job: crate::model::Job,
    shutdown: Shutdown,
    grace: Duration,
    slot: SlotRelease,
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
        slot,
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
