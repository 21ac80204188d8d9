//! The simulator's whole mutable world, behind one mutex.
//!
//! WHY one `std::sync::Mutex`: every handler does a short, synchronous piece of work (no await
//! while holding it), the data is small apart from the lazily generated collections, and one lock
//! makes cross-host invariants (consent, tokens, counters) trivially consistent.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::collection::{Collection, Kind};
use super::faults::Fault;
use super::generator::TenantGen;
use super::keys::KeyRing;
pub mod certificates;

use super::levelio::LevelHandle;

/// Knobs of one tenant that are not faults.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct TenantSettings {
    /// Server-chosen page size for users/groups delta (Microsoft's is undocumented).
    pub delta_page_size: usize,
    /// Most `members@delta` entries carried by one group item; bigger groups span pages.
    pub members_per_page: usize,
    /// Lifetime of delta tokens (Microsoft: 7 days for directory objects).
    pub delta_token_max_age_secs: i64,
    /// Status for an expired delta token: 400 `syncStateNotFound` or 410 `resyncRequired`.
    pub expired_delta_status: u16,
    /// `error.code` of the 403 for Conditional Access in a tenant without P1 (undocumented).
    pub ca_unlicensed_code: String,
    /// Initial delta rounds repeat the previous page's last object at the start of each page
    /// (Graph documents that objects may appear more than once in a round).
    pub delta_replays: bool,
    /// Initial delta rounds insert an empty page (value `[]` + nextLink) at every page boundary.
    pub delta_empty_pages: bool,
    /// Enforce Microsoft's per-tenant limits: Conditional Access 1 request/s (429 without
    /// Retry-After), identity reports 5 requests/10 s (429 with Retry-After). On by default,
    /// as on Graph: a client that does not pace itself meets 429s in every test.
    pub enforce_rate_limits: bool,
    /// When set, approving admin consent redirects with this error instead of granting.
    pub consent_error: Option<ConsentError>,
}

/// An error the admin-consent endpoint returns instead of granting
/// (docs/microsoft.md#admin-consent-callback).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsentError {
    /// OAuth `error`, e.g. `consent_required`; an empty string clears the knob.
    pub error: String,
    /// AADSTS number put in front of `description`.
    pub aadsts: u32,
    pub description: String,
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            delta_page_size: 100,
            members_per_page: 100,
            delta_token_max_age_secs: 7 * 24 * 3600,
            expired_delta_status: 400,
            ca_unlicensed_code: "Authentication_RequestFromNonPremiumTenantOrB2CTenant".into(),
            delta_replays: false,
            delta_empty_pages: false,
            enforce_rate_limits: true,
            consent_error: None,
        }
    }
}

/// One request as seen by the simulator, for tests about pacing and retries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestLogEntry {
    pub seq: u64,
    /// RFC 3339 with milliseconds.
    pub at: String,
    /// Milliseconds since the Unix epoch (easy arithmetic for Retry-After checks).
    pub at_ms: i64,
    pub endpoint: String,
    pub status: u16,
    /// `Retry-After` sent with this response, if any.
    pub retry_after: Option<String>,
    /// Which fault answered, if any (`throttle`, `unavailable`, `malformed`, `slow`).
    pub fault: Option<String>,
    pub request_id: String,
}

/// One simulated Entra tenant.
#[derive(Debug)]
pub struct Tenant {
    pub tg: TenantGen,
    pub intune: bool,
    pub p1: bool,
    /// Entra ID P2 (risk-based Conditional Access, PIM); only meaningful with `p1`.
    pub p2: bool,
    /// P1 was bought but has lapsed: CA policies still read (200), the registration report
    /// answers 403 and the P1 SKU is `Suspended` (docs/microsoft.md#licences).
    pub p1_lapsed: bool,
    /// Security defaults (`identitySecurityDefaultsEnforcementPolicy.isEnabled`).
    pub security_defaults: bool,
    pub country: String,
    /// client ids of apps with admin consent in this tenant.
    pub consents: BTreeSet<String>,
    pub users: Collection,
    pub groups: Collection,
    pub devices: Collection,
    pub policies: Collection,
    /// Registration report overrides per user id (merged over the generated row).
    pub registrations: BTreeMap<String, Map<String, Value>>,
    /// Change counter; delta tokens remember it.
    pub version: u64,
    /// Bumped to invalidate every outstanding delta token (the "expired delta" fault).
    pub delta_epoch: u64,
    pub settings: TenantSettings,
    pub faults: Vec<Fault>,
    pub counts: BTreeMap<String, u64>,
    pub log: VecDeque<RequestLogEntry>,
    pub log_seq: u64,
    /// Recent accepted request times per rate-limited endpoint.
    pub rate: BTreeMap<String, VecDeque<DateTime<Utc>>>,
}

/// Bounded request log per tenant.
pub const LOG_CAP: usize = 10_000;

impl Tenant {
    pub fn new(tg: TenantGen, intune: bool, p1: bool) -> Self {
        Tenant {
            users: Collection::new(Kind::User, tg.users),
            groups: Collection::new(Kind::Group, tg.groups),
            devices: Collection::new(Kind::Device, tg.devices),
            policies: Collection::new(Kind::Policy, tg.policies),
            tg,
            intune,
            p1,
            p2: false,
            p1_lapsed: false,
            // New tenants get security defaults; CA cannot be used alongside them, so tenants
            // with P1 (which use CA) have turned them off.
            security_defaults: !p1,
            country: "GB".into(),
            consents: BTreeSet::new(),
            registrations: BTreeMap::new(),
            version: 1,
            delta_epoch: 0,
            settings: TenantSettings::default(),
            faults: Vec::new(),
            counts: BTreeMap::new(),
            log: VecDeque::new(),
            log_seq: 0,
            rate: BTreeMap::new(),
        }
    }

