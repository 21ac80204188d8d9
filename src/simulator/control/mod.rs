//! In-process control of the simulated world ([`SimControl`]); `control_http.rs` exposes the
//! same operations as JSON under `/_sim/...` on the login host.
//!
//! # Request counter keys
//!
//! `request_counts(tid)` / `GET /_sim/tenants/{tid}/requests` return `{key: count}` where key is:
//! * Graph: the path after `/v1.0/` (`users/delta`, `groups/delta`,
//!   `deviceManagement/managedDevices`, `deviceManagement/deviceCompliancePolicies`,
//!   `identity/conditionalAccess/policies`,
//!   `reports/authenticationMethods/userRegistrationDetails`, `organization`, `subscribedSkus`,
//!   `roleManagement/directory/roleAssignments`, route templates such as
//!   `users/{id}/authentication/methods`, and `$batch` once per batch plus each step under its
//!   own key), with suffix
//!   `?skiptoken` for a nextLink page and `?deltatoken` for the first page of an incremental
//!   round. So "delta was used" = `users/delta?deltatoken` > 0, and a full resync shows up as
//!   another plain `users/delta`.
//! * Login host: `token:client_credentials`, `token:authorization_code`, `authorize`,
//!   `adminconsent`, `openid-configuration`.
//!
//! Every request (including faulted ones) is counted; `request_log(tid)` has one entry per
//! request with a millisecond timestamp, status, the `Retry-After` sent and the fault applied,
//! so a test can check that the retry after a 429 came at least `Retry-After` seconds later.

mod levelio;
mod objects;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::faults::Fault;
use super::generator::{self, TenantGen};
use super::login::assertion::AppCertificate;
pub use super::login::assertion::CertificateView;
use super::state::{
    App, ConsentError, LoginSettings, RequestLogEntry, SharedRef, SimState, Tenant, TenantSettings,
};

/// Errors of control operations.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("bad request: {0}")]
    BadRequest(String),
}

/// A tenant to create. Counts are generated lazily; `users` may be 100,000.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TenantSpec {
    pub name: String,
    /// Default verified domain; derived from the name when absent.
    #[serde(default)]
    pub domain: Option<String>,
    /// Tenant GUID; derived from the seed and name when absent.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub intune: bool,
    #[serde(default)]
    pub p1: bool,
    /// Entra ID P2 (default false).
    #[serde(default)]
    pub p2: bool,
    /// P1 bought but lapsed (default false): see `Tenant::p1_lapsed`.
    #[serde(default)]
    pub p1_lapsed: bool,
    /// Security defaults on; default: on exactly when the tenant has no P1.
    #[serde(default)]
    pub security_defaults: Option<bool>,
    #[serde(default)]
    pub users: usize,
    /// Default: users / 20, at least 5 (0 users = 0 groups).
    #[serde(default)]
    pub groups: Option<usize>,
    #[serde(default)]
    pub devices: usize,
    /// Default: 3–8, seeded.
    #[serde(default)]
    pub policies: Option<usize>,
    /// Default: derived from the simulator seed and the name.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// Summary of a tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TenantInfo {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub initial_domain: String,
    pub intune: bool,
    pub p1: bool,
    pub p2: bool,
    pub p1_lapsed: bool,
    pub security_defaults: bool,
    pub users: usize,
    pub groups: usize,
    pub devices: usize,
    pub policies: usize,
    pub consents: Vec<String>,
    pub settings: TenantSettings,
}

/// Partial tenant update.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TenantPatch {
    pub intune: Option<bool>,
    pub p1: Option<bool>,
    pub p2: Option<bool>,
    pub p1_lapsed: Option<bool>,
    pub security_defaults: Option<bool>,
    pub delta_page_size: Option<usize>,
    pub members_per_page: Option<usize>,
    pub delta_token_max_age_secs: Option<i64>,
    pub expired_delta_status: Option<u16>,
    pub ca_unlicensed_code: Option<String>,
    pub delta_replays: Option<bool>,
    pub delta_empty_pages: Option<bool>,
    pub enforce_rate_limits: Option<bool>,
    /// `{"error": "", ..}` clears it.
    pub consent_error: Option<ConsentError>,
}

