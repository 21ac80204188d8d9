//! Reading a company's directory: contacts, contact groups and assets, paged and sorted.

use super::{DomainError, DomainResult, Services};
use crate::model::{Asset, Contact, ContactGroup, ListQuery, Page};
use std::collections::HashMap;

/// One contact with what hangs off it: the contact groups they are in and the devices whose
/// primary user they are.
#[derive(Debug, Clone)]
pub struct ContactDetail {
    pub contact: Contact,
    pub groups: Vec<ContactGroup>,
    pub devices: Vec<Asset>,
}

impl Services {
    /// A contact of `company_id` (404 for another company's id) with groups and devices.
    pub async fn contact_detail(
        &self,
        company_id: u64,
        contact_id: u64,
    ) -> DomainResult<ContactDetail> {
        self.store
            .read(move |r| {
                let contact = r
                    .contact(company_id, contact_id)?
                    .ok_or(DomainError::NotFound("contact"))?;
                let mut devices: Vec<Asset> = r
                    .assets_of(company_id)?
                    .into_iter()
                    .filter(|a| a.primary_user_contact_id == Some(contact_id))
                    .collect();
                devices.sort_by(|a, b| a.hostname.cmp(&b.hostname));
                let member_of: Vec<u64> = r
                    .memberships_of(company_id)?
                    .into_iter()
                    .filter(|m| m.contact_id == contact_id)
                    .map(|m| m.group_id)
                    .collect();
                let mut groups: Vec<ContactGroup> = r
                    .groups_of(company_id)?
                    .into_iter()
                    .filter(|g| member_of.contains(&g.id))
                    .collect();
                groups.sort_by_key(|g| g.display_name.to_lowercase());
                Ok::<_, DomainError>(ContactDetail {
                    contact,
                    groups,
                    devices,
                })
            })
            .await
    }

    /// Contacts of one company, or of every company when `company_id` is None.
    pub async fn contacts(
        &self,
        company_id: Option<u64>,
        q: ListQuery,
    ) -> DomainResult<Page<Contact>> {
        let all = self
            .store
            .read(move |r| {
                if let Some(id) = company_id {
                    r.company(id)?.ok_or(DomainError::NotFound("company"))?;
                    Ok::<_, DomainError>(r.contacts_of(id)?)
                } else {
                    Ok(r.all_contacts()?)
                }
            })
            .await?;
        let s = &q.search;
        let items: Vec<Contact> = all
            .into_iter()
            .filter(|c| {
                s.is_empty()
                    || c.display_name.to_lowercase().contains(s)
                    || c.email.to_lowercase().contains(s)
                    || c.department.to_lowercase().contains(s)
                    || c.job_title.to_lowercase().contains(s)
            })
            .collect();
        Ok(match q.sort.as_str() {
            "email" => q.apply(items, |c| (c.email.to_lowercase(), c.id)),
            "department" => q.apply(items, |c| (c.department.to_lowercase(), c.id)),
            "job_title" => q.apply(items, |c| (c.job_title.to_lowercase(), c.id)),
            "status" => q.apply(items, |c| (!c.active, c.id)),
            "updated" => q.apply(items, |c| (c.updated_at, c.id)),
            _ => q.apply(items, |c| (c.display_name.to_lowercase(), c.id)),
        })
    }

    pub async fn contact_groups(
        &self,
        company_id: u64,
        q: ListQuery,
    ) -> DomainResult<Page<ContactGroup>> {
        let all = self
            .store
            .read(move |r| {
                r.company(company_id)?
                    .ok_or(DomainError::NotFound("company"))?;
                Ok::<_, DomainError>(r.groups_of(company_id)?)
            })
            .await?;
        let items: Vec<ContactGroup> = all
            .into_iter()
            .filter(|g| q.search.is_empty() || g.display_name.to_lowercase().contains(&q.search))
            .collect();
        Ok(match q.sort.as_str() {
            "members" => q.apply(items, |g| (g.member_count, g.id)),
            _ => q.apply(items, |g| (g.display_name.to_lowercase(), g.id)),
        })
    }

    /// Assets of one company, or of every company when `company_id` is None.
    pub async fn assets(&self, company_id: Option<u64>, q: ListQuery) -> DomainResult<Page<Asset>> {
        let all = self
            .store
            .read(move |r| {
                if let Some(id) = company_id {
                    r.company(id)?.ok_or(DomainError::NotFound("company"))?;
                    Ok::<_, DomainError>(r.assets_of(id)?)
                } else {
                    Ok(r.all_assets()?)
                }
            })
            .await?;
        let s = &q.search;
        let items: Vec<Asset> = all
            .into_iter()
            .filter(|a| {
                s.is_empty()
                    || a.hostname.to_lowercase().contains(s)
                    || a.serial_number.to_lowercase().contains(s)
                    || a.os.to_lowercase().contains(s)
            })
            .collect();
        Ok(match q.sort.as_str() {
            "os" => q.apply(items, |a| (a.os.to_lowercase(), a.id)),
            "serial" => q.apply(items, |a| (a.serial_number.to_lowercase(), a.id)),
            "compliance" => q.apply(items, |a| (a.compliance_state.clone(), a.id)),
            "last_check_in" => q.apply(items, |a| (a.last_check_in, a.id)),
            _ => q.apply(items, |a| (a.hostname.to_lowercase(), a.id)),
        })
    }

    /// Company id → name, for lists that span companies.
    pub async fn company_names(&self) -> DomainResult<HashMap<u64, String>> {
        let all = self.store.read(|r| r.all_companies()).await?;
        Ok(all.into_iter().map(|c| (c.id, c.name)).collect())
    }
}
