//! A hook for counting what the client sends, so the appliance can export metrics without
//! this module knowing who listens (it names nothing outside `graph`; `crate::metrics`
//! implements the trait and the domain plugs it in).

use std::time::Duration;

/// Told about every attempt of a Graph request, retries included. Implementations must be
/// cheap and never block: they run on the request path.
pub trait GraphObserver: Send + Sync + std::fmt::Debug {
    /// An HTTP answer arrived with `status`.
    fn answered(&self, _status: u16) {}
    /// The attempt got no answer (connect error, timeout).
    fn no_answer(&self) {}
    /// The client is about to sleep `wait` because the answer said `Retry-After`.
    fn waited_retry_after(&self, _wait: Duration) {}
}

/// The observer of a client nobody watches.
#[derive(Debug, Default)]
pub struct Unobserved;

impl GraphObserver for Unobserved {}
