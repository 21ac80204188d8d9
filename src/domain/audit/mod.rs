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
        })
    }

    /// The whole filtered log as CSV (oldest first).
    pub async fn audit_csv(&self, filter: AuditFilter) -> DomainResult<String> {
        let csv = self
            .store
            .read(move |r| {
                let mut out =
                    String::from("id,time,actor,kind,company_id,outcome,summary,details\n");
                r.audit_each(&filter, |e| {
                    let fields = [
                        e.id.to_string(),
                        e.at.to_rfc3339(),
                        e.actor,
                        e.kind,
                        e.company_id.map(|c| c.to_string()).unwrap_or_default(),
                        e.outcome.as_str().to_string(),
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
                })?;
                Ok::<_, super::DomainError>(out)
            })
            .await?;
        Ok(csv)
    }
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
