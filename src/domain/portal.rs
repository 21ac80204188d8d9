//! The support portal's access rules and sessions.
//!
//! WHY access is re-checked on every request, not only at sign-in: a contact disabled or
//! deleted in Entra becomes inactive at the next sync, and an admin may narrow the allowed
//! groups; either must shut the door at once, not when the session cookie expires.

use super::membership::member_of_any;
use super::{DomainError, DomainResult, Services};
use crate::crypto::{digest_hex, random_token};
use crate::domain::authority::AdminActor;
use crate::model::{
    Actor, Company, Contact, NewAuditEvent, PortalSession, PortalSettings, ValidationError,
    parse_slug,
};
use crate::store::Reader;
use chrono::Duration;

/// Portal sessions are shorter than staff sessions: client staff often use shared PCs.
pub const PORTAL_SESSION_HOURS: i64 = 8;

/// Why a portal sign-in or request was refused, in words the client's employee can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortalRefusal {
    #[error("This support portal is not available: {0} is archived.")]
    Archived(String),
    #[error("Sign-in with Microsoft is not turned on for this portal. Ask your IT provider.")]
    SsoOff,
    #[error(
        "{0} has not connected its Microsoft tenant yet, so nobody can sign in with Microsoft."
    )]
    NotConnected(String),
    #[error(
        "You signed in with an account from another organisation. Sign in with your {0} work account."
    )]
    WrongOrganisation(String),
    #[error(
        "Your account is not in {0}'s directory as synced by your IT provider. If you joined recently, try again after the next sync."
    )]
    UnknownContact(String),
    #[error("Your account is disabled or was removed in {0}'s directory.")]
    Disabled(String),
    #[error(
        "Your account is not a member of a group allowed into this portal. Ask your administrator to add you."
    )]
    NotInAllowedGroup,
}

impl PortalRefusal {
    /// A stable code for the audit log and the API.
    pub fn code(&self) -> &'static str {
        match self {
            PortalRefusal::Archived(_) => "company_archived",
            PortalRefusal::SsoOff => "portal_sso_off",
            PortalRefusal::NotConnected(_) => "tenant_not_connected",
            PortalRefusal::WrongOrganisation(_) => "wrong_organisation",
            PortalRefusal::UnknownContact(_) => "unknown_contact",
            PortalRefusal::Disabled(_) => "account_disabled",
            PortalRefusal::NotInAllowedGroup => "not_in_allowed_group",
        }
    }
}

/// What a signed-in portal request carries.
#[derive(Debug, Clone)]
pub struct PortalSignedIn {
    pub session: PortalSession,
    pub session_digest: String,
    pub company: Company,
    pub settings: PortalSettings,
    pub contact: Contact,
    /// Member of the portal-admins group: sees every request of the company.
    pub is_portal_admin: bool,
}

/// Validated portal settings from a form or the API.
#[derive(Debug, Clone, PartialEq)]
pub struct PortalInput {
    pub slug: String,
    pub sso_enabled: bool,
    pub allowed_group_ids: Vec<u64>,
    pub admin_group_id: Option<u64>,
}

/// The company's portal settings, or the defaults if never configured.
fn settings_of(r: &Reader, company: &Company) -> Result<PortalSettings, crate::store::StoreError> {
    Ok(r.portal_settings(company.id)?
        .unwrap_or_else(|| PortalSettings::default_for(company.id, &company.name)))
}

/// Is `contact` allowed in under `settings`? Returns whether they are a portal admin. Group
/// rules count members of nested groups (see [`member_of_any`]).
fn check_contact(
    r: &Reader,
    company: &Company,
    settings: &PortalSettings,
    contact: &Contact,
) -> Result<Result<bool, PortalRefusal>, crate::store::StoreError> {
    if !contact.active || !contact.account_enabled {
        return Ok(Err(PortalRefusal::Disabled(company.name.clone())));
    }
    // Members of groups nested in an allowed group count, as they do in Entra.
    let allowed = settings.allowed_group_ids.is_empty()
        || member_of_any(r, company.id, &settings.allowed_group_ids, contact.id)?;
    if !allowed {
        return Ok(Err(PortalRefusal::NotInAllowedGroup));
    }
    let admin = match settings.admin_group_id {
        Some(g) => member_of_any(r, company.id, &[g], contact.id)?,
        None => false,
    };
    Ok(Ok(admin))
}

