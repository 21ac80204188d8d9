//! The audit log: append-only, ids increase with time; retention removes the oldest.

use super::codec::{dec, enc};
use super::keys;
use super::tables::AUDIT;
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{AuditEvent, AuditFilter, NewAuditEvent};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, ReadableTableMetadata};

/// Just the time of an event: retention decodes no more than it needs.
#[derive(serde::Deserialize)]
struct At {
    at: DateTime<Utc>,
}

/// Is `at` older than `cutoff`? An entry that cannot be read is kept (and left for a person).
fn older(value: &[u8], cutoff: DateTime<Utc>) -> bool {
    dec::<At>(value).is_ok_and(|e| e.at < cutoff)
}

impl<Tx: ReadTables> Txn<Tx> {
    /// Matching events, newest first: the page asked for plus the total count.
    pub fn audit_page(
        &self,
        filter: &AuditFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<AuditEvent>, usize), StoreError> {
        let t = self.table(AUDIT)?;
        let mut total = 0usize;
        let mut out = Vec::new();
        for r in t.iter()?.rev() {
            let e: AuditEvent = dec(r?.1.value())?;
            if filter.to.is_some_and(|to| e.at >= to) {
                continue;
            }
            if filter.from.is_some_and(|from| e.at < from) {
                // Ids grow with time, so nothing older can match either.
                break;
            }
            if filter.matches(&e) {
                if total >= offset && out.len() < limit {
                    out.push(e);
                }
                total += 1;
            }
        }
        Ok((out, total))
    }

    /// Every matching event, oldest first (CSV export streams from this).
    pub fn audit_each(
        &self,
        filter: &AuditFilter,
        mut f: impl FnMut(AuditEvent),
    ) -> Result<(), StoreError> {
        let t = self.table(AUDIT)?;
        for r in t.iter()? {
            let e: AuditEvent = dec(r?.1.value())?;
            if filter.matches(&e) {
                f(e);
            }
        }
        Ok(())
    }

    /// Does retention have anything to remove: more than `max_entries`, or an oldest entry
    /// from before `cutoff`? (A read, so the daily check commits nothing when idle.)
    pub fn audit_prunable(
        &self,
        cutoff: DateTime<Utc>,
        max_entries: u64,
    ) -> Result<bool, StoreError> {
        let t = self.table(AUDIT)?;
        if t.len()? > max_entries {
            return Ok(true);
        }
        Ok(match t.first()? {
            Some((_, v)) => older(v.value(), cutoff),
            None => false,
        })
    }
}

impl Writer {
    /// Remove up to `batch` of the oldest entries: those beyond the newest `max_entries`, and
    /// those from before `cutoff`. Walks from the oldest id and stops at the first entry to
    /// keep (ids grow with time), so it reads what it removes plus one. Returns how many.
    pub fn prune_audit(
        &mut self,
        cutoff: DateTime<Utc>,
        max_entries: u64,
        batch: u64,
    ) -> Result<u64, StoreError> {
        let mut t = self.txn.open_table(AUDIT)?;
        let over = t.len()?.saturating_sub(max_entries);
        let mut doomed: Vec<u64> = Vec::new();
        for r in t.iter()? {
            let n = doomed.len() as u64;
            if n >= batch {
                break;
            }
            let (k, v) = r?;
            if n < over || older(v.value(), cutoff) {
                doomed.push(k.value());
            } else {
                break;
            }
        }
        for id in &doomed {
            t.remove(id)?;
        }
        Ok(doomed.len() as u64)
    }

    pub fn append_audit(&mut self, e: NewAuditEvent) -> Result<u64, StoreError> {
        let id = self.next_id(keys::seq::AUDIT)?;
        let event = AuditEvent {
            id,
            at: e.at,
            actor: e.actor.0,
            kind: e.kind,
            company_id: e.company_id,
            outcome: e.outcome,
            summary: e.summary,
            details: e.details,
        };
        self.txn
            .open_table(AUDIT)?
            .insert(id, enc(&event)?.as_slice())?;
        Ok(id)
    }
}
