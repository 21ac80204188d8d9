//! A sign-in under way, between "Sign in with Microsoft" and `/auth/callback`, and the little
//! the server remembers about sign-ins: which states were already used.
//!
//! WHY the pending sign-in travels with the browser, sealed: kept in a server-side map it had
//! to be bounded, and since starting a sign-in needs no account, anyone could fill that map
//! and evict the sign-ins other people had under way. Sealed (ChaCha20-Poly1305 under a key
//! derived from the appliance key for this one purpose), the state, nonce and PKCE verifier
//! live in the cookie of the browser that started the sign-in: unreadable to it, unforgeable,
//! and a flood of starts only ever fills the flooder's own cookie jar.

use super::SignInFlow;
use crate::crypto::SecretBox;
use crate::oidc::AuthRequest;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// The purpose the sealing key is derived for ([`crate::crypto::SecretBox::derive`]).
pub(super) const SEAL_PURPOSE: &str = "signin-state";
/// How long a started sign-in may take at Microsoft.
pub(super) const PENDING_MINUTES: i64 = 10;
/// Bound on remembered used states: about 100 bytes each, so a few MB at most.
const USED_MAX: usize = 50_000;

/// What is sealed into the sign-in cookie. Field names are short-lived wire format: a cookie
/// sealed by an older build fails to open and the user simply starts again.
#[derive(Serialize, Deserialize)]
struct Sealed {
    state: String,
    nonce: String,
    pkce_verifier: String,
    tenant_id: String,
    flow: SignInFlow,
    /// Unix milliseconds (the appliance clock).
    started: i64,
}

/// A pending sign-in, as sealed at the start and opened at the callback.
pub(super) struct Pending {
    pub request: AuthRequest,
    pub flow: SignInFlow,
    pub started: DateTime<Utc>,
}

impl Pending {
    /// Seal for the browser's cookie.
    pub fn seal(&self, key: &SecretBox) -> String {
        let sealed = Sealed {
            state: self.request.state.clone(),
            nonce: self.request.nonce.clone(),
            pkce_verifier: self.request.pkce_verifier.clone(),
            tenant_id: self.request.tenant_id.clone(),
            flow: self.flow.clone(),
            started: self.started.timestamp_millis(),
        };
        // Serialising plain strings and numbers cannot fail.
        key.seal(&serde_json::to_string(&sealed).unwrap_or_default())
    }

    /// Open a cookie value; `None` when it was not sealed by this appliance for sign-in, or
    /// was altered.
    pub fn open(key: &SecretBox, value: &str) -> Option<Pending> {
        let plain = key.open(value).ok()?;
        let s: Sealed = serde_json::from_str(&plain).ok()?;
        Some(Pending {
            request: AuthRequest {
                url: String::new(),
                state: s.state,
                nonce: s.nonce,
                pkce_verifier: s.pkce_verifier,
                tenant_id: s.tenant_id,
            },
            flow: s.flow,
            started: DateTime::from_timestamp_millis(s.started)?,
        })
    }

    /// Started less than [`PENDING_MINUTES`] ago. A minute of tolerance the other way, so a
    /// clock stepped back a little does not refuse a sign-in started just before.
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        let age = now - self.started;
        age < Duration::minutes(PENDING_MINUTES) && age > -Duration::minutes(1)
    }
}

/// Digests of the states already redeemed, so each sealed sign-in works once even though the
/// server keeps no record of it until its callback.
#[derive(Default)]
pub(super) struct UsedStates {
    inner: Mutex<Used>,
}

#[derive(Default)]
struct Used {
    set: HashSet<[u8; 32]>,
    /// Insertion order, oldest first, for expiry and eviction.
    order: VecDeque<(DateTime<Utc>, [u8; 32])>,
}

