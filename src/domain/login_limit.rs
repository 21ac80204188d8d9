//! Limits on password sign-in attempts, decided and charged before the (slow) hash.
//!
//! Three limits, checked together and charged together under one lock, so concurrent
//! attempts cannot all pass a check made before any of them was recorded:
//!
//! * per (account, client): 5 attempts in 15 minutes. The guessing limit that matters for
//!   one attacker; a success clears it.
//! * per client: 20 attempts in 15 minutes, whatever the account (spraying one password
//!   over many accounts).
//! * per account: a token bucket (10 at once, then one every 30 seconds) over all clients,
//!   so guessing from many addresses slows down. It never locks: a client that signed in
//!   to the account in the last 30 days is not throttled by it, so a stranger who keeps
//!   the bucket empty delays only sign-ins from new places, and only by the refill time.
//!
//! An attempt is charged as a failure when admitted; a success clears the (account,
//! client) record and gives back its client charge and token, and an attempt that could
//! not be checked (hasher busy, store error) gives back everything. Refusals by the limiter
//! charge nothing.
//!
//! In memory on purpose: a restart forgets it, but an attacker cannot restart the service,
//! and the hot path stays free of writes. Every table is capped (stale records go first,
//! then the least recently active tenth), so an attacker with many addresses cannot grow
//! it without bound; IPv6 clients count per /64, the block one subscriber usually gets.

use super::{DomainError, DomainResult};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

const WINDOW_MINUTES: i64 = 15;
const MAX_PER_ACCOUNT_AND_CLIENT: usize = 5;
const MAX_PER_CLIENT: usize = 20;
const ACCOUNT_BURST: f64 = 10.0;
const ACCOUNT_REFILL_SECONDS: f64 = 30.0;
const KNOWN_CLIENT_DAYS: i64 = 30;
/// Records per table. About 200-400 bytes each: a few MiB at most.
const DEFAULT_CAPACITY: usize = 10_000;
/// Longer account names or client keys are cut: a name is never longer than an e-mail
/// address can be, so only junk is cut, and junk must not cost memory.
const MAX_KEY_LEN: usize = 320;

type Pair = (String, String);

/// An admitted attempt, charged as a failure until [`LoginLimiter::succeeded`] or
/// [`LoginLimiter::refund`] says otherwise.
#[derive(Debug)]
#[must_use = "an attempt ends as a failure (drop it), a success or a refund"]
pub struct Attempt {
    account: String,
    client: String,
    at: DateTime<Utc>,
    /// Took a token from the account bucket (clients known to the account do not).
    throttled: bool,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: DateTime<Utc>,
}

impl Bucket {
    fn refill(&mut self, now: DateTime<Utc>) {
        let secs = (now - self.at).num_milliseconds().max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + secs / ACCOUNT_REFILL_SECONDS).min(ACCOUNT_BURST);
        self.at = now.max(self.at);
    }

    /// Full again by `now`: forgetting it changes nothing.
    fn full_by(&self, now: DateTime<Utc>) -> bool {
        let mut b = *self;
        b.refill(now);
        b.tokens >= ACCOUNT_BURST
    }
}

#[derive(Default)]
struct Tables {
    pairs: HashMap<Pair, Vec<DateTime<Utc>>>,
    clients: HashMap<String, Vec<DateTime<Utc>>>,
    accounts: HashMap<String, Bucket>,
    /// (account, client) → last successful sign-in.
    known: HashMap<Pair, DateTime<Utc>>,
}

