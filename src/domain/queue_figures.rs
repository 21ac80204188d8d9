//! What monitoring asks of the job queue: how many wait, and how long the oldest due one has.

use super::{DomainResult, Services};

/// The queue at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueFigures {
    /// Jobs queued, due now or later (retries waiting out their backoff included).
    pub queued: u64,
    /// Seconds the earliest due job has been waiting past its due time (0 when none is due).
    pub oldest_due_seconds: f64,
}

impl Services {
    pub async fn queue_figures(&self) -> DomainResult<QueueFigures> {
        let now = self.now();
        self.store
            .read(move |r| {
                let queued = r.queued_job_count()?;
                let oldest_due_seconds = match r.next_due()? {
                    Some(due) if due <= now => (now - due).num_milliseconds() as f64 / 1000.0,
                    _ => 0.0,
                };
                Ok(QueueFigures {
                    queued,
                    oldest_due_seconds,
                })
            })
            .await
    }
}