/// In-process handle to the simulator's state (same operations as `/_sim`).
#[derive(Clone, Debug)]
pub struct SimControl {
    pub(crate) shared: SharedRef,
}

fn slug(name: &str) -> String {
    let s: String = generator::fold(name)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if s.is_empty() { "tenant".into() } else { s }
}

fn info(t: &Tenant) -> TenantInfo {
    TenantInfo {
        id: t.id().into(),
        name: t.tg.name.clone(),
        domain: t.tg.domain.clone(),
        initial_domain: t.tg.initial_domain.clone(),
        intune: t.intune,
        p1: t.p1,
        p2: t.p2,
        p1_lapsed: t.p1_lapsed,
        security_defaults: t.security_defaults,
        users: t.tg.users,
        groups: t.tg.groups,
        devices: t.tg.devices,
        policies: t.tg.policies,
        consents: t.consents.iter().cloned().collect(),
        settings: t.settings.clone(),
    }
}

impl SimControl {
    fn with<R>(&self, f: impl FnOnce(&mut SimState) -> R) -> R {
        let mut st = self.shared.lock();
        f(&mut st)
    }

    fn with_tenant<R>(
        &self,
        tid: &str,
        f: impl FnOnce(&mut Tenant) -> Result<R, SimError>,
    ) -> Result<R, SimError> {
        self.with(|st| {
            let id = st
                .resolve_id(tid)
                .ok_or_else(|| SimError::NotFound(format!("tenant {tid}")))?;
            let t = st
                .tenants
                .get_mut(&id)
                .ok_or_else(|| SimError::NotFound(format!("tenant {tid}")))?;
            f(t)
        })
    }

    /// Base URLs: (login, graph, levelio).
    pub fn urls(&self) -> (String, String, String) {
        self.with(|st| {
            (
                st.login_url.clone(),
                st.graph_url.clone(),
                st.levelio_url.clone(),
            )
        })
    }

    pub fn create_tenant(&self, spec: TenantSpec) -> Result<TenantInfo, SimError> {
        if spec.name.trim().is_empty() {
            return Err(SimError::BadRequest("tenant name is required".into()));
        }
        self.with(|st| {
            let seed = spec.seed.unwrap_or_else(|| {
                generator::h(
                    st.seed,
                    generator::SALT_TENANT,
                    generator::str_hash(&spec.name),
                )
            });
            let id = spec
                .id
                .clone()
                .unwrap_or_else(|| {
                    generator::guid(
                        st.seed,
                        generator::SALT_TENANT,
                        generator::str_hash(&spec.name),
                    )
                })
                .to_ascii_lowercase();
            if uuid::Uuid::parse_str(&id).is_err() {
                return Err(SimError::BadRequest(format!(
                    "tenant id '{id}' is not a GUID"
                )));
            }
            let s = slug(&spec.name);
            let domain = spec
                .domain
                .clone()
                .unwrap_or_else(|| format!("{s}.example"))
                .to_ascii_lowercase();
            if st.tenants.contains_key(&id) || st.resolve(&domain).is_some() {
                return Err(SimError::BadRequest(format!(
                    "tenant {id} / {domain} already exists"
                )));
            }
            let tg = TenantGen {
                seed,
                tenant_id: id.clone(),
                name: spec.name.clone(),
                domain,
                initial_domain: format!("{s}.onmicrosoft.com"),
                users: spec.users,
                groups: spec.groups.unwrap_or(if spec.users == 0 {
                    0
                } else {
                    (spec.users / 20).max(5)
                }),
                devices: spec.devices,
                policies: spec
                    .policies
                    .unwrap_or_else(|| generator::policy_count(seed))
                    .min(8),
                p2: spec.p2,
                anchor: st.anchor,
            };
            let mut t = Tenant::new(tg, spec.intune, spec.p1);
            t.p2 = spec.p2;
            t.p1_lapsed = spec.p1_lapsed;
            if let Some(v) = spec.security_defaults {
                t.security_defaults = v;
            }
            let out = info(&t);
            st.tenants.insert(id, t);
            Ok(out)
        })
    }

