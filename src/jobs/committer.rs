//! Group commit of job outcomes: workers that finish while a commit is in flight have their
//! outcomes (and their next claims) recorded together in the next write transaction, instead
//! of each waiting its turn for a commit of its own (see `Services::complete_and_claim_group`).
//!
//! Nothing waits on purpose to fill a group: the committer takes what is ready the moment
//! the previous commit ends, so a lone outcome commits as soon as it arrives. A worker hears
//! of its job's end (and gets its next job) only once the commit that records it is done.

use crate::domain::Services;
use crate::domain::jobs::RunResult;
use crate::model::Job;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Most outcomes one transaction records (each with its worker's next claim).
const MAX_GROUP: usize = 64;

/// Commits and outcomes recorded through group commit in this process (for the benchmark's
/// report of how many outcomes one commit carried).
static GROUPS: AtomicU64 = AtomicU64::new(0);
static OUTCOMES: AtomicU64 = AtomicU64::new(0);

/// (commits, outcomes) recorded by group commit since the process started.
pub fn group_commit_stats() -> (u64, u64) {
    (
        GROUPS.load(Ordering::Relaxed),
        OUTCOMES.load(Ordering::Relaxed),
    )
}

struct Finished {
    job: Job,
    result: RunResult,
    claim_next: bool,
    reply: oneshot::Sender<Option<Job>>,
}

/// The workers' handle on the committer task (which ends once every handle is dropped).
#[derive(Clone)]
pub(super) struct Committer {
    services: Services,
    tx: mpsc::UnboundedSender<Finished>,
}

impl Committer {
    pub(super) fn spawn(services: Services) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(services.clone(), rx));
        Self { services, tx }
    }

    /// Record how `job` ended and, when `claim_next`, claim the next due job, in the next
    /// group commit; returns the claimed job once that commit is done.
    pub(super) async fn finish(
        &self,
        job: Job,
        result: RunResult,
        claim_next: bool,
    ) -> Option<Job> {
        let (reply, answer) = oneshot::channel();
        let finished = Finished {
            job,
            result,
            claim_next,
            reply,
        };
        if let Err(mpsc::error::SendError(f)) = self.tx.send(finished) {
            // The committer is gone (it only ends with the pool): record it here instead.
            return match self
                .services
                .complete_and_claim(f.job, f.result, HashSet::new(), f.claim_next)
                .await
            {
                Ok((_, next)) => next,
                Err(e) => {
                    tracing::error!(error = %e, "could not record job outcome");
                    None
                }
            };
        }
        // A dropped reply means the commit did not happen: the job stays `running` and is
        // requeued at the next start, as after a crash.
        answer.await.unwrap_or(None)
    }
}

async fn run(services: Services, mut rx: mpsc::UnboundedReceiver<Finished>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(f) => group.push(f),
                Err(_) => break,
            }
        }
        GROUPS.fetch_add(1, Ordering::Relaxed);
        OUTCOMES.fetch_add(group.len() as u64, Ordering::Relaxed);
        let (items, replies): (Vec<_>, Vec<_>) = group
            .into_iter()
            .map(|f| ((f.job, f.result, f.claim_next), f.reply))
            .unzip();
        let results = services.complete_and_claim_group(items).await;
        for (result, reply) in results.into_iter().zip(replies) {
            let next = match result {
                Ok((_, next)) => next,
                Err(e) => {
                    tracing::error!(error = %e, "could not record job outcome");
                    None
                }
            };
            if let Err(Some(job)) = reply.send(next) {
                // Its worker is gone (shutdown): put the job it would have run back.
                if let Err(e) = services.requeue_running(job.id).await {
                    tracing::error!(job = job.id, error = %e, "could not requeue job (it is requeued at next start)");
                }
            }
        }
        // A job of a finished job's company may be waiting for it to end.
        services.job_notify.notify_waiters();
    }
}
