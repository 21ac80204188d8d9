//! The audit log: append-only, ids increase with time; retention removes the oldest.

use super::audit_window;
use super::codec::{dec, enc};
use super::index;
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

/// One page of the audit log read by cursor (see [`Txn::audit_list`]).
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// How many events match in all (counters; see `audit_window`).
    pub total: usize,
    /// This page's last event id when the page is full (the next page starts after it).
    pub next: Option<u64>,
}

impl<Tx: ReadTables> Txn<Tx> {
    /// Matching events, newest first: the page asked for plus the total count. Reads the
    /// keys before `offset` and the page's events (cursor paging, [`Self::audit_list`],
    /// reads only the page's).
    pub fn audit_page(
        &self,
        filter: &AuditFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<AuditEvent>, usize), StoreError> {
        let p = self.audit_list(filter, None, true, offset, limit)?;
        Ok((p.events, p.total))
    }

    /// A page of matching events, newest first (`newest_first`) or oldest first, after the
    /// event `after` names (keyset paging) or past `offset` matches. Every filter the page
    /// offers reads one index range and counters (see `audit_window`).
    pub fn audit_list(
        &self,
        filter: &AuditFilter,
        after: Option<u64>,
        newest_first: bool,
        offset: usize,
        limit: usize,
    ) -> Result<AuditPage, StoreError> {
        let span = self.audit_span(filter)?;
        let ids = self.audit_span_ids(&span, after, newest_first, offset, limit)?;
        let next = match ids.last() {
            Some(last) if ids.len() == limit => Some(*last),
            _ => None,
        };
        Ok(AuditPage {
            events: self.audit_events(ids)?,
            total: self.audit_span_total(&span)?,
            next,
        })
    }

    fn audit_events(&self, ids: Vec<u64>) -> Result<Vec<AuditEvent>, StoreError> {
        let t = self.table(AUDIT)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(g) = t.get(id)? {
                out.push(dec(g.value())?);
            }
        }
        Ok(out)
    }

    /// Every matching event, oldest first; decodes only matches.
    pub fn audit_each(
        &self,
        filter: &AuditFilter,
        mut f: impl FnMut(AuditEvent),
    ) -> Result<(), StoreError> {
        self.audit_walk_events(filter, false, |e| {
            f(e);
            true
        })
    }

    /// Matching events, newest first (the page's order: the CSV export streams from this),
    /// until `f` returns false; decodes only matches.
    pub fn audit_each_newest(
        &self,
        filter: &AuditFilter,
        f: impl FnMut(AuditEvent) -> bool,
    ) -> Result<(), StoreError> {
        self.audit_walk_events(filter, true, f)
    }

    /// Walk the filter's events a chunk of ids at a time (keyset), so no more than a chunk
    /// is held however long the log.
    fn audit_walk_events(
        &self,
        filter: &AuditFilter,
        newest_first: bool,
        mut f: impl FnMut(AuditEvent) -> bool,
    ) -> Result<(), StoreError> {
        const CHUNK: usize = 500;
        let span = self.audit_span(filter)?;
        let mut after = None;
        loop {
            let ids = self.audit_span_ids(&span, after, newest_first, 0, CHUNK)?;
            let full = ids.len() == CHUNK;
            after = ids.last().copied();
            for e in self.audit_events(ids)? {
                if !f(e) {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
        }
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
        let mut doomed: Vec<(u64, Option<AuditEvent>)> = Vec::new();
        for r in t.iter()? {
            let n = doomed.len() as u64;
            if n >= batch {
                break;
            }
            let (k, v) = r?;
            if n < over || older(v.value(), cutoff) {
                // An entry that cannot be read has no index entries to remove either.
                doomed.push((k.value(), dec(v.value()).ok()));
            } else {
                break;
            }
        }
        for (id, _) in &doomed {
            t.remove(id)?;
        }
        drop(t);
        for (_, e) in &doomed {
            index::reindex_audit(&self.txn, e.as_ref(), None)?;
            if let Some(e) = e {
                audit_window::upkeep(&self.txn, e, -1)?;
            }
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
        index::reindex_audit(&self.txn, None, Some(&event))?;
        audit_window::upkeep(&self.txn, &event, 1)?;
        Ok(id)
    }
}
