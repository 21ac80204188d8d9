//! Password hashing (argon2id) behind a small bounded queue, with preallocated memory.
//!
//! One argon2id check with the parameters we store (`m=19456,t=2,p=1`) needs 19 MiB of
//! working memory and tens of milliseconds of one core. Run without a bound, a burst of
//! wrong passwords asks for hundreds of those at once; and because every check allocated and
//! freed its own 19 MiB, glibc raised its mmap threshold after the first free and served the
//! next ones from per-thread heap arenas that it never gives back to the system (350 wrong
//! passwords took the release binary from 37 MB to 4.3 GB resident, and it stayed there).
//!
//! So: at most `concurrency` hashes run at once (about one per core: more would only queue
//! for CPU while holding memory), a few more requests may wait, and anything beyond that is
//! refused at once with [`DomainError::Busy`] (429 and `Retry-After` on the web). Each
//! running slot hashes into a buffer taken from a pool, allocated on its first use and kept:
//! the allocator never sees the 19 MiB churn, so memory is bounded by
//! `concurrency × 19 MiB` no matter how many checks run. We chose this over tuning the
//! allocator: the bound holds whatever allocator the binary is linked with (jemalloc since
//! #11, `src/allocator.rs`; glibc's malloc in a `--no-default-features` build).
//!
//! Stored hashes are PHC strings; we parse them ourselves (algorithm, version, parameters,
//! salt, hash) so the check can use the pooled memory, and compare in constant time. A
//! stored hash with larger parameters than ours still verifies: it gets a one-off buffer of
//! its own size, still inside its slot, so the bound on concurrent hashes holds.

use super::{DomainError, DomainResult};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use rand::RngCore;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// Requests that may wait for a slot, per slot. Short on purpose: with two slots, eight
/// waiting requests is a few hundred milliseconds of work; a longer queue would only hold
/// connections open for attempts that are mostly an attacker's.
const QUEUE_PER_SLOT: usize = 4;

/// What a refused request is told to wait: the queue drains within about a second.
const BUSY_RETRY_SECS: u64 = 1;

/// Blocks (1 KiB each) of one pooled buffer: exactly what new hashes need.
const POOL_BLOCKS: usize = Params::DEFAULT.block_count();

/// The largest stored parameters we agree to compute (256 MiB, 16 passes, 16 lanes). A
/// hash beyond them is not one this appliance wrote; refusing it keeps one bad record from
/// holding a slot for minutes or asking for gigabytes.
const MAX_M_COST_KIB: u32 = 256 * 1024;
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 16;

const SALT_LEN: usize = 16;
const OUTPUT_LEN: usize = 32;

/// Counters for tests, benchmarks and the curious.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashingStats {
    /// Hashes that started running (verifications and new hashes).
    pub started: u64,
    /// Hashes running now.
    pub running: usize,
    /// The most that ever ran at the same time.
    pub max_running: usize,
    /// Requests refused because the slots and the queue were full.
    pub refused: u64,
}

#[derive(Default)]
struct Counters {
    started: AtomicU64,
    running: AtomicUsize,
    max_running: AtomicUsize,
    refused: AtomicU64,
}

/// Marks one hash as running for as long as it lives (also if the hash panics).
struct RunningHash<'a>(&'a Counters);

impl<'a> RunningHash<'a> {
    fn enter(c: &'a Counters) -> Self {
        c.started.fetch_add(1, Ordering::Relaxed);
        let now = c.running.fetch_add(1, Ordering::SeqCst) + 1;
        c.max_running.fetch_max(now, Ordering::SeqCst);
        Self(c)
    }
}

impl Drop for RunningHash<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The bounded password hasher. One per appliance, shared by every request.
pub struct PasswordHashing {
    concurrency: usize,
    /// Slots and queue places together: a request that gets no ticket is refused.
    tickets: Arc<Semaphore>,
    /// Hashes running at once.
    slots: Arc<Semaphore>,
    /// One buffer per slot that has run at least once; a slot holder always finds one or
    /// allocates the first.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    counters: Arc<Counters>,
}

