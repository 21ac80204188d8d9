//! Linking companies to Entra tenants. A link is saved only after Microsoft confirmed it:
//! an app-only token for the tenant works and `/organization` returns that tenant's id (the
//! `tenant` parameter of a consent callback alone proves nothing — anyone can call it).

use super::entra::graph_error_details;
use super::{DomainError, DomainResult, Services};
use crate::model::{Actor, Job, JobKind, NewAuditEvent, TenantLink, Trigger};
use crate::store::keys;

/// What "Sync With M365" did.
#[derive(Debug)]
pub enum SyncWithM365 {
    /// Send the admin to Microsoft to consent; the sync follows on return.
    Consent {
        url: String,
    },
    Queued(Box<super::jobs::Queued>),
}

impl Services {
    /// Verify `tenant_id` with Microsoft, link it to the company, and queue the initial sync
    /// (unless `trigger` is None: linking only).
    pub async fn connect_company_tenant(
        &self,
        actor: Actor,
        company_id: u64,
        tenant_id: &str,
        trigger: Option<Trigger>,
    ) -> DomainResult<Option<Job>> {
        let tenant_id = tenant_id.trim().to_lowercase();
        let company = self.company(company_id).await?;
        if company.is_archived() {
            return Err(DomainError::Conflict(format!(
                "{} is archived; restore the company first to connect or sync it",
                company.name
            )));
        }
        let graph = self.graph_client().await?;
        let org = match graph.organization(&tenant_id).await {
            Ok(o) if o.id.eq_ignore_ascii_case(&tenant_id) => o,
            Ok(o) => {
                return Err(DomainError::Forbidden(format!(
                    "Microsoft returned organization {} for tenant {tenant_id}; not connected",
                    o.id
                )));
            }
            Err(e) => {
                let msg = format!(
                    "Could not confirm tenant {tenant_id} for {}: {e}",
                    company.name
                );
                self.record(
                    NewAuditEvent::new(self.now(), actor, "tenant.connect", &msg)
                        .company(company_id)
                        .failed()
                        .details(graph_error_details(&e)),
                )
                .await?;
                return Err(DomainError::Conflict(msg));
            }
        };
        let name = org
            .display_name
            .clone()
            .unwrap_or_else(|| tenant_id.clone());
        // The initial sync is the consenting admin's: they asked for it by connecting.
        let requested_by = self.requester(actor.clone()).await?;
        let now = self.now();
        let max_attempts = self.config.job_max_attempts;
        let tid = tenant_id.clone();
        let refused_actor = actor.clone();
        let written = self
            .store
            .write(move |w| {
                // Through the tenant index: one lookup, not a read of every company.
                let other = w.companies_with_tenant(&tid)?.into_iter().find(|id| *id != company_id);
                if let Some(other) = other.map(|id| w.company(id)).transpose()?.flatten() {
                    return Err(DomainError::Conflict(format!("Tenant {tid} is already linked to {}; a tenant can be linked to one company only", other.name)));
                }
                // The reverse of the MSP guard: the MSP's own tenant is never a client company.
                if w
                    .setting::<super::consent::MspTenant>(keys::settings::MSP_TENANT)?
                    .is_some_and(|m| m.tenant_id == tid)
                {
                    return Err(DomainError::Conflict(format!(
                        "Tenant {name} ({tid}) is your MSP tenant (Settings → Integrations → Microsoft Entra ID), so it cannot be a client company's tenant."
                    )));
                }
                let mut c = w.company(company_id)?.ok_or(DomainError::NotFound("company"))?;
                c.tenant = Some(TenantLink { tenant_id: tid.clone(), tenant_name: name.clone(), connected_at: now, connected: true });
                c.updated_at = now;
                w.put_company(&c)?;
                w.append_audit(
                    NewAuditEvent::new(now, actor, "tenant.connect", format!("Connected {} to Microsoft 365 tenant {name} ({tid})", c.name))
                        .company(company_id),
                )?;
                let Some(trigger) = trigger else { return Ok(None) };
                let job = Job::new(JobKind::IDENTITY_SYNC, Some(company_id), trigger, requested_by, max_attempts, now, serde_json::Value::Null);
                Ok(Some(w.enqueue_job(job)?.into_job()))
            })
            .await;
        let job = match written {
            Ok(job) => job,
            // Refused (tenant taken, or the MSP's own): nothing was written, so say so in the
            // audit log on its own.
            Err(DomainError::Conflict(reason)) => {
                self.record(
                    NewAuditEvent::new(self.now(), refused_actor, "tenant.connect", &reason)
                        .company(company_id)
                        .failed()
                        .details(serde_json::json!({"tenant_id": tenant_id})),
                )
                .await?;
                return Err(DomainError::Conflict(reason));
            }
            Err(e) => return Err(e),
        };
        self.job_notify.notify_waiters();
        Ok(job)
    }

