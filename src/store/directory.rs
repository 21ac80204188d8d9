//! Contacts, contact groups, memberships and assets, keyed by company first so a company's
//! records are one contiguous range.

use super::codec::dec;
use super::index::entries;
use super::index::keys::{self, kind};
use super::index::{ListKind, ListSpec, Listed, WordScopes};
use super::tables::{ASSETS, COMPANIES, CONTACT_GROUPS, CONTACTS, MEMBER_OF, MEMBERSHIPS};
use super::{ReadTables, StoreError, Txn};
use crate::model::{
    Asset, AssetFilter, AssetSort, Contact, ContactFilter, ContactGroup, ContactSort, GroupSort,
    Membership, SearchQuery, SourcesFilter,
};
use redb::ReadableTable;

/// Sort, direction, search and window of one list read.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    pub desc: bool,
    /// Word search (see `model::SearchQuery`); None lists everything.
    pub search: Option<&'a SearchQuery>,
    /// Keyset paging: start after the row a previous page's cursor names.
    pub after: Option<&'a [u8]>,
    pub offset: usize,
    pub limit: usize,
}

/// The per-prefix word lists of contacts kept in `sort`'s order (by name only, see
/// `entries::contact`).
fn word_lists(sort: ContactSort) -> Option<u8> {
    (sort == ContactSort::Name).then_some(kind::CONTACT_WORD)
}

/// Does a contact search in `sort` narrowed by `filter` rank its candidates (hold their ids,
/// read a record per candidate: `index::read`) instead of walking word lists in page
/// order? Known before the read, so the domain bounds how many such searches read at once
/// without holding a read while they wait. Every other list's search ranks.
pub fn contact_search_ranks(
    sort: ContactSort,
    filter: &ContactFilter,
    company: Option<u64>,
) -> bool {
    // A group's members are read from the membership table (bounded by the group), not
    // ranked; the active and guest filters narrow the word lists, so the search ranks.
    if filter.group.is_some() && company.is_some() {
        return false;
    }
    word_lists(sort).is_none() || filter.active.is_some() || filter.guest.is_some()
}

impl<Tx: ReadTables> Txn<Tx> {
    /// The search-word scopes of a `kind` list of `company`, or of every company: search
    /// words are kept per company only (see `entries::contact`), so a search across
    /// companies looks its words up in each company's scope. Empty without a search (`w`):
    /// only a search looks words up, and across companies the scopes cost a walk of every
    /// company's key, which a plain page across 1 M contacts paid on every view.
    fn word_scopes(&self, kind: u8, company: Option<u64>, w: &Window<'_>) -> WordScopes {
        match (company, w.search.is_some()) {
            (_, false) => WordScopes::Listed(Vec::new()),
            (Some(c), true) => WordScopes::Listed(vec![keys::scope(kind, &[c])]),
            (None, true) => WordScopes::EachCompany(kind),
        }
    }

    /// Every company's id (keys only).
    pub(super) fn company_ids(&self) -> Result<Vec<u64>, StoreError> {
        self.table(COMPANIES)?
            .iter()?
            .map(|r| Ok(r?.0.value()))
            .collect()
    }

    /// One page of contacts of a company (or of every company) and the list's total: reads
    /// the page's records only (a search reads the records its longest word matches).
    pub fn contact_page(
        &self,
        company: Option<u64>,
        sort: ContactSort,
        w: Window<'_>,
    ) -> Result<Listed<Contact>, StoreError> {
        let t = self.table(CONTACTS)?;
        let scope = keys::scope(kind::CONTACT, &[company.unwrap_or(keys::ALL_COMPANIES)]);
        let spec = ListSpec {
            word_scopes: self.word_scopes(kind::CONTACT, company, &w),
            parts: Vec::new(),
            scope,
            order: entries::contact_order(sort),
            desc: w.desc,
            fetch: &|id, owner| t.get((owner, id))?.map(|g| dec(g.value())).transpose(),
            sort_key: &|c: &Contact| entries::contact_key(c, sort),
            texts: &|c: &Contact| entries::contact_texts(c).to_vec(),
            keep: &|_| true,
            filtered: false,
            id: &|x| x.id,
            below: None,
            word_lists: word_lists(sort),
        };
        let pending = self.pending_among(ListKind::Contacts, company)?;
        self.list_page_with_pending(&spec, w, CONTACTS, &pending)
    }

