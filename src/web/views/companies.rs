use super::Chrome;
use super::directory::{AssetRow, ContactRow, Table};
use crate::domain::sync::identity::SyncReport;
use crate::model::{AuditEvent, Company, Job};
use crate::web::pager::Pager;
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template)]
#[template(path = "companies/list.html")]
pub struct CompaniesPage {
    pub chrome: Chrome,
    pub rows: Vec<CompanyListRow>,
    pub archived: bool,
    pub pager: Pager,
}

#[derive(Template, WebTemplate)]
#[template(path = "companies/form.html")]
pub struct CompanyFormPage {
    pub chrome: Chrome,
    pub id: Option<u64>,
    pub name: String,
    pub domain: String,
    pub notes: String,
    pub error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "companies/confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    pub company: Company,
    pub archive: bool,
    pub verb: &'static str,
}

#[derive(Template)]
#[template(path = "companies/detail.html")]
pub struct CompanyPage {
    pub chrome: Chrome,
    pub company: Company,
    pub tab: &'static str,
    pub contact_count: usize,
    pub asset_count: usize,
    /// Gap and review counts (Level.io merge), for the Assets tab and the overview.
    pub asset_counts: Option<crate::model::GapCounts>,
    /// Which asset sub-tab is shown: "all", "no_agent", "unmanaged" (the sub-tabs include).
    pub sub: &'static str,
    pub recent: Vec<AuditEvent>,
    pub contacts: Option<Table<ContactRow>>,
    pub assets: Option<Table<AssetRow>>,
    pub groups: Option<Table<GroupRow>>,
    pub show_company: bool,
    /// Last identity sync (None before the first).
    pub report: Option<SyncReport>,
    /// The sync queued or running now.
    pub job: Option<Job>,
    /// The company's last runs (overview tab), newest first, paged.
    pub history: Vec<super::jobs::JobRow>,
    pub history_pager: Option<Pager>,
}

/// A contact group on the company's Groups tab, with the portal rule that uses it.
pub struct GroupRow {
    pub group: crate::model::ContactGroup,
    /// "Allowed into the portal", "Portal admins", both, or empty.
    pub portal_rule: String,
}

/// A company on the list, with how long ago its last sync ended and how it went.
pub struct CompanyListRow {
    pub company: Company,
    /// "3 h ago", "2 d ago"; empty before the first sync.
    pub last_sync_age: String,
    /// How that sync ended, in the one vocabulary (None before the first).
    pub last_sync: Option<crate::model::Verdict>,
}

// The list pages answer through pooled buffers (see `web::body`).
crate::web::body::pooled_page!(CompaniesPage, CompanyPage);
