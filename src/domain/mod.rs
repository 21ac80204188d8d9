//! Use-cases. Orchestrates model, store and (later) the Microsoft clients; takes `now` from
//! the clock handle. Never names actix, askama or redb.

pub mod alerts;
pub mod assets;
pub mod audit;
pub mod authority;
pub mod bulk_sync;
pub mod companies;
pub mod company_page;
pub mod consent;
pub mod dashboard;
pub mod directory;
pub mod entra;
pub mod error;
pub mod evidence;
pub mod group_members;
pub mod jobs;
pub mod levelio;
pub mod login_limit;
pub mod membership;
mod outcome;
pub mod password;
pub mod portal;
mod prune;
pub mod queue_figures;
pub mod requests;
pub mod schedule;
mod search_turns;
pub mod sso;
pub mod staff;
pub mod sync;
pub mod tenants;
pub mod throttle;
pub mod tokens;

pub use error::{DomainError, DomainResult};

use crate::clock::SharedClock;
use crate::store::Store;
use std::sync::Arc;
use tokio::sync::Notify;

/// Settings the domain needs from configuration.
#[derive(Debug, Clone)]
pub struct DomainConfig {
    pub session_hours: u32,
    pub job_max_attempts: u32,
    pub job_backoff_seconds: u32,
}

/// Everything a use-case needs, cheap to clone.
#[derive(Clone)]
pub struct Services {
    /// Private to the domain: the web layer asks use-cases, never the store.
    pub(in crate::domain) store: Store,
    pub clock: SharedClock,
    pub config: Arc<DomainConfig>,
    /// Woken whenever a job is queued, so idle workers start at once.
    pub job_notify: Arc<Notify>,
    /// Password sign-in attempt limits (per account and client, per client, per account).
    pub limiter: Arc<login_limit::LoginLimiter>,
    /// The bounded argon2 hasher every password check and new password goes through.
    pub passwords: Arc<password::PasswordHashing>,
    /// Microsoft endpoints and the registration from configuration.
    pub microsoft: Arc<entra::MicrosoftSetup>,
    /// The Graph client for the current registration, keyed by a digest of it.
    graph: Arc<std::sync::Mutex<Option<CachedGraph>>>,
    /// Sign in with Microsoft: discovery cache, used states, per-client start limits.
    sso: Arc<sso::SsoRuntime>,
    /// Anonymous failures counted toward their minute's audit summary.
    refusals: Arc<audit::RefusalSummaries>,
    /// Told about every Graph request (the appliance's metrics; nobody in tools).
    pub(in crate::domain) graph_observer: Arc<dyn crate::graph::GraphObserver>,
    /// Level.io API root and key from configuration.
    pub level: Arc<levelio::LevelSetup>,
}

/// A Graph client and the digest of the registration it was built from.
type CachedGraph = (String, Arc<crate::graph::GraphClient>);

impl Services {
    pub fn new(store: Store, clock: SharedClock, config: DomainConfig) -> Self {
        Self::with_microsoft(store, clock, config, entra::MicrosoftSetup::default())
    }

    pub fn with_microsoft(
        store: Store,
        clock: SharedClock,
        config: DomainConfig,
        microsoft: entra::MicrosoftSetup,
    ) -> Self {
        Self {
            store,
            clock,
            config: Arc::new(config),
            job_notify: Arc::new(Notify::new()),
            limiter: Arc::new(login_limit::LoginLimiter::default()),
            // One per core until configured otherwise (see `with_password_concurrency`).
            passwords: Arc::new(password::PasswordHashing::new(0)),
            microsoft: Arc::new(microsoft),
            graph: Arc::new(std::sync::Mutex::new(None)),
            sso: Arc::new(sso::SsoRuntime::default()),
            refusals: Arc::new(audit::RefusalSummaries::default()),
            graph_observer: Arc::new(crate::graph::Unobserved),
            level: Arc::new(levelio::LevelSetup::default()),
        }
    }

    /// Level.io API root and key from configuration (`[level]`).
    pub fn with_level(mut self, level: levelio::LevelSetup) -> Self {
        self.level = Arc::new(level);
        self
    }

    /// Tell `observer` about every Graph request (set before the first Graph client is built).
    pub fn with_graph_observer(mut self, observer: Arc<dyn crate::graph::GraphObserver>) -> Self {
        self.graph_observer = observer;
        self
    }

    /// The store itself, for the composition root, tools and tests that seed data. The web
    /// layer must not call it (tests/app/layering.rs checks): it asks use-cases.
    #[doc(hidden)]
    pub fn store_handle(&self) -> &Store {
        &self.store
    }

    /// Run at most `n` password hashes at once (`server.password_hash_concurrency`; 0 = one
    /// per CPU core).
    pub fn with_password_concurrency(mut self, n: usize) -> Self {
        self.passwords = Arc::new(password::PasswordHashing::new(n));
        self
    }

    /// A key box for one purpose, derived from the appliance's secret key (see
    /// [`crate::crypto::SecretBox::derive`]).
    pub fn purpose_key(&self, purpose: &str) -> crate::crypto::SecretBox {
        self.store.secret_box().derive(purpose)
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Does the store answer? (readiness probe)
    pub async fn store_ready(&self) -> bool {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.ping())
            .await
            .unwrap_or(false)
    }
}
