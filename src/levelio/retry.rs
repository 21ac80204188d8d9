//! Bounded retries for Level (docs/levelio.md#api): 429 and 5xx are retried, waiting what
//! `Retry-After` asks (seconds) or, without it, a capped exponential backoff. Level publishes
//! no limits, so the policy is conservative and a wait beyond the cap ends the call at once
//! as `Throttled` (the job reports it) instead of holding a worker.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelRetry {
    /// Total attempts for one request, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest `Retry-After` we sleep through.
    pub max_retry_after: Duration,
}

impl Default for LevelRetry {
    fn default() -> Self {
        LevelRetry {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl LevelRetry {
    /// `base * 2^(attempt-1)`, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.base_delay.saturating_mul(exp).min(self.max_delay)
    }
}

/// `Retry-After` in (possibly fractional) seconds. An HTTP-date or garbage yields `None`, so
/// the backoff applies: reading a date would need the clock, and Level is not known to send one.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(secs.min(86_400.0)))
}