    /// [`Self::contact_page`] narrowed by `filter`. Active and guest pick the filtered list
    /// (kept by name only: another order falls back to name). A group lists the group's
    /// members from the membership table, in member order, the other filters and a search
    /// applied to them: it reads the group's members, not the company's contacts.
    pub fn contact_page_filtered(
        &self,
        company: Option<u64>,
        sort: ContactSort,
        filter: &ContactFilter,
        w: Window<'_>,
    ) -> Result<Listed<Contact>, StoreError> {
        let keep = |c: &Contact| {
            filter.active.is_none_or(|a| a == c.active)
                && filter.guest.is_none_or(|g| g == c.is_guest)
        };
        if let (Some(group), Some(company)) = (filter.group, company) {
            return self.group_member_page(company, group, &keep, w);
        }
        let t = self.table(CONTACTS)?;
        let word_scopes = self.word_scopes(kind::CONTACT, company, &w);
        let narrowed = filter.active.is_some() || filter.guest.is_some();
        let pending = self.pending_among(ListKind::Contacts, company)?;
        let company = company.unwrap_or(keys::ALL_COMPANIES);
        let all = keys::scope(kind::CONTACT, &[company]);
        let (scope, sort) = if narrowed {
            let sort = if entries::CONTACT_FILTER_SORTS.contains(&sort) {
                sort
            } else {
                ContactSort::Name
            };
            (
                keys::contact_filter_scope(company, filter.active, filter.guest),
                sort,
            )
        } else {
            (all.clone(), sort)
        };
        let spec = ListSpec {
            word_scopes,
            // Filtered lists have a copy across companies too (schema v17): one list.
            parts: Vec::new(),
            scope,
            order: entries::contact_order(sort),
            desc: w.desc,
            fetch: &|id, owner| t.get((owner, id))?.map(|g| dec(g.value())).transpose(),
            sort_key: &|c: &Contact| entries::contact_key(c, sort),
            texts: &|c: &Contact| entries::contact_texts(c).to_vec(),
            keep: &keep,
            filtered: narrowed,
            id: &|x| x.id,
            below: None,
            word_lists: word_lists(sort),
        };
        self.list_page_with_pending(&spec, w, CONTACTS, &pending)
    }

