//! Companies: create, edit, archive, restore. Archived companies are read-only and never sync.

use super::{DomainError, DomainResult, Services};
use crate::model::{
    Actor, Company, CompanyInput, CompanySort, CompanyStatus, ListQuery, NewAuditEvent, Page,
};
use crate::store::{Writer, keys};

/// A company that may be changed: it exists and is not archived (archived is read-only).
pub(super) fn editable_company(w: &Writer, id: u64) -> DomainResult<Company> {
    let c = w.company(id)?.ok_or(DomainError::NotFound("company"))?;
    ensure_editable(&c)?;
    Ok(c)
}

/// The one place that refuses to change an archived company (it is read-only until restored).
fn ensure_editable(c: &Company) -> DomainResult<()> {
    if c.is_archived() {
        return Err(DomainError::Conflict(format!(
            "{} is archived and read-only; restore it first to edit it",
            c.name
        )));
    }
    Ok(())
}

/// Which companies a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompanyFilter {
    Active,
    Archived,
    All,
}

impl Services {
    pub async fn companies(
        &self,
        filter: CompanyFilter,
        q: ListQuery,
    ) -> DomainResult<Page<Company>> {
        let query = q.clone();
        let archived = match filter {
            CompanyFilter::Active => Some(false),
            CompanyFilter::Archived => Some(true),
            CompanyFilter::All => None,
        };
        let _turn = super::search_turns::ranking_turn(super::search_turns::searches(&q)).await?;
        let listed = self
            .store
            .read(move |r| {
                let search = q.search_query();
                let sort = CompanySort::parse(&q.sort);
                r.company_page(
                    archived,
                    sort,
                    super::directory::window(&q, search.as_ref()),
                )
            })
            .await?;
        Ok(super::directory::page(&query, listed))
    }

    pub async fn company(&self, id: u64) -> DomainResult<Company> {
        self.store
            .read(move |r| r.company(id))
            .await?
            .ok_or(DomainError::NotFound("company"))
    }

    pub async fn create_company(&self, actor: Actor, input: CompanyInput) -> DomainResult<Company> {
        let now = self.now();
        self.store
            .write(move |w| {
                let c = Company {
                    id: w.next_id(keys::seq::COMPANY)?,
                    name: input.name,
                    domain: input.domain,
                    notes: input.notes,
                    status: CompanyStatus::Active,
                    created_at: now,
                    updated_at: now,
                    archived_at: None,
                    tenant: None,
                    exclude_guests: false,
                };
                w.put_company(&c)?;
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        actor,
                        "company.create",
                        format!("Created company {}", c.name),
                    )
                    .company(c.id),
                )?;
                Ok::<_, DomainError>(c)
            })
            .await
    }

    pub async fn update_company(
        &self,
        actor: Actor,
        id: u64,
        input: CompanyInput,
    ) -> DomainResult<Company> {
        let now = self.now();
        self.store
            .write(move |w| {
                let mut c = editable_company(w, id)?;
                let before = serde_json::json!({"name": c.name, "domain": c.domain});
                c.name = input.name;
                c.domain = input.domain;
                c.notes = input.notes;
                c.updated_at = now;
                w.put_company(&c)?;
                w.append_audit(
                    NewAuditEvent::new(now, actor, "company.update", format!("Edited company {}", c.name))
                        .company(c.id)
                        .details(serde_json::json!({"before": before, "after": {"name": c.name, "domain": c.domain}})),
                )?;
                Ok(c)
            })
            .await
    }

    /// A company about to be edited (the edit form): refused when archived, as saving would be.
    pub async fn company_to_edit(&self, id: u64) -> DomainResult<Company> {
        let c = self.company(id).await?;
        ensure_editable(&c)?;
        Ok(c)
    }

    /// Archive: the company becomes read-only and is skipped by every sync.
    pub async fn archive_company(&self, actor: Actor, id: u64) -> DomainResult<Company> {
        self.set_archived(actor, id, true).await
    }

    pub async fn restore_company(&self, actor: Actor, id: u64) -> DomainResult<Company> {
        self.set_archived(actor, id, false).await
    }

    async fn set_archived(&self, actor: Actor, id: u64, archive: bool) -> DomainResult<Company> {
        let now = self.now();
        self.store
            .write(move |w| {
                let mut c = w.company(id)?.ok_or(DomainError::NotFound("company"))?;
                if c.is_archived() == archive {
                    return Err(DomainError::Conflict(format!(
                        "{} is already {}",
                        c.name,
                        if archive { "archived" } else { "active" }
                    )));
                }
                c.status = if archive {
                    CompanyStatus::Archived
                } else {
                    CompanyStatus::Active
                };
                c.archived_at = archive.then_some(now);
                c.updated_at = now;
                w.put_company(&c)?;
                let (kind, verb) = if archive {
                    ("company.archive", "Archived")
                } else {
                    ("company.restore", "Restored")
                };
                w.append_audit(
                    NewAuditEvent::new(now, actor, kind, format!("{verb} company {}", c.name))
                        .company(c.id),
                )?;
                Ok(c)
            })
            .await
    }
}

impl Services {
    /// Keep or exclude guest accounts for a company. The next identity sync runs in full so
    /// the change applies to every existing guest, not only to guests that change later.
    pub async fn set_guest_policy(
        &self,
        actor: Actor,
        id: u64,
        exclude: bool,
    ) -> DomainResult<Company> {
        let now = self.now();
        self.store
            .write(move |w| {
                let mut c = editable_company(w, id)?;
                if c.exclude_guests == exclude {
                    return Ok(c);
                }
                c.exclude_guests = exclude;
                c.updated_at = now;
                w.put_company(&c)?;
                if let Some(mut s) = w.sync_state(id, keys::sync_state::USERS)? {
                    s.delta_link = None;
                    s.next_link = None;
                    w.put_sync_state(id, keys::sync_state::USERS, &s)?;
                }
                let what = if exclude {
                    "excluded from"
                } else {
                    "included in"
                };
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        actor,
                        "company.guest_policy",
                        format!("Guests are {what} {}'s contacts (full resync next)", c.name),
                    )
                    .company(id),
                )?;
                Ok(c)
            })
            .await
    }
}