    pub fn tenants(&self) -> Vec<TenantInfo> {
        self.with(|st| st.tenants.values().map(info).collect())
    }

    pub fn tenant(&self, tid: &str) -> Result<TenantInfo, SimError> {
        self.with_tenant(tid, |t| Ok(info(t)))
    }

    pub fn update_tenant(&self, tid: &str, p: TenantPatch) -> Result<TenantInfo, SimError> {
        self.with_tenant(tid, |t| {
            if let Some(v) = p.intune {
                t.intune = v;
            }
            if let Some(v) = p.p1 {
                t.p1 = v;
            }
            if let Some(v) = p.p2 {
                t.p2 = v;
            }
            if let Some(v) = p.p1_lapsed {
                t.p1_lapsed = v;
            }
            if let Some(v) = p.security_defaults {
                t.security_defaults = v;
            }
            let s = &mut t.settings;
            if let Some(v) = p.delta_page_size {
                s.delta_page_size = v.clamp(1, 999);
            }
            if let Some(v) = p.members_per_page {
                s.members_per_page = v.max(1);
            }
            if let Some(v) = p.delta_token_max_age_secs {
                s.delta_token_max_age_secs = v;
            }
            if let Some(v) = p.expired_delta_status {
                if v != 400 && v != 410 {
                    return Err(SimError::BadRequest(
                        "expired_delta_status must be 400 or 410".into(),
                    ));
                }
                s.expired_delta_status = v;
            }
            if let Some(v) = p.ca_unlicensed_code {
                s.ca_unlicensed_code = v;
            }
            if let Some(v) = p.delta_replays {
                s.delta_replays = v;
            }
            if let Some(v) = p.delta_empty_pages {
                s.delta_empty_pages = v;
            }
            if let Some(v) = p.enforce_rate_limits {
                s.enforce_rate_limits = v;
            }
            if let Some(v) = p.consent_error {
                s.consent_error = (!v.error.is_empty()).then_some(v);
            }
            Ok(info(t))
        })
    }

    /// Registers (or replaces) a multi-tenant app. An empty `client_secret` makes a
    /// certificate-only app (add certificates with [`SimControl::add_app_certificate`]).
    /// Replacing an app keeps its certificates.
    pub fn register_app(&self, app: App) -> Result<App, SimError> {
        if app.client_id.is_empty() {
            return Err(SimError::BadRequest("client_id is required".into()));
        }
        self.with(|st| st.apps.insert(app.client_id.clone(), app.clone()));
        Ok(app)
    }

    /// Uploads a PEM certificate (public part) to an app, like Certificates & secrets →
    /// Upload certificate. Token requests may then authenticate with a client assertion signed
    /// by its key. Uploading the same certificate again is a no-op.
    pub fn add_app_certificate(
        &self,
        client_id: &str,
        pem: &str,
    ) -> Result<CertificateView, SimError> {
        let cert = AppCertificate::from_pem(pem)
            .map_err(|e| SimError::BadRequest(format!("certificate: {e}")))?;
        self.with(|st| {
            if !st.apps.contains_key(client_id) {
                return Err(SimError::NotFound(format!("app {client_id}")));
            }
            let list = st.app_certificates.entry(client_id.into()).or_default();
            let view = cert.info.clone();
            if !list.iter().any(|c| c.x5t_s256 == cert.x5t_s256) {
                list.push(cert);
            }
            Ok(view)
        })
    }

    /// The certificates registered on an app.
    pub fn app_certificates(&self, client_id: &str) -> Result<Vec<CertificateView>, SimError> {
        self.with(|st| {
            if !st.apps.contains_key(client_id) {
                return Err(SimError::NotFound(format!("app {client_id}")));
            }
            Ok(st
                .app_certificates
                .get(client_id)
                .map(|l| l.iter().map(|c| c.info.clone()).collect())
                .unwrap_or_default())
        })
    }

