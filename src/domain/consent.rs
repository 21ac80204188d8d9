//! Microsoft's admin-consent flow, for the MSP's own tenant and for each client company.
//!
//! `start_consent` mints a single-use, short-lived `state` (stored server-side with what it
//! is for and who started it) and returns Microsoft's consent URL. The callback is checked in
//! this order: known `state` (else refused), Microsoft's `error` (checked *before*
//! `admin_consent`, which Microsoft also sends on some errors), then the tenant is confirmed
//! with an app-only token and `/organization` before anything is saved.

use super::entra::graph_error_details;
use super::{DomainError, DomainResult, Services};
use crate::crypto::{digest_hex, random_token};
use crate::domain::authority::AdminActor;
use crate::model::{Actor, Job, NewAuditEvent, Trigger};
use crate::store::keys;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long a consent round trip may take.
const STATE_MINUTES: i64 = 30;

/// What a consent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsentTarget {
    /// The MSP's own tenant (Settings → Integrations → Microsoft Entra ID).
    Msp,
    /// A client company (PSA → Companies → [company] → Sync With M365).
    Company(u64),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingConsent {
    target: ConsentTarget,
    actor: String,
    created_at: DateTime<Utc>,
}

/// The MSP's own tenant once connected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MspTenant {
    pub tenant_id: String,
    pub tenant_name: String,
    pub connected_at: DateTime<Utc>,
}

/// Query parameters Microsoft sends back to the redirect URI.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConsentCallback {
    pub state: Option<String>,
    pub admin_consent: Option<String>,
    pub tenant: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_subcode: Option<String>,
}

/// Where the callback ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsentOutcome {
    MspConnected(MspTenant),
    CompanyConnected {
        company_id: u64,
        /// Boxed: a job is large and this enum travels by value.
        job: Option<Box<Job>>,
    },
    /// Nothing was connected: the admin cancelled, Microsoft sent an error, or the tenant
    /// could not be confirmed. An outcome, not an error, because the page must still know
    /// where the admin came from (`target`) to send them back there.
    NotConnected {
        target: ConsentTarget,
        /// The admin pressed Cancel on Microsoft's page (nothing went wrong).
        cancelled: bool,
        /// What happened, in plain words.
        message: String,
    },
}

/// What the consent page says when the admin pressed Cancel.
pub const CANCELLED: &str = "Consent was cancelled at Microsoft; nothing was connected.";

