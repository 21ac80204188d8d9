//! How a collection ends: the snapshot, its summary, the latest pointer and the audit entry in
//! one write transaction; or a failure recorded with Graph's answer and nothing stored.

use std::collections::BTreeMap;

use super::run::Stop;
use crate::domain::entra::graph_error_details;
use crate::domain::jobs::RunResult;
use crate::domain::{DomainError, Services};
use crate::graph::GraphErrorKind;
use crate::model::{Company, EvidenceSnapshot, Job, NewAuditEvent};
use crate::store::keys;
use chrono::{DateTime, Utc};

impl Services {
    /// Evaluate, then store the snapshot, its summary, the company's latest pointer and the
    /// audit entry in one transaction.
    pub(super) async fn store_snapshot(
        &self,
        company: &Company,
        job: &Job,
        started: DateTime<Utc>,
        mut snapshot: EvidenceSnapshot,
    ) -> RunResult {
        let company_id = company.id;
        let previous = match self
            .store
            .read(move |r| {
                let latest = r.latest_evidence(company_id)?;
                match latest {
                    Some(l) => r.evidence_snapshot(company_id, l.id),
                    None => Ok(None),
                }
            })
            .await
        {
            Ok(p) => p,
            Err(e) => {
                return RunResult::Retry(format!("could not read the previous snapshot: {e}"));
            }
        };
        let by = job.requester();
        let finished = self.now();
        let secs = (finished - started).num_milliseconds() as f64 / 1000.0;
        let name = company.name.clone();
        let trigger = job.trigger.as_str().to_string();
        let job_id = job.id;
        // Evaluated before the write transaction (pure, but not free on a large tenant), so
        // the writer lock is held only for the writes; the id is known only inside it.
        let mut summary =
            crate::domain::evidence::frameworks::summarize(&snapshot, previous.as_ref());
        let warnings = snapshot_warnings(&snapshot);
        let audit_warnings = warnings.clone();
        let saved = self
            .store
            .write(move |w| {
                snapshot.id = w.next_id(keys::seq::EVIDENCE_SNAPSHOT)?;
                summary.id = snapshot.id;
                let failing: Vec<&str> = summary
                    .statuses
                    .iter()
                    .filter(|(_, s)| **s == crate::model::ControlStatus::Fail)
                    .map(|(id, _)| id.as_str())
                    .collect();
                let text = format!(
                    "Evidence collected for {name} (by {}): snapshot #{}, {} control(s) passing, {} failing{} in {secs:.1}s",
                    by.name,
                    snapshot.id,
                    summary.statuses.values().filter(|s| **s == crate::model::ControlStatus::Pass).count(),
                    failing.len(),
                    if failing.is_empty() { String::new() } else { format!(" ({})", failing.join(", ")) },
                );
                w.put_evidence_snapshot(&snapshot, &summary)?;
                w.append_audit(
                    NewAuditEvent::new(finished, by.actor.clone(), "sync.evidence", &text)
                        .company(company_id)
                        .details(serde_json::json!({
                            "job_id": job_id, "trigger": trigger, "requested_by": by.actor.0,
                            "snapshot_id": snapshot.id, "duration_secs": secs,
                            "statuses": summary.statuses, "payloads": snapshot.payloads.len(),
                        }))
                        .warned(&audit_warnings),
                )?;
                let mut counts = BTreeMap::new();
                counts.insert("snapshot_id".to_string(), snapshot.id);
                counts.insert("graph_reads".to_string(), snapshot.payloads.len() as u64);
                for s in summary.statuses.values() {
                    *counts.entry(format!("controls_{}", s.as_str())).or_insert(0) += 1;
                }
                Ok::<_, DomainError>((counts, text))
            })
            .await;
        match saved {
            Ok((counts, summary)) => {
                // The job reads "succeeded with warnings" like identity sync's: a licence the
                // tenant lacks in a neutral tone, a missing permission as a warning to act on.
                for w in warnings {
                    self.add_job_warning(job_id, w).await;
                }
                RunResult::Succeeded { counts, summary }
            }
            Err(e) => RunResult::Retry(format!("could not store the snapshot: {e}")),
        }
    }

    pub(super) async fn fail_collection(
        &self,
        company: &Company,
        job: &Job,
        started: DateTime<Utc>,
        stop: Stop,
    ) -> RunResult {
        let (msg, mut details, retry) = match &stop {
            Stop::Graph(source, g) => (
                format!("{source}: {g}"),
                graph_error_details(g),
                !matches!(g.kind, GraphErrorKind::Auth(_)),
            ),
            Stop::Domain(d) => (
                d.to_string(),
                serde_json::json!({"error": d.to_string()}),
                true,
            ),
        };
        let secs = (self.now() - started).num_milliseconds() as f64 / 1000.0;
        let by = job.requester();
        if let Some(obj) = details.as_object_mut() {
            obj.insert("trigger".into(), job.trigger.as_str().into());
            obj.insert("job_id".into(), job.id.into());
            obj.insert("requested_by".into(), by.actor.0.clone().into());
            obj.insert("duration_secs".into(), secs.into());
        }
        let summary = format!(
            "Evidence collection for {} failed ({}): {msg}; no snapshot was stored",
            company.name,
            job.trigger.as_str()
        );
        let _ = self
            .record(
                NewAuditEvent::new(self.now(), by.actor.clone(), "sync.evidence", &summary)
                    .company(company.id)
                    .failed()
                    .details(details),
            )
            .await;
        if retry {
            RunResult::Retry(msg)
        } else {
            RunResult::Abort(msg)
        }
    }
}

/// What a complete collection still lacks, in the one outcome vocabulary (`model::outcome`):
/// Entra ID P1 or Intune not licensed (neutral), a permission missing from the consent.
fn snapshot_warnings(s: &EvidenceSnapshot) -> Vec<crate::model::SyncWarning> {
    use crate::model::{Collected, SyncWarning};
    fn not_licensed<T>(c: &Collected<T>) -> bool {
        matches!(c, Collected::NotLicensed { .. })
    }
    let mut out = Vec::new();
    if not_licensed(&s.ca_policies) || not_licensed(&s.registration) {
        out.push(SyncWarning::p1_not_licensed());
    }
    if not_licensed(&s.devices) || not_licensed(&s.compliance_policies) {
        out.push(SyncWarning::intune_not_licensed());
    }
    let mut missing: Vec<&str> = [
        permission_of(&s.licences),
        permission_of(&s.security_defaults),
        permission_of(&s.ca_policies),
        permission_of(&s.admins),
        permission_of(&s.registration),
        permission_of(&s.compliance_policies),
        permission_of(&s.devices),
    ]
    .into_iter()
    .flatten()
    .collect();
    missing.sort_unstable();
    missing.dedup();
    for p in missing {
        out.push(SyncWarning::other(format!(
            "Permission {p} missing from the consent: grant it and consent again"
        )));
    }
    out
}

fn permission_of<T>(c: &crate::model::Collected<T>) -> Option<&str> {
    match c {
        crate::model::Collected::MissingPermission { permission, .. } => Some(permission),
        _ => None,
    }
}
