//! Turns for store reads: at most a few run at once on the blocking pool, the others wait,
//! first come first served (`store.concurrent_reads`, default twice the CPUs).
//!
//! WHY (#11): a burst of list pages put one blocking-pool thread per read on the CPUs at
//! once, 32 of them on a 2-core VM (one per request admitted, `web::admission`), and the
//! kernel time-sliced them: the median page finished sooner, but an unlucky one waited through
//! many slices (p99 2.8 × p50 at 50 connections). Admitting fewer requests cut the tail (p99
//! 1.3–1.6 × p50 at 4–8 in flight, BENCHMARKS.md "Where a list page's time goes"), but the
//! request limit also holds requests that wait on Microsoft or Level.io, which use no CPU.
//! Bounding the reads bounds exactly what competes for the CPUs. The queue is tokio's
//! semaphore, which is fair: a read waits for the ones that came before it, never longer.
//! Writes are already one at a time (redb has one writer) and take no turn here; a read done
//! inside the blocking pool (`read_blocking`, the jobs and the startup work) takes none either.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The read turns of one store (its clones share them).
#[derive(Clone)]
pub(super) struct Reads(Arc<Semaphore>);

impl Reads {
    /// `slots` turns; 0 means twice the CPUs.
    pub(super) fn new(slots: usize) -> Self {
        let slots = if slots == 0 { default_slots() } else { slots };
        Self(Arc::new(Semaphore::new(slots)))
    }

    /// Wait for a turn (in arrival order). The semaphore is never closed, so a turn always
    /// comes; the `None` arm only keeps that an invariant rather than a panic.
    pub(super) async fn turn(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().acquire_owned().await.ok()
    }
}

/// Twice the CPUs: a read that waits on the disk leaves its CPU to another, and a long one (a
/// company's first-sync fallback scan, a ranked search) does not stop the others.
fn default_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On the test's one-thread runtime a spawned task runs up to its `acquire` (and queues
    /// there) when this one yields, so the waiters queue in spawn order.
    #[tokio::test]
    async fn reads_past_the_slots_wait_in_arrival_order() {
        let reads = Reads::new(1);
        let first = reads.turn().await.expect("a turn");
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for i in 0..3 {
            let (reads, order) = (reads.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _turn = reads.turn().await.expect("a turn");
                order.lock().expect("lock").push(i);
            }));
            tokio::task::yield_now().await;
        }
        assert!(
            order.lock().expect("lock").is_empty(),
            "all wait for the slot"
        );
        drop(first);
        for w in waiting {
            w.await.expect("join");
        }
        assert_eq!(*order.lock().expect("lock"), vec![0, 1, 2]);
    }

    #[test]
    fn zero_means_twice_the_cpus() {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(Reads::new(0).0.available_permits(), cpus * 2);
        assert_eq!(Reads::new(3).0.available_permits(), 3);
    }
}
