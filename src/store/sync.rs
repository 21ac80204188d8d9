//! Identity-sync bookkeeping: Entra object id → local id indexes (with the round that last
//! saw each object), Intune device → asset, memberships by round, and the per-collection
//! delta state, and the Intune sweep's per-device marks.

use super::codec::{dec, enc};
use super::tables::{
    ASSET_DEVICES, CONTACT_OIDS, DEVICE_MARKS, GROUP_OIDS, MEMBERSHIPS, SYNC_STATE,
};
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
    /// The contact index entries of many Entra object ids at once, without decoding a contact:
    /// one table open for a batch of objects (a sync looks up every object of a page, and
    /// opening a table per lookup costs more than the lookup). `None` where not synced;
    /// (contact id, round) otherwise. Ids are matched as Graph sent them.
    pub fn contact_index_entries<'a>(
        &self,
        company_id: u64,
        oids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Option<(u64, u64)>>, StoreError> {
        // Looked up in oid order (a devices page comes in Intune's order): consecutive
        // lookups walk the same pages of the index.
        let oids: Vec<&str> = oids.into_iter().collect();
        let mut order: Vec<usize> = (0..oids.len()).collect();
        order.sort_unstable_by_key(|&i| oids.get(i).copied());
        let t = self.table(CONTACT_OIDS)?;
        let mut out = vec![None; oids.len()];
        for i in order {
            if let (Some(oid), Some(slot)) = (oids.get(i), out.get_mut(i)) {
                *slot = t.get((company_id, *oid))?.map(|g| g.value());
            }
        }
        Ok(out)
    }
    /// [`Self::asset_id_by_device`] for many devices at once (one table open), looked up in
    /// device id order as [`Self::contact_index_entries`] does; answered in the order given.
    pub fn asset_ids_by_devices<'a>(
        &self,
        company_id: u64,
        device_ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Option<u64>>, StoreError> {
        let ids: Vec<&str> = device_ids.into_iter().collect();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_unstable_by_key(|&i| ids.get(i).copied());
        let t = self.table(ASSET_DEVICES)?;
        let mut out = vec![None; ids.len()];
        for i in order {
            if let (Some(d), Some(slot)) = (ids.get(i), out.get_mut(i)) {
                *slot = t.get((company_id, *d))?.map(|g| g.value());
            }
        }
        Ok(out)
    }
    /// The asset id of an Intune device, from the device index alone.
    pub fn asset_id_by_device(
        &self,
        company_id: u64,
        device_id: &str,
    ) -> Result<Option<u64>, StoreError> {
        Ok(self
            .table(ASSET_DEVICES)?
            .get((company_id, device_id))?
            .map(|g| g.value()))
    }
    pub fn asset(&self, company_id: u64, id: u64) -> Result<Option<Asset>, StoreError> {
        let t = self.table(super::tables::ASSETS)?;
        t.get((company_id, id))?.map(|g| dec(g.value())).transpose()
    }
    /// One contact group by id.
    pub fn contact_group_by_id(
        &self,
        company_id: u64,
        id: u64,
    ) -> Result<Option<ContactGroup>, StoreError> {
        let t = self.table(super::tables::CONTACT_GROUPS)?;
        t.get((company_id, id))?.map(|g| dec(g.value())).transpose()
    }
    /// Contact ids whose Entra user the round `round` did not see (stamped earlier). Walks the
    /// company's index without holding it; returns only the unseen.
    pub fn contacts_unseen_in(&self, company_id: u64, round: u64) -> Result<Vec<u64>, StoreError> {
        unseen_in(&self.table(CONTACT_OIDS)?, company_id, round)
    }
    /// Group ids whose Entra group the round `round` did not see.
    pub fn groups_unseen_in(&self, company_id: u64, round: u64) -> Result<Vec<u64>, StoreError> {
        unseen_in(&self.table(GROUP_OIDS)?, company_id, round)
    }
    /// Memberships the round `round` did not see.
    pub fn memberships_unseen_in(
        &self,
        company_id: u64,
        round: u64,
    ) -> Result<Vec<Membership>, StoreError> {
        let t = self.table(MEMBERSHIPS)?;
        let mut out = Vec::new();
        for r in t.range((company_id, 0, 0)..=(company_id, u64::MAX, u64::MAX))? {
            let (k, v) = r?;
            if v.value() < round {
                let (c, g, m) = k.value();
                out.push(Membership {
                    company_id: c,
                    group_id: g,
                    contact_id: m,
                });
            }
        }
        Ok(out)
    }
    /// How many contacts are direct members of a group.
    pub fn member_count(&self, company_id: u64, group_id: u64) -> Result<u64, StoreError> {
        let t = self.table(MEMBERSHIPS)?;
        let mut n = 0;
        for r in t.range((company_id, group_id, 0)..=(company_id, group_id, u64::MAX))? {
            r?;
            n += 1;
        }
        Ok(n)
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

/// The next (device id, sweep round) of a walk over [`DEVICE_MARKS`].
fn next_mark(
    marks: &mut redb::Range<'_, (u64, &'static str), (u64, u64)>,
) -> Result<Option<(String, u64)>, StoreError> {
    Ok(marks
        .next()
        .transpose()?
        .map(|(k, v)| (k.value().1.to_string(), v.value().1)))
}

