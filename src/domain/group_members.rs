//! A contact group's members, and the groups each listed contact belongs to (portal access is
//! decided on groups, so scripts need both directions).

use super::{DomainError, DomainResult, Services};
use crate::model::{Contact, ContactFilter, ListQuery, Page};

impl Services {
    /// The direct members of one contact group, paged like every contact list (404 for an
    /// unknown company or group), each with the groups it is a direct member of (see
    /// [`Services::contacts_with_group_ids`]).
    pub async fn group_members(
        &self,
        company_id: u64,
        group_id: u64,
        q: ListQuery,
    ) -> DomainResult<Page<(Contact, Vec<u64>)>> {
        self.check_group(company_id, group_id).await?;
        let filter = ContactFilter {
            group: Some(group_id),
            ..Default::default()
        };
        self.contacts_with_group_ids(Some(company_id), q, filter)
            .await
    }

    /// 404 for an unknown company or group.
    async fn check_group(&self, company_id: u64, group_id: u64) -> DomainResult<()> {
        self.store
            .read(move |r| {
                r.company(company_id)?
                    .ok_or(DomainError::NotFound("company"))?;
                r.contact_group(company_id, group_id)?
                    .ok_or(DomainError::NotFound("contact group"))?;
                Ok::<_, DomainError>(())
            })
            .await
    }
}
