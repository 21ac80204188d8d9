//! Compliance evidence: immutable snapshots, their summaries (lists, history, overview), the
//! latest summary per company, a time index for retention, and per-company settings.

use super::codec::{dec, enc};
use super::tables::{
    ASSETS, EVIDENCE_BY_TIME, EVIDENCE_LATEST, EVIDENCE_SETTINGS, EVIDENCE_SNAPSHOTS,
    EVIDENCE_SUMMARIES, MEMBERSHIPS,
};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{Asset, EvidenceSettings, EvidenceSnapshot, SnapshotSummary};
use chrono::{DateTime, Utc};
use redb::ReadableTable;
use std::io::{Read, Write};

/// A snapshot is stored as gzip-compressed JSON. WHY, unlike every other record: it names
/// people (every unregistered member of a 100 k-user tenant is a few MB of repetitive JSON) and
/// is kept for `[evidence] retention_days` at four a day; gzip makes it several times smaller
/// (3–4× on the simulator's tenants: object ids do not compress). Still JSON inside (`zcat`
/// reads a dump); a plain JSON value is read too.
fn enc_snapshot(s: &EvidenceSnapshot) -> Result<Vec<u8>, StoreError> {
    let json = enc(s)?;
    let mut z = flate2::write::GzEncoder::new(
        Vec::with_capacity(json.len() / 8),
        flate2::Compression::fast(),
    );
    z.write_all(&json)
        .and_then(|()| z.finish())
        .map_err(|e| StoreError::Corrupt(format!("compressing a snapshot: {e}")))
}

fn dec_snapshot(b: &[u8]) -> Result<EvidenceSnapshot, StoreError> {
    if !b.starts_with(&[0x1f, 0x8b]) {
        return dec(b);
    }
    let mut json = Vec::with_capacity(b.len() * 8);
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut json)
        .map_err(|e| StoreError::Corrupt(format!("a stored snapshot is not valid gzip: {e}")))?;
    dec(&json)
}

impl<Tx: ReadTables> Txn<Tx> {
    pub fn evidence_snapshot(
        &self,
        company_id: u64,
        snapshot_id: u64,
    ) -> Result<Option<EvidenceSnapshot>, StoreError> {
        let t = self.table(EVIDENCE_SNAPSHOTS)?;
        t.get((company_id, snapshot_id))?
            .map(|g| dec_snapshot(g.value()))
            .transpose()
    }

    /// The company's snapshot collected just before `snapshot_id` (drift compares with it).
    pub fn evidence_snapshot_before(
        &self,
        company_id: u64,
        snapshot_id: u64,
    ) -> Result<Option<EvidenceSnapshot>, StoreError> {
        let t = self.table(EVIDENCE_SNAPSHOTS)?;
        let mut range = t.range((company_id, 0)..(company_id, snapshot_id))?;
        match range.next_back() {
            Some(r) => Ok(Some(dec_snapshot(r?.1.value())?)),
            None => Ok(None),
        }
    }

    /// The summary of the company's latest complete snapshot.
    pub fn latest_evidence(&self, company_id: u64) -> Result<Option<SnapshotSummary>, StoreError> {
        let t = self.table(EVIDENCE_LATEST)?;
        t.get(company_id)?.map(|g| dec(g.value())).transpose()
    }

    /// The latest summary of every company that has one.
    pub fn all_latest_evidence(&self) -> Result<Vec<SnapshotSummary>, StoreError> {
        let t = self.table(EVIDENCE_LATEST)?;
        t.iter()?.map(|r| dec(r?.1.value())).collect()
    }

