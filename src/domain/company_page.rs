//! What the company pages read besides their lists, each in one snapshot: the company page's
//! header (the company, its tab counts, last sync, gap counts, running sync) and the last sync
//! of every row of the companies list.
//!
//! Why one read each: every `Store::read` is a hop to the blocking pool and a read
//! transaction. Under 50 connections on 2 cores those hops, not the counter reads themselves,
//! were most of a page's cost (ten hops for a company's tab, 53 for a page of `/companies`).

use super::assets::views::gap_counts;
use super::directory::GROUP_CHOICES;
use super::sync::identity::SyncReport;
use super::{DomainError, DomainResult, Services};
use crate::model::{Company, GapCounts, Job, JobKind};
use crate::store::keys;
use std::collections::HashMap;

/// The company page's header and tab badges.
#[derive(Debug, Clone)]
pub struct CompanyHead {
    pub company: Company,
    /// Contacts and assets of the company (the tabs' counts).
    pub contact_count: usize,
    pub asset_count: usize,
    /// The last identity sync's report, if it ever synced.
    pub report: Option<SyncReport>,
    /// The Assets tab's review badge, its sub-tabs, the overview's gaps.
    pub gap_counts: GapCounts,
    /// The identity sync queued or running for the company, if any.
    pub sync_job: Option<Job>,
    /// The contacts tab's group filter choices (see [`Services::group_choices`]), read in
    /// the same snapshot when asked for: one hop fewer on every contacts tab view.
    pub group_choices: Option<Vec<(u64, String)>>,
}

impl Services {
    /// The company page's header, in one read (404 for an unknown company), with the group
    /// filter's choices when `with_group_choices` (the contacts tab).
    pub async fn company_head(
        &self,
        company_id: u64,
        with_group_choices: bool,
    ) -> DomainResult<CompanyHead> {
        let job_key = Job::active_key(&JobKind::new(JobKind::IDENTITY_SYNC), Some(company_id));
        let report_key = keys::meta::sync_report(company_id);
        self.store
            .read(move |r| {
                let company = r
                    .company(company_id)?
                    .ok_or(DomainError::NotFound("company"))?;
                // The unfiltered lists' counters (what the tabs' lists total), no row read.
                Ok::<_, DomainError>(CompanyHead {
                    company,
                    contact_count: r.contact_count(Some(company_id))? as usize,
                    asset_count: r.asset_count(Some(company_id))? as usize,
                    report: r.meta(&report_key)?,
                    gap_counts: gap_counts(r, company_id)?,
                    sync_job: r.active_job(&job_key)?.filter(|j| j.state.is_active()),
                    group_choices: if with_group_choices {
                        Some(r.group_choices(company_id, GROUP_CHOICES)?)
                    } else {
                        None
                    },
                })
            })
            .await
    }

    /// The last identity sync report of each company in `ids` (a list page's rows), in one
    /// read; companies that never synced are left out.
    pub async fn sync_reports(
        &self,
        ids: impl IntoIterator<Item = u64>,
    ) -> DomainResult<HashMap<u64, SyncReport>> {
        let ids: Vec<u64> = ids.into_iter().collect();
        self.store
            .read(move |r| {
                let mut out = HashMap::with_capacity(ids.len());
                for id in ids {
                    if let Some(report) = r.meta::<SyncReport>(&keys::meta::sync_report(id))? {
                        out.insert(id, report);
                    }
                }
                Ok::<_, DomainError>(out)
            })
            .await
    }
}
