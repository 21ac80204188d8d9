//! The home dashboard (#13): every active company in one table, problems first, paged.
//!
//! What it costs: the order reads the active companies' ids from the company name index
//! (keys only, no records) and two small tables that hold only what is wrong now (open
//! incidents, non-zero failure streaks). Everything else is read for the page's rows only,
//! each from a counter or a short range: the company, its last sync report, its contact,
//! device and open-request counters, its jobs that failed in the last 24 hours (the
//! company's `job` audit index walked back to 24 hours ago), its latest compliance summary, and 30
//! daily counts for the sparkline.

use super::alerts::day_of;
use super::sync::identity::SyncReport;
use super::{DomainResult, Services};
use crate::model::{AlertRule, Company, ControlStatus, DailyCount, Incident, JobKind, Verdict};
use crate::store::StoreError;
use crate::store::keys::meta::sync_report as keys_sync_report;
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// How bad a company's state is, for the order: incidents first, then a failed last sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Fine = 0,
    LastSyncFailed = 1,
    Incident = 2,
}

/// One company's row.
#[derive(Debug, Clone)]
pub struct DashboardRow {
    pub company: Company,
    pub severity: Severity,
    pub incidents: Vec<AlertRule>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_sync: Option<Verdict>,
    pub contacts: u64,
    pub devices: u64,
    pub open_requests: u64,
    pub failures_24h: u64,
    /// Passing controls of the latest evidence snapshot, in percent of those evaluated.
    pub compliance_pct: Option<u8>,
    /// Up to 30 days, oldest first.
    pub history: Vec<DailyCount>,
}

/// One page of the dashboard.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub rows: Vec<DashboardRow>,
    /// Active companies.
    pub total: usize,
    /// Of which with a problem (on the first pages).
    pub problems: usize,
    pub page: usize,
    pub per_page: usize,
    /// Incidents of the appliance itself (company 0: certificate expiry, stuck jobs).
    pub appliance_incidents: Vec<Incident>,
}

/// How many days a sparkline covers.
pub const HISTORY_DAYS: i64 = 30;

/// Passing controls in percent of those evaluated (pass or fail).
fn compliance_pct(statuses: &BTreeMap<String, ControlStatus>) -> Option<u8> {
    let pass = statuses
        .values()
        .filter(|s| **s == ControlStatus::Pass)
        .count();
    let fail = statuses
        .values()
        .filter(|s| **s == ControlStatus::Fail)
        .count();
    let n = pass + fail;
    (n > 0).then(|| u8::try_from(pass * 100 / n).unwrap_or(100))
}

impl Services {
    /// One page of the dashboard: problems first (incidents, then a failed last sync), each
    /// group in name order.
    pub async fn dashboard(&self, page: usize, per_page: usize) -> DomainResult<Dashboard> {
        let page = page.max(1);
        let per_page = per_page.clamp(1, 200);
        let now = self.now();
        Ok(self
            .store
            .read(move |r| {
                let ids = r.active_company_ids_by_name()?;
                let incidents = r.open_incidents()?;
                let mut by_company: BTreeMap<u64, Vec<AlertRule>> = BTreeMap::new();
                for i in &incidents {
                    by_company.entry(i.company_id).or_default().push(i.rule);
                }
                let failing: BTreeSet<u64> = r
                    .failing_companies(JobKind::IDENTITY_SYNC)?
                    .into_iter()
                    .map(|(c, _)| c)
                    .collect();
                let severity = |id: &u64| {
                    if by_company.contains_key(id) {
                        Severity::Incident
                    } else if failing.contains(id) {
                        Severity::LastSyncFailed
                    } else {
                        Severity::Fine
                    }
                };
                let mut ordered: Vec<(Severity, u64)> =
                    ids.iter().map(|id| (severity(id), *id)).collect();
                // Stable: within a severity, the name order the index gave.
                ordered.sort_by_key(|o| std::cmp::Reverse(o.0));
                let problems = ordered.iter().filter(|(s, _)| *s != Severity::Fine).count();
                let total = ordered.len();
                let start = (page - 1).saturating_mul(per_page);
                let since = now - Duration::hours(24);
                let from_day = day_of(now) - (HISTORY_DAYS - 1);
                let mut rows = Vec::new();
                for (sev, id) in ordered.into_iter().skip(start).take(per_page) {
                    let Some(company) = r.company(id)? else {
                        continue;
                    };
                    let report: Option<SyncReport> = r.meta(&keys_sync_report(id))?;
                    let (contacts, devices) = r.contact_and_device_counts(id)?;
                    let compliance_pct = r
                        .latest_evidence(id)?
                        .and_then(|s| compliance_pct(&s.statuses));
                    rows.push(DashboardRow {
                        severity: sev,
                        incidents: by_company.get(&id).cloned().unwrap_or_default(),
                        last_sync_at: report.as_ref().and_then(|r| r.finished_at),
                        last_sync: report.map(|r| r.verdict()),
                        contacts,
                        devices,
                        open_requests: r.open_request_count(id)?,
                        failures_24h: r.failures_since(id, since)?,
                        compliance_pct,
                        history: r.daily_counts(id, from_day)?,
                        company,
                    });
                }
                Ok::<_, StoreError>(Dashboard {
                    rows,
                    total,
                    problems,
                    page,
                    per_page,
                    appliance_incidents: incidents
                        .into_iter()
                        .filter(|i| i.company_id == 0)
                        .collect(),
                })
            })
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compliance_counts_pass_against_evaluated_controls() {
        let s: BTreeMap<String, ControlStatus> = [
            ("a", ControlStatus::Pass),
            ("b", ControlStatus::Pass),
            ("c", ControlStatus::Fail),
            ("d", ControlStatus::NotLicensed),
            ("e", ControlStatus::Pass),
            ("f", ControlStatus::Fail),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        // 3 pass, 2 fail; not licensed is not evaluated.
        assert_eq!(compliance_pct(&s), Some(60));
        assert_eq!(compliance_pct(&BTreeMap::new()), None);
    }
}
