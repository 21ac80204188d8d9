//! Per-client limits on what anonymous clients can make the appliance do: the address a
//! client is keyed by, and a bounded map of token buckets.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// The key a client address is counted under. IPv6 by /64: one subscriber or one cloud VM
/// usually gets a whole /64, so keying by the full address would give an attacker 2^64 keys.
/// Anything that is not an address ("unknown") is its own key.
pub fn source_of(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_string(),
    }
}

/// Token buckets per key: `burst` actions at once, then one more every `refill_secs`.
///
/// WHY forgetting buckets is safe: a forgotten bucket starts full again, so forgetting one
/// only ever gives its client more, never takes anything from anybody. A flood of addresses
/// therefore cannot stop another client from acting; it can at most win the flooder more
/// bursts, and someone with more addresses than the map holds is not limited per address
/// anyway. The map stays below `cap` entries whatever is sent.
pub struct TokenBuckets {
    burst: f64,
    refill_secs: f64,
    cap: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: DateTime<Utc>,
}

impl TokenBuckets {
    pub fn new(burst: u32, refill_secs: u32, cap: usize) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            refill_secs: f64::from(refill_secs.max(1)),
            cap: cap.max(4),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refilled(&self, b: Bucket, now: DateTime<Utc>) -> f64 {
        let secs = (now - b.at).num_milliseconds().max(0) as f64 / 1000.0;
        (b.tokens + secs / self.refill_secs).min(self.burst)
    }

    /// Take one token for `key`; `Err(seconds)` until the next one when the bucket is empty.
    pub fn take(&self, key: &str, now: DateTime<Utc>) -> Result<(), u64> {
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(key) && map.len() >= self.cap {
            self.make_room(&mut map, now);
        }
        let full = Bucket {
            tokens: self.burst,
            at: now,
        };
        let b = map.entry(key.to_string()).or_insert(full);
        let tokens = self.refilled(*b, now);
        if tokens >= 1.0 {
            *b = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *b = Bucket { tokens, at: now };
            Err(((1.0 - tokens) * self.refill_secs).ceil().max(1.0) as u64)
        }
    }

    /// Forget full buckets (the same as no bucket); if the map is still crowded, forget the
    /// least recently used down to half the cap, so the next inserts are cheap again.
    fn make_room(&self, map: &mut HashMap<String, Bucket>, now: DateTime<Utc>) {
        map.retain(|_, b| self.refilled(*b, now) < self.burst);
        if map.len() >= self.cap * 3 / 4 {
            let mut by_age: Vec<(DateTime<Utc>, String)> =
                map.iter().map(|(k, b)| (b.at, k.clone())).collect();
            by_age.sort_unstable();
            let excess = map.len() - self.cap / 2;
            for (_, k) in by_age.into_iter().take(excess) {
                map.remove(&k);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_and_ipv4_by_address() {
        assert_eq!(source_of("203.0.113.9"), "203.0.113.9");
        assert_eq!(source_of("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            source_of("2001:db8:1:2:ffff:1:2:3"),
            source_of("2001:db8:1:2::9")
        );
        assert_ne!(source_of("2001:db8:1:3::1"), source_of("2001:db8:1:2::1"));
        assert_eq!(source_of("::ffff:198.51.100.4"), "198.51.100.4");
        assert_eq!(source_of("unknown"), "unknown");
    }

    #[test]
    fn a_bucket_allows_its_burst_then_one_per_refill_period() {
        let b = TokenBuckets::new(20, 3, 100);
        for _ in 0..20 {
            assert!(b.take("a", t0()).is_ok());
        }
        assert_eq!(b.take("a", t0()), Err(3), "empty: next token in 3 s");
        assert!(b.take("b", t0()).is_ok(), "another client is not affected");
        assert_eq!(b.take("a", t0() + Duration::seconds(2)), Err(1));
        assert!(b.take("a", t0() + Duration::seconds(3)).is_ok());
        assert!(b.take("a", t0() + Duration::seconds(3)).is_err());
        // A minute idle refills the whole burst.
        let later = t0() + Duration::seconds(3 + 60);
        for _ in 0..20 {
            assert!(b.take("a", later).is_ok());
        }
        assert!(b.take("a", later).is_err());
    }

    #[test]
    fn a_flood_of_addresses_stays_bounded_and_never_blocks_a_new_client() {
        let b = TokenBuckets::new(20, 3, 1_000);
        // A client mid-way through its burst...
        for _ in 0..5 {
            assert!(b.take("victim", t0()).is_ok());
        }
        // ...then 50,000 addresses, each emptying its bucket.
        for i in 0..50_000u32 {
            let key = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
            for _ in 0..21 {
                let _ = b.take(&key, t0());
            }
            assert!(b.len() <= 1_000);
        }
        assert!(b.take("victim", t0()).is_ok(), "still able to start");
        assert!(b.take("newcomer", t0()).is_ok(), "a new client too");
    }
}
