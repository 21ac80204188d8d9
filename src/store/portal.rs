//! Support portal settings (with the unique slug index), portal sessions, staff object-id
//! index, and the reads a portal sign-in needs.

use super::codec::{dec, enc};
use super::tables::{
    CONTACT_OIDS, MEMBERSHIPS, PORTAL_SESSIONS, PORTAL_SETTINGS, PORTAL_SLUGS, STAFF_BY_OID,
};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{PortalSession, PortalSettings, StaffUser};
use chrono::{DateTime, Utc};
use redb::ReadableTable;

impl<Tx: ReadTables> Txn<Tx> {
    pub fn portal_settings(&self, company_id: u64) -> Result<Option<PortalSettings>, StoreError> {
        let t = self.table(PORTAL_SETTINGS)?;
        t.get(company_id)?.map(|g| dec(g.value())).transpose()
    }
    /// The company whose portal answers at `slug`.
    pub fn portal_company_id(&self, slug: &str) -> Result<Option<u64>, StoreError> {
        let t = self.table(PORTAL_SLUGS)?;
        Ok(t.get(slug)?.map(|g| g.value()))
    }
    pub fn portal_session(&self, digest: &str) -> Result<Option<PortalSession>, StoreError> {
        let t = self.table(PORTAL_SESSIONS)?;
        t.get(digest)?.map(|g| dec(g.value())).transpose()
    }
    /// The contact id synced from Entra user `oid` in one company.
    pub fn contact_id_by_oid(&self, company_id: u64, oid: &str) -> Result<Option<u64>, StoreError> {
        let t = self.table(CONTACT_OIDS)?;
        let oid = oid.to_ascii_lowercase();
        Ok(t.get((company_id, oid.as_str()))?.map(|g| g.value().0))
    }
    pub fn is_member(
        &self,
        company_id: u64,
        group_id: u64,
        contact_id: u64,
    ) -> Result<bool, StoreError> {
        let t = self.table(MEMBERSHIPS)?;
        Ok(t.get((company_id, group_id, contact_id))?.is_some())
    }
    pub fn staff_by_oid(&self, oid: &str) -> Result<Option<StaffUser>, StoreError> {
        let id = self
            .table(STAFF_BY_OID)?
            .get(oid.to_ascii_lowercase().as_str())?
            .map(|g| g.value());
        match id {
            Some(id) => self.staff(id),
            None => Ok(None),
        }
    }
}

impl Writer {
    /// Save portal settings and move the slug index with them. The caller checks in the
    /// same transaction that the slug is not another company's (`portal_company_id`).
    pub fn put_portal_settings(&mut self, s: &PortalSettings) -> Result<(), StoreError> {
        let old = self.portal_settings(s.company_id)?;
        let mut slugs = self.txn.open_table(PORTAL_SLUGS)?;
        if let Some(old) = old.filter(|o| o.slug != s.slug) {
            slugs.remove(old.slug.as_str())?;
        }
        slugs.insert(s.slug.as_str(), s.company_id)?;
        self.txn
            .open_table(PORTAL_SETTINGS)?
            .insert(s.company_id, enc(s)?.as_slice())?;
        Ok(())
    }

    pub fn put_portal_session(
        &mut self,
        digest: &str,
        s: &PortalSession,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(PORTAL_SESSIONS)?
            .insert(digest, enc(s)?.as_slice())?;
        Ok(())
    }

    pub fn delete_portal_session(&mut self, digest: &str) -> Result<(), StoreError> {
        self.txn.open_table(PORTAL_SESSIONS)?.remove(digest)?;
        Ok(())
    }

    /// Drop portal sessions that expired before `now`.
    pub fn purge_portal_sessions(&mut self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut t = self.txn.open_table(PORTAL_SESSIONS)?;
        let n = t
            .extract_if(|_, v| {
                serde_json::from_slice::<PortalSession>(v)
                    .map(|s| s.expires_at <= now)
                    .unwrap_or(true)
            })?
            .count();
        Ok(n)
    }
}
