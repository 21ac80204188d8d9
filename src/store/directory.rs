//! Contacts, contact groups, memberships and assets, keyed by company first so a company's
//! records are one contiguous range.

use super::codec::{dec, enc};
use super::tables::{ASSETS, CONTACT_GROUPS, CONTACTS, MEMBERSHIPS};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{Asset, Contact, ContactGroup, Membership};
use redb::ReadableTable;

impl<Tx: ReadTables> Txn<Tx> {
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

impl Writer {
    pub fn put_contact(&mut self, c: &Contact) -> Result<(), StoreError> {
        self.txn
            .open_table(CONTACTS)?
            .insert((c.company_id, c.id), enc(c)?.as_slice())?;
        Ok(())
    }
    pub fn put_group(&mut self, g: &ContactGroup) -> Result<(), StoreError> {
        self.txn
            .open_table(CONTACT_GROUPS)?
            .insert((g.company_id, g.id), enc(g)?.as_slice())?;
        Ok(())
    }
    /// Record a membership, stamped with the sync round that saw it.
    pub fn put_membership(&mut self, m: Membership, round: u64) -> Result<(), StoreError> {
        self.txn
            .open_table(MEMBERSHIPS)?
            .insert((m.company_id, m.group_id, m.contact_id), round)?;
        Ok(())
    }
    pub fn delete_membership(&mut self, m: Membership) -> Result<(), StoreError> {
        self.txn
            .open_table(MEMBERSHIPS)?
            .remove((m.company_id, m.group_id, m.contact_id))?;
        Ok(())
    }
    pub fn put_asset(&mut self, a: &Asset) -> Result<(), StoreError> {
        self.txn
            .open_table(ASSETS)?
            .insert((a.company_id, a.id), enc(a)?.as_slice())?;
        Ok(())
    }
}
