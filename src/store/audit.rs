//! The audit log: append-only, ids increase with time.

use super::codec::{dec, enc};
use super::tables::AUDIT;
use super::{Reader, StoreError, Writer};
use crate::model::{AuditEvent, AuditFilter, NewAuditEvent};
use redb::ReadableTable;

impl Reader {
    /// Matching events, newest first: the page asked for plus the total count.
    pub fn audit_page(
        &self,
        filter: &AuditFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<AuditEvent>, usize), StoreError> {
        let t = self.txn.open_table(AUDIT)?;
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
        let t = self.txn.open_table(AUDIT)?;
        for r in t.iter()? {
            let e: AuditEvent = dec(r?.1.value())?;
            if filter.matches(&e) {
                f(e);
            }
        }
        Ok(())
    }
}

impl Writer {
    pub fn append_audit(&mut self, e: NewAuditEvent) -> Result<u64, StoreError> {
        let id = self.next_id("audit")?;
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
