//! A contact group's members, and the groups each listed contact belongs to (portal access is
//! decided on groups, so scripts need both directions).

use super::{DomainError, DomainResult, Services};
use crate::model::{Contact, ContactFilter, ListQuery, Page};

impl Services {
    /// The direct members of one contact group, paged like every contact list (404 for an
    /// unknown company or group).
    pub async fn group_members(
        &self,
        company_id: u64,
        group_id: u64,
        q: ListQuery,
    ) -> DomainResult<Page<Contact>> {
        self.store
            .read(move |r| {
                r.company(company_id)?
                    .ok_or(DomainError::NotFound("company"))?;
                r.contact_group(company_id, group_id)?
                    .ok_or(DomainError::NotFound("contact group"))?;
                Ok::<_, DomainError>(())
            })
            .await?;
        let filter = ContactFilter {
            group: Some(group_id),
            ..Default::default()
        };
        self.contacts_filtered(Some(company_id), q, filter).await
    }

    /// For each contact, the ids of the groups it is a direct member of (same order), in one
    /// read.
    pub async fn group_ids_of(&self, contacts: Vec<(u64, u64)>) -> DomainResult<Vec<Vec<u64>>> {
        self.store
            .read(move |r| {
                contacts
                    .iter()
                    .map(|(company, contact)| r.group_ids_of_contact(*company, *contact))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(DomainError::from)
            })
            .await
    }
}
