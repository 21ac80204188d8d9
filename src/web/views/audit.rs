//! Views of the audit pages.

use super::Chrome;
use crate::model::AuditEvent;
use crate::web::pager::Pager;
use askama::Template;
use askama_web::WebTemplate;

/// One event with its company's name and its details pretty-printed.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// How it ended, in the words the jobs and company pages use.
    pub verdict: crate::model::Verdict,
    pub event: AuditEvent,
    pub company: Option<String>,
    /// Pretty JSON, empty when the event has no details.
    pub details: String,
}

/// A choice in the company filter.
#[derive(Debug, Clone)]
pub struct CompanyOption {
    pub id: u64,
    pub name: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit/list.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub rows: Vec<AuditRow>,
    pub pager: Pager,
    pub companies: Vec<CompanyOption>,
    /// The Kind filter's list (the current kind is in it even when not a known one).
    pub kinds: Vec<super::jobs::Choice>,
    /// `any`, `success`, `warning` or `failure`.
    pub outcome: &'static str,
    pub from: String,
    pub to: String,
    pub from_at: String,
    pub to_at: String,
    /// Whether any filter is set.
    pub filtered: bool,
    pub csv_url: String,
}
