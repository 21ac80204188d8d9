//! The job runtime: a pool of workers that claim durable jobs, and the cron loop that only
//! enqueues. What a job *does* is a domain function registered by kind; this module knows
//! nothing of storage (it calls domain services) or HTTP.

mod alert_watch;
mod committer;
mod housekeeping;
mod scheduler;
mod worker;

pub use alert_watch::spawn_alert_watch;
pub use committer::group_commit_stats;
pub use housekeeping::spawn_housekeeping;
pub use scheduler::{spawn_schedulers, spawn_watchdog};
pub use worker::{run_due, spawn_workers};

use crate::domain::Services;
use crate::domain::jobs::RunResult;
use crate::model::Job;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type JobFuture = Pin<Box<dyn Future<Output = RunResult> + Send>>;
pub type JobHandler = Arc<dyn Fn(JobContext) -> JobFuture + Send + Sync>;

/// What a running job gets: its record and the domain services.
#[derive(Clone)]
pub struct JobContext {
    pub job: Job,
    pub services: Services,
    /// Tells the worker that the job is done with remote requests ([`JobContext::reading_done`]).
    pub slot: SlotRelease,
}

/// A job's word to its worker that it will send no more remote requests (Graph, Level.io):
/// what it has left is store work (its last writes landing, its outcome). The worker then
/// starts its next job while this one finishes beside it.
///
/// WHY (#11): the pool is sized for Graph latency, and a sync's last writes and its outcome
/// commit wait for the one store writer, ~20 ms a job in a 1,000-tenant cycle, while the
/// worker sent nothing. Each worker still sends one request at a time and each company still
/// has one job running (a job is `running` until its outcome commits); a worker lets at most
/// one job finish beside the one it runs, so memory stays bounded by two jobs per worker.
#[derive(Clone, Default)]
pub struct SlotRelease(Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>>);

impl SlotRelease {
    /// A release and the worker's end of it; dropping `SlotRelease` unsent says "never".
    pub fn new() -> (Self, tokio::sync::oneshot::Receiver<()>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (Self(Arc::new(std::sync::Mutex::new(Some(tx)))), rx)
    }

    /// Release the slot (once; later calls do nothing).
    pub fn release(&self) {
        let sender = match self.0.lock() {
            Ok(mut s) => s.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(tx) = sender {
            // Nobody listening (a job run by `run_due`): nothing to release.
            let _ = tx.send(());
        }
    }
}

impl JobContext {
    /// The job sends no more remote requests: its worker may start the next job now (see
    /// [`SlotRelease`]).
    pub fn reading_done(&self) {
        self.slot.release();
    }

    /// Report progress (shown on the Jobs page; also the job's heartbeat).
    pub async fn progress(&self, msg: impl Into<String>) {
        if let Err(e) = self.services.job_progress(self.job.id, msg.into()).await {
            tracing::warn!(job = self.job.id, error = %e, "could not record job progress");
        }
    }
    /// Report where the job stands, for its progress bar (and its line and heartbeat).
    pub async fn progress_detail(&self, p: crate::model::Progress) {
        if let Err(e) = self.services.job_progress_detail(self.job.id, p).await {
            tracing::warn!(job = self.job.id, error = %e, "could not record job progress");
        }
    }
}

/// Job kind → handler.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, JobHandler>,
}

impl Registry {
    pub fn register<F, Fut>(&mut self, kind: &str, f: F)
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = RunResult> + Send + 'static,
    {
        self.handlers
            .insert(kind.to_string(), Arc::new(move |ctx| Box::pin(f(ctx))));
    }

    pub fn get(&self, kind: &str) -> Option<JobHandler> {
        self.handlers.get(kind).cloned()
    }

    /// Every handler wrapped so `observe` hears how each attempt ended and how long it took
    /// (metrics). The job passed is the claimed record (its `attempts` include this one).
    pub fn observed(self, observe: AttemptObserver) -> Registry {
        let handlers = self
            .handlers
            .into_iter()
            .map(|(kind, inner)| {
                let observe = observe.clone();
                let wrapped: JobHandler = Arc::new(move |ctx: JobContext| {
                    let (inner, observe) = (inner.clone(), observe.clone());
                    Box::pin(async move {
                        let job = ctx.job.clone();
                        let started = tokio::time::Instant::now();
                        let result = inner(ctx).await;
                        observe(&job, &result, started.elapsed());
                        result
                    })
                });
                (kind, wrapped)
            })
            .collect();
        Registry { handlers }
    }
}

/// Hears each finished job attempt: the job, its result, its wall time.
pub type AttemptObserver = Arc<dyn Fn(&Job, &RunResult, std::time::Duration) + Send + Sync>;

/// The shutdown signal every task watches: `true` means stop taking new work.
pub type Shutdown = tokio::sync::watch::Receiver<bool>;

/// Resolves once shutdown has been requested.
pub async fn stopped(mut rx: Shutdown) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}
