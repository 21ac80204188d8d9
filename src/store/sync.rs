//! Identity-sync bookkeeping: Entra object id → local id indexes (with the round that last
//! saw each object), Intune device → asset, memberships by round, and the per-collection
//! delta state.

use super::codec::{dec, enc};
use super::tables::{ASSET_DEVICES, CONTACT_OIDS, GROUP_OIDS, MEMBERSHIPS, SYNC_STATE};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{Asset, Contact, ContactGroup, Membership, SyncState};
use redb::ReadableTable;

impl<Tx: ReadTables> Txn<Tx> {
    pub fn sync_state(
        &self,
        company_id: u64,
        collection: &str,
    ) -> Result<Option<SyncState>, StoreError> {
        let t = self.table(SYNC_STATE)?;
        t.get((company_id, collection))?
            .map(|g| dec(g.value()))
            .transpose()
    }
    /// The synced contact for an Entra user, with the round that last saw it.
    pub fn contact_by_oid(
        &self,
        company_id: u64,
        oid: &str,
    ) -> Result<Option<(Contact, u64)>, StoreError> {
        let found = self
            .table(CONTACT_OIDS)?
            .get((company_id, oid))?
            .map(|g| g.value());
        match found {
            Some((id, round)) => Ok(self.contact(company_id, id)?.map(|c| (c, round))),
            None => Ok(None),
        }
    }
    pub fn group_by_oid(
        &self,
        company_id: u64,
        oid: &str,
    ) -> Result<Option<(ContactGroup, u64)>, StoreError> {
        let found = self
            .table(GROUP_OIDS)?
            .get((company_id, oid))?
            .map(|g| g.value());
        match found {
            Some((id, round)) => {
                let t = self.table(super::tables::CONTACT_GROUPS)?;
                let g: Option<ContactGroup> = t
                    .get((company_id, id))?
                    .map(|g| dec(g.value()))
                    .transpose()?;
                Ok(g.map(|g| (g, round)))
            }
            None => Ok(None),
        }
    }
    /// (Entra object id, contact id, round) for every synced contact of a company.
    pub fn contact_oids(&self, company_id: u64) -> Result<Vec<(String, u64, u64)>, StoreError> {
        oid_index(&self.table(CONTACT_OIDS)?, company_id)
    }
    /// (Entra object id, group id, round) for every synced group of a company.
    pub fn group_oids(&self, company_id: u64) -> Result<Vec<(String, u64, u64)>, StoreError> {
        oid_index(&self.table(GROUP_OIDS)?, company_id)
    }
    /// (Intune device id, asset id) for every Intune asset of a company.
    pub fn asset_devices(&self, company_id: u64) -> Result<Vec<(String, u64)>, StoreError> {
        let t = self.table(ASSET_DEVICES)?;
        t.range((company_id, "")..(company_id + 1, ""))?
            .map(|r| {
                let (k, v) = r?;
                Ok((k.value().1.to_string(), v.value()))
            })
            .collect()
    }
    pub fn asset(&self, company_id: u64, id: u64) -> Result<Option<Asset>, StoreError> {
        let t = self.table(super::tables::ASSETS)?;
        t.get((company_id, id))?.map(|g| dec(g.value())).transpose()
    }
    /// Memberships of a company with the round that last saw each.
    pub fn memberships_with_round(
        &self,
        company_id: u64,
    ) -> Result<Vec<(Membership, u64)>, StoreError> {
        let t = self.table(MEMBERSHIPS)?;
        t.range((company_id, 0, 0)..=(company_id, u64::MAX, u64::MAX))?
            .map(|r| {
                let (k, v) = r?;
                let (c, g, m) = k.value();
                Ok((
                    Membership {
                        company_id: c,
                        group_id: g,
                        contact_id: m,
                    },
                    v.value(),
                ))
            })
            .collect()
    }
}

/// One company's range of an object-id index: (object id, local id, round).
fn oid_index(
    t: &impl ReadableTable<(u64, &'static str), (u64, u64)>,
    company_id: u64,
) -> Result<Vec<(String, u64, u64)>, StoreError> {
    t.range((company_id, "")..(company_id + 1, ""))?
        .map(|r| {
            let (k, v) = r?;
            let (id, round) = v.value();
            Ok((k.value().1.to_string(), id, round))
        })
        .collect()
}

impl Writer {
    pub fn put_sync_state(
        &mut self,
        company_id: u64,
        collection: &str,
        s: &SyncState,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(SYNC_STATE)?
            .insert((company_id, collection), enc(s)?.as_slice())?;
        Ok(())
    }

    pub fn index_contact(
        &mut self,
        company_id: u64,
        oid: &str,
        contact_id: u64,
        round: u64,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(CONTACT_OIDS)?
            .insert((company_id, oid), (contact_id, round))?;
        Ok(())
    }

    pub fn index_group(
        &mut self,
        company_id: u64,
        oid: &str,
        group_id: u64,
        round: u64,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(GROUP_OIDS)?
            .insert((company_id, oid), (group_id, round))?;
        Ok(())
    }

    pub fn index_asset(
        &mut self,
        company_id: u64,
        device_id: &str,
        asset_id: u64,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(ASSET_DEVICES)?
            .insert((company_id, device_id), asset_id)?;
        Ok(())
    }
}
