//! Reading a company's directory: contacts, contact groups and assets, paged and sorted.

use super::{DomainError, DomainResult, Services};
use crate::model::{
    Asset, AssetFilter, AssetSort, CompanySort, Contact, ContactFilter, ContactGroup, ContactSort,
    GroupSort, ListQuery, Page, SearchQuery, SortDir, SupportRequest,
};
use crate::store::{Listed, Reader, StoreError, Window};
use std::collections::HashMap;

/// One contact with what hangs off it: the contact groups they are in and the devices whose
/// primary user they are.
#[derive(Debug, Clone)]
pub struct ContactDetail {
    pub contact: Contact,
    pub groups: Vec<ContactGroup>,
    pub devices: Vec<Asset>,
    /// Their support requests, newest first (read through the per-contact request list).
    pub requests: Vec<SupportRequest>,
}

/// One asset with its primary user (when synced) for the asset page.
#[derive(Debug, Clone)]
pub struct AssetDetail {
    pub asset: Asset,
    pub primary_user: Option<Contact>,
}

/// The most groups a group filter offers (the API takes any group id).
pub const GROUP_CHOICES: usize = 500;

/// The Intune compliance states a compliance bar counts, in the bar's order.
pub const COMPLIANCE_STATES: [&str; 6] = [
    "compliant",
    "inGracePeriod",
    "noncompliant",
    "conflict",
    "error",
    "configManager",
];

/// How a company's (or every company's) devices stand: a count per compliance state, and
/// the devices in no state above (not evaluated, unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplianceCounts {
    pub by_state: Vec<(String, u64)>,
    pub total: u64,
}

impl ComplianceCounts {
    /// Devices counted in no known state.
    pub fn other(&self) -> u64 {
        self.total
            .saturating_sub(self.by_state.iter().map(|(_, n)| n).sum::<u64>())
    }
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
    let mut p = q.page_of(l.rows, l.total).with_next(l.next);
    p.total_is_lower_bound = l.total_is_lower_bound;
    p
}

/// Company id → name for `ids` (a page's rows), inside a caller's read; unknown ids are left
/// out. Each company once, its name only decoded.
fn names_in(
    r: &Reader,
    ids: impl IntoIterator<Item = u64>,
) -> Result<HashMap<u64, String>, StoreError> {
    let mut out = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(slot) = out.entry(id)
            && let Some(name) = r.company_name(id)?
        {
            slot.insert(name);
        }
    }
    Ok(out)
}