impl Services {
    /// PSA → Support Portal: one page of active companies (the Companies list's paging and
    /// order) with their portal settings.
    pub async fn portal_overview(
        &self,
        q: crate::model::ListQuery,
    ) -> DomainResult<crate::model::Page<(Company, PortalSettings)>> {
        let page = self
            .companies(super::companies::CompanyFilter::Active, q)
            .await?;
        let ids: Vec<u64> = page.items.iter().map(|c| c.id).collect();
        let settings = self
            .store
            .read(move |r| {
                ids.iter()
                    .map(|id| Ok(r.portal_settings(*id)?))
                    .collect::<Result<Vec<_>, DomainError>>()
            })
            .await?;
        let items = page
            .items
            .into_iter()
            .zip(settings)
            .map(|(c, s)| {
                let s = s.unwrap_or_else(|| PortalSettings::default_for(c.id, &c.name));
                (c, s)
            })
            .collect();
        Ok(crate::model::Page {
            items,
            total: page.total,
            page: page.page,
            per_page: page.per_page,
            next_cursor: None,
            total_is_lower_bound: false,
        })
    }

    pub async fn portal_settings(&self, company_id: u64) -> DomainResult<PortalSettings> {
        self.store
            .read(move |r| {
                let company = r
                    .company(company_id)?
                    .ok_or(DomainError::NotFound("company"))?;
                Ok::<_, DomainError>(settings_of(r, &company)?)
            })
            .await
    }

    /// The company and settings behind a portal address.
    pub async fn portal_by_slug(&self, slug: &str) -> DomainResult<(Company, PortalSettings)> {
        let slug = slug.to_ascii_lowercase();
        self.store
            .read(move |r| {
                let id = match r.portal_company_id(&slug)? {
                    Some(id) => id,
                    // Never-configured portals answer at their default slug; `company-{id}`
                    // covers names that give no usable slug.
                    None => {
                        let mut found = None;
                        // Through the default-slug index: only companies whose name gives
                        // this slug, oldest first.
                        for id in r.companies_with_default_slug(&slug)? {
                            if r.portal_settings(id)?.is_none() {
                                found = Some(id);
                                break;
                            }
                        }
                        found.ok_or(DomainError::NotFound("portal"))?
                    }
                };
                let company = r.company(id)?.ok_or(DomainError::NotFound("portal"))?;
                let settings = settings_of(r, &company)?;
                Ok::<_, DomainError>((company, settings))
            })
            .await
    }

