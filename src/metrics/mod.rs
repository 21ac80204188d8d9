//! In-process metrics for `GET /metrics` (Prometheus text format).
//!
//! WHY hand-written rather than `prometheus-client`: the appliance exports a fixed, small set
//! of families (a few counters, one histogram, a few gauges read at scrape time). Atomics and a
//! ~100-line encoder ([`render`]) cover that with no new dependency tree to build and audit on a
//! 2-core appliance; the exposition format is simple and a strict parser in
//! `tests/app/metrics.rs` checks every line we emit.
//!
//! Counters are fed from three places without those places knowing about this module's
//! consumers: the Graph client through [`crate::graph::GraphObserver`] (so `graph` stays free
//! of `web` and `store`), the job registry through [`Metrics::job_finished`] (wrapped around
//! each handler by the composition root), and gauges that the scrape handler reads from the
//! domain when asked.

pub mod render;

use crate::graph::GraphObserver;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the sync duration histogram: a small tenant syncs in seconds, a
/// large first sync in tens of minutes.
pub const DURATION_BUCKETS: &[f64] = &[1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0];

/// How a job attempt ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AttemptOutcome {
    Succeeded,
    /// Failed, worth another attempt (the job is requeued while attempts remain).
    Retry,
    /// Failed for good.
    Failed,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Succeeded => "succeeded",
            AttemptOutcome::Retry => "retry",
            AttemptOutcome::Failed => "failed",
        }
    }
}

/// One histogram series: cumulative bucket counts, sum and count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Count of observations ≤ each bound of [`DURATION_BUCKETS`] (cumulative).
    pub buckets: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    fn observe(&mut self, v: f64) {
        if self.buckets.len() != DURATION_BUCKETS.len() {
            self.buckets = vec![0; DURATION_BUCKETS.len()];
        }
        for (b, bound) in self.buckets.iter_mut().zip(DURATION_BUCKETS) {
            if v <= *bound {
                *b += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }
}

/// Status class of a Graph answer (`2xx` … `5xx`), or `transport` when none came.
fn status_class(status: u16) -> usize {
    match status {
        200..=299 => 0,
        300..=399 => 1,
        400..=499 => 2,
        _ => 3,
    }
}

pub const STATUS_CLASSES: [&str; 5] = ["2xx", "3xx", "4xx", "5xx", "transport"];

/// Every counter of the process. Shared as `Arc<Metrics>`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Graph answers by [`STATUS_CLASSES`] (every attempt, retries included).
    graph_requests: [AtomicU64; 5],
    /// Answers with 429 (too many requests).
    graph_429: AtomicU64,
    /// Milliseconds slept because an answer said `Retry-After`.
    retry_after_ms: AtomicU64,
    /// (kind, outcome) → attempts; kind → duration histogram.
    jobs: Mutex<JobSeries>,
}

#[derive(Debug, Default)]
struct JobSeries {
    attempts: BTreeMap<(String, AttemptOutcome), u64>,
    durations: BTreeMap<String, Histogram>,
}

/// What the scrape reads from the rest of the appliance at that moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gauges {
    /// Jobs waiting in the queue (due now or later, retries included).
    pub jobs_queued: u64,
    /// Seconds the longest-waiting due job has waited (0 when none is due).
    pub oldest_due_seconds: f64,
    /// Size of the database file in bytes.
    pub database_bytes: u64,
    /// Resident set size of this process in bytes (None where /proc is not available).
    pub resident_bytes: Option<u64>,
}

/// A consistent copy of the counters, for rendering.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub graph_requests: [u64; 5],
    pub graph_429: u64,
    pub retry_after_seconds: f64,
    pub attempts: BTreeMap<(String, AttemptOutcome), u64>,
    pub durations: BTreeMap<String, Histogram>,
}

impl Metrics {
    /// A job attempt of `kind` ended after `took`.
    pub fn job_finished(&self, kind: &str, outcome: AttemptOutcome, took: Duration) {
        let mut s = match self.jobs.lock() {
            Ok(g) => g,
            // A panic while holding this lock cannot leave the maps half-written in a way
            // that matters for counters: keep counting.
            Err(p) => p.into_inner(),
        };
        *s.attempts.entry((kind.to_string(), outcome)).or_default() += 1;
        s.durations
            .entry(kind.to_string())
            .or_default()
            .observe(took.as_secs_f64());
    }

    pub fn snapshot(&self) -> Snapshot {
        let s = match self.jobs.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        Snapshot {
            graph_requests: std::array::from_fn(|i| self.graph_requests[i].load(Ordering::Relaxed)),
            graph_429: self.graph_429.load(Ordering::Relaxed),
            retry_after_seconds: self.retry_after_ms.load(Ordering::Relaxed) as f64 / 1000.0,
            attempts: s.attempts.clone(),
            durations: s.durations.clone(),
        }
    }
}

impl GraphObserver for Metrics {
    fn answered(&self, status: u16) {
        self.graph_requests[status_class(status)].fetch_add(1, Ordering::Relaxed);
        if status == 429 {
            self.graph_429.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn no_answer(&self) {
        self.graph_requests[4].fetch_add(1, Ordering::Relaxed);
    }

    fn waited_retry_after(&self, wait: Duration) {
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self.retry_after_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// Resident set size of this process, from `/proc/self/status` (`VmRSS`, in kB).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.job_finished(
            "identity_sync",
            AttemptOutcome::Succeeded,
            Duration::from_secs(3),
        );
        m.job_finished(
            "identity_sync",
            AttemptOutcome::Retry,
            Duration::from_secs(120),
        );
        let s = m.snapshot();
        let h = &s.durations["identity_sync"];
        assert_eq!(h.count, 2);
        assert_eq!(h.buckets, vec![0, 1, 1, 1, 2, 2, 2]);
        assert!((h.sum - 123.0).abs() < 1e-9);
        assert_eq!(
            s.attempts[&("identity_sync".to_string(), AttemptOutcome::Retry)],
            1
        );
    }

    #[test]
    fn graph_answers_are_counted_by_class() {
        let m = Metrics::default();
        m.answered(200);
        m.answered(429);
        m.answered(503);
        m.no_answer();
        m.waited_retry_after(Duration::from_millis(1500));
        let s = m.snapshot();
        assert_eq!(s.graph_requests, [1, 0, 1, 1, 1]);
        assert_eq!(s.graph_429, 1);
        assert!((s.retry_after_seconds - 1.5).abs() < 1e-9);
    }
}
