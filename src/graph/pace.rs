//! Pacing for Graph's per-tenant limits that punish a client for arriving too fast.
//!
//! Retrying after a 429 is not enough for two of them (docs/microsoft.md#throttling):
//! Conditional Access allows 1 request per second per tenant, shared by every app reading
//! that tenant, and sends no `Retry-After`, so a client that only reacts would hammer it with
//! backoff guesses; the identity reports allow 5 requests per 10 s per app and tenant, and a
//! 100 k-user registration report is hundreds of pages. So every request to those paths waits
//! for a free slot in a sliding window kept per (tenant, limit) in the shared client, before
//! its first attempt and before every retry. Requests to other paths are not paced.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// One of Microsoft's per-tenant request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit {
    /// A name for logs and the pacing key.
    pub name: &'static str,
    pub max_requests: usize,
    pub window: Duration,
}

/// Conditional Access: 1 request per second per tenant, no `Retry-After`.
pub const CONDITIONAL_ACCESS: Limit = Limit {
    name: "conditional_access",
    max_requests: 1,
    window: Duration::from_secs(1),
};

/// Identity and access reports: 5 requests per 10 s per app and tenant.
pub const REPORTS: Limit = Limit {
    name: "reports",
    max_requests: 5,
    window: Duration::from_secs(10),
};

/// Added to every window: our clock starts a request before Microsoft's counts its arrival,
/// and two arrivals can land closer together than their sends did.
const MARGIN: Duration = Duration::from_millis(150);

/// The limit a Graph path (`/v1.0/...`, no query) falls under, if it is paced.
pub fn limit_for(path: &str) -> Option<Limit> {
    let p = path
        .trim_start_matches('/')
        .trim_start_matches("v1.0/")
        .trim_start_matches("beta/");
    if p.starts_with("identity/conditionalAccess/") {
        Some(CONDITIONAL_ACCESS)
    } else if p.starts_with("reports/") {
        Some(REPORTS)
    } else {
        None
    }
}

/// Sliding windows per (tenant, limit): when each recent request was let through.
#[derive(Debug, Default)]
pub struct Pacer {
    sent: Mutex<HashMap<(String, &'static str), VecDeque<Instant>>>,
}

impl Pacer {
    /// Wait until a request to `limit` for `tenant` may go, and count it as sent.
    pub async fn wait(&self, tenant: &str, limit: Limit) {
        let window = limit.window + MARGIN;
        loop {
            let wait = {
                let now = Instant::now();
                // A poisoned lock only means another task panicked mid-update; the queue of
                // instants is still usable.
                let mut map = self.sent.lock().unwrap_or_else(|p| p.into_inner());
                let q = map
                    .entry((tenant.to_ascii_lowercase(), limit.name))
                    .or_default();
                while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                    q.pop_front();
                }
                if q.len() < limit.max_requests.max(1) {
                    q.push_back(now);
                    return;
                }
                q.front()
                    .map(|t| window.saturating_sub(now.duration_since(*t)))
                    .unwrap_or(window)
            };
            tracing::debug!(
                tenant,
                limit = limit.name,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "pacing a Graph request to stay under Microsoft's per-tenant limit"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_limits() {
        assert_eq!(
            limit_for("/v1.0/identity/conditionalAccess/policies"),
            Some(CONDITIONAL_ACCESS)
        );
        assert_eq!(
            limit_for("/v1.0/reports/authenticationMethods/userRegistrationDetails"),
            Some(REPORTS)
        );
        assert_eq!(limit_for("/v1.0/users/delta"), None);
        assert_eq!(limit_for("/v1.0/subscribedSkus"), None);
    }

    #[tokio::test]
    async fn a_window_lets_its_quota_through_then_waits() {
        let limit = Limit {
            name: "test",
            max_requests: 2,
            window: Duration::from_millis(100),
        };
        let p = Pacer::default();
        let start = Instant::now();
        p.wait("t1", limit).await;
        p.wait("t1", limit).await;
        assert!(start.elapsed() < limit.window, "the quota goes at once");
        p.wait("t1", limit).await;
        assert!(
            start.elapsed() >= limit.window + MARGIN,
            "the third waits the window out"
        );
        // Another tenant has its own window.
        let before = Instant::now();
        p.wait("t2", limit).await;
        assert!(before.elapsed() < limit.window);
    }
}
