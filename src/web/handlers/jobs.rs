//! The Jobs page: recent runs (newest first, paged) and one job's detail. A job that is
//! still queued or running refreshes its own page every few seconds (no script needed).

use crate::model::{Job, JobFilter, JobKind, JobState, ListQuery, Requester, Verdict};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::ids::Id;
use crate::web::pager::{self, ListParams, Pager};
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::jobs::{Choice, JobPage, JobRow, JobsPage};
use actix_web::web;
use chrono::{DateTime, Utc};
use serde::Deserialize;

const PER_PAGE: usize = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/jobs", web::get().to(jobs_get))
        .route("/jobs/{id}", web::get().to(job_get));
}

#[derive(Deserialize)]
struct JobsQ {
    page: Option<String>,
    per_page: Option<String>,
    company: Option<String>,
    state: Option<String>,
    kind: Option<String>,
    /// Cursor links of the shared pager (see `web::pager`).
    cursor: Option<String>,
    before: Option<String>,
    last: Option<String>,
}

/// The filter's query string (`company=1&state=failed`), empty when none is set.
fn filter_query(f: &JobFilter) -> String {
    let mut parts = Vec::new();
    if let Some(c) = f.company_id {
        parts.push(format!("company={c}"));
    }
    if let Some(s) = f.state {
        parts.push(format!("state={}", s.as_str()));
    }
    if let Some(k) = &f.kind {
        parts.push(format!("kind={k}"));
    }
    parts.join("&")
}

fn parse_n(name: &str, v: Option<&str>, default: usize) -> Result<usize, WebError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => s.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            WebError::BadRequest(format!("“{name}” {s:?} is not a number of 1 or more."))
        }),
    }
}

/// "1m 05s" style; seconds only under a minute.
fn human_secs(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// How long the job took, or has been running so far.
fn duration(job: &Job, now: DateTime<Utc>) -> String {
    match (job.started_at, job.finished_at) {
        (Some(s), Some(f)) => human_secs((f - s).num_seconds()),
        (Some(s), None) if job.state == JobState::Running => {
            format!("{} so far", human_secs((now - s).num_seconds()))
        }
        _ => String::new(),
    }
}

fn counts_summary(job: &Job) -> String {
    crate::model::counts_in_words(&job.counts, &["contacts", "groups", "assets"])
}

/// Who asked, as the pages say it: a person by name, a token as a token (its name alone
/// could pass for a person's), the scheduler or the system as themselves.
fn requester_label(r: &Requester) -> String {
    if r.actor.0.starts_with("api:") {
        format!("API token {}", r.name)
    } else {
        r.name.clone()
    }
}

/// A job with what the Jobs page, a job's page and a company's sync history show beside it.
pub(crate) fn row(
    job: Job,
    names: &std::collections::HashMap<u64, String>,
    now: DateTime<Utc>,
) -> JobRow {
    let by = job.requester();
    JobRow {
        requested_by: requester_label(&by),
        requested_by_actor: by.actor.0,
        company: job.company_id.map(|id| {
            names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("Company #{id}"))
        }),
        duration: duration(&job, now),
        counts: counts_summary(&job),
        verdict: Verdict::of_job(&job),
        job,
    }
}

async fn jobs_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<JobsQ>,
) -> Result<JobsPage, WebError> {
    let page_n = parse_n("page", q.page.as_deref(), 1)?;
    let per_page =
        parse_n("per_page", q.per_page.as_deref(), PER_PAGE)?.min(ListQuery::MAX_PER_PAGE);
    let filter = JobFilter::parse(q.company.as_deref(), q.state.as_deref(), q.kind.as_deref())
        .map_err(WebError::BadRequest)?;
    let query = filter_query(&filter);
    // Newest first is the list's only order, so no sort or direction is taken from the link.
    let params = ListParams {
        page: Some(page_n),
        per_page: Some(per_page),
        cursor: q.cursor.clone(),
        before: q.before.clone(),
        last: q.last.clone(),
        ..ListParams::default()
    };
    let services = &st.services;
    let wanted = filter.clone();
    let (list, page, cursors) =
        pager::fetch(&params, move |q| services.jobs_list(wanted.clone(), q)).await?;
    let choices = st.services.company_choices().await?;
    let names: std::collections::HashMap<u64, String> = choices.iter().cloned().collect();
    let now = st.services.now();
    let base = if query.is_empty() {
        "/jobs".to_string()
    } else {
        format!("/jobs?{query}")
    };
    let pager = Pager::new(&base, &list, &page).with(&cursors);
    let refresh = page.items.iter().any(|j| j.state.is_active());
    let mut rows = Vec::with_capacity(page.items.len());
    for j in page.items {
        rows.push(row(j, &names, now));
    }
    let current = |v: Option<String>| v.unwrap_or_default();
    Ok(JobsPage {
        chrome: Chrome::new(&staff, "jobs", None),
        rows,
        pager,
        companies: Choice::list(
            choices
                .into_iter()
                .map(|(id, name)| (id.to_string(), name))
                .collect(),
            &current(filter.company_id.map(|c| c.to_string())),
        ),
        states: Choice::list(
            JobState::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), s.as_str().to_string()))
                .collect(),
            filter.state.map(|s| s.as_str()).unwrap_or(""),
        ),
        kinds: Choice::list(
            JobKind::KNOWN
                .iter()
                .map(|(k, l)| (k.to_string(), l.to_string()))
                .collect(),
            filter.kind.as_deref().unwrap_or(""),
        ),
        filtered: !query.is_empty(),
        refresh,
    })
}

async fn job_get(
    staff: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> Result<JobPage, WebError> {
    let job = st.services.job(id.get()).await?;
    let names = st.services.company_names(job.company_id).await?;
    let now = st.services.now();
    let params = if job.params.is_null() {
        String::new()
    } else {
        serde_json::to_string_pretty(&job.params).unwrap_or_default()
    };
    let refresh = job.state.is_active();
    let waiting = (job.state == JobState::Queued && job.run_after > now).then(|| {
        format!(
            "{} (in {})",
            job.run_after.format("%Y-%m-%d %H:%M:%S UTC"),
            human_secs((job.run_after - now).num_seconds())
        )
    });
    Ok(JobPage {
        chrome: Chrome::new(&staff, "jobs", None),
        row: row(job, &names, now),
        params,
        refresh,
        waiting,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(super::human_secs(4), "4s");
        assert_eq!(super::human_secs(65), "1m 05s");
        assert_eq!(super::human_secs(7260), "2h 01m");
    }
}
