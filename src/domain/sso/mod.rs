//! Sign in with Microsoft: staff against the MSP's own tenant, portal users against their
//! company's tenant. One redirect URI (`/auth/callback`) serves both; the pending sign-in,
//! sealed into a cookie of the browser that started it (see `pending`), says which flow it was.
//!
//! A state is usable once: the callback remembers the digest of every state it redeemed for
//! as long as a sealed sign-in stays valid, so a replayed callback is refused.

use super::throttle::{TokenBuckets, source_of};
use super::{DomainError, DomainResult, Services};
use crate::domain::authority::AdminActor;
use crate::model::{Actor, NewAuditEvent};
use crate::oidc::{OidcClient, OidcError};
use crate::store::keys;
use chrono::{DateTime, Utc};
use pending::{Pending, SEAL_PURPOSE, UsedStates};
use serde::{Deserialize, Serialize};

mod pending;
mod staff;

/// Settings → Authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffSso {
    /// "Sign in with Microsoft" for staff, against the connected MSP tenant.
    pub enabled: bool,
    /// A first Microsoft sign-in links to the staff account whose e-mail equals the user's
    /// mail or user principal name as the MSP directory holds them (read from Graph, not the
    /// token's unverified `email` claim). Later sign-ins match by object id.
    #[serde(default = "yes")]
    pub match_email: bool,
    /// Members (direct or nested) of this Entra group get a technician account at their
    /// first sign-in. Empty: nobody is created automatically.
    #[serde(default)]
    pub auto_create_group_id: String,
    /// Password sign-in only from the machine itself (break-glass through an SSH tunnel).
    #[serde(default)]
    pub local_login_loopback_only: bool,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

fn yes() -> bool {
    true
}

impl Default for StaffSso {
    fn default() -> Self {
        Self {
            enabled: false,
            match_email: true,
            auto_create_group_id: String::new(),
            local_login_loopback_only: false,
            updated_at: None,
        }
    }
}

/// Which sign-in a callback belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SignInFlow {
    Staff { next: String },
    Portal { company_id: u64, slug: String },
}

/// Sign-ins a client may start at once, and then one more every [`START_REFILL_SECS`]: far
/// more than a person clicks, and each start costs a page render and Microsoft's URL.
const START_BURST: u32 = 20;
const START_REFILL_SECS: u32 = 3;
/// Client addresses with a start bucket in memory (see [`TokenBuckets`] on why forgetting
/// one is safe).
const START_CLIENTS_MAX: usize = 10_000;

/// The OIDC client (with its per-tenant discovery cache), the states already redeemed, and
/// the per-client limit on starting sign-ins.
pub struct SsoRuntime {
    oidc: OidcClient,
    used: UsedStates,
    starts: TokenBuckets,
}

impl Default for SsoRuntime {
    fn default() -> Self {
        Self {
            oidc: OidcClient::with_default_http(),
            used: UsedStates::default(),
            starts: TokenBuckets::new(START_BURST, START_REFILL_SECS, START_CLIENTS_MAX),
        }
    }
}

/// What Microsoft sent back to `/auth/callback`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SignInCallback {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

/// A completed sign-in: the session cookie value and where to go.
#[derive(Debug, Clone)]
pub enum SignedInVia {
    Staff { cookie: String, next: String },
    Portal { cookie: String, slug: String },
}

/// A refused sign-in, already audited. `portal_slug` says which sign-in page shows it.
#[derive(Debug, Clone)]
pub struct SignInRefused {
    pub message: String,
    pub code: &'static str,
    pub portal_slug: Option<String>,
}

impl Services {
    pub async fn staff_sso(&self) -> DomainResult<StaffSso> {
        Ok(self
            .store
            .read(|r| r.setting::<StaffSso>(keys::settings::STAFF_SSO))
            .await?
            .unwrap_or_default())
    }

    /// The redirect URI to register for sign-in.
    pub fn signin_redirect_uri(&self) -> String {
        self.microsoft.signin_redirect_uri.clone()
    }

