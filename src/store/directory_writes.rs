//! Writing contacts, contact groups, memberships and assets (read in `directory.rs`): every
//! put keeps the record's list entries in step, in the same transaction.

use super::codec::{dec, enc, enc_into};
use super::index::keys::kind;
use super::index::{self, entries};
use super::tables::{ASSETS, CONTACT_GROUPS, CONTACTS, MEMBER_OF, MEMBERSHIPS};
use super::{StoreError, Writer};
use crate::model::{Asset, Contact, ContactGroup, Membership};

// Every write keeps the record's indexes in step, in the same transaction (see `index`):
// the insert hands back the previous value, whose entries are the ones to move.
impl Writer {
    pub fn put_contact(&mut self, c: &Contact) -> Result<(), StoreError> {
        self.put_listed(
            CONTACTS,
            kind::CONTACT,
            (c.company_id, c.id),
            c,
            entries::contact,
        )
    }
    pub fn put_group(&mut self, g: &ContactGroup) -> Result<(), StoreError> {
        self.put_listed(
            CONTACT_GROUPS,
            kind::GROUP,
            (g.company_id, g.id),
            g,
            entries::group,
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
    /// [`Self::put_membership`] for many memberships: each table opened once, and written
    /// in its own key order (a group's members are random contact ids to `MEMBER_OF`), so
    /// consecutive inserts land on the same leaf.
    pub fn put_memberships(&mut self, ms: &mut [Membership], round: u64) -> Result<(), StoreError> {
        ms.sort_unstable_by_key(|m| (m.company_id, m.group_id, m.contact_id));
        let mut t = self.txn.open_table(MEMBERSHIPS)?;
        for m in ms.iter() {
            t.insert((m.company_id, m.group_id, m.contact_id), round)?;
        }
        drop(t);
        ms.sort_unstable_by_key(|m| (m.company_id, m.contact_id, m.group_id));
        let mut t = self.txn.open_table(MEMBER_OF)?;
        for m in ms.iter() {
            t.insert((m.company_id, m.contact_id, m.group_id), ())?;
        }
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
        self.put_listed(ASSETS, kind::ASSET, (a.company_id, a.id), a, entries::asset)
    }
    /// [`Self::put_contact`] for many contacts, in the order given.
    pub fn put_contacts(&mut self, cs: &[Contact]) -> Result<(), StoreError> {
        self.put_listed_many(
            CONTACTS,
            kind::CONTACT,
            cs,
            |c| (c.company_id, c.id),
            entries::contact,
        )
    }
    /// [`Self::put_asset`] for many assets, in the order given.
    pub fn put_assets(&mut self, assets: &[Asset]) -> Result<(), StoreError> {
        self.put_listed_many(
            ASSETS,
            kind::ASSET,
            assets,
            |a| (a.company_id, a.id),
            entries::asset,
        )
    }
    /// [`Self::put_listed`] for many records. WHY (#11): a sync batch writes thousands, and
    /// in a first sync (lists deferred) opening the table was a fifth of each write: a run
    /// of one company's deferred records is written through one open table.
    fn put_listed_many<T: serde::Serialize + serde::de::DeserializeOwned>(
        &mut self,
        table: redb::TableDefinition<'static, (u64, u64), &'static [u8]>,
        list_kind: u8,
        records: &[T],
        key_of: fn(&T) -> (u64, u64),
        entries_of: fn(&T) -> index::entries::Entries,
    ) -> Result<(), StoreError> {
        let mut rest = records;
        while let Some(first) = rest.first() {
            let company = key_of(first).0;
            if !self.lists_deferred(company, list_kind)? {
                self.put_listed(table, list_kind, key_of(first), first, entries_of)?;
                rest = rest.get(1..).unwrap_or_default();
                continue;
            }
            let run = rest
                .iter()
                .position(|r| key_of(r).0 != company)
                .unwrap_or(rest.len());
            let (these, after) = rest.split_at(run);
            let mut t = self.txn.open_table(table)?;
            let mut buf = Vec::new();
            for r in these {
                enc_into(&mut buf, r)?;
                let key = key_of(r);
                let replaced = t.insert(key, buf.as_slice())?.is_some();
                self.deferred_record_written(key, list_kind, replaced);
            }
            rest = after;
        }
        Ok(())
    }
    /// Write a listed record (contact, group, asset) and move its index entries from the
    /// previous value's to its own. In its company's first sync the lists are built at the
    /// round's end (`bulk.rs`): the previous value is not even decoded.
    fn put_listed<T: serde::Serialize + serde::de::DeserializeOwned>(
        &mut self,
        table: redb::TableDefinition<'static, (u64, u64), &'static [u8]>,
        list_kind: u8,
        key: (u64, u64),
        record: &T,
        entries_of: fn(&T) -> index::entries::Entries,
    ) -> Result<(), StoreError> {
        let deferred = self.lists_deferred(key.0, list_kind)?;
        let (old, replaced): (Option<T>, bool) = {
            let mut t = self.txn.open_table(table)?;
            let prev = t.insert(key, enc(record)?.as_slice())?;
            let replaced = prev.is_some();
            match prev {
                Some(p) if !deferred => (Some(dec(p.value())?), replaced),
                _ => (None, replaced),
            }
        };
        if deferred {
            // A prebuild may hold the entries of a value it replaced (`index/prebuild/`).
            self.deferred_record_written(key, list_kind, replaced);
            return Ok(());
        }
        index::reindex(
            &self.txn,
            self.pending.as_deref_mut(),
            old.as_ref().map(entries_of),
            Some(entries_of(record)),
        )
    }
}