    /// A company's snapshot summaries, newest first: `limit` from `offset`, and the total.
    pub fn evidence_summaries(
        &self,
        company_id: u64,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<SnapshotSummary>, usize), StoreError> {
        let t = self.table(EVIDENCE_SUMMARIES)?;
        let range = || t.range((company_id, 0)..=(company_id, u64::MAX));
        let total = range()?.count();
        let items = range()?
            .rev()
            .skip(offset)
            .take(limit)
            .map(|r| dec(r?.1.value()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((items, total))
    }

    pub fn evidence_settings(
        &self,
        company_id: u64,
    ) -> Result<Option<EvidenceSettings>, StoreError> {
        let t = self.table(EVIDENCE_SETTINGS)?;
        t.get(company_id)?.map(|g| dec(g.value())).transpose()
    }

    /// Contact ids directly in a group (one range read).
    pub fn group_member_ids(&self, company_id: u64, group_id: u64) -> Result<Vec<u64>, StoreError> {
        let t = self.table(MEMBERSHIPS)?;
        t.range((company_id, group_id, 0)..=(company_id, group_id, u64::MAX))?
            .map(|r| Ok(r?.0.value().2))
            .collect()
    }

    /// Visit a company's assets one at a time, without holding them all: evidence keeps only
    /// counts and the devices it must name.
    pub fn for_each_asset(
        &self,
        company_id: u64,
        mut f: impl FnMut(Asset),
    ) -> Result<(), StoreError> {
        let t = self.table(ASSETS)?;
        for r in t.range((company_id, 0)..=(company_id, u64::MAX))? {
            f(dec(r?.1.value())?);
        }
        Ok(())
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

impl Writer {
    /// Store a complete snapshot with its summary and make it the company's latest, in the
    /// caller's transaction (so a snapshot never exists without its summary).
    pub fn put_evidence_snapshot(
        &mut self,
        snapshot: &EvidenceSnapshot,
        summary: &SnapshotSummary,
    ) -> Result<(), StoreError> {
        let key = (snapshot.company_id, snapshot.id);
        self.txn
            .open_table(EVIDENCE_SNAPSHOTS)?
            .insert(key, enc_snapshot(snapshot)?.as_slice())?;
        let summary_bytes = enc(summary)?;
        self.txn
            .open_table(EVIDENCE_SUMMARIES)?
            .insert(key, summary_bytes.as_slice())?;
        let newer_exists = self
            .latest_evidence(snapshot.company_id)?
            .is_some_and(|l| l.id > snapshot.id);
        if !newer_exists {
            self.txn
                .open_table(EVIDENCE_LATEST)?
                .insert(snapshot.company_id, summary_bytes.as_slice())?;
        }
        self.txn.open_table(EVIDENCE_BY_TIME)?.insert(
            (
                millis(snapshot.collected_at),
                snapshot.company_id,
                snapshot.id,
            ),
            (),
        )?;
        Ok(())
    }

    pub fn put_evidence_settings(
        &mut self,
        company_id: u64,
        s: &EvidenceSettings,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(EVIDENCE_SETTINGS)?
            .insert(company_id, enc(s)?.as_slice())?;
        Ok(())
    }

    /// Remove up to `limit` snapshots collected before `cutoff`, oldest first, except each
    /// company's latest (the evidence on show is never pruned away). Returns how many went.
    pub fn prune_evidence(
        &mut self,
        cutoff: DateTime<Utc>,
        limit: usize,
    ) -> Result<usize, StoreError> {
        let old: Vec<(i64, u64, u64)> = {
            let t = self.txn.open_table(EVIDENCE_BY_TIME)?;
            t.range((i64::MIN, 0, 0)..(millis(cutoff), 0, 0))?
                .map(|r| r.map(|(k, _)| k.value()))
                .collect::<Result<_, _>>()?
        };
        let mut removed = 0;
        for (at, company_id, snapshot_id) in old {
            if removed >= limit {
                break;
            }
            if self
                .latest_evidence(company_id)?
                .is_some_and(|l| l.id == snapshot_id)
            {
                continue;
            }
            self.txn
                .open_table(EVIDENCE_SNAPSHOTS)?
                .remove((company_id, snapshot_id))?;
            self.txn
                .open_table(EVIDENCE_SUMMARIES)?
                .remove((company_id, snapshot_id))?;
            self.txn
                .open_table(EVIDENCE_BY_TIME)?
                .remove((at, company_id, snapshot_id))?;
            removed += 1;
        }
        Ok(removed)
    }
}