    /// Change Settings → Authentication (audited). Turning staff SSO on needs the MSP tenant.
    pub async fn update_staff_sso(
        &self,
        admin: AdminActor,
        mut s: StaffSso,
    ) -> DomainResult<StaffSso> {
        let actor: Actor = admin.into();
        let now = self.now();
        s.auto_create_group_id = s.auto_create_group_id.trim().to_ascii_lowercase();
        let id = &s.auto_create_group_id;
        let is_guid = id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if !id.is_empty() && !is_guid {
            return Err(crate::model::ValidationError::new(
                "auto_create_group_id",
                "must be the Entra group's object id, like 6f1c2a4e-0b7d-4c1e-9a53-2f0e8d3b7c11",
            )
            .into());
        }
        if s.enabled && self.msp_tenant().await?.is_none() {
            return Err(DomainError::Conflict(
                "Connect your MSP tenant first (Settings → Integrations → Microsoft Entra ID → Connect): staff sign in against it.".into(),
            ));
        }
        s.updated_at = Some(now);
        self.store
            .write(move |w| {
                w.set_setting(keys::settings::STAFF_SSO, &s)?;
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        actor,
                        "settings.sso",
                        format!(
                            "Staff sign-in with Microsoft {}; password sign-in {}",
                            if s.enabled { "on" } else { "off" },
                            if s.local_login_loopback_only {
                                "only from this machine"
                            } else {
                                "allowed"
                            }
                        ),
                    )
                    .details(serde_json::json!({
                        "enabled": s.enabled,
                        "match_email": s.match_email,
                        "auto_create_group_id": s.auto_create_group_id,
                        "local_login_loopback_only": s.local_login_loopback_only,
                    })),
                )?;
                Ok::<_, DomainError>(s)
            })
            .await
    }

    /// Start a staff sign-in; returns Microsoft's URL and the sealed pending sign-in for the
    /// browser's cookie (the nonce and PKCE verifier leave the server only sealed).
    /// Refused with [`DomainError::RateLimited`] when `ip` started too many sign-ins lately.
    pub async fn begin_staff_sign_in(
        &self,
        next: &str,
        login_hint: Option<&str>,
        ip: &str,
    ) -> DomainResult<(String, String)> {
        self.allow_sign_in_start(ip)?;
        if !self.staff_sso().await?.enabled {
            return Err(DomainError::Conflict(
                "Sign-in with Microsoft is not turned on for staff.".into(),
            ));
        }
        let msp = self.msp_tenant().await?.ok_or_else(|| {
            DomainError::Conflict(
                "The MSP tenant is not connected, so staff cannot sign in with Microsoft. Use your password.".into(),
            )
        })?;
        let flow = SignInFlow::Staff {
            next: next.to_string(),
        };
        self.begin(&msp.tenant_id, flow, login_hint).await
    }

    /// Start a portal sign-in against the company's own tenant.
    pub async fn begin_portal_sign_in(
        &self,
        company_id: u64,
        login_hint: Option<&str>,
        ip: &str,
    ) -> DomainResult<(String, String)> {
        self.allow_sign_in_start(ip)?;
        let company = self.company(company_id).await?;
        let settings = self.portal_settings(company_id).await?;
        if company.is_archived() {
            return Err(DomainError::Conflict(format!(
                "This support portal is not available: {} is archived.",
                company.name
            )));
        }
        if !settings.sso_enabled {
            return Err(DomainError::Conflict(
                "Sign-in with Microsoft is not turned on for this portal. Ask your IT provider."
                    .into(),
            ));
        }
        let tenant = company
            .tenant
            .as_ref()
            .filter(|t| t.connected)
            .ok_or_else(|| {
                DomainError::Conflict(format!(
                    "{} has not connected its Microsoft tenant yet, so nobody can sign in with Microsoft.",
                    company.name
                ))
            })?;
        let flow = SignInFlow::Portal {
            company_id,
            slug: settings.slug,
        };
        self.begin(&tenant.tenant_id, flow, login_hint).await
    }

    /// Checked first, so a refused start costs no Microsoft URL, discovery or sealing.
    fn allow_sign_in_start(&self, ip: &str) -> DomainResult<()> {
        self.sso
            .starts
            .take(&source_of(ip), self.now())
            .map_err(|retry_after_secs| DomainError::RateLimited { retry_after_secs })
    }

    async fn begin(
        &self,
        tenant_id: &str,
        flow: SignInFlow,
        login_hint: Option<&str>,
    ) -> DomainResult<(String, String)> {
        let rp = self.relying_party().await?;
        let request = match self
            .sso
            .oidc
            .begin(&rp, tenant_id, &self.signin_redirect_uri(), login_hint)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                // Microsoft's discovery document could not be read: say so and keep a record.
                let (kind, company) = match &flow {
                    SignInFlow::Staff { .. } => ("staff.sign_in", None),
                    SignInFlow::Portal { company_id, .. } => ("portal.sign_in", Some(*company_id)),
                };
                let mut ev = NewAuditEvent::new(
                    self.now(),
                    Actor::system(),
                    kind,
                    format!("Microsoft sign-in could not start: {e}"),
                )
                .failed()
                .details(serde_json::json!({ "code": e.code(), "tenant_id": tenant_id }));
                if let Some(c) = company {
                    ev = ev.company(c);
                }
                self.record(ev).await?;
                return Err(DomainError::Conflict(e.to_string()));
            }
        };
        let url = request.url.clone();
        let pending = Pending {
            request,
            flow,
            started: self.now(),
        };
        Ok((url, pending.seal(&self.purpose_key(SEAL_PURPOSE))))
    }

    /// Finish a sign-in at the callback. `sealed` is the cookie set when this browser started
    /// the sign-in: it must open, be under ten minutes old, carry the callback's state, and
    /// that state must not have been redeemed before.
    pub async fn finish_sign_in(
        &self,
        cb: SignInCallback,
        sealed: &str,
        ip: &str,
    ) -> DomainResult<Result<SignedInVia, SignInRefused>> {
        let now = self.now();
        let opened = if sealed.is_empty() {
            None
        } else {
            Pending::open(&self.purpose_key(SEAL_PURPOSE), sealed)
        };
        let bound = opened.as_ref().is_some_and(|p| {
            !cb.state.is_empty() && crate::crypto::ct_eq(&cb.state, &p.request.state)
        });
        // Checked in this order so only a state that could be redeemed is marked used: an
        // unbound or expired one never reaches Microsoft's token endpoint.
        let refusal = match &opened {
            _ if sealed.is_empty() => Some("no_sign_in_cookie"),
            None => Some("cookie_not_ours"),
            Some(_) if !bound => Some("not_bound_to_browser"),
            Some(p) if !p.is_fresh(now) => Some("expired"),
            Some(_) if !self.sso.used.first_use(&cb.state, now) => Some("replayed"),
            Some(_) => None,
        };
        let (Some(pending), None) = (opened, refusal) else {
            let reason = refusal.unwrap_or("cookie_not_ours");
            let refused = SignInRefused {
                message: "This sign-in link was already used, has expired, or did not start in this browser. Start again with \"Sign in with Microsoft\".".into(),
                code: "invalid_state",
                portal_slug: None,
            };
            self.audit_refusal(
                None,
                ip,
                "unknown",
                &refused,
                serde_json::json!({
                    // The browser carried a sign-in this appliance started.
                    "state_known": !matches!(reason, "no_sign_in_cookie" | "cookie_not_ours"),
                    "bound_to_browser": bound,
                    "reason": reason,
                }),
            )
            .await?;
            return Ok(Err(refused));
        };
        let (company_id, slug) = match &pending.flow {
            SignInFlow::Portal { company_id, slug } => (Some(*company_id), Some(slug.clone())),
            SignInFlow::Staff { .. } => (None, None),
        };
        let refuse = |message: String, code: &'static str| SignInRefused {
            message,
            code,
            portal_slug: slug.clone(),
        };
        if !cb.error.is_empty() {
            let first = cb.error_description.lines().next().unwrap_or_default();
            let r = refuse(
                if cb.error == "access_denied" {
                    "Sign-in was cancelled at Microsoft.".to_string()
                } else {
                    format!("Microsoft refused the sign-in ({}): {first}", cb.error)
                },
                "microsoft_error",
            );
            self.audit_refusal(
                company_id,
                ip,
                "unknown",
                &r,
                serde_json::json!({
                    "error": cb.error, "error_description": cb.error_description,
                }),
            )
            .await?;
            return Ok(Err(r));
        }
        // Failures on our side of the exchange (registration gone, directory unreadable)
        // end the sign-in like any refusal: a message on the sign-in page and an audit entry.
        let unavailable = |m: String| refuse(m, "sign_in_unavailable");
        let rp = match self.relying_party().await {
            Ok(rp) => rp,
            Err(DomainError::Conflict(m)) => {
                let r = unavailable(m);
                self.audit_refusal(company_id, ip, "unknown", &r, serde_json::json!({}))
                    .await?;
                return Ok(Err(r));
            }
            Err(e) => return Err(e),
        };
        let identity = match self
            .sso
            .oidc
            .finish(&rp, &pending.request, &self.signin_redirect_uri(), &cb.code)
            .await
        {
            Ok(id) => id,
            Err(e) => {
                let r = refuse(e.to_string(), e.code());
                let detail = match &e {
                    OidcError::TokenEndpoint(m)
                    | OidcError::Discovery(m)
                    | OidcError::Invalid(m) => m.clone(),
                    _ => String::new(),
                };
                self.audit_refusal(
                    company_id,
                    ip,
                    "unknown",
                    &r,
                    serde_json::json!({
                        "tenant_id": pending.request.tenant_id, "detail": detail,
                    }),
                )
                .await?;
                return Ok(Err(r));
            }
        };
        match pending.flow {
            SignInFlow::Staff { next } => {
                let who = identity.preferred_username.clone();
                match self.finish_staff(identity, next, ip).await {
                    Err(DomainError::Conflict(m)) => {
                        let r = unavailable(m);
                        self.audit_refusal(None, ip, &who, &r, serde_json::json!({}))
                            .await?;
                        Ok(Err(r))
                    }
                    other => other,
                }
            }
            SignInFlow::Portal { company_id, slug } => {
                let who = identity.preferred_username.clone();
                match self
                    .portal_access(company_id, &identity.tid, &identity.oid)
                    .await?
                {
                    Ok((company, contact, _)) => {
                        let cookie = self.start_portal_session(&company, &contact, ip).await?;
                        Ok(Ok(SignedInVia::Portal { cookie, slug }))
                    }
                    Err(refusal) => {
                        self.audit_portal_refusal(company_id, &who, ip, &refusal)
                            .await?;
                        Ok(Err(SignInRefused {
                            message: refusal.to_string(),
                            code: refusal.code(),
                            portal_slug: Some(slug),
                        }))
                    }
                }
            }
        }
    }

    async fn audit_refusal(
        &self,
        company_id: Option<u64>,
        ip: &str,
        who: &str,
        r: &SignInRefused,
        mut details: serde_json::Value,
    ) -> DomainResult<()> {
        details["code"] = serde_json::json!(r.code);
        let kind = if r.portal_slug.is_some() {
            "portal.sign_in"
        } else {
            "staff.sign_in"
        };
        let mut e = NewAuditEvent::new(
            self.now(),
            Actor::anonymous(ip),
            kind,
            format!("Microsoft sign-in refused for {who}: {}", r.message),
        )
        .failed()
        .details(details);
        if let Some(c) = company_id {
            e = e.company(c);
        }
        self.record(e).await
    }
}