    pub fn id(&self) -> &str {
        &self.tg.tenant_id
    }

    /// Next change version.
    pub fn bump(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    pub fn coll(&self, kind: Kind) -> &Collection {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
            Kind::Device => &self.devices,
            Kind::Policy => &self.policies,
        }
    }

    pub fn coll_mut(&mut self, kind: Kind) -> (&TenantGen, &mut Collection) {
        let c = match kind {
            Kind::User => &mut self.users,
            Kind::Group => &mut self.groups,
            Kind::Device => &mut self.devices,
            Kind::Policy => &mut self.policies,
        };
        (&self.tg, c)
    }

    /// Records a finished request in the counters and the log.
    pub fn record(
        &mut self,
        key: &str,
        status: u16,
        retry_after: Option<String>,
        fault: Option<String>,
        request_id: &str,
    ) {
        *self.counts.entry(key.to_string()).or_insert(0) += 1;
        self.log_seq += 1;
        let now = crate::simulator::clock::now();
        self.log.push_back(RequestLogEntry {
            seq: self.log_seq,
            at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            at_ms: now.timestamp_millis(),
            endpoint: key.to_string(),
            status,
            retry_after,
            fault,
            request_id: request_id.to_string(),
        });
        while self.log.len() > LOG_CAP {
            self.log.pop_front();
        }
    }

    /// Verified domains: the custom default domain and the initial onmicrosoft.com one.
    pub fn domains(&self) -> Vec<&str> {
        vec![self.tg.domain.as_str(), self.tg.initial_domain.as_str()]
    }
}

/// A registered (multi-tenant) application. Its certificates are kept apart
/// (`SimState::app_certificates`, `/_sim/apps/{client_id}/certificates`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct App {
    pub client_id: String,
    /// Empty for a certificate-only app: every secret is then wrong.
    #[serde(default)]
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub name: String,
    /// The secret exists but has expired: token requests fail with AADSTS7000222.
    #[serde(default)]
    pub secret_expired: bool,
}

/// An issued, not yet redeemed authorization code.
#[derive(Clone, Debug)]
pub struct AuthCode {
    pub client_id: String,
    pub tenant_id: String,
    /// The tenant path segment used at /authorize (redemption must use the same one).
    pub segment: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub nonce: Option<String>,
    pub scope: String,
    pub expires: DateTime<Utc>,
    pub redeemed: bool,
}

/// An access token the simulated Graph accepts.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub tenant_id: String,
    pub client_id: String,
    pub expires: DateTime<Utc>,
    /// App-only (client credentials) vs delegated (auth code).
    pub app_only: bool,
}

/// Deliberate id_token defects for relying-party tests (docs/microsoft.md#id-token-validation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdTokenFault {
    Expired,
    WrongAudience,
    WrongIssuer,
    MissingNonce,
    UnknownKid,
    /// A nonce other than the one sent to `/authorize`.
    WrongNonce,
    /// Issued by (and for a user of) another tenant: `iss` and `tid` both name it, as if the
    /// relying party had been sent a token from elsewhere.
    ForeignTenant,
}

/// Login-host knobs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginSettings {
    /// `expires_in` of access tokens.
    pub token_lifetime_secs: i64,
    /// Applied to the next id_tokens issued, until cleared.
    pub id_token_fault: Option<IdTokenFault>,
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings {
            token_lifetime_secs: 3599,
            id_token_fault: None,
        }
    }
}

/// The whole simulated world.
#[derive(Debug)]
pub struct SimState {
    pub login_url: String,
    pub graph_url: String,
    pub levelio_url: String,
    pub seed: u64,
    pub anchor: DateTime<Utc>,
    pub tenants: BTreeMap<String, Tenant>,
    pub apps: BTreeMap<String, App>,
    /// Certificates uploaded to each app (by client id), for `private_key_jwt`.
    pub app_certificates: BTreeMap<String, Vec<certificates::AppCertificate>>,
    pub codes: HashMap<String, AuthCode>,
    pub tokens: HashMap<String, IssuedToken>,
    /// Index of the signing key; rotation advances it.
    pub key_index: usize,
    pub login: LoginSettings,
}

impl SimState {
    /// Resolves a tenant path segment (GUID or verified domain, case-insensitive).
    pub fn resolve(&self, segment: &str) -> Option<&Tenant> {
        let s = segment.to_ascii_lowercase();
        self.tenants.get(&s).or_else(|| {
            self.tenants
                .values()
                .find(|t| t.domains().iter().any(|d| d.eq_ignore_ascii_case(&s)))
        })
    }

    pub fn resolve_id(&self, segment: &str) -> Option<String> {
        self.resolve(segment).map(|t| t.id().to_string())
    }
}

/// Shared between the three servers and [`super::SimControl`].
#[derive(Debug)]
pub struct Shared {
    pub state: Mutex<SimState>,
    pub keys: KeyRing,
    /// The Level.io estate, behind its own lock (`simulator::levelio`).
    pub level: LevelHandle,
}

impl Shared {
    /// Locks the state; a poisoned lock (a panicking handler) is recovered rather than
    /// cascading panics through every later request.
    pub fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub type SharedRef = Arc<Shared>;