impl PasswordHashing {
    /// `concurrency` hashes at once; 0 means one per CPU core.
    pub fn new(concurrency: usize) -> Self {
        let concurrency = if concurrency == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            concurrency
        };
        Self {
            concurrency,
            tickets: Arc::new(Semaphore::new(concurrency * (1 + QUEUE_PER_SLOT))),
            slots: Arc::new(Semaphore::new(concurrency)),
            buffers: Arc::new(Mutex::new(Vec::with_capacity(concurrency))),
            counters: Arc::new(Counters::default()),
        }
    }

    /// How many hashes may run at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// How many requests may be running or waiting at once; one more is refused.
    pub fn capacity(&self) -> usize {
        self.concurrency * (1 + QUEUE_PER_SLOT)
    }

    /// Memory held by the pool of hashing buffers (one per slot that has run).
    pub fn pooled_bytes(&self) -> usize {
        let buffers = self.buffers.lock().unwrap_or_else(|e| e.into_inner());
        buffers.iter().map(|b| b.len() * Block::SIZE).sum()
    }

    pub fn stats(&self) -> HashingStats {
        let c = &self.counters;
        HashingStats {
            started: c.started.load(Ordering::SeqCst),
            running: c.running.load(Ordering::SeqCst),
            max_running: c.max_running.load(Ordering::SeqCst),
            refused: c.refused.load(Ordering::SeqCst),
        }
    }

    /// Does `password` match the stored PHC string? With no stored hash (unknown account,
    /// or one that signs in only with Microsoft) a fixed hash with the same parameters is
    /// computed anyway, so the answer takes as long whether or not the account exists.
    pub async fn verify(&self, password: String, stored: Option<String>) -> DomainResult<bool> {
        let (target, real) = match stored.as_deref().map(StoredHash::parse) {
            Some(Ok(h)) => (h, true),
            Some(Err(reason)) => {
                tracing::warn!(%reason, "a stored password hash cannot be read; sign-in refused");
                (StoredHash::dummy(), false)
            }
            None => (StoredHash::dummy(), false),
        };
        let matched = self
            .run(move |memory| target.matches(password.as_bytes(), memory))
            .await?;
        Ok(real && matched)
    }

    /// A new argon2id PHC string for `password` (fresh random salt, our parameters).
    pub async fn hash(&self, password: String) -> DomainResult<String> {
        let mut salt = vec![0u8; SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        self.run(move |memory| StoredHash::create(password.as_bytes(), salt, memory))
            .await?
            .map(|h| h.to_phc())
    }

    /// Run `job` with a slot and its buffer on the blocking pool, or refuse when the slots
    /// and the queue are full.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> DomainResult<T> {
        let Ok(ticket) = Arc::clone(&self.tickets).try_acquire_owned() else {
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
            return Err(DomainError::Busy {
                retry_after_secs: BUSY_RETRY_SECS,
            });
        };
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|e| DomainError::internal("password hashing", e))?;
        let buffers = Arc::clone(&self.buffers);
        let counters = Arc::clone(&self.counters);
        tokio::task::spawn_blocking(move || {
            // The ticket and slot go with the hash, not with the request: a client that hangs
            // up does not free a slot while its hash still runs. Dropped last (declared
            // first), after the buffer is back in the pool.
            let _held = (ticket, slot);
            let _running = RunningHash::enter(&counters);
            let mut memory = buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_else(|| vec![Block::new(); POOL_BLOCKS]);
            let out = job(&mut memory);
            buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(memory);
            out
        })
        .await
        .map_err(|e| DomainError::internal("password hashing stopped", e))
    }
}

