//! Bounded retries for throttling and transient failures.
//!
//! Graph and the token endpoint answer 429 when throttled and 503/504 when a front end is
//! busy, usually with `Retry-After`. Graph keeps counting requests while a client is
//! throttled, so retrying early makes it worse: we wait at least what `Retry-After` says
//! (seconds, possibly fractional like `2.128`, or an HTTP-date per RFC 9110), and only without
//! it fall back to capped exponential backoff with jitter. Conditional Access never sends
//! `Retry-After`, which is why the backoff exists at all. Attempts are bounded so a tenant that
//! stays throttled ends the job with a typed error instead of hanging it.

use std::time::{Duration, SystemTime};

use chrono::DateTime;
use rand::Rng;

/// How hard to try before giving up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total HTTP attempts for one logical request, the first included.
    pub max_attempts: u32,
    /// First backoff when the answer had no `Retry-After`; doubles per attempt.
    pub base_delay: Duration,
    /// Cap on one backoff step.
    pub max_delay: Duration,
    /// Longest `Retry-After` we are willing to sleep through. Longer answers end the call at
    /// once as `Throttled` with the requested wait, so the job can be rescheduled instead of
    /// holding a worker for many minutes. We never wait *less* than asked.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Backoff before attempt `attempt + 1` (attempt counts from 1): `base * 2^(attempt-1)`,
    /// capped, with "equal jitter" (half fixed, half random) so many tenants throttled together
    /// do not retry in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        let full = self.base_delay.saturating_mul(exp).min(self.max_delay);
        let half = full / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        let extra = if jitter_ms == 0 {
            0
        } else {
            rand::rng().random_range(0..=jitter_ms)
        };
        half + Duration::from_millis(extra)
    }
}

/// Statuses worth retrying for a GET or a token request: throttling (429), gateway trouble
/// (502/503/504) and plain server errors (500), retried with bounded backoff
/// (docs/microsoft.md#throttling).
pub(crate) fn is_retryable(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// Statuses that mean "throttled or busy": when retries run out on these the error is
/// `Throttled`, not `Http`.
pub(crate) fn is_throttling(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// Parse a `Retry-After` value: decimal seconds (fractions allowed, as Graph sends them), or
/// an HTTP-date. A date is measured against the response's own `Date` header when there is
/// one — both come from the same server clock, so our clock skew does not matter — and
/// against `now` otherwise. Dates in the past mean "now". Garbage yields `None` (backoff).
pub fn parse_retry_after(
    value: &str,
    response_date: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return None;
        }
        // A day is far beyond any real answer; clamping keeps from_secs_f64 from panicking.
        return Some(Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    let base = response_date
        .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())
        .map(|d| d.timestamp_millis())
        .unwrap_or_else(|| {
            now.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0)
        });
    let ms = at.timestamp_millis().saturating_sub(base).max(0);
    Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

/// `Retry-After` of a response, read as [`parse_retry_after`] describes.
pub(crate) fn retry_after_of(response: &reqwest::Response, now: SystemTime) -> Option<Duration> {
    let headers = response.headers();
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let date = headers
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok());
    // `now` (the client's clock) only matters for an HTTP-date without a `Date` header; it
    // turns an absolute instant into a wait.
    parse_retry_after(value, date, now)
}

/// A response header as a string, if present, printable and not blank (a blank `request-id`
/// must not hide the one in the error body).
pub(crate) fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// What [`send`] ended with.
pub(crate) enum Sent {
    /// An HTTP answer: success, a non-retryable error, or the last retryable one.
    Response {
        response: reqwest::Response,
        attempts: u32,
        retry_after: Option<Duration>,
    },
    /// No answer at all, after the allowed attempts.
    Transport {
        error: reqwest::Error,
        attempts: u32,
    },
}

