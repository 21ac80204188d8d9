//! Reading a company's directory: contacts, contact groups and assets, paged and sorted.

use super::{DomainError, DomainResult, Services};
use crate::model::{
    Asset, AssetSort, CompanySort, Contact, ContactGroup, ContactSort, GroupSort, ListQuery, Page,
    SearchQuery, SortDir,
};
use crate::store::{Listed, Window};
use std::collections::HashMap;

/// One contact with what hangs off it: the contact groups they are in and the devices whose
/// primary user they are.
#[derive(Debug, Clone)]
pub struct ContactDetail {
    pub contact: Contact,
    pub groups: Vec<ContactGroup>,
    pub devices: Vec<Asset>,
}

/// The store's window for a list query: direction, search, offset and page size.
/// With a cursor the page starts after the cursor's row, not at `page`.
pub(super) fn window<'a>(q: &'a ListQuery, search: Option<&'a SearchQuery>) -> Window<'a> {
    Window {
        desc: q.dir == SortDir::Desc,
        search,
        after: q.after.as_deref(),
        offset: if q.after.is_some() { 0 } else { q.offset() },
        limit: q.per_page,
    }
}

/// The store's page as the model's, with the cursor of the next one.
pub(super) fn page<T>(q: &ListQuery, l: Listed<T>) -> Page<T> {
    q.page_of(l.rows, l.total).with_next(l.next)
}

impl Services {
    /// A contact of `company_id` (404 for another company's id) with groups and devices,
    /// each read through its index (devices by primary user, groups by member).
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
                let devices = r.assets_of_user(company_id, contact_id)?;
                let mut groups = r.groups_of_contact(company_id, contact_id)?;
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
        let query = q.clone();
        let listed = self
            .store
            .read(move |r| {
                if let Some(id) = company_id {
                    r.company(id)?.ok_or(DomainError::NotFound("company"))?;
                }
                let search = q.search_query();
                let sort = ContactSort::parse(&q.sort);
                Ok::<_, DomainError>(r.contact_page(
                    company_id,
                    sort,
                    window(&q, search.as_ref()),
                )?)
            })
            .await?;
        Ok(page(&query, listed))
    }

    pub async fn contact_groups(
        &self,
        company_id: u64,
        q: ListQuery,
    ) -> DomainResult<Page<ContactGroup>> {
        let query = q.clone();
        let listed = self
            .store
            .read(move |r| {
                r.company(company_id)?
                    .ok_or(DomainError::NotFound("company"))?;
                let search = q.search_query();
                let sort = GroupSort::parse(&q.sort);
                Ok::<_, DomainError>(r.group_page(company_id, sort, window(&q, search.as_ref()))?)
            })
            .await?;
        Ok(page(&query, listed))
    }

    /// Assets of one company, or of every company when `company_id` is None.
    pub async fn assets(&self, company_id: Option<u64>, q: ListQuery) -> DomainResult<Page<Asset>> {
        let query = q.clone();
        let listed = self
            .store
            .read(move |r| {
                if let Some(id) = company_id {
                    r.company(id)?.ok_or(DomainError::NotFound("company"))?;
                }
                let search = q.search_query();
                let sort = AssetSort::parse(&q.sort);
                Ok::<_, DomainError>(r.asset_page(company_id, sort, window(&q, search.as_ref()))?)
            })
            .await?;
        Ok(page(&query, listed))
    }

    /// Company id → name for the given ids (the rows a page shows); unknown ids are left out.
    pub async fn company_names(
        &self,
        ids: impl IntoIterator<Item = u64>,
    ) -> DomainResult<HashMap<u64, String>> {
        let mut ids: Vec<u64> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        self.store
            .read(move |r| {
                let mut out = HashMap::with_capacity(ids.len());
                for id in ids {
                    if let Some(c) = r.company(id)? {
                        out.insert(id, c.name);
                    }
                }
                Ok::<_, DomainError>(out)
            })
            .await
    }

    /// Every company as (id, name), by name: for a company filter's choices.
    pub async fn company_choices(&self) -> DomainResult<Vec<(u64, String)>> {
        self.store
            .read(|r| {
                let all = r.company_page(
                    None,
                    CompanySort::Name,
                    Window {
                        desc: false,
                        search: None,
                        after: None,
                        offset: 0,
                        limit: usize::MAX,
                    },
                )?;
                Ok::<_, DomainError>(all.rows.into_iter().map(|c| (c.id, c.name)).collect())
            })
            .await
    }
}
