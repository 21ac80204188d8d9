//! What makes every audit filter cost its page, on the biggest table of an appliance (every
//! sync, sign-in and setting change of every company, kept for a year).
//!
//! - Company and kind pick a scope of `AUDIT_INDEX` (kept by `store::index`).
//! - An outcome picks the same scope narrowed to that outcome in `AUDIT_BY_OUTCOME`, so
//!   "failures" does not walk the successes between them.
//! - A time window becomes a range of event ids: ids grow with time (one sequence, appended
//!   at `services.now()`), so the first id at or after a time is found by a binary search
//!   of `AUDIT` (about 21 reads for 2 million events) and the scope is read between two ids.
//! - Totals come from counters: the scope's counter without a window; with one, the
//!   `AUDIT_DAYS` counters of the whole UTC days inside it plus the entries of the at most
//!   two part days at its edges (a date filter, the page's usual one, has none).
//!
//! `append_audit` and `prune_audit` keep both tables in the transaction that writes the event.

use super::codec::dec;
use super::index::entries;
use super::index::keys::ALL_COMPANIES;
use super::tables::{AUDIT, AUDIT_BY_OUTCOME, AUDIT_DAYS, AUDIT_INDEX};
use super::{ReadTables, StoreError, Txn};
use crate::model::{AuditEvent, AuditFilter, Outcome};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, TableDefinition, WriteTransaction};
use std::collections::BTreeMap;

const DAY_SECS: i64 = 86_400;

fn outcome_byte(o: Outcome) -> u8 {
    match o {
        Outcome::Success => 0,
        Outcome::Failure => 1,
        Outcome::Warning => 2,
    }
}

/// `scope` narrowed to one outcome. WHY the tag: the day counters hold plain and narrowed
/// scopes side by side; plain audit scopes start with the index's audit kind byte, never `o`.
fn narrowed(scope: &[u8], outcome: u8) -> Vec<u8> {
    let mut s = Vec::with_capacity(scope.len() + 2);
    s.push(b'o');
    s.push(outcome);
    s.extend_from_slice(scope);
    s
}

fn day(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(DAY_SECS)
}

fn day_start(d: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(d.saturating_mul(DAY_SECS), 0)
}

fn bump(
    t: &mut redb::Table<'_, (&'static [u8], i64), u64>,
    scope: &[u8],
    d: i64,
    by: i64,
) -> Result<(), StoreError> {
    let now = t.get((scope, d))?.map(|g| g.value()).unwrap_or(0);
    let next = now.saturating_add_signed(by);
    if next == 0 {
        t.remove((scope, d))?;
    } else {
        t.insert((scope, d), next)?;
    }
    Ok(())
}

/// Add (`by` = 1) or remove (`by` = -1) `e`'s outcome entries and day counts.
pub(super) fn upkeep(txn: &WriteTransaction, e: &AuditEvent, by: i64) -> Result<(), StoreError> {
    let mut idx = txn.open_table(AUDIT_BY_OUTCOME)?;
    let mut days = txn.open_table(AUDIT_DAYS)?;
    let (o, d) = (outcome_byte(e.outcome), day(e.at));
    for s in entries::audit_scopes(e) {
        let n = narrowed(&s, o);
        if by > 0 {
            idx.insert((n.as_slice(), e.id), [].as_slice())?;
        } else {
            idx.remove((n.as_slice(), e.id))?;
        }
        bump(&mut days, &s, d, by)?;
        bump(&mut days, &n, d, by)?;
    }
    Ok(())
}