/// A page's rows each with its company's name (empty when the company is gone).
fn named<T>(
    p: Page<T>,
    names: &HashMap<u64, String>,
    company: impl Fn(&T) -> u64,
) -> Page<(T, String)> {
    Page {
        items: p
            .items
            .into_iter()
            .map(|x| {
                let name = names.get(&company(&x)).cloned().unwrap_or_default();
                (x, name)
            })
            .collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
        next_cursor: p.next_cursor,
        total_is_lower_bound: p.total_is_lower_bound,
    }
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
                let requests = r
                    .request_page(
                        Some(company_id),
                        None,
                        Some(contact_id),
                        None,
                        Window {
                            desc: true,
                            search: None,
                            after: None,
                            offset: 0,
                            limit: 50,
                        },
                    )?
                    .rows;
                let mut groups = r.groups_of_contact(company_id, contact_id)?;
                groups.sort_by_key(|g| g.display_name.to_lowercase());
                Ok::<_, DomainError>(ContactDetail {
                    contact,
                    groups,
                    devices,
                    requests,
                })
            })
            .await
    }

    /// An asset of `company_id` (404 for another company's id) and its primary user.
    pub async fn asset_detail(&self, company_id: u64, asset_id: u64) -> DomainResult<AssetDetail> {
        self.store
            .read(move |r| {
                let asset = r
                    .asset(company_id, asset_id)?
                    .ok_or(DomainError::NotFound("asset"))?;
                let primary_user = match asset.primary_user_contact_id {
                    Some(c) => r.contact(company_id, c)?,
                    None => None,
                };
                Ok::<_, DomainError>(AssetDetail {
                    asset,
                    primary_user,
                })
            })
            .await
    }

    /// Devices per compliance state, from the index counters (one read per state).
    pub async fn compliance_counts(
        &self,
        company_id: Option<u64>,
    ) -> DomainResult<ComplianceCounts> {
        self.store
            .read(move |r| {
                Ok::<_, DomainError>(ComplianceCounts {
                    by_state: r.compliance_counts(company_id, &COMPLIANCE_STATES)?,
                    total: r.asset_count(company_id)?,
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
        self.contacts_filtered(company_id, q, ContactFilter::default())
            .await
    }

    /// [`Self::contacts`] narrowed by a filter, through the filtered indexes. A group filter
    /// needs a company (group ids are per company).
    pub async fn contacts_filtered(
        &self,
        company_id: Option<u64>,
        q: ListQuery,
        filter: ContactFilter,
    ) -> DomainResult<Page<Contact>> {
        Ok(self
            .contacts_read(company_id, q, filter, false, false)
            .await?
            .0)
    }

    /// [`Self::contacts_filtered`] with each row's direct group ids (the API lists them on
    /// every contact), read in the same snapshot: one hop to the blocking pool and one read
    /// transaction per page rather than two.
    pub async fn contacts_with_group_ids(
        &self,
        company_id: Option<u64>,
        q: ListQuery,
        filter: ContactFilter,
    ) -> DomainResult<Page<(Contact, Vec<u64>)>> {
        let (p, _, group_ids) = self
            .contacts_read(company_id, q, filter, false, true)
            .await?;
        let mut group_ids = group_ids.into_iter();
        Ok(p.map(|c| (c, group_ids.next().unwrap_or_default())))
    }

    /// [`Self::contacts_filtered`] with each row's company name, read in the same snapshot:
    /// the list across companies shows a company column, and a second read for the names was
    /// a hop to the blocking pool and a transaction more on every view.
    /// With `with_names` false the names are left empty (a caller that knows them).
    pub async fn contacts_read_named(
        &self,
        company_id: Option<u64>,
        q: ListQuery,
        filter: ContactFilter,
        with_names: bool,
    ) -> DomainResult<Page<(Contact, String)>> {
        let (p, names, _) = self
            .contacts_read(company_id, q, filter, with_names, false)
            .await?;
        Ok(named(p, &names, |c| c.company_id))
    }

    /// A page of contacts, and when `with_names` the names of its rows' companies, when
    /// `with_group_ids` each row's direct group ids (same order as the rows).
    async fn contacts_read(
        &self,
        company_id: Option<u64>,
        q: ListQuery,
        filter: ContactFilter,
        with_names: bool,
        with_group_ids: bool,
    ) -> DomainResult<(Page<Contact>, HashMap<u64, String>, Vec<Vec<u64>>)> {
        if filter.group.is_some() && company_id.is_none() {
            return Err(DomainError::Validation(crate::model::ValidationError::new(
                "group",
                "a group filter needs a company: group ids belong to one company",
            )));
        }
        let query = q.clone();
        let ranks = super::search_turns::searches(&q)
            && crate::store::contact_search_ranks(ContactSort::parse(&q.sort), &filter, company_id);
        let _turn = super::search_turns::ranking_turn(ranks).await?;
        let (listed, names, group_ids) = self
            .store
            .read(move |r| {
                if let Some(id) = company_id {
                    r.company(id)?.ok_or(DomainError::NotFound("company"))?;
                }
                let search = q.search_query();
                let sort = ContactSort::parse(&q.sort);
                let listed = r.contact_page_filtered(
                    company_id,
                    sort,
                    &filter,
                    window(&q, search.as_ref()),
                )?;
                let names = if with_names {
                    names_in(r, listed.rows.iter().map(|c| c.company_id))?
                } else {
                    HashMap::new()
                };
                let group_ids = if with_group_ids {
                    r.group_ids_of_contacts(listed.rows.iter().map(|c| (c.company_id, c.id)))?
                } else {
                    Vec::new()
                };
                Ok::<_, DomainError>((listed, names, group_ids))
            })
            .await?;
        Ok((page(&query, listed), names, group_ids))
    }

    pub async fn contact_groups(
        &self,
        company_id: u64,
        q: ListQuery,
    ) -> DomainResult<Page<ContactGroup>> {
        let query = q.clone();
        let _turn = super::search_turns::ranking_turn(super::search_turns::searches(&q)).await?;
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
        self.assets_filtered(company_id, q, AssetFilter::default())
            .await
    }

    /// [`Self::assets`] narrowed by a filter, through the filtered indexes.
    pub async fn assets_filtered(
        &self,
        company_id: Option<u64>,
        q: ListQuery,
        filter: AssetFilter,
    ) -> DomainResult<Page<Asset>> {
        Ok(self.assets_read(company_id, q, filter, false).await?.0)
    }

    /// [`Self::assets_filtered`] with each row's company name, in the same snapshot (see
    /// [`Self::contacts_read_named`]).
    pub async fn assets_read_named(
        &self,
        company_id: Option<u64>,
        q: ListQuery,
        filter: AssetFilter,
        with_names: bool,
    ) -> DomainResult<Page<(Asset, String)>> {
        let (p, names) = self.assets_read(company_id, q, filter, with_names).await?;
        Ok(named(p, &names, |a| a.company_id))
    }

    /// A page of assets, and when `with_names` the names of its rows' companies.
    async fn assets_read(
        &self,
        company_id: Option<u64>,
        q: ListQuery,
        filter: AssetFilter,
        with_names: bool,
    ) -> DomainResult<(Page<Asset>, HashMap<u64, String>)> {
        let query = q.clone();
        let _turn = super::search_turns::ranking_turn(super::search_turns::searches(&q)).await?;
        let (listed, names) = self
            .store
            .read(move |r| {
                if let Some(id) = company_id {
                    r.company(id)?.ok_or(DomainError::NotFound("company"))?;
                }
                let search = q.search_query();
                let sort = AssetSort::parse(&q.sort);
                let listed =
                    r.asset_page_filtered(company_id, sort, &filter, window(&q, search.as_ref()))?;
                let names = if with_names {
                    names_in(r, listed.rows.iter().map(|a| a.company_id))?
                } else {
                    HashMap::new()
                };
                Ok::<_, DomainError>((listed, names))
            })
            .await?;
        Ok((page(&query, listed), names))
    }

    /// Company id → name for the given ids (the rows a page shows); unknown ids are left out.
    pub async fn company_names(
        &self,
        ids: impl IntoIterator<Item = u64>,
    ) -> DomainResult<HashMap<u64, String>> {
        let ids: Vec<u64> = ids.into_iter().collect();
        self.store
            .read(move |r| Ok::<_, DomainError>(names_in(r, ids)?))
            .await
    }

    /// A company's contact groups as (id, name), by name, at most `GROUP_CHOICES`: for a
    /// group filter's choices (read through the groups' name list).
    pub async fn group_choices(&self, company_id: u64) -> DomainResult<Vec<(u64, String)>> {
        self.store
            .read(move |r| Ok::<_, DomainError>(r.group_choices(company_id, GROUP_CHOICES)?))
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