/// Send the request `build` makes, retrying per `policy`. `build` is called once per attempt
/// (a `RequestBuilder` is consumed by `send`). `what` names the call in logs: a path, never a
/// URL with its query (skip and delta tokens live there).
pub(crate) async fn send<F>(
    policy: &RetryPolicy,
    clock: &dyn crate::clock::Clock,
    observer: &dyn super::GraphObserver,
    what: &str,
    tenant: &str,
    pace: Option<(&super::pace::Pacer, super::pace::Limit)>,
    mut build: F,
) -> Sent
where
    F: FnMut() -> reqwest::RequestBuilder,
{
    let max = policy.max_attempts.max(1);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        // Every attempt, retries included, waits for a slot: a retry is a request to Graph.
        if let Some((pacer, limit)) = pace {
            pacer.wait(tenant, limit).await;
        }
        match build().send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                observer.answered(status);
                if !is_retryable(status) {
                    return Sent::Response {
                        response,
                        attempts: attempt,
                        retry_after: None,
                    };
                }
                let retry_after = retry_after_of(&response, SystemTime::from(clock.now()));
                let too_long = retry_after.is_some_and(|d| d > policy.max_retry_after);
                if attempt >= max || too_long {
                    return Sent::Response {
                        response,
                        attempts: attempt,
                        retry_after,
                    };
                }
                let delay = retry_after.unwrap_or_else(|| policy.backoff(attempt));
                if retry_after.is_some() {
                    observer.waited_retry_after(delay);
                }
                tracing::warn!(
                    tenant,
                    call = what,
                    status,
                    attempt,
                    max_attempts = max,
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    retry_after_header = retry_after.is_some(),
                    request_id = header(&response, "request-id").as_deref().unwrap_or("-"),
                    client_request_id = header(&response, "client-request-id")
                        .as_deref()
                        .unwrap_or("-"),
                    "Microsoft answered {status}; retrying"
                );
                // Drop the body unread: only the final answer's body matters.
                drop(response);
                tokio::time::sleep(delay).await;
            }
            Err(error) => {
                observer.no_answer();
                let transient = error.is_timeout() || error.is_connect();
                if !transient || attempt >= max {
                    return Sent::Transport {
                        error,
                        attempts: attempt,
                    };
                }
                let delay = policy.backoff(attempt);
                tracing::warn!(
                    tenant,
                    call = what,
                    attempt,
                    max_attempts = max,
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    timeout = error.is_timeout(),
                    "request to Microsoft failed in transport; retrying"
                );
                tokio::time::sleep(delay).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        // 2026-03-02T10:00:00Z
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_772_445_600)
    }

    #[test]
    fn integer_and_fractional_seconds() {
        assert_eq!(
            parse_retry_after("2", None, now()),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after(" 2.128 ", None, now()),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(
            parse_retry_after("0.5", None, now()),
            Some(Duration::from_millis(500))
        );
    }

    #[test]
    fn garbage_and_negative_values_fall_back_to_backoff() {
        assert_eq!(parse_retry_after("soon", None, now()), None);
        assert_eq!(parse_retry_after("-1", None, now()), None);
        assert_eq!(parse_retry_after("NaN", None, now()), None);
    }

    #[test]
    fn http_date_is_measured_against_the_date_header() {
        let d = parse_retry_after(
            "Mon, 02 Mar 2026 10:00:05 GMT",
            Some("Mon, 02 Mar 2026 10:00:02 GMT"),
            now(),
        );
        assert_eq!(d, Some(Duration::from_secs(3)));
    }

    #[test]
    fn http_date_without_date_header_uses_now_and_past_means_zero() {
        assert_eq!(
            parse_retry_after("Mon, 02 Mar 2026 10:00:07 GMT", None, now()),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Mon, 02 Mar 2026 09:00:00 GMT", None, now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(1),
        };
        for attempt in 1..10 {
            let full = Duration::from_millis(100)
                .saturating_mul(1 << (attempt - 1))
                .min(Duration::from_millis(1000));
            let d = p.backoff(attempt);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }
}
