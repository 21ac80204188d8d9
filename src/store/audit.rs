//! The audit log: append-only, ids increase with time; retention removes the oldest.

use super::codec::{dec, enc};
use super::index;
use super::index::entries;
use super::index::keys::{ALL_COMPANIES, time as keys_time};
use super::keys;
use super::tables::{AUDIT, AUDIT_INDEX};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{AuditEvent, AuditFilter, NewAuditEvent, Outcome};
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

/// The time and outcome half of an audit filter, tested against the index's values.
struct Window {
    from: Option<Vec<u8>>,
    to: Option<Vec<u8>>,
    outcome: Option<u8>,
}

#[derive(PartialEq, Eq)]
enum Test {
    Take,
    Skip,
    /// Older than `from`.
    Stop,
}

impl Window {
    fn of(f: &AuditFilter) -> Self {
        Self {
            from: f.from.map(keys_time),
            to: f.to.map(keys_time),
            outcome: f.outcome.map(|o| match o {
                Outcome::Success => 0,
                Outcome::Failure => 1,
                Outcome::Warning => 2,
            }),
        }
    }
    /// `value` is the event's time (12 bytes, ordered) then its outcome byte.
    fn test(&self, value: &[u8]) -> Test {
        let (at, outcome) = value.split_at(value.len().saturating_sub(1));
        if self.to.as_deref().is_some_and(|to| at >= to) {
            return Test::Skip;
        }
        if self.from.as_deref().is_some_and(|from| at < from) {
            return Test::Stop;
        }
        if self.outcome.is_some_and(|o| outcome != [o]) {
            return Test::Skip;
        }
        Test::Take
    }
}

impl<Tx: ReadTables> Txn<Tx> {
    /// Matching events, newest first: the page asked for plus the total count. The filter's
    /// company and kind pick one scope of the audit index; time and outcome are read from the
    /// index's values, so only the page's events are decoded. Without a time or outcome
    /// filter the total is the scope's counter.
    pub fn audit_page(
        &self,
        filter: &AuditFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<AuditEvent>, usize), StoreError> {
        let scope = entries::audit_scope(
            filter.company_id.unwrap_or(ALL_COMPANIES),
            filter.kind.as_deref().unwrap_or(""),
        );
        let idx = self.table(AUDIT_INDEX)?;
        let range = idx.range((scope.as_slice(), 0)..=(scope.as_slice(), u64::MAX))?;
        let mut ids = Vec::new();
        let total = if filter.from.is_none() && filter.to.is_none() && filter.outcome.is_none() {
            for r in range.rev().skip(offset).take(limit) {
                ids.push(r?.0.value().1);
            }
            self.count(&scope)? as usize
        } else {
            let window = Window::of(filter);
            let mut n = 0usize;
            for r in range.rev() {
                let (k, v) = r?;
                match window.test(v.value()) {
                    Test::Skip => continue,
                    // Ids grow with time, so nothing older can match either.
                    Test::Stop => break,
                    Test::Take => {}
                }
                if n >= offset && ids.len() < limit {
                    ids.push(k.value().1);
                }
                n += 1;
            }
            n
        };
        let t = self.table(AUDIT)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(g) = t.get(id)? {
                out.push(dec(g.value())?);
            }
        }
        Ok((out, total))
    }

    /// Every matching event, oldest first (CSV export streams from this); decodes only
    /// matches.
    pub fn audit_each(
        &self,
        filter: &AuditFilter,
        mut f: impl FnMut(AuditEvent),
    ) -> Result<(), StoreError> {
        let scope = entries::audit_scope(
            filter.company_id.unwrap_or(ALL_COMPANIES),
            filter.kind.as_deref().unwrap_or(""),
        );
        let window = Window::of(filter);
        let idx = self.table(AUDIT_INDEX)?;
        let t = self.table(AUDIT)?;
        for r in idx.range((scope.as_slice(), 0)..=(scope.as_slice(), u64::MAX))? {
            let (k, v) = r?;
            if window.test(v.value()) != Test::Take {
                continue;
            }
            if let Some(g) = t.get(k.value().1)? {
                f(dec(g.value())?);
            }
        }
        Ok(())
    }

    /// Matching events, newest first (the page's order: the CSV export streams from this),
    /// until `f` returns false; decodes only matches.
    pub fn audit_each_newest(
        &self,
        filter: &AuditFilter,
        mut f: impl FnMut(AuditEvent) -> bool,
    ) -> Result<(), StoreError> {
        let scope = entries::audit_scope(
            filter.company_id.unwrap_or(ALL_COMPANIES),
            filter.kind.as_deref().unwrap_or(""),
        );
        let window = Window::of(filter);
        let idx = self.table(AUDIT_INDEX)?;
        let t = self.table(AUDIT)?;
        for r in idx
            .range((scope.as_slice(), 0)..=(scope.as_slice(), u64::MAX))?
            .rev()
        {
            let (k, v) = r?;
            match window.test(v.value()) {
                Test::Skip => continue,
                // Ids grow with time, so nothing older can match either.
                Test::Stop => break,
                Test::Take => {}
            }
            if let Some(g) = t.get(k.value().1)?
                && !f(dec(g.value())?)
            {
                break;
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
        Ok(id)
    }
}