impl UsedStates {
    /// Mark `state` used; `false` when it already was (a replayed callback).
    pub fn first_use(&self, state: &str, now: DateTime<Utc>) -> bool {
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::digest(state.as_bytes()).into();
        let mut used = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // A sealed sign-in is refused after PENDING_MINUTES anyway, so its state need not be
        // remembered longer than that.
        let window = Duration::minutes(PENDING_MINUTES);
        while let Some((at, d)) = used.order.front().copied() {
            if now - at < window {
                break;
            }
            used.order.pop_front();
            used.set.remove(&d);
        }
        if used.set.contains(&digest) {
            return false;
        }
        // WHY evicting the oldest is safe: forgetting a used state only matters to someone
        // replaying that callback, and a replay also needs the victim's sealed cookie (HttpOnly,
        // cleared by the first callback) and an authorization code Microsoft has not redeemed
        // yet; Microsoft redeems a code once, so a replayed code is refused there too. The
        // bound keeps a flood of callbacks from growing memory.
        if used.order.len() >= USED_MAX
            && let Some((_, d)) = used.order.pop_front()
        {
            used.set.remove(&d);
        }
        used.set.insert(digest);
        used.order.push_back((now, digest));
        true
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .set
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0)
            .single()
            .expect("time")
    }

    fn pending(flow: SignInFlow) -> Pending {
        Pending {
            request: AuthRequest {
                url: "https://login.example/authorize".into(),
                state: "st4te".into(),
                nonce: "n0nce".into(),
                pkce_verifier: "v3rifier".into(),
                tenant_id: "tid".into(),
            },
            flow,
            started: t0(),
        }
    }

    #[test]
    fn a_sealed_sign_in_opens_only_with_its_key_and_hides_its_secrets() {
        let root = SecretBox::from_key([9; 32]);
        let key = root.derive(SEAL_PURPOSE);
        let p = pending(SignInFlow::Portal {
            company_id: 7,
            slug: "contoso".into(),
        });
        let sealed = p.seal(&key);
        for secret in ["st4te", "n0nce", "v3rifier", "contoso"] {
            assert!(!sealed.contains(secret), "{secret} readable in {sealed}");
        }
        let back = Pending::open(&key, &sealed).expect("opens");
        assert_eq!(back.request.state, "st4te");
        assert_eq!(back.request.nonce, "n0nce");
        assert_eq!(back.request.pkce_verifier, "v3rifier");
        assert_eq!(back.request.tenant_id, "tid");
        assert_eq!(back.flow, p.flow);
        assert_eq!(back.started, t0());
        assert!(Pending::open(&root, &sealed).is_none(), "root key");
        assert!(Pending::open(&root.derive("other"), &sealed).is_none());
        let mut tampered = sealed.into_bytes();
        let i = tampered.len() - 5;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert!(Pending::open(&key, &tampered).is_none(), "tampered");
    }

    #[test]
    fn a_sign_in_is_fresh_for_ten_minutes() {
        let p = pending(SignInFlow::Staff { next: "/".into() });
        assert!(p.is_fresh(t0() + Duration::minutes(9)));
        assert!(!p.is_fresh(t0() + Duration::minutes(10)));
        assert!(p.is_fresh(t0() - Duration::seconds(5)), "small clock step");
        assert!(!p.is_fresh(t0() - Duration::minutes(5)));
    }

    #[test]
    fn a_state_is_used_once_and_forgotten_after_ten_minutes() {
        let used = UsedStates::default();
        assert!(used.first_use("a", t0()));
        assert!(!used.first_use("a", t0() + Duration::minutes(9)));
        assert!(used.first_use("b", t0() + Duration::minutes(9)));
        // "a" expired (its sealed cookie would be refused as expired by then anyway).
        assert!(used.first_use("c", t0() + Duration::minutes(11)));
        assert_eq!(used.len(), 2, "b and c");
    }

    #[test]
    fn used_states_stay_bounded_by_evicting_the_oldest() {
        let used = UsedStates::default();
        for i in 0..USED_MAX + 10 {
            assert!(used.first_use(&format!("s{i}"), t0()));
        }
        assert_eq!(used.len(), USED_MAX);
        assert!(used.first_use("s0", t0()), "the oldest was evicted");
        assert!(!used.first_use(&format!("s{}", USED_MAX + 9), t0()));
    }
}
