//! Views of the jobs pages.

use super::Chrome;
use crate::model::Job;
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
}

impl JobRow {
    /// The job's counts with their names in words (`assets_created` → "assets created").
    pub fn count_rows(&self) -> Vec<(String, u64)> {
        self.job
            .counts
            .iter()
            .map(|(k, v)| (k.replace('_', " "), *v))
            .collect()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "jobs/list.html")]
pub struct JobsPage {
    pub chrome: Chrome,
    pub rows: Vec<JobRow>,
    pub pager: Pager,
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