    /// A group's member contacts that pass `keep` and the window's search, by contact id
    /// (descending with `w.desc`, which is how a Previous link reads the page before a
    /// cursor). The total counts every member that passes, so every member is read.
    fn group_member_page(
        &self,
        company: u64,
        group: u64,
        keep: &dyn Fn(&Contact) -> bool,
        w: Window<'_>,
    ) -> Result<Listed<Contact>, StoreError> {
        let members = self.table(MEMBERSHIPS)?;
        let contacts = self.table(CONTACTS)?;
        let after = w
            .after
            .and_then(|c| c.get(..8))
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes);
        // Is member `id` past the cursor, in the walk's direction?
        let past = |id: u64| after.is_none_or(|a| if w.desc { id < a } else { id > a });
        let range = members.range((company, group, 0)..=(company, group, u64::MAX))?;
        let walk: Box<dyn Iterator<Item = _>> = if w.desc {
            Box::new(range.rev())
        } else {
            Box::new(range)
        };
        let mut rows = Vec::with_capacity(w.limit.min(500));
        let mut total = 0usize;
        let mut skipped = 0usize;
        let mut before_cursor = 0usize;
        for r in walk {
            let id = r?.0.value().2;
            let Some(c) = contacts
                .get((company, id))?
                .map(|g| dec::<Contact>(g.value()))
                .transpose()?
            else {
                continue;
            };
            if !(keep(&c)
                && w.search
                    .is_none_or(|s| s.matches(entries::contact_texts(&c).to_vec())))
            {
                continue;
            }
            total += 1;
            if !past(id) {
                before_cursor += 1;
                continue;
            }
            if skipped < w.offset {
                skipped += 1;
                continue;
            }
            if rows.len() < w.limit {
                rows.push(c);
            }
        }
        let next = match rows.last() {
            Some(last) if rows.len() == w.limit && total > before_cursor + skipped + rows.len() => {
                Some(last.id.to_be_bytes().to_vec())
            }
            _ => None,
        };
        Ok(Listed {
            rows,
            total,
            next,
            total_is_lower_bound: false,
        })
    }

    /// One page of assets of a company (or of every company) and the list's total.
    pub fn asset_page(
        &self,
        company: Option<u64>,
        sort: AssetSort,
        w: Window<'_>,
    ) -> Result<Listed<Asset>, StoreError> {
        self.asset_page_filtered(company, sort, &AssetFilter::default(), w)
    }

    /// [`Self::asset_page`] narrowed by `filter`: compliance and OS pick the filtered list
    /// (kept by hostname and by check-in only: another order falls back to hostname), a
    /// check-in cutoff is a range of the check-in order. A search reads the search's
    /// candidates and keeps those that pass the filter.
    pub fn asset_page_filtered(
        &self,
        company: Option<u64>,
        sort: AssetSort,
        filter: &AssetFilter,
        w: Window<'_>,
    ) -> Result<Listed<Asset>, StoreError> {
        if let Some(sources) = filter.sources {
            return self.asset_sources_page(company, sort, sources, filter, w);
        }
        let t = self.table(ASSETS)?;
        let word_scopes = self.word_scopes(kind::ASSET, company, &w);
        let narrowed = filter.compliance.is_some() || filter.os.is_some();
        let pending = self.pending_among(ListKind::Assets, company)?;
        let company = company.unwrap_or(keys::ALL_COMPANIES);
        let all = keys::scope(kind::ASSET, &[company]);
        let sort = match (filter.checked_in_before, narrowed) {
            (Some(_), _) => AssetSort::LastCheckIn,
            (None, true) if !entries::ASSET_FILTER_SORTS.contains(&sort) => AssetSort::Hostname,
            _ => sort,
        };
        let scope = if narrowed {
            keys::asset_filter_scope(company, filter.compliance.as_deref(), filter.os.as_deref())
        } else {
            all.clone()
        };
        let below = filter.checked_in_before.map(keys::time);
        let os = filter.os.as_ref().map(|o| o.to_lowercase());
        let keep = |a: &Asset| {
            filter
                .compliance
                .as_ref()
                .is_none_or(|c| *c == a.compliance_state)
                && os.as_ref().is_none_or(|o| *o == a.os.to_lowercase())
                && below
                    .as_ref()
                    .is_none_or(|b| keys::opt_time(a.last_check_in) < *b)
        };
        let spec = ListSpec {
            word_scopes,
            // Filtered lists have a copy across companies too (schema v17): one list.
            parts: Vec::new(),
            scope,
            order: entries::asset_order(sort),
            desc: w.desc,
            fetch: &|id, owner| t.get((owner, id))?.map(|g| dec(g.value())).transpose(),
            sort_key: &|a: &Asset| entries::asset_key(a, sort),
            texts: &|a: &Asset| entries::asset_texts(a).to_vec(),
            keep: &keep,
            filtered: narrowed || below.is_some(),
            id: &|x| x.id,
            below: below.clone(),
            word_lists: None,
        };
        self.list_page_with_pending(&spec, w, ASSETS, &pending)
    }

    /// A Sources list (schema v16): a list of its own, kept by hostname and by check-in;
    /// compliance and OS do not narrow it (the index keeps no list of both), a check-in
    /// cutoff does. Across companies the per-company lists are merged.
    fn asset_sources_page(
        &self,
        company: Option<u64>,
        sort: AssetSort,
        sources: SourcesFilter,
        filter: &AssetFilter,
        w: Window<'_>,
    ) -> Result<Listed<Asset>, StoreError> {
        let t = self.table(ASSETS)?;
        let word_scopes = self.word_scopes(kind::ASSET, company, &w);
        let parts = match company {
            None => self
                .company_ids()?
                .into_iter()
                .map(|c| keys::asset_sources_scope(c, sources))
                .collect(),
            Some(_) => Vec::new(),
        };
        let scope = keys::asset_sources_scope(company.unwrap_or(keys::ALL_COMPANIES), sources);
        let sort = match filter.checked_in_before {
            Some(_) => AssetSort::LastCheckIn,
            None if !entries::ASSET_FILTER_SORTS.contains(&sort) => AssetSort::Hostname,
            None => sort,
        };
        let below = filter.checked_in_before.map(keys::time);
        let keep = |a: &Asset| {
            entries::asset_sources(a).contains(&sources)
                && below
                    .as_ref()
                    .is_none_or(|b| keys::opt_time(a.last_check_in) < *b)
        };
        let spec = ListSpec {
            word_scopes,
            parts,
            scope,
            order: entries::asset_order(sort),
            desc: w.desc,
            fetch: &|id, owner| t.get((owner, id))?.map(|g| dec(g.value())).transpose(),
            sort_key: &|a: &Asset| entries::asset_key(a, sort),
            texts: &|a: &Asset| entries::asset_texts(a).to_vec(),
            keep: &keep,
            filtered: true,
            id: &|x| x.id,
            below: below.clone(),
            word_lists: None,
        };
        self.list_page(&spec, w)
    }

    /// How many active assets of `company` (or every company) are in the Sources list
    /// `sources`: one counter read.
    pub fn asset_sources_count(
        &self,
        company: Option<u64>,
        sources: SourcesFilter,
    ) -> Result<u64, StoreError> {
        self.count(&keys::asset_sources_scope(
            company.unwrap_or(keys::ALL_COMPANIES),
            sources,
        ))
    }

    /// How many assets of `company` (or every company) are in each compliance state, from
    /// the filtered lists' counters: one counter read per state.
    pub fn compliance_counts(
        &self,
        company: Option<u64>,
        states: &[&str],
    ) -> Result<Vec<(String, u64)>, StoreError> {
        // A company in its first sync has no counters yet: its records are counted.
        let pending = self.pending_among(ListKind::Assets, company)?;
        let company = company.unwrap_or(keys::ALL_COMPANIES);
        states
            .iter()
            .map(|s| {
                let mut n = self.count(&keys::asset_filter_scope(company, Some(s), None))?;
                n += self.count_pending(ASSETS, &pending, &|a: &Asset| a.compliance_state == *s)?;
                Ok((s.to_string(), n))
            })
            .collect()
    }

    /// How many contacts `company` (or every company) has.
    pub fn contact_count(&self, company: Option<u64>) -> Result<u64, StoreError> {
        let pending = self.pending_among(ListKind::Contacts, company)?;
        let n = self.count(&keys::scope(
            kind::CONTACT,
            &[company.unwrap_or(keys::ALL_COMPANIES)],
        ))?;
        Ok(n + self.count_pending(CONTACTS, &pending, &|_: &Contact| true)?)
    }

    /// How many assets `company` (or every company) has.
    pub fn asset_count(&self, company: Option<u64>) -> Result<u64, StoreError> {
        let pending = self.pending_among(ListKind::Assets, company)?;
        let n = self.count(&keys::scope(
            kind::ASSET,
            &[company.unwrap_or(keys::ALL_COMPANIES)],
        ))?;
        Ok(n + self.count_pending(ASSETS, &pending, &|_: &Asset| true)?)
    }

    /// One page of a company's contact groups and the total.
    pub fn group_page(
        &self,
        company: u64,
        sort: GroupSort,
        w: Window<'_>,
    ) -> Result<Listed<ContactGroup>, StoreError> {
        let t = self.table(CONTACT_GROUPS)?;
        let scope = keys::scope(kind::GROUP, &[company]);
        let spec = ListSpec {
            word_scopes: WordScopes::Listed(vec![scope.clone()]),
            parts: Vec::new(),
            scope,
            order: entries::group_order(sort),
            desc: w.desc,
            fetch: &|id, owner| t.get((owner, id))?.map(|g| dec(g.value())).transpose(),
            sort_key: &|g: &ContactGroup| entries::group_key(g, sort),
            texts: &|g: &ContactGroup| vec![g.display_name.as_str()],
            keep: &|_| true,
            filtered: false,
            id: &|x| x.id,
            below: None,
            word_lists: None,
        };
        let pending = self.pending_among(ListKind::Groups, Some(company))?;
        self.list_page_with_pending(&spec, w, CONTACT_GROUPS, &pending)
    }

    /// Up to `limit` of a company's contact groups as (id, name), by name: a group filter's
    /// choices. Walks the groups' name list and decodes only each record's id and name (a
    /// contacts tab shows the choices on every view, up to 500 groups). While the company's
    /// lists are still to be built (a first sync), read as the group list reads.
    pub fn group_choices(
        &self,
        company: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Named {
            id: u64,
            display_name: String,
        }
        if !self
            .pending_among(ListKind::Groups, Some(company))?
            .is_empty()
        {
            let w = Window {
                desc: false,
                search: None,
                after: None,
                offset: 0,
                limit,
            };
            let page = self.group_page(company, GroupSort::Name, w)?;
            return Ok(page
                .rows
                .into_iter()
                .map(|g| (g.id, g.display_name))
                .collect());
        }
        let list = keys::list(
            &keys::scope(kind::GROUP, &[company]),
            entries::group_order(GroupSort::Name),
        );
        let t = self.table(CONTACT_GROUPS)?;
        let mut out = Vec::new();
        for (id, owner) in self.list_ids(&list, false, None, 0, limit)? {
            if let Some(g) = t.get((owner, id))? {
                let n: Named = dec(g.value())?;
                out.push((n.id, n.display_name));
            }
        }
        Ok(out)
    }

    /// The assets whose primary user is `contact`, by hostname as written, then id.
    pub fn assets_of_user(&self, company: u64, contact: u64) -> Result<Vec<Asset>, StoreError> {
        let t = self.table(ASSETS)?;
        if !self
            .pending_among(ListKind::Assets, Some(company))?
            .is_empty()
        {
            // The company's first sync: its lists are not built yet, read its assets.
            let mut out: Vec<Asset> = Vec::new();
            for r in t.range((company, 0)..=(company, u64::MAX))? {
                let a: Asset = dec(r?.1.value())?;
                if a.primary_user_contact_id == Some(contact) {
                    out.push(a);
                }
            }
            out.sort_by(|x, y| (x.hostname.as_bytes(), x.id).cmp(&(y.hostname.as_bytes(), y.id)));
            return Ok(out);
        }
        let ids =
            self.list_ids_with_prefix(&keys::user_devices_list(company), &contact.to_be_bytes())?;
        let mut out = Vec::with_capacity(ids.len());
        for (id, owner) in ids {
            if let Some(g) = t.get((owner, id))? {
                out.push(dec(g.value())?);
            }
        }
        Ok(out)
    }

    /// The groups `contact` is a direct member of (unordered: by group id).
    pub fn groups_of_contact(
        &self,
        company: u64,
        contact: u64,
    ) -> Result<Vec<ContactGroup>, StoreError> {
        let ids: Vec<u64> = self
            .table(MEMBER_OF)?
            .range((company, contact, 0)..=(company, contact, u64::MAX))?
            .map(|r| Ok(r?.0.value().2))
            .collect::<Result<_, StoreError>>()?;
        let t = self.table(CONTACT_GROUPS)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(g) = t.get((company, id))? {
                out.push(dec(g.value())?);
            }
        }
        Ok(out)
    }

    pub fn contacts_of(&self, company_id: u64) -> Result<Vec<Contact>, StoreError> {
        let t = self.table(CONTACTS)?;
        t.range((company_id, 0)..=(company_id, u64::MAX))?
            .map(|r| dec(r?.1.value()))
            .collect()
    }
    pub fn all_contacts(&self) -> Result<Vec<Contact>, StoreError> {
        let t = self.table(CONTACTS)?;
        t.iter()?.map(|r| dec(r?.1.value())).collect()
    }
    pub fn contact(&self, company_id: u64, id: u64) -> Result<Option<Contact>, StoreError> {
        let t = self.table(CONTACTS)?;
        t.get((company_id, id))?.map(|g| dec(g.value())).transpose()
    }
    pub fn groups_of(&self, company_id: u64) -> Result<Vec<ContactGroup>, StoreError> {
        let t = self.table(CONTACT_GROUPS)?;
        t.range((company_id, 0)..=(company_id, u64::MAX))?
            .map(|r| dec(r?.1.value()))
            .collect()
    }
    pub fn memberships_of(&self, company_id: u64) -> Result<Vec<Membership>, StoreError> {
        let t = self.table(MEMBERSHIPS)?;
        t.range((company_id, 0, 0)..=(company_id, u64::MAX, u64::MAX))?
            .map(|r| {
                let (c, g, m) = r?.0.value();
                Ok(Membership {
                    company_id: c,
                    group_id: g,
                    contact_id: m,
                })
            })
            .collect()
    }
    pub fn assets_of(&self, company_id: u64) -> Result<Vec<Asset>, StoreError> {
        let t = self.table(ASSETS)?;
        t.range((company_id, 0)..=(company_id, u64::MAX))?
            .map(|r| dec(r?.1.value()))
            .collect()
    }
    pub fn all_assets(&self) -> Result<Vec<Asset>, StoreError> {
        let t = self.table(ASSETS)?;
        t.iter()?.map(|r| dec(r?.1.value())).collect()
    }
}