    /// Change a company's portal settings (audited). Groups must be the company's own.
    pub async fn update_portal_settings(
        &self,
        admin: AdminActor,
        company_id: u64,
        input: PortalInput,
    ) -> DomainResult<PortalSettings> {
        let actor: Actor = admin.into();
        let now = self.now();
        let slug = parse_slug(&input.slug)?;
        self.store
            .write(move |w| {
                let company = super::companies::editable_company(w, company_id)?;
                if let Some(owner) = w.portal_company_id(&slug)?
                    && owner != company_id
                {
                    return Err(ValidationError::new(
                        "slug",
                        format!("the portal address {slug:?} is already used by another company"),
                    )
                    .into());
                }
                let groups = w.groups_of(company_id)?;
                let known = |id: &u64| groups.iter().any(|g| g.id == *id);
                if let Some(bad) = input
                    .allowed_group_ids
                    .iter()
                    .chain(input.admin_group_id.iter())
                    .find(|id| !known(id))
                {
                    return Err(ValidationError::new(
                        "groups",
                        format!("contact group {bad} is not a group of {}", company.name),
                    )
                    .into());
                }
                let mut allowed = input.allowed_group_ids.clone();
                allowed.sort_unstable();
                allowed.dedup();
                let settings = PortalSettings {
                    company_id,
                    slug,
                    sso_enabled: input.sso_enabled,
                    allowed_group_ids: allowed,
                    admin_group_id: input.admin_group_id,
                    updated_at: Some(now),
                };
                w.put_portal_settings(&settings)?;
                let names = |ids: &[u64]| {
                    ids.iter()
                        .filter_map(|id| groups.iter().find(|g| g.id == *id))
                        .map(|g| g.display_name.clone())
                        .collect::<Vec<_>>()
                };
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        actor,
                        "portal.settings",
                        format!(
                            "Support portal of {}: Microsoft sign-in {}, address /portal/{}",
                            company.name,
                            if settings.sso_enabled { "on" } else { "off" },
                            settings.slug
                        ),
                    )
                    .company(company_id)
                    .details(serde_json::json!({
                        "sso_enabled": settings.sso_enabled,
                        "slug": settings.slug,
                        "allowed_groups": names(&settings.allowed_group_ids),
                        "admin_group": names(settings.admin_group_id.as_slice()),
                    })),
                )?;
                Ok::<_, DomainError>(settings)
            })
            .await
    }

    /// Decide whether the Entra user `oid` of tenant `tid` may enter `company_id`'s portal.
    pub async fn portal_access(
        &self,
        company_id: u64,
        tid: &str,
        oid: &str,
    ) -> DomainResult<Result<(Company, Contact, bool), PortalRefusal>> {
        let (tid, oid) = (tid.to_ascii_lowercase(), oid.to_ascii_lowercase());
        self.store
            .read(move |r| {
                let company = r
                    .company(company_id)?
                    .ok_or(DomainError::NotFound("portal"))?;
                let settings = settings_of(r, &company)?;
                let refuse = |x| Ok::<_, DomainError>(Err(x));
                if company.is_archived() {
                    return refuse(PortalRefusal::Archived(company.name.clone()));
                }
                if !settings.sso_enabled {
                    return refuse(PortalRefusal::SsoOff);
                }
                let Some(link) = company.tenant.as_ref().filter(|t| t.connected) else {
                    return refuse(PortalRefusal::NotConnected(company.name.clone()));
                };
                if link.tenant_id.to_ascii_lowercase() != tid {
                    return refuse(PortalRefusal::WrongOrganisation(company.name.clone()));
                }
                let contact = r
                    .contact_id_by_oid(company_id, &oid)?
                    .map(|id| r.contact(company_id, id))
                    .transpose()?
                    .flatten();
                let Some(contact) = contact else {
                    return refuse(PortalRefusal::UnknownContact(company.name.clone()));
                };
                Ok(match check_contact(r, &company, &settings, &contact)? {
                    Ok(admin) => Ok((company, contact, admin)),
                    Err(x) => Err(x),
                })
            })
            .await
    }

    /// Record a refused portal sign-in.
    pub async fn audit_portal_refusal(
        &self,
        company_id: u64,
        who: &str,
        ip: &str,
        refusal: &PortalRefusal,
    ) -> DomainResult<()> {
        self.record(
            NewAuditEvent::new(
                self.now(),
                Actor::anonymous(ip),
                "portal.sign_in",
                format!("Portal sign-in refused for {who}: {refusal}"),
            )
            .company(company_id)
            .failed()
            .details(serde_json::json!({ "code": refusal.code(), "account": who })),
        )
        .await
    }

    /// Start a portal session (a fresh id at every sign-in); returns the cookie value.
    pub async fn start_portal_session(
        &self,
        company: &Company,
        contact: &Contact,
        ip: &str,
    ) -> DomainResult<String> {
        let now = self.now();
        let cookie = random_token(32);
        let digest = digest_hex(&cookie);
        let session = PortalSession {
            company_id: company.id,
            contact_id: contact.id,
            csrf_token: random_token(32),
            created_at: now,
            expires_at: now + Duration::hours(PORTAL_SESSION_HOURS),
            ip: ip.to_string(),
        };
        let who = portal_name(contact);
        let (company_id, company_name) = (company.id, company.name.clone());
        self.store
            .write(move |w| {
                w.put_portal_session(&digest, &session)?;
                w.purge_portal_sessions(now)?;
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        Actor::portal(&who),
                        "portal.sign_in",
                        format!("{who} signed in to the {company_name} support portal"),
                    )
                    .company(company_id),
                )?;
                Ok::<_, DomainError>(())
            })
            .await?;
        Ok(cookie)
    }

    /// The live portal session behind a cookie, for the portal at `slug`. A session of another
    /// company's portal, an expired one, or one whose contact lost access gives `None`.
    pub async fn portal_session(
        &self,
        slug: &str,
        cookie: &str,
    ) -> DomainResult<Option<PortalSignedIn>> {
        let digest = digest_hex(cookie);
        let now = self.now();
        let slug = slug.to_ascii_lowercase();
        self.store
            .read(move |r| {
                let Some(session) = r.portal_session(&digest)? else {
                    return Ok(None);
                };
                if session.expires_at <= now {
                    return Ok(None);
                }
                let Some(company) = r.company(session.company_id)? else {
                    return Ok(None);
                };
                let settings = settings_of(r, &company)?;
                if settings.slug != slug || company.is_archived() || !settings.sso_enabled {
                    return Ok(None);
                }
                let Some(contact) = r.contact(company.id, session.contact_id)? else {
                    return Ok(None);
                };
                let Ok(is_portal_admin) = check_contact(r, &company, &settings, &contact)? else {
                    return Ok(None);
                };
                Ok::<_, DomainError>(Some(PortalSignedIn {
                    session,
                    session_digest: digest,
                    company,
                    settings,
                    contact,
                    is_portal_admin,
                }))
            })
            .await
    }

    pub async fn portal_sign_out(&self, s: &PortalSignedIn) -> DomainResult<()> {
        let now = self.now();
        let digest = s.session_digest.clone();
        let who = portal_name(&s.contact);
        let company_id = s.company.id;
        self.store
            .write(move |w| {
                w.delete_portal_session(&digest)?;
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        Actor::portal(&who),
                        "portal.sign_out",
                        format!("{who} signed out of the support portal"),
                    )
                    .company(company_id),
                )?;
                Ok::<_, DomainError>(())
            })
            .await
    }
}