/// Microsoft's consent errors in words an admin can act on.
pub fn explain_consent_error(error: &str, description: &str, subcode: &str) -> String {
    let aadsts = description
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| w.starts_with("AADSTS"))
        .unwrap_or("");
    let what = match (error, subcode, aadsts) {
        ("access_denied", "cancel", _) => return CANCELLED.to_string(),
        (_, _, "AADSTS65004") => "The administrator declined to grant the permissions.".to_string(),
        (_, _, "AADSTS90094") | (_, _, "AADSTS90099") => {
            "Granting these permissions needs an administrator: sign in as a Global Administrator or Privileged Role Administrator of that tenant.".to_string()
        }
        (_, _, "AADSTS50011") => "The redirect URI is not registered on the Entra app; add the redirect URI shown on this page to the app registration.".to_string(),
        (_, _, "AADSTS700016") => "The app registration was not found in that tenant; check the client id.".to_string(),
        ("access_denied", _, _) => "Microsoft denied the consent.".to_string(),
        _ => format!("Microsoft returned an error ({error})."),
    };
    let first_line = description.lines().next().unwrap_or("").trim();
    if first_line.is_empty() {
        format!("{what} Nothing was connected.")
    } else {
        format!("{what} Nothing was connected. Microsoft said: {first_line}")
    }
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Services {
    /// Mint a state and return the admin-consent URL to send the browser to.
    pub async fn start_consent(&self, actor: Actor, target: ConsentTarget) -> DomainResult<String> {
        let app = self.entra_app().await?;
        // A certificate alone is a complete credential (Microsoft's recommended one).
        if app.client_id.is_empty() || app.credential == "none" {
            return Err(DomainError::Conflict(
                "Set the Entra app registration (client id and a certificate or secret) under Settings → Integrations → Microsoft Entra ID first.".into(),
            ));
        }
        // Prefer the company's domain as the authority (Microsoft resolves it to the tenant);
        // otherwise `organizations` lets the admin pick their work account.
        let authority = match target {
            ConsentTarget::Company(id) => {
                let c = self.company(id).await?;
                if c.is_archived() {
                    return Err(DomainError::Conflict(format!(
                        "{} is archived; restore the company first to connect or sync it",
                        c.name
                    )));
                }
                if c.domain.is_empty() {
                    "organizations".to_string()
                } else {
                    c.domain
                }
            }
            ConsentTarget::Msp => "organizations".to_string(),
        };
        let state = random_token(24);
        let pending = PendingConsent {
            target,
            actor: actor.0.clone(),
            created_at: self.now(),
        };
        let key = keys::meta::consent(&digest_hex(&state));
        self.store
            .write(move |w| w.set_meta(&key, &pending))
            .await?;
        Ok(format!(
            "{}/{}/v2.0/adminconsent?client_id={}&scope={}&redirect_uri={}&state={}",
            self.microsoft.login_url,
            authority,
            url_encode(&app.client_id),
            url_encode("https://graph.microsoft.com/.default"),
            url_encode(&self.microsoft.redirect_uri),
            url_encode(&state)
        ))
    }

    /// Handle Microsoft's redirect back.
    pub async fn finish_consent(&self, cb: ConsentCallback) -> DomainResult<ConsentOutcome> {
        let now = self.now();
        let state = cb.state.clone().unwrap_or_default();
        let key = keys::meta::consent(&digest_hex(&state));
        // Single use: take it out whatever happens next.
        let pending: Option<PendingConsent> = self
            .store
            .write(move |w| {
                let p = w.meta::<PendingConsent>(&key)?;
                w.delete_meta(&key)?;
                Ok::<_, DomainError>(p)
            })
            .await?;
        let Some(pending) =
            pending.filter(|p| now - p.created_at < Duration::minutes(STATE_MINUTES))
        else {
            self.record(
                NewAuditEvent::new(
                    now,
                    Actor::system(),
                    "tenant.consent",
                    "Consent callback refused: unknown or expired state",
                )
                .failed(),
            )
            .await?;
            return Err(DomainError::Forbidden(
                "This consent link is not valid or has expired. Start again with Connect.".into(),
            ));
        };
        let actor = Actor(pending.actor.clone());
        let company_id = match pending.target {
            ConsentTarget::Company(id) => Some(id),
            ConsentTarget::Msp => None,
        };
        let target = pending.target;
        let not_connected = |cancelled: bool, message: String| ConsentOutcome::NotConnected {
            target,
            cancelled,
            message,
        };
        if let Some(error) = cb.error.as_deref().filter(|e| !e.is_empty()) {
            let desc = cb.error_description.clone().unwrap_or_default();
            let subcode = cb.error_subcode.as_deref().unwrap_or("");
            let msg = explain_consent_error(error, &desc, subcode);
            let mut e = NewAuditEvent::new(now, actor, "tenant.consent", format!("Admin consent failed: {msg}"))
                .failed()
                .details(serde_json::json!({"error": error, "error_description": desc, "error_subcode": cb.error_subcode}));
            e.company_id = company_id;
            self.record(e).await?;
            let cancelled = error == "access_denied" && subcode == "cancel";
            return Ok(not_connected(cancelled, msg));
        }
        let consented = cb
            .admin_consent
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let Some(tenant) = cb.tenant.clone().filter(|t| consented && !t.is_empty()) else {
            return Ok(not_connected(
                false,
                "Microsoft did not confirm the consent; nothing was connected.".into(),
            ));
        };
        let connected = match target {
            ConsentTarget::Company(id) => self
                .connect_company_tenant(actor, id, &tenant, Some(Trigger::Consent))
                .await
                .map(|job| ConsentOutcome::CompanyConnected {
                    company_id: id,
                    job: job.map(Box::new),
                }),
            ConsentTarget::Msp => self
                .connect_msp_tenant(actor, &tenant)
                .await
                .map(ConsentOutcome::MspConnected),
        };
        match connected {
            // Refusals the admin can act on (tenant not confirmed, already linked elsewhere,
            // archived meanwhile) go back to where they started; store failures stay errors.
            Err(DomainError::Conflict(m) | DomainError::Forbidden(m)) => {
                Ok(not_connected(false, m))
            }
            other => other,
        }
    }

    pub async fn msp_tenant(&self) -> DomainResult<Option<MspTenant>> {
        Ok(self
            .store
            .read(|r| r.setting(keys::settings::MSP_TENANT))
            .await?)
    }

    pub async fn disconnect_msp_tenant(&self, admin: AdminActor) -> DomainResult<()> {
        let actor: Actor = admin.into();
        let now = self.now();
        self.store
            .write(move |w| {
                let Some(t) = w.setting::<MspTenant>(keys::settings::MSP_TENANT)? else {
                    return Err(DomainError::Conflict(
                        "The MSP tenant is not connected.".into(),
                    ));
                };
                w.delete_setting(keys::settings::MSP_TENANT)?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    actor,
                    "tenant.disconnect",
                    format!(
                        "Disconnected the MSP tenant {} ({})",
                        t.tenant_name, t.tenant_id
                    ),
                ))?;
                Ok(())
            })
            .await
    }

    /// Stop syncing a company; its contacts and assets stay.
    pub async fn disconnect_company_tenant(
        &self,
        admin: AdminActor,
        company_id: u64,
    ) -> DomainResult<()> {
        let actor: Actor = admin.into();
        let now = self.now();
        self.store
            .write(move |w| {
                let mut c = w
                    .company(company_id)?
                    .ok_or(DomainError::NotFound("company"))?;
                // The page offers no Disconnect for an archived company; a stale form or an
                // API client gets the same answer, so an archive stays exactly as it was left.
                if c.is_archived() {
                    return Err(DomainError::Conflict(format!(
                        "{} is archived: restore it first to disconnect it.",
                        c.name
                    )));
                }
                let Some(t) = c.tenant.as_mut().filter(|t| t.connected) else {
                    return Err(DomainError::Conflict(format!(
                        "{} is not connected",
                        c.name
                    )));
                };
                t.connected = false;
                let summary = format!(
                    "Disconnected {} from tenant {} ({}); data kept, syncing stopped",
                    c.name, t.tenant_name, t.tenant_id
                );
                c.updated_at = now;
                w.put_company(&c)?;
                w.append_audit(
                    NewAuditEvent::new(now, actor, "tenant.disconnect", summary)
                        .company(company_id),
                )?;
                Ok(())
            })
            .await
    }

    /// Manual "Sync now": queue an identity sync for every connected, active company.
    pub async fn queue_all_syncs(&self, actor: Actor, trigger: Trigger) -> DomainResult<Vec<Job>> {
        let companies = self.store.read(|r| r.all_companies()).await?;
        let mut jobs = Vec::new();
        for c in companies.into_iter().filter(|c| c.syncs()) {
            jobs.push(
                self.queue_company_sync(actor.clone(), c.id, trigger)
                    .await?
                    .job,
            );
        }
        Ok(jobs)
    }
}