/// Schema v11: fill both tables from the stored events in one pass (idempotent: it empties
/// them first). An event that cannot be read is left out, as the audit index leaves it out.
pub(super) fn build(txn: &WriteTransaction) -> Result<u64, StoreError> {
    let events = txn.open_table(AUDIT)?;
    let mut idx = txn.open_table(AUDIT_BY_OUTCOME)?;
    let mut days = txn.open_table(AUDIT_DAYS)?;
    idx.retain(|_, _| false)?;
    days.retain(|_, _| false)?;
    let mut tally: BTreeMap<(Vec<u8>, i64), u64> = BTreeMap::new();
    let mut n = 0u64;
    for r in events.iter()? {
        let Ok(e) = dec::<AuditEvent>(r?.1.value()) else {
            continue;
        };
        let (o, d) = (outcome_byte(e.outcome), day(e.at));
        for s in entries::audit_scopes(&e) {
            let nr = narrowed(&s, o);
            idx.insert((nr.as_slice(), e.id), [].as_slice())?;
            *tally.entry((nr, d)).or_default() += 1;
            *tally.entry((s, d)).or_default() += 1;
        }
        n += 1;
        if n.is_multiple_of(200_000) {
            tracing::info!(events = n, "schema v11: audit events indexed so far");
        }
    }
    for ((s, d), c) in tally {
        days.insert((s.as_slice(), d), c)?;
    }
    Ok(n)
}

/// A filter as a scope of one index table and a range of event ids `[lo, hi)`.
pub(super) struct Span {
    table: TableDefinition<'static, (&'static [u8], u64), &'static [u8]>,
    /// Narrowed to an outcome (its total is never the plain scope's counter).
    by_outcome: bool,
    /// The scope in `table`, also the day counters' name for it.
    scope: Vec<u8>,
    lo: u64,
    hi: u64,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

/// Just the time of an event: the binary search decodes no more than it needs.
#[derive(serde::Deserialize)]
struct At {
    at: DateTime<Utc>,
}

