//! Views of the jobs pages.

use super::Chrome;
use crate::model::{Job, Verdict};
use crate::web::pager::Pager;
use askama::Template;
use askama_web::WebTemplate;

/// A job with what the pages show next to it.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub job: Job,
    pub company: Option<String>,
    /// Run time ("1m 05s"), empty before the job started.
    pub duration: String,
    /// "contacts: 300 added, 0 updated, 0 deactivated; …".
    pub counts: String,
    /// Who asked, for people: "Ana Diaz", "API token PSA automation", "scheduler".
    pub requested_by: String,
    /// The actor the job's audit entries carry (`staff:ana@msp.example`).
    pub requested_by_actor: String,
    /// How it ended (None while queued or running): the same words everywhere.
    pub verdict: Option<Verdict>,
}

impl JobRow {
    /// The kind in words ("Identity sync"); an unknown kind as it is stored.
    pub fn kind_words(&self) -> &str {
        crate::model::JobKind::KNOWN
            .iter()
            .find(|(k, _)| *k == self.job.kind.as_str())
            .map_or(self.job.kind.as_str(), |(_, w)| w)
    }

    /// The audit log's entries of this run: the company's sync entries from the minute it
    /// started to the minute after it ended (entries carry the job id in their details).
    pub fn audit_url(&self) -> Option<String> {
        let company = self.job.company_id?;
        let from = self.job.started_at.unwrap_or(self.job.created_at);
        let mut url = format!(
            "/audit?company={company}&kind=sync&from_at={}",
            from.format("%Y-%m-%dT%H:%M")
        );
        if let Some(to) = self.job.finished_at {
            let to = to + chrono::Duration::minutes(1);
            url.push_str(&format!("&to_at={}", to.format("%Y-%m-%dT%H:%M")));
        }
        Some(url)
    }

    /// The job's counts with their names in words (`assets_created` → "assets created").
    pub fn count_rows(&self) -> Vec<(String, u64)> {
        self.job
            .counts
            .iter()
            .map(|(k, v)| (k.replace('_', " "), *v))
            .collect()
    }
}

/// A choice in a filter's select list.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn list(all: Vec<(String, String)>, current: &str) -> Vec<Choice> {
        all.into_iter()
            .map(|(value, label)| Choice {
                selected: value == current,
                value,
                label,
            })
            .collect()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "jobs/list.html")]
pub struct JobsPage {
    pub chrome: Chrome,
    pub rows: Vec<JobRow>,
    pub pager: Pager,
    pub companies: Vec<Choice>,
    pub states: Vec<Choice>,
    pub kinds: Vec<Choice>,
    /// Any filter set.
    pub filtered: bool,
    /// A job on this page is queued or running: the page reloads until none is.
    pub refresh: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "jobs/detail.html")]
pub struct JobPage {
    pub chrome: Chrome,
    pub row: JobRow,
    /// Pretty JSON, empty when the job has no parameters.
    pub params: String,
    /// Queued or running: the page reloads itself every few seconds.
    pub refresh: bool,
    /// A queued job waiting for its backoff: when it runs next.
    pub waiting: Option<String>,
}