    /// How many companies are linked to a tenant (connected or not).
    pub async fn company_tenants(&self) -> DomainResult<usize> {
        let linked = self.linked_companies().await?;
        Ok(linked
            .iter()
            .filter(|c| c.tenant.as_ref().is_some_and(|t| t.connected))
            .count())
    }

    /// Companies linked to a tenant (connected or disconnected), sorted by name.
    pub async fn linked_companies(&self) -> DomainResult<Vec<crate::model::Company>> {
        let mut all = self
            .store
            .read(|r| {
                let mut out = Vec::new();
                for id in r.linked_company_ids()? {
                    out.extend(r.company(id)?);
                }
                Ok::<_, crate::store::StoreError>(out)
            })
            .await?;
        all.sort_by_key(|c| (c.name.to_lowercase(), c.id));
        Ok(all)
    }

    /// The identity sync queued or running for a company, if any.
    pub async fn active_sync_job(&self, company_id: u64) -> DomainResult<Option<Job>> {
        let key = Job::active_key(&JobKind::new(JobKind::IDENTITY_SYNC), Some(company_id));
        Ok(self
            .store
            .read(move |r| r.active_job(&key))
            .await?
            .filter(|j| j.state.is_active()))
    }

    /// "Sync With M365" on a company: not connected yet → admin consent on the client's
    /// tenant (its initial sync is queued when consent comes back, for `actor`); connected →
    /// a background sync requested by `actor`. Archived companies are refused by both paths.
    pub async fn sync_with_m365(
        &self,
        actor: Actor,
        company_id: u64,
        trigger: Trigger,
    ) -> DomainResult<SyncWithM365> {
        let company = self.company(company_id).await?;
        if company.is_archived() || company.syncs() {
            return Ok(SyncWithM365::Queued(Box::new(
                self.queue_company_sync(actor, company_id, trigger).await?,
            )));
        }
        let url = self
            .start_consent(actor, super::consent::ConsentTarget::Company(company_id))
            .await?;
        Ok(SyncWithM365::Consent { url })
    }

    /// Queue an identity sync of a company for `requested_by` (button, API). Archived or
    /// unconnected companies are refused with the reason.
    pub async fn queue_company_sync(
        &self,
        requested_by: Actor,
        company_id: u64,
        trigger: Trigger,
    ) -> DomainResult<super::jobs::Queued> {
        let company = self.company(company_id).await?;
        if company.is_archived() {
            return Err(DomainError::Conflict(format!(
                "{} is archived; restore the company first to sync it",
                company.name
            )));
        }
        if !company.syncs() {
            return Err(DomainError::Conflict(format!(
                "{} is not connected to a Microsoft 365 tenant yet; connect it first",
                company.name
            )));
        }
        self.enqueue(
            requested_by,
            JobKind::IDENTITY_SYNC,
            Some(company_id),
            trigger,
            serde_json::Value::Null,
        )
        .await
    }
}
