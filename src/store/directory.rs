//! Contacts, contact groups, memberships and assets, keyed by company first so a company's
//! records are one contiguous range.

use super::codec::{dec, enc};
use super::index::keys::{self, kind};
use super::index::{self, entries};
use super::index::{ListSpec, Listed};
use super::tables::{ASSETS, CONTACT_GROUPS, CONTACTS, MEMBER_OF, MEMBERSHIPS};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{
    Asset, AssetSort, Contact, ContactGroup, ContactSort, GroupSort, Membership, SearchQuery,
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

impl<Tx: ReadTables> Txn<Tx> {
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
            word_scope: scope.clone(),
            scope,
            order: entries::contact_order(sort),
            desc: w.desc,
            fetch: &|id, owner| t.get((owner, id))?.map(|g| dec(g.value())).transpose(),
            sort_key: &|c: &Contact| entries::contact_key(c, sort),
            texts: &|c: &Contact| entries::contact_texts(c).to_vec(),
            keep: &|_| true,
            id: &|x| x.id,
        };
        self.list_page(&spec, w)
    }

    /// One page of assets of a company (or of every company) and the list's total.
    pub fn asset_page(
        &self,
        company: Option<u64>,
        sort: AssetSort,
        w: Window<'_>,
    ) -> Result<Listed<Asset>, StoreError> {
        let t = self.table(ASSETS)?;
        let scope = keys::scope(kind::ASSET, &[company.unwrap_or(keys::ALL_COMPANIES)]);
        let spec = ListSpec {
            word_scope: scope.clone(),
            scope,
            order: entries::asset_order(sort),
            desc: w.desc,
            fetch: &|id, owner| t.get((owner, id))?.map(|g| dec(g.value())).transpose(),
            sort_key: &|a: &Asset| entries::asset_key(a, sort),
            texts: &|a: &Asset| entries::asset_texts(a).to_vec(),
            keep: &|_| true,
            id: &|x| x.id,
        };
        self.list_page(&spec, w)
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
            word_scope: scope.clone(),
            scope,
            order: entries::group_order(sort),
            desc: w.desc,
            fetch: &|id, owner| t.get((owner, id))?.map(|g| dec(g.value())).transpose(),
            sort_key: &|g: &ContactGroup| entries::group_key(g, sort),
            texts: &|g: &ContactGroup| vec![g.display_name.as_str()],
            keep: &|_| true,
            id: &|x| x.id,
        };
        self.list_page(&spec, w)
    }

    /// The assets whose primary user is `contact`, by hostname as written, then id.
    pub fn assets_of_user(&self, company: u64, contact: u64) -> Result<Vec<Asset>, StoreError> {
        let list = keys::list(&keys::scope(kind::ASSET_BY_USER, &[company, contact]), 0);
        let ids = self.list_ids(&list, false, None, 0, usize::MAX)?;
        let t = self.table(ASSETS)?;
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

// Every write keeps the record's indexes in step, in the same transaction (see `index`):
// the insert hands back the previous value, whose entries are the ones to move.
impl Writer {
    pub fn put_contact(&mut self, c: &Contact) -> Result<(), StoreError> {
        let old: Option<Contact> = self
            .txn
            .open_table(CONTACTS)?
            .insert((c.company_id, c.id), enc(c)?.as_slice())?
            .map(|g| dec(g.value()))
            .transpose()?;
        index::reindex(
            &self.txn,
            old.as_ref().map(entries::contact).as_ref(),
            Some(&entries::contact(c)),
        )
    }
    pub fn put_group(&mut self, g: &ContactGroup) -> Result<(), StoreError> {
        let old: Option<ContactGroup> = self
            .txn
            .open_table(CONTACT_GROUPS)?
            .insert((g.company_id, g.id), enc(g)?.as_slice())?
            .map(|v| dec(v.value()))
            .transpose()?;
        index::reindex(
            &self.txn,
            old.as_ref().map(entries::group).as_ref(),
            Some(&entries::group(g)),
        )
    }
    /// Record a membership, stamped with the sync round that saw it.
    pub fn put_membership(&mut self, m: Membership, round: u64) -> Result<(), StoreError> {
        self.txn
            .open_table(MEMBERSHIPS)?
            .insert((m.company_id, m.group_id, m.contact_id), round)?;
        self.txn
            .open_table(MEMBER_OF)?
            .insert((m.company_id, m.contact_id, m.group_id), ())?;
        Ok(())
    }
    pub fn delete_membership(&mut self, m: Membership) -> Result<(), StoreError> {
        self.txn
            .open_table(MEMBERSHIPS)?
            .remove((m.company_id, m.group_id, m.contact_id))?;
        self.txn
            .open_table(MEMBER_OF)?
            .remove((m.company_id, m.contact_id, m.group_id))?;
        Ok(())
    }
    pub fn put_asset(&mut self, a: &Asset) -> Result<(), StoreError> {
        let old: Option<Asset> = self
            .txn
            .open_table(ASSETS)?
            .insert((a.company_id, a.id), enc(a)?.as_slice())?
            .map(|g| dec(g.value()))
            .transpose()?;
        index::reindex(
            &self.txn,
            old.as_ref().map(entries::asset).as_ref(),
            Some(&entries::asset(a)),
        )
    }
}