/// A parsed PHC string: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (B64, no padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHash {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl StoredHash {
    /// Parse what `argon2` (and so every hash this appliance stored) writes. `v=` may be
    /// absent, meaning 19 as the argon2 crate reads it; `keyid`/`data` are not supported.
    pub fn parse(phc: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("not an argon2 PHC string: {why}");
        let mut parts = phc.split('$');
        if parts.next() != Some("") {
            return Err(bad("it must start with $"));
        }
        let algorithm = match parts.next() {
            Some("argon2id") => Algorithm::Argon2id,
            Some("argon2i") => Algorithm::Argon2i,
            Some("argon2d") => Algorithm::Argon2d,
            _ => return Err(bad("unknown algorithm")),
        };
        let mut field = parts.next().ok_or_else(|| bad("no parameters"))?;
        let version = match field.strip_prefix("v=") {
            Some(v) => {
                field = parts.next().ok_or_else(|| bad("no parameters"))?;
                match v {
                    "19" => Version::V0x13,
                    "16" => Version::V0x10,
                    _ => return Err(bad("unknown version")),
                }
            }
            None => Version::V0x13,
        };
        let (mut m, mut t, mut p) = (None, None, None);
        for pair in field.split(',') {
            let (name, value) = pair.split_once('=').ok_or_else(|| bad("bad parameter"))?;
            let value = Some(
                value
                    .parse::<u32>()
                    .map_err(|_| bad("bad parameter value"))?,
            );
            match name {
                "m" if m.is_none() => m = value,
                "t" if t.is_none() => t = value,
                "p" if p.is_none() => p = value,
                _ => return Err(bad("unsupported or repeated parameter")),
            }
        }
        let (Some(m), Some(t), Some(p)) = (m, t, p) else {
            return Err(bad("m, t and p are required"));
        };
        if m > MAX_M_COST_KIB || t > MAX_T_COST || p > MAX_P_COST {
            return Err(format!(
                "argon2 parameters m={m},t={t},p={p} are beyond what this appliance computes"
            ));
        }
        let salt = B64
            .decode(parts.next().ok_or_else(|| bad("no salt"))?)
            .map_err(|_| bad("salt is not B64"))?;
        let hash = B64
            .decode(parts.next().ok_or_else(|| bad("no hash"))?)
            .map_err(|_| bad("hash is not B64"))?;
        if parts.next().is_some() {
            return Err(bad("trailing fields"));
        }
        if !(argon2::MIN_SALT_LEN..=64).contains(&salt.len()) || !(4..=64).contains(&hash.len()) {
            return Err(bad("salt or hash length out of range"));
        }
        let params = Params::new(m, t, p, Some(hash.len())).map_err(|e| bad(&e.to_string()))?;
        Ok(Self {
            algorithm,
            version,
            params,
            salt,
            hash,
        })
    }

    /// A new hash with our parameters (argon2id v19, m=19456 KiB, t=2, p=1: the argon2
    /// crate's defaults, OWASP's recommendation), computed in `memory`.
    fn create(password: &[u8], salt: Vec<u8>, memory: &mut [Block]) -> DomainResult<Self> {
        let mut h = Self::with_default_params(salt, vec![0u8; OUTPUT_LEN]);
        let mut out = vec![0u8; OUTPUT_LEN];
        h.compute(password, &mut out, memory)
            .map_err(|e| DomainError::internal("password hashing", e))?;
        h.hash = out;
        Ok(h)
    }

    /// What unknown accounts are checked against: our parameters, so it costs the same as
    /// a real check; the hash itself matches nothing (and its answer is ignored anyway).
    fn dummy() -> Self {
        Self::with_default_params(b"tenantry:nobody.".to_vec(), vec![0u8; OUTPUT_LEN])
    }

    fn with_default_params(salt: Vec<u8>, hash: Vec<u8>) -> Self {
        Self {
            algorithm: Algorithm::Argon2id,
            version: Version::V0x13,
            params: Params::DEFAULT,
            salt,
            hash,
        }
    }

    /// Hash `password` with these parameters into `out`: in the pooled `memory` when it is
    /// large enough (always, for hashes we wrote), else in a one-off buffer of this hash's
    /// own size. Freeing that buffer is a rare large free; it only happens for hashes with
    /// larger parameters than ours.
    fn compute(
        &self,
        password: &[u8],
        out: &mut [u8],
        memory: &mut [Block],
    ) -> Result<(), argon2::Error> {
        let ctx = Argon2::new(self.algorithm, self.version, self.params.clone());
        let need = self.params.block_count();
        match memory.get_mut(..need) {
            Some(pooled) => ctx.hash_password_into_with_memory(password, &self.salt, out, pooled),
            None => {
                let mut own = vec![Block::new(); need];
                ctx.hash_password_into_with_memory(password, &self.salt, out, &mut own[..])
            }
        }
    }

    /// Constant-time: how much of the hash matched must not show in the timing.
    fn matches(&self, password: &[u8], memory: &mut [Block]) -> bool {
        let mut out = vec![0u8; self.hash.len()];
        self.compute(password, &mut out, memory).is_ok() && bool::from(out.ct_eq(&self.hash))
    }

    pub fn to_phc(&self) -> String {
        format!(
            "${}$v={}$m={},t={},p={}${}${}",
            self.algorithm.as_str(),
            u32::from(self.version),
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost(),
            B64.encode(&self.salt),
            B64.encode(&self.hash)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::phc::PasswordHash;
    use argon2::{PasswordHasher, PasswordVerifier};
    use futures_util::StreamExt;
    use futures_util::stream::FuturesUnordered;

    const PW: &str = "correct horse battery";

    fn made_by(ctx: &Argon2<'_>, pw: &str) -> String {
        ctx.hash_password(pw.as_bytes())
            .expect("argon2 hashes")
            .to_string()
    }

    #[tokio::test]
    async fn hashes_made_by_argon2_default_keep_verifying() {
        let stored = made_by(&Argon2::default(), PW);
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        let h = PasswordHashing::new(1);
        assert!(
            h.verify(PW.into(), Some(stored.clone()))
                .await
                .expect("runs")
        );
        assert!(
            !h.verify("wrong horse battery".into(), Some(stored))
                .await
                .expect("runs")
        );
    }

    #[tokio::test]
    async fn new_hashes_are_argon2_default_phc_strings_that_argon2_accepts() {
        let h = PasswordHashing::new(1);
        let ours = h.hash(PW.into()).await.expect("hashes");
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password(PW.as_bytes(), &parsed)
                .is_ok()
        );
        assert!(h.verify(PW.into(), Some(ours.clone())).await.expect("runs"));
        let again = h.hash(PW.into()).await.expect("hashes");
        assert_ne!(ours, again, "a fresh salt every time");
        assert_eq!(StoredHash::parse(&ours).expect("parses").to_phc(), ours);
    }

    #[tokio::test]
    async fn hashes_with_other_parameters_verify_too() {
        let h = PasswordHashing::new(1);
        for (m, t, p) in [(32 * 1024, 3, 2), (8 * 1024, 1, 1)] {
            let params = Params::new(m, t, p, None).expect("params");
            let ctx = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
            let stored = made_by(&ctx, PW);
            assert!(
                h.verify(PW.into(), Some(stored.clone()))
                    .await
                    .expect("runs"),
                "{stored}"
            );
            assert!(
                !h.verify("nope nope nope".into(), Some(stored))
                    .await
                    .expect("runs")
            );
        }
        let s = h.stats();
        assert_eq!((s.started, s.max_running), (4, 1));
        assert_eq!(
            h.buffers.lock().expect("pool").len(),
            1,
            "larger parameters got a one-off buffer, not a second pooled one"
        );
    }

    #[test]
    fn malformed_or_oversized_phc_strings_are_refused() {
        let good = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8hoGpEGPb1Zd1HUNVt2XmdEi3o/D8BDtTuq/FKAwtyM";
        assert!(StoredHash::parse(good).is_ok());
        for bad in [
            "",
            "argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8hoGpEGPb1Zd1HUNVt2XmdEi3o",
            "$scrypt$ln=15,r=8,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=42$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8hoGpEGPb1Zd1HUNVt2XmdEi3o",
            "$argon2id$v=19$m=19456,t=2$c29tZXNhbHRzb21lc2FsdA$8hoGpEGPb1Zd1HUNVt2XmdEi3o",
            "$argon2id$v=19$m=19456,t=2,p=1,keyid=AAAA$c29tZXNhbHRzb21lc2FsdA$8hoGpEGPb1Zd1HUNVt2XmdEi3o",
            "$argon2id$v=19$m=19456,m=1,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8hoGpEGPb1Zd1HUNVt2XmdEi3o",
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA",
            "$argon2id$v=19$m=19456,t=2,p=1$!!!!$8hoGpEGPb1Zd1HUNVt2XmdEi3o",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$8hoGpEGPb1Zd1HUNVt2XmdEi3o",
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8hoGpEGPb1Zd1HUNVt2XmdEi3o$x",
            "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8hoGpEGPb1Zd1HUNVt2XmdEi3o",
            "$argon2id$v=19$m=19456,t=1000,p=1$c29tZXNhbHRzb21lc2FsdA$8hoGpEGPb1Zd1HUNVt2XmdEi3o",
        ] {
            assert!(StoredHash::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn unknown_accounts_cost_the_same_as_real_ones() {
        let dummy = StoredHash::dummy();
        let real = StoredHash::parse(&made_by(&Argon2::default(), PW)).expect("parses");
        assert_eq!(
            (dummy.algorithm, dummy.version, dummy.params.block_count()),
            (real.algorithm, real.version, real.params.block_count())
        );
        assert_eq!(
            (
                dummy.params.t_cost(),
                dummy.params.p_cost(),
                dummy.hash.len()
            ),
            (real.params.t_cost(), real.params.p_cost(), real.hash.len())
        );
    }

    #[tokio::test]
    async fn beyond_the_slots_and_a_short_queue_requests_are_refused_at_once() {
        let h = PasswordHashing::new(1);
        // Hold the only slot, so the admitted requests wait and the rest meet a full queue.
        let hold = Arc::clone(&h.slots).acquire_owned().await.expect("slot");
        let admitted = 1 + QUEUE_PER_SLOT;
        let mut pending: FuturesUnordered<_> =
            (0..10).map(|_| h.verify("guess".into(), None)).collect();
        for _ in admitted..10 {
            let refused = pending.next().await.expect("an answer");
            assert!(
                matches!(refused, Err(DomainError::Busy { retry_after_secs }) if retry_after_secs > 0),
                "{refused:?}"
            );
        }
        assert_eq!(h.stats().started, 0, "nothing ran while the slot was held");
        drop(hold);
        for _ in 0..admitted {
            assert!(matches!(pending.next().await, Some(Ok(false))));
        }
        let s = h.stats();
        assert_eq!(s.started, admitted as u64);
        assert_eq!(s.refused, (10 - admitted) as u64);
        assert_eq!((s.running, s.max_running), (0, 1));
        assert_eq!(
            h.buffers.lock().expect("pool").len(),
            1,
            "one buffer per slot"
        );
    }
}
