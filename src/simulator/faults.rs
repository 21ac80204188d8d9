//! Per-tenant fault injection.
//!
//! WHY counted per fault: tests say "throttle the 3rd users/delta call" and then check, via the
//! request log, that the product waited `Retry-After` before retrying; counting calls from the
//! moment the fault was set keeps that independent of what ran before.

use serde::{Deserialize, Serialize};

/// What a fault does to a matching Graph request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FaultKind {
    /// 429 `TooManyRequests`. `retry_after` is sent verbatim ("2", "2.128"); `None` sends no
    /// header (as Conditional Access does).
    Throttle { retry_after: Option<String> },
    /// 503 `serviceNotAvailable`, optionally with `Retry-After`.
    Unavailable { retry_after: Option<String> },
    /// 200 with a truncated, invalid JSON body.
    Malformed,
    /// The normal response, delayed.
    Slow { delay_ms: u64 },
    /// Any other Graph error, e.g. Intune's wrapped 403 `UnknownError`, 500
    /// `generalException` or 504: `{"error": {"code", "message", "innerError"}}`.
    Error {
        status: u16,
        code: String,
        message: String,
        #[serde(default)]
        retry_after: Option<String>,
    },
}

/// One fault rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Base endpoint key (e.g. `users/delta`, `deviceManagement/managedDevices`); `None` = any
    /// Graph endpoint of the tenant.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The first matching call (1-based, counted from when the fault was set) that is affected.
    #[serde(default = "one")]
    pub nth: u64,
    /// How many consecutive matching calls are affected (0 = all from `nth` on).
    #[serde(default = "one_u32")]
    pub times: u32,
    /// Matching calls seen so far (maintained by the simulator).
    #[serde(default)]
    pub seen: u64,
}

fn one() -> u64 {
    1
}
fn one_u32() -> u32 {
    1
}

impl Fault {
    /// Counts a call to `endpoint`; returns true when this call must get the fault.
    pub fn hit(&mut self, endpoint: &str) -> bool {
        if let Some(e) = &self.endpoint
            && e != endpoint
        {
            return false;
        }
        self.seen += 1;
        self.seen >= self.nth && (self.times == 0 || self.seen < self.nth + u64::from(self.times))
    }
}

/// Evaluates all faults for one call; every matching fault counts the call, the first hit wins.
pub fn evaluate(faults: &mut [Fault], endpoint: &str) -> Option<FaultKind> {
    let mut out = None;
    for f in faults.iter_mut() {
        if f.hit(endpoint) && out.is_none() {
            out = Some(f.kind.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_fires_from_its_nth_request_for_its_count() {
        let mut f = vec![Fault {
            kind: FaultKind::Malformed,
            endpoint: Some("users/delta".into()),
            nth: 2,
            times: 2,
            seen: 0,
        }];
        let hits: Vec<bool> = (0..5)
            .map(|_| evaluate(&mut f, "users/delta").is_some())
            .collect();
        assert_eq!(hits, vec![false, true, true, false, false]);
        assert!(evaluate(&mut f, "groups/delta").is_none());
    }
}