/// Local ids in one company's range of an object-id index last seen before `round`.
fn unseen_in(
    t: &impl ReadableTable<(u64, &'static str), (u64, u64)>,
    company_id: u64,
    round: u64,
) -> Result<Vec<u64>, StoreError> {
    let mut out = Vec::new();
    for r in t.range((company_id, "")..(company_id + 1, ""))? {
        let (id, seen) = r?.1.value();
        if seen < round {
            out.push(id);
        }
    }
    Ok(out)
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

    /// Take `n` ids of the sequence `name` at once; returns the first (the others follow it).
    /// One read and write of the sequence for a page of new records instead of one each.
    pub fn reserve_ids(&mut self, name: &str, n: u64) -> Result<u64, StoreError> {
        let mut t = self.txn.open_table(super::tables::SEQ)?;
        let last = t.get(name)?.map(|v| v.value()).unwrap_or(0);
        t.insert(name, last + n)?;
        Ok(last + 1)
    }

    /// [`Self::index_contact`] for many contacts at once (one table open).
    ///
    /// WHY in object id order (#11): object ids are random GUIDs, so a batch's inserts in
    /// the order given jump from leaf to leaf of the whole index; in key order consecutive
    /// inserts land on the same leaf, which is still in cache (a third of the cost).
    pub fn index_contacts<'a>(
        &mut self,
        company_id: u64,
        entries: impl IntoIterator<Item = (&'a str, u64, u64)>,
    ) -> Result<(), StoreError> {
        let mut entries: Vec<(&str, u64, u64)> = entries.into_iter().collect();
        entries.sort_unstable_by_key(|e| e.0);
        let mut t = self.txn.open_table(CONTACT_OIDS)?;
        for (oid, id, round) in entries {
            t.insert((company_id, oid), (id, round))?;
        }
        Ok(())
    }

    /// [`Self::index_asset`] for many devices at once (one table open), in device id order
    /// (random GUIDs: see [`Self::index_contacts`]). A device given twice keeps the last.
    pub fn index_assets<'a>(
        &mut self,
        company_id: u64,
        entries: impl IntoIterator<Item = (&'a str, u64)>,
    ) -> Result<(), StoreError> {
        let mut entries: Vec<(&str, u64)> = entries.into_iter().collect();
        // Stable: of a device given twice, the last given is inserted last.
        entries.sort_by_key(|e| e.0);
        let mut t = self.txn.open_table(ASSET_DEVICES)?;
        for (device_id, asset_id) in entries {
            t.insert((company_id, device_id), asset_id)?;
        }
        Ok(())
    }

    /// [`Self::device_mark`] for many devices at once (one table open).
    pub fn device_marks<'a>(
        &mut self,
        company_id: u64,
        device_ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Option<(u64, u64)>>, StoreError> {
        let t = self.txn.open_table(DEVICE_MARKS)?;
        device_ids
            .into_iter()
            .map(|d| Ok(t.get((company_id, d))?.map(|g| g.value())))
            .collect()
    }

    /// Stamp each listed device with its new mark (`fingerprint`, `round`) and return the
    /// mark it had, in the order given: a [`Self::device_marks`] and a [`Self::mark_device`]
    /// per device, in one descent of the table instead of two.
    ///
    /// WHY (#11): a sweep stamps every listed device, changed or not, so the marks were read
    /// and written once each per device and sync: a tenth of an unchanged sync's CPU. The
    /// stamps go in device id order (Intune lists in its own), so consecutive inserts land
    /// on the same leaf pages.
    pub fn swap_device_marks(
        &mut self,
        company_id: u64,
        round: u64,
        marks: &[(&str, u64)],
    ) -> Result<Vec<Option<(u64, u64)>>, StoreError> {
        let mut order: Vec<usize> = (0..marks.len()).collect();
        order.sort_unstable_by_key(|&i| marks.get(i).map(|m| m.0));
        let mut before = vec![None; marks.len()];
        let mut t = self.txn.open_table(DEVICE_MARKS)?;
        for i in order {
            let Some(&(device_id, fingerprint)) = marks.get(i) else {
                continue;
            };
            let old = t
                .insert((company_id, device_id), (fingerprint, round))?
                .map(|g| g.value());
            if let Some(slot) = before.get_mut(i) {
                *slot = old;
            }
        }
        Ok(before)
    }

    /// A device's mark: (fingerprint, sweep round), see [`DEVICE_MARKS`].
    pub fn device_mark(
        &mut self,
        company_id: u64,
        device_id: &str,
    ) -> Result<Option<(u64, u64)>, StoreError> {
        Ok(self
            .txn
            .open_table(DEVICE_MARKS)?
            .get((company_id, device_id))?
            .map(|g| g.value()))
    }

    pub fn mark_device(
        &mut self,
        company_id: u64,
        device_id: &str,
        fingerprint: u64,
        round: u64,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(DEVICE_MARKS)?
            .insert((company_id, device_id), (fingerprint, round))?;
        Ok(())
    }

    /// (device id, asset id) of every Intune device of a company that the sweep `round` did
    /// not list: its mark is older, or it has none. One pass over the company's device index
    /// and its marks side by side (both are ordered by device id); only the unlisted devices
    /// are held.
    pub fn devices_not_listed_in(
        &mut self,
        company_id: u64,
        round: u64,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let index = self.txn.open_table(ASSET_DEVICES)?;
        let marks = self.txn.open_table(DEVICE_MARKS)?;
        let mut marks = marks.range((company_id, "")..(company_id + 1, ""))?;
        let mut mark = next_mark(&mut marks)?;
        let mut out = Vec::new();
        for entry in index.range((company_id, "")..(company_id + 1, ""))? {
            let (k, v) = entry?;
            let device = k.value().1;
            // Marks without an index entry sort in between; step over them.
            while mark.as_ref().is_some_and(|(d, _)| d.as_str() < device) {
                mark = next_mark(&mut marks)?;
            }
            let listed = mark
                .as_ref()
                .is_some_and(|(d, seen)| d == device && *seen >= round);
            if !listed {
                out.push((device.to_string(), v.value()));
            }
        }
        Ok(out)
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