impl<Tx: ReadTables> Txn<Tx> {
    /// The first event id whose event is at or after `t` (one past the last event when none
    /// is). Binary search over ids: ids grow with time; a gap in the ids (an aborted write)
    /// is read as the next event after it.
    fn audit_id_at(&self, t: DateTime<Utc>) -> Result<u64, StoreError> {
        let events = self.table(AUDIT)?;
        let (Some(first), Some(last)) = (events.first()?, events.last()?) else {
            return Ok(0);
        };
        let (mut lo, mut hi) = (first.0.value(), last.0.value().saturating_add(1));
        drop((first, last));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let at_or_after = match events.range(mid..)?.next() {
                Some(r) => dec::<At>(r?.1.value()).is_ok_and(|e| e.at >= t),
                None => true,
            };
            if at_or_after {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok(lo)
    }

    pub(super) fn audit_span(&self, f: &AuditFilter) -> Result<Span, StoreError> {
        let plain = entries::audit_scope(
            f.company_id.unwrap_or(ALL_COMPANIES),
            f.kind.as_deref().unwrap_or(""),
        );
        let (table, scope) = match f.outcome {
            Some(o) => (AUDIT_BY_OUTCOME, narrowed(&plain, outcome_byte(o))),
            None => (AUDIT_INDEX, plain),
        };
        let lo = match f.from {
            Some(t) => self.audit_id_at(t)?,
            None => 0,
        };
        let hi = match f.to {
            Some(t) => self.audit_id_at(t)?,
            None => u64::MAX,
        };
        Ok(Span {
            table,
            by_outcome: f.outcome.is_some(),
            scope,
            lo,
            hi,
            from: f.from,
            to: f.to,
        })
    }

    /// Up to `limit` event ids of `span`, newest first or oldest first, after the event
    /// `after` names (keyset) or past `skip` entries.
    pub(super) fn audit_span_ids(
        &self,
        span: &Span,
        after: Option<u64>,
        newest_first: bool,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let (mut lo, mut hi) = (span.lo, span.hi);
        match (after, newest_first) {
            (Some(a), true) => hi = hi.min(a),
            (Some(a), false) => lo = lo.max(a.saturating_add(1)),
            (None, _) => {}
        }
        let mut ids = Vec::with_capacity(limit.min(500));
        if lo >= hi {
            return Ok(ids);
        }
        let t = self.table(span.table)?;
        let s = span.scope.as_slice();
        let range = t.range((s, lo)..(s, hi))?;
        let keys: Box<dyn Iterator<Item = _>> = if newest_first {
            Box::new(range.rev())
        } else {
            Box::new(range)
        };
        let skip = if after.is_some() { 0 } else { skip };
        for r in keys.skip(skip).take(limit) {
            ids.push(r?.0.value().1);
        }
        Ok(ids)
    }

    /// How many events `span` holds: counters, plus the entries of part days at its edges.
    pub(super) fn audit_span_total(&self, span: &Span) -> Result<usize, StoreError> {
        if span.from.is_none() && span.to.is_none() && !span.by_outcome {
            return Ok(self.count(&span.scope)? as usize);
        }
        // Whole days inside the window: [first_full, end_full).
        let first_full = match span.from {
            None => i64::MIN,
            Some(t)
                if t.timestamp().rem_euclid(DAY_SECS) == 0 && t.timestamp_subsec_nanos() == 0 =>
            {
                day(t)
            }
            Some(t) => day(t).saturating_add(1),
        };
        let end_full = match span.to {
            None => i64::MAX,
            Some(t) => day(t),
        };
        if first_full >= end_full {
            // The window lies within two days: walk it.
            return self.audit_walk(span, span.lo, span.hi);
        }
        let days = self.table(AUDIT_DAYS)?;
        let s = span.scope.as_slice();
        let mut n = 0usize;
        for r in days.range((s, first_full)..(s, end_full))? {
            n += r?.1.value() as usize;
        }
        // The part day before the first whole one, and the one after the last.
        if span.from.is_some()
            && let Some(t) = day_start(first_full)
            && Some(t) != span.from
        {
            n += self.audit_walk(span, span.lo, self.audit_id_at(t)?)?;
        }
        if let Some(to) = span.to
            && let Some(t) = day_start(end_full)
            && t != to
        {
            n += self.audit_walk(span, self.audit_id_at(t)?, span.hi)?;
        }
        Ok(n)
    }

    /// Count the scope's entries with ids in `[lo, hi)` (at most two days of them).
    fn audit_walk(&self, span: &Span, lo: u64, hi: u64) -> Result<usize, StoreError> {
        if lo >= hi {
            return Ok(0);
        }
        let t = self.table(span.table)?;
        let s = span.scope.as_slice();
        let mut n = 0;
        for r in t.range((s, lo)..(s, hi))? {
            r?;
            n += 1;
        }
        Ok(n)
    }

    /// Compare the outcome index and day counters with the events; one line per mismatch.
    /// Tests and support: it reads every event.
    pub fn verify_audit_window(&self) -> Result<Vec<String>, StoreError> {
        let mut want_idx = std::collections::BTreeSet::new();
        let mut want_days: BTreeMap<(Vec<u8>, i64), u64> = BTreeMap::new();
        for r in self.table(AUDIT)?.iter()? {
            let Ok(e) = dec::<AuditEvent>(r?.1.value()) else {
                continue;
            };
            let (o, d) = (outcome_byte(e.outcome), day(e.at));
            for s in entries::audit_scopes(&e) {
                let nr = narrowed(&s, o);
                want_idx.insert((nr.clone(), e.id));
                *want_days.entry((nr, d)).or_default() += 1;
                *want_days.entry((s, d)).or_default() += 1;
            }
        }
        let mut problems = Vec::new();
        let mut have_idx = std::collections::BTreeSet::new();
        for r in self.table(AUDIT_BY_OUTCOME)?.iter()? {
            let (k, _) = r?;
            let (s, id) = k.value();
            have_idx.insert((s.to_vec(), id));
        }
        if have_idx != want_idx {
            problems.push(format!(
                "audit outcome index: {} entries, the events say {} ({} differ)",
                have_idx.len(),
                want_idx.len(),
                have_idx.symmetric_difference(&want_idx).count()
            ));
        }
        let mut have_days = BTreeMap::new();
        for r in self.table(AUDIT_DAYS)?.iter()? {
            let (k, v) = r?;
            let (s, d) = k.value();
            have_days.insert((s.to_vec(), d), v.value());
        }
        if have_days != want_days {
            problems.push(format!(
                "audit day counters: {} differ from the events",
                want_days
                    .iter()
                    .filter(|(k, v)| have_days.get(*k) != Some(*v))
                    .count()
                    + have_days
                        .keys()
                        .filter(|k| !want_days.contains_key(*k))
                        .count()
            ));
        }
        Ok(problems)
    }
}
