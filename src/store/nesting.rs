//! Groups nested in groups: one row per direct link, stamped with the sync round that last saw
//! it, like user memberships. Transitive questions (is this contact in that group through
//! any depth of nesting?) are the domain's; the store answers one level at a time, by range.

use super::codec::{dec, enc};
use super::keys;
use super::tables::{CONTACT_GROUPS, GROUP_NESTING, GROUP_OIDS, SYNC_STATE};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{ContactGroup, SyncState};
use redb::ReadableTable;

impl<Tx: ReadTables> Txn<Tx> {
    /// Entra object ids of the groups directly nested in `parent_id`, as synced.
    pub fn nested_group_oids(
        &self,
        company_id: u64,
        parent_id: u64,
    ) -> Result<Vec<String>, StoreError> {
        let t = self.table(GROUP_NESTING)?;
        let mut out = Vec::new();
        // An open-ended range stopped at the first key of another parent: no `+ 1` on
        // ids, and the read costs the parent's rows plus one.
        for r in t.range((company_id, parent_id, "")..)? {
            let (k, _) = r?;
            let (c, p, child) = k.value();
            if c != company_id || p != parent_id {
                break;
            }
            out.push(child.to_string());
        }
        Ok(out)
    }

    /// The groups directly nested in `parent_id` that are synced (an object id not seen
    /// as a group yet is left out), active or not.
    pub fn nested_groups(
        &self,
        company_id: u64,
        parent_id: u64,
    ) -> Result<Vec<ContactGroup>, StoreError> {
        let oids = self.table(GROUP_OIDS)?;
        let groups = self.table(CONTACT_GROUPS)?;
        let mut out = Vec::new();
        for oid in self.nested_group_oids(company_id, parent_id)? {
            let Some(id) = oids.get((company_id, oid.as_str()))?.map(|g| g.value().0) else {
                continue;
            };
            if let Some(g) = groups.get((company_id, id))? {
                out.push(dec(g.value())?);
            }
        }
        Ok(out)
    }

    /// Every nesting link of a company as (parent group id, child object id, round): what
    /// a full sync round reconciles against.
    pub fn nesting_with_round(
        &self,
        company_id: u64,
    ) -> Result<Vec<(u64, String, u64)>, StoreError> {
        let t = self.table(GROUP_NESTING)?;
        let mut out = Vec::new();
        for r in t.range((company_id, 0, "")..)? {
            let (k, v) = r?;
            let (c, p, child) = k.value();
            if c != company_id {
                break;
            }
            out.push((p, child.to_string(), v.value()));
        }
        Ok(out)
    }
}

impl Writer {
    /// Record that `child_oid` is a direct member of group `parent_id`, seen in `round`.
    pub fn put_nesting(
        &mut self,
        company_id: u64,
        parent_id: u64,
        child_oid: &str,
        round: u64,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(GROUP_NESTING)?
            .insert((company_id, parent_id, child_oid), round)?;
        Ok(())
    }

    /// Remove a link; returns whether there was one.
    pub fn delete_nesting(
        &mut self,
        company_id: u64,
        parent_id: u64,
        child_oid: &str,
    ) -> Result<bool, StoreError> {
        let mut t = self.txn.open_table(GROUP_NESTING)?;
        let was = t.remove((company_id, parent_id, child_oid))?.is_some();
        Ok(was)
    }
}

/// Schema v4 step: forget every groups delta link, so each company's next sync reads a full
/// groups round. WHY: nesting links were dropped before v4, and an incremental round only
/// reports changes, so without this a group nested years ago would stay unknown until the
/// delta link happened to expire. Rounds are kept: their stamps decide what a full round drops.
pub(super) fn restart_groups_rounds(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    let mut t = txn.open_table(SYNC_STATE)?;
    let mut reset = Vec::new();
    for r in t.iter()? {
        let (k, v) = r?;
        let (company_id, collection) = k.value();
        if collection != keys::sync_state::GROUPS {
            continue;
        }
        let mut s: SyncState = dec(v.value())?;
        s.next_link = None;
        s.delta_link = None;
        s.delta_saved_at = None;
        reset.push((company_id, enc(&s)?));
    }
    for (company_id, bytes) in reset {
        t.insert((company_id, keys::sync_state::GROUPS), bytes.as_slice())?;
    }
    Ok(())
}