impl Services {
    /// Record `tenant` as the MSP's own tenant after confirming it with a token and
    /// `/organization` (consent's `tenant` parameter alone is not proof). Audited.
    pub async fn connect_msp_tenant(&self, actor: Actor, tenant: &str) -> DomainResult<MspTenant> {
        let now = self.now();
        let tenant = tenant.to_string();
        let graph = self.graph_client().await?;
        let org = match graph.organization(&tenant).await {
            Ok(o) if o.id.eq_ignore_ascii_case(&tenant) => o,
            Ok(_) => {
                return Err(DomainError::Forbidden(
                    "Microsoft returned a different organization; nothing was connected.".into(),
                ));
            }
            Err(e) => {
                let msg = format!("Could not confirm tenant {tenant}: {e}");
                self.record(
                    NewAuditEvent::new(now, actor, "tenant.consent", &msg)
                        .failed()
                        .details(graph_error_details(&e)),
                )
                .await?;
                return Err(DomainError::Conflict(msg));
            }
        };
        let msp = MspTenant {
            tenant_id: org.id.to_lowercase(),
            tenant_name: org.display_name.unwrap_or_default(),
            connected_at: now,
        };
        let saved = msp.clone();
        let refused_actor = actor.clone();
        let refused = self
            .store
            .write(move |w| {
                // The MSP tenant is the MSP's own organisation (staff sign in against it); a
                // client's tenant here would let the client's users near staff sign-in.
                let linked = w.companies_with_tenant(&saved.tenant_id)?.into_iter().next();
                if let Some(client) = linked.map(|id| w.company(id)).transpose()?.flatten() {
                    return Ok(Some(format!(
                        "Tenant {} ({}) is already linked to the client company {}, so it cannot be your MSP tenant. Connect your own organisation's tenant; if this really is yours, disconnect it from {} first.",
                        saved.tenant_name, saved.tenant_id, client.name, client.name
                    )));
                }
                w.set_setting(keys::settings::MSP_TENANT, &saved)?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    actor,
                    "tenant.consent",
                    format!(
                        "Connected the MSP tenant {} ({})",
                        saved.tenant_name, saved.tenant_id
                    ),
                ))?;
                Ok::<_, DomainError>(None)
            })
            .await?;
        if let Some(reason) = refused {
            self.record(
                NewAuditEvent::new(now, refused_actor, "tenant.consent", &reason)
                    .failed()
                    .details(serde_json::json!({"tenant_id": msp.tenant_id, "code": "tenant_is_a_client"})),
            )
            .await?;
            return Err(DomainError::Conflict(reason));
        }
        Ok(msp)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn consent_errors_read_plainly() {
        let m = super::explain_consent_error(
            "access_denied",
            "AADSTS65004: User declined to consent to access the app.",
            "cancel",
        );
        assert_eq!(m, super::CANCELLED, "a cancel is not reported as a failure");
        let m = super::explain_consent_error(
            "consent_required",
            "AADSTS65004: User declined to consent.\r\nTrace ID: x",
            "",
        );
        assert!(m.contains("declined") && m.contains("AADSTS65004: User declined to consent."));
        assert!(!m.contains("Trace ID"));
    }
}