/// How a portal user is named in the audit log: their e-mail, else UPN.
pub fn portal_name(c: &Contact) -> String {
    if c.email.is_empty() {
        c.upn.clone()
    } else {
        c.email.clone()
    }
}

impl Services {
    /// The signed-in portal user's devices (assets whose primary user they are) and the names
    /// of their contact groups. Scoped by the session's company: never another company's rows.
    pub async fn portal_profile(
        &self,
        s: &PortalSignedIn,
    ) -> DomainResult<(Vec<crate::model::Asset>, Vec<String>)> {
        // The staff contact page's read, less what Entra deleted.
        let d = self.contact_detail(s.company.id, s.contact.id).await?;
        let devices = d.devices.into_iter().filter(|a| a.active).collect();
        let groups = d
            .groups
            .into_iter()
            .filter(|g| g.active)
            .map(|g| g.display_name)
            .collect();
        Ok((devices, groups))
    }
}

/// An Intune compliance state in words, and the badge class that colours it (ok, queued for
/// a warning, failure, muted), so nobody reads raw values like `inGracePeriod`.
pub fn compliance_label(state: &str) -> (&'static str, &'static str) {
    match state {
        "compliant" => ("Compliant", "ok"),
        "noncompliant" => ("Not compliant", "failure"),
        "inGracePeriod" => ("In grace period", "queued"),
        "conflict" => ("Conflicting policies", "failure"),
        "error" => ("Check failed", "failure"),
        "configManager" => ("Configuration Manager", "muted"),
        _ => ("Not evaluated", "muted"),
    }
}

/// What an Intune compliance state means, for someone who is not in IT.
pub fn compliance_meaning(state: &str) -> &'static str {
    match state {
        "compliant" => "Meets your organisation's security rules.",
        "noncompliant" => {
            "Does not meet your organisation's security rules; access to company apps may be blocked until it is fixed."
        }
        "inGracePeriod" => {
            "Out of policy, but still allowed for a short grace period. Fix it soon."
        }
        "conflict" => {
            "Two policies disagree about this device; your IT provider needs to look at it."
        }
        "error" => {
            "The compliance check failed on this device; your IT provider needs to look at it."
        }
        "configManager" => "Managed by Configuration Manager.",
        _ => "Not evaluated yet.",
    }
}