    /// Removes one certificate (by hex SHA-1 thumbprint, `x5t` or `x5t#S256`), or all of them
    /// when `thumbprint` is `None`. Returns how many were removed.
    pub fn remove_app_certificates(
        &self,
        client_id: &str,
        thumbprint: Option<&str>,
    ) -> Result<usize, SimError> {
        self.with(|st| {
            if !st.apps.contains_key(client_id) {
                return Err(SimError::NotFound(format!("app {client_id}")));
            }
            let list = st.app_certificates.entry(client_id.into()).or_default();
            let before = list.len();
            match thumbprint {
                None => list.clear(),
                Some(t) => list.retain(|c| {
                    !(c.info.thumbprint.eq_ignore_ascii_case(t) || c.x5t == t || c.x5t_s256 == t)
                }),
            }
            Ok(before - list.len())
        })
    }

    pub fn apps(&self) -> Vec<App> {
        self.with(|st| st.apps.values().cloned().collect())
    }

    pub fn grant_consent(&self, tid: &str, client_id: &str) -> Result<(), SimError> {
        let known = self.with(|st| st.apps.contains_key(client_id));
        if !known {
            return Err(SimError::NotFound(format!("app {client_id}")));
        }
        self.with_tenant(tid, |t| {
            t.consents.insert(client_id.into());
            Ok(())
        })
    }

    /// Revokes consent: client credentials then fail with AADSTS700016 and Graph answers 403.
    pub fn revoke_consent(&self, tid: &str, client_id: &str) -> Result<(), SimError> {
        self.with_tenant(tid, |t| {
            t.consents.remove(client_id);
            Ok(())
        })
    }

    /// Replaces the tenant's faults (counting restarts).
    pub fn set_faults(&self, tid: &str, faults: Vec<Fault>) -> Result<(), SimError> {
        self.with_tenant(tid, |t| {
            t.faults = faults.into_iter().map(|f| Fault { seen: 0, ..f }).collect();
            Ok(())
        })
    }

    pub fn add_fault(&self, tid: &str, fault: Fault) -> Result<(), SimError> {
        self.with_tenant(tid, |t| {
            t.faults.push(Fault { seen: 0, ..fault });
            Ok(())
        })
    }

    pub fn faults(&self, tid: &str) -> Result<Vec<Fault>, SimError> {
        self.with_tenant(tid, |t| Ok(t.faults.clone()))
    }

    /// Invalidates every outstanding delta/skip token of the tenant: the next use answers
    /// 400 `syncStateNotFound` (or 410, see `expired_delta_status`).
    pub fn expire_delta_tokens(&self, tid: &str) -> Result<(), SimError> {
        self.with_tenant(tid, |t| {
            t.delta_epoch += 1;
            Ok(())
        })
    }

    pub fn request_counts(&self, tid: &str) -> Result<BTreeMap<String, u64>, SimError> {
        self.with_tenant(tid, |t| Ok(t.counts.clone()))
    }

    pub fn request_log(&self, tid: &str) -> Result<Vec<RequestLogEntry>, SimError> {
        self.with_tenant(tid, |t| Ok(t.log.iter().cloned().collect()))
    }

    pub fn reset_requests(&self, tid: &str) -> Result<(), SimError> {
        self.with_tenant(tid, |t| {
            t.counts.clear();
            t.log.clear();
            Ok(())
        })
    }

    /// Rotates the signing key: new id_tokens use a new `kid`; the JWKS keeps the previous key.
    pub fn rotate_keys(&self) -> usize {
        self.with(|st| {
            st.key_index += 1;
            st.key_index
        })
    }

    pub fn login_settings(&self) -> LoginSettings {
        self.with(|st| st.login.clone())
    }

    pub fn set_login_settings(&self, s: LoginSettings) {
        self.with(|st| st.login = s);
    }

    /// Makes every issued access token (optionally only one tenant's) expired, so Graph answers
    /// 401 `InvalidAuthenticationToken`.
    pub fn expire_access_tokens(&self, tid: Option<&str>) -> usize {
        self.with(|st| {
            let tid = tid.and_then(|t| st.resolve_id(t));
            let past = crate::simulator::clock::now() - chrono::Duration::seconds(1);
            let mut n = 0;
            for tok in st.tokens.values_mut() {
                if tid.as_deref().is_none_or(|t| t == tok.tenant_id) {
                    tok.expires = past;
                    n += 1;
                }
            }
            n
        })
    }
}