pub struct LoginLimiter {
    tables: Mutex<Tables>,
    capacity: usize,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl LoginLimiter {
    /// A limiter keeping at most `capacity` records per table.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            tables: Mutex::new(Tables::default()),
            capacity: capacity.max(10),
        }
    }

    /// Admit and charge an attempt by `client` on `account`, or refuse it (charging nothing)
    /// with how long to wait.
    pub fn begin(&self, account: &str, client: &str, now: DateTime<Utc>) -> DomainResult<Attempt> {
        let account = cut(account);
        let client = client_key(client);
        let pair = (account.clone(), client.clone());
        let mut t = self.lock();
        let mut wait: Option<Duration> = None;
        let mut refuse = |until: Duration| wait = Some(wait.map_or(until, |w| w.max(until)));
        if let Some(until) = over_limit(t.pairs.get_mut(&pair), MAX_PER_ACCOUNT_AND_CLIENT, now) {
            refuse(until);
        }
        if let Some(until) = over_limit(t.clients.get_mut(&client), MAX_PER_CLIENT, now) {
            refuse(until);
        }
        let known = t
            .known
            .get(&pair)
            .is_some_and(|at| now - *at < Duration::days(KNOWN_CLIENT_DAYS));
        if !known && let Some(b) = t.accounts.get_mut(&account) {
            b.refill(now);
            if b.tokens < 1.0 {
                let secs = (1.0 - b.tokens) * ACCOUNT_REFILL_SECONDS;
                refuse(Duration::milliseconds((secs * 1000.0).ceil() as i64));
            }
        }
        if let Some(until) = wait {
            return Err(DomainError::RateLimited {
                retry_after_secs: until.num_seconds().max(0) as u64 + 1,
            });
        }
        let cap = self.capacity;
        let window = Duration::minutes(WINDOW_MINUTES);
        let recent = |hits: &Vec<DateTime<Utc>>| hits.last().is_some_and(|l| now - *l < window);
        let last_hit = |hits: &Vec<DateTime<Utc>>| hits.last().copied().unwrap_or(now);
        make_room(&mut t.pairs, &pair, cap, recent, last_hit);
        t.pairs.entry(pair).or_default().push(now);
        make_room(&mut t.clients, &client, cap, recent, last_hit);
        t.clients.entry(client.clone()).or_default().push(now);
        if !known {
            make_room(
                &mut t.accounts,
                &account,
                cap,
                |b| !b.full_by(now),
                |b| b.at,
            );
            let b = t.accounts.entry(account.clone()).or_insert(Bucket {
                tokens: ACCOUNT_BURST,
                at: now,
            });
            b.tokens -= 1.0;
        }
        Ok(Attempt {
            account,
            client,
            at: now,
            throttled: !known,
        })
    }

    /// The attempt signed in: clear the (account, client) record, give back the client
    /// charge and the token, and remember the client as known to the account.
    pub fn succeeded(&self, attempt: Attempt, now: DateTime<Utc>) {
        let mut t = self.lock();
        let pair = (attempt.account.clone(), attempt.client.clone());
        t.pairs.remove(&pair);
        uncharge(&mut t.clients, &attempt.client, attempt.at);
        give_back_token(&mut t.accounts, &attempt);
        let days = Duration::days(KNOWN_CLIENT_DAYS);
        make_room(
            &mut t.known,
            &pair,
            self.capacity,
            |at| now - *at < days,
            |at| *at,
        );
        t.known.insert(pair, now);
    }

    /// The attempt was not checked (the hasher was busy, the store failed): it did not
    /// happen as far as the limits are concerned.
    pub fn refund(&self, attempt: Attempt) {
        let mut t = self.lock();
        let pair = (attempt.account.clone(), attempt.client.clone());
        uncharge(&mut t.pairs, &pair, attempt.at);
        uncharge(&mut t.clients, &attempt.client, attempt.at);
        give_back_token(&mut t.accounts, &attempt);
    }

    /// Records held, all tables together (tests check the bound).
    pub fn records(&self) -> usize {
        let t = self.lock();
        t.pairs.len() + t.clients.len() + t.accounts.len() + t.known.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Drop hits older than the window; `Some(wait)` when `max` remain.
fn over_limit(
    hits: Option<&mut Vec<DateTime<Utc>>>,
    max: usize,
    now: DateTime<Utc>,
) -> Option<Duration> {
    let hits = hits?;
    let window = Duration::minutes(WINDOW_MINUTES);
    hits.retain(|t| now - *t < window);
    // The oldest hit leaving the window frees a place.
    (hits.len() >= max).then(|| hits[0] + window - now)
}

/// Remove one charge made at `at`, and the record when nothing is left in it.
fn uncharge<K: Eq + Hash>(map: &mut HashMap<K, Vec<DateTime<Utc>>>, key: &K, at: DateTime<Utc>) {
    if let Some(hits) = map.get_mut(key) {
        if let Some(i) = hits.iter().position(|t| *t == at) {
            hits.remove(i);
        }
        if hits.is_empty() {
            map.remove(key);
        }
    }
}

fn give_back_token(accounts: &mut HashMap<String, Bucket>, attempt: &Attempt) {
    if !attempt.throttled {
        return;
    }
    if let Some(b) = accounts.get_mut(&attempt.account) {
        b.tokens = (b.tokens + 1.0).min(ACCOUNT_BURST);
    }
}

/// Before inserting a new `key` into a full table: drop what no longer matters, and if the
/// table is still full (many live records: an attacker with many addresses or names),
/// drop the least recently active tenth in one pass, so this costs one scan per
/// capacity/10 inserts rather than one per insert. Dropping a live record forgets some
/// failures; refusing new records instead would lock out everyone not yet in the table.
fn make_room<K: Eq + Hash + Clone, V>(
    map: &mut HashMap<K, V>,
    key: &K,
    capacity: usize,
    live: impl Fn(&V) -> bool,
    last_active: impl Fn(&V) -> DateTime<Utc>,
) {
    if map.len() < capacity || map.contains_key(key) {
        return;
    }
    map.retain(|_, v| live(v));
    if map.len() < capacity {
        return;
    }
    let mut by_age: Vec<(DateTime<Utc>, K)> = map
        .iter()
        .map(|(k, v)| (last_active(v), k.clone()))
        .collect();
    let drop = (by_age.len() / 10).max(1);
    by_age.select_nth_unstable_by_key(drop - 1, |(at, _)| *at);
    for (_, k) in by_age.into_iter().take(drop) {
        map.remove(&k);
    }
}

/// What a client is counted as: its address, IPv4-mapped IPv6 as IPv4, and IPv6 by /64.
fn client_key(client: &str) -> String {
    match client.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V6(v6)) => {
            let net = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", Ipv6Addr::from(net))
        }
        Ok(v4) => v4.to_string(),
        Err(_) => cut(client),
    }
}

fn cut(s: &str) -> String {
    let mut end = s.len().min(MAX_KEY_LEN);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests;
