//! Reading the audit log (writing happens inside each use-case's own transaction), the
//! aggregation of anonymous failures (see `refusals`) and retention (see `retention`).

mod refusals;
mod retention;

pub use refusals::RefusalSummaries;
pub use retention::AuditRetention;

use super::{DomainResult, Services};
use crate::model::{AuditEvent, AuditFilter, NewAuditEvent, Page};

impl Services {
    /// Record an event on its own (for changes that have no other write, e.g. a failed
    /// sign-in). A failure of an anonymous client may only be counted toward its minute's
    /// summary; summaries that are due are written first.
    pub async fn record(&self, e: NewAuditEvent) -> DomainResult<()> {
        let now = self.now();
        let (write, mut batch) = if refusals::is_anonymous_failure(&e) {
            self.refusals.observe(&e, now)
        } else {
            (true, self.refusals.due(now, false))
        };
        if write {
            batch.push(e);
        }
        self.append_all(batch).await
    }

    /// Write the summaries of anonymous failures whose minute is over (called periodically,
    /// so a flood that stopped still gets its summary). Returns how many were written.
    pub async fn flush_refusal_summaries(&self) -> DomainResult<usize> {
        let due = self.refusals.due(self.now(), false);
        let n = due.len();
        self.append_all(due).await?;
        Ok(n)
    }

    /// Write every summary counted so far, the current minute's included (at shutdown).
    pub async fn flush_all_refusal_summaries(&self) -> DomainResult<usize> {
        let due = self.refusals.due(self.now(), true);
        let n = due.len();
        self.append_all(due).await?;
        Ok(n)
    }

    async fn append_all(&self, events: Vec<NewAuditEvent>) -> DomainResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        // Counted failures exist nowhere else: if they cannot be written, the log has them.
        let lines: Vec<String> = events.iter().map(|e| e.summary.clone()).collect();
        let written = self
            .store
            .write(move |w| {
                for e in events {
                    w.append_audit(e)?;
                }
                Ok::<_, super::DomainError>(())
            })
            .await;
        if let Err(e) = &written {
            tracing::error!(error = %e, unwritten = ?lines, "audit entries could not be written");
        }
        written
    }

    pub async fn audit_page(
        &self,
        filter: AuditFilter,
        page: usize,
        per_page: usize,
    ) -> DomainResult<Page<AuditEvent>> {
        let page = page.max(1);
        let per_page = per_page.clamp(1, 500);
        let (items, total) = self
            .store
            .read(move |r| r.audit_page(&filter, (page - 1).saturating_mul(per_page), per_page))
            .await?;
        Ok(Page {
            items,
            total,
            page,
            per_page,
            next_cursor: None,
            total_is_lower_bound: false,
        })
    }

    /// A page of the filtered log for the pager: newest first (`dir` asc, the log's natural
    /// order) or oldest first (`dir=desc`, how the pager reads backwards), after `q.after`
    /// (an event id: keyset paging) when given, else at `q.page`. Costs its page and
    /// counters for every filter (see `store::audit_window`).
    pub async fn audit_list(
        &self,
        filter: AuditFilter,
        q: crate::model::ListQuery,
    ) -> DomainResult<Page<AuditEvent>> {
        let after = q
            .after
            .as_deref()
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes);
        let newest_first = q.dir == crate::model::SortDir::Asc;
        let (offset, limit) = (q.offset(), q.per_page);
        let page = self
            .store
            .read(move |r| r.audit_list(&filter, after, newest_first, offset, limit))
            .await?;
        Ok(q.page_of(page.events, page.total)
            .with_next(page.next.map(|id| id.to_be_bytes().to_vec())))
    }

    /// The whole filtered log as CSV in the page's order (newest first), companies by name.
    /// Written in chunks on the blocking pool while the answer is being sent, so a large log
    /// is never held whole in memory; the export stops when the receiver is dropped.
    pub fn audit_csv_chunks(
        &self,
        filter: AuditFilter,
    ) -> tokio::sync::mpsc::Receiver<DomainResult<String>> {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let store = self.store.clone();
        tokio::spawn(async move {
            let rows = tx.clone();
            let read = store
                .read(move |r| {
                    let mut names: std::collections::HashMap<u64, String> =
                        std::collections::HashMap::new();
                    let mut buf = String::from(CSV_HEADER);
                    let mut open = true;
                    r.audit_each_newest(&filter, |e| {
                        let company = match e.company_id {
                            None => String::new(),
                            Some(id) => names
                                .entry(id)
                                .or_insert_with(|| {
                                    r.company(id)
                                        .ok()
                                        .flatten()
                                        .map_or_else(|| format!("Company #{id}"), |c| c.name)
                                })
                                .clone(),
                        };
                        push_csv_row(&mut buf, e, &company);
                        if buf.len() >= CSV_CHUNK {
                            open = rows.blocking_send(Ok(std::mem::take(&mut buf))).is_ok();
                        }
                        open
                    })?;
                    if open && !buf.is_empty() {
                        let _ = rows.blocking_send(Ok(buf));
                    }
                    Ok::<_, super::DomainError>(())
                })
                .await;
            if let Err(e) = read {
                tracing::error!(error = %e, "audit CSV export stopped");
                let _ = tx.send(Err(e)).await;
            }
        });
        rx
    }
}

const CSV_HEADER: &str = "id,time,actor,kind,company,outcome,summary,details\n";
/// Bytes per chunk sent to the client.
const CSV_CHUNK: usize = 64 * 1024;

/// One event as a CSV line; `outcome` in the words of `model::Verdict` (`succeeded`,
/// `succeeded_with_warnings`, `failed`), like the page and the jobs.
fn push_csv_row(out: &mut String, e: AuditEvent, company: &str) {
    let outcome = crate::model::Verdict::of_audit(&e).outcome.as_str();
    let fields = [
        e.id.to_string(),
        e.at.to_rfc3339(),
        e.actor,
        e.kind,
        company.to_string(),
        outcome.to_string(),
        e.summary,
        if e.details.is_null() {
            String::new()
        } else {
            e.details.to_string()
        },
    ];
    let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&row.join(","));
    out.push('\n');
}

/// Quote a CSV field (RFC 4180), and defuse spreadsheet formulas (a leading = + - @ would be
/// evaluated by Excel when an MSP opens the export).
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(super::csv_field("a,b"), "\"a,b\"");
        assert_eq!(super::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::csv_field("=SUM(A1)"), "'=SUM(A1)");
    }
}
