//! Settings → Authentication (staff sign-in) and a company's Support Portal → Authentication.

use super::Chrome;
use crate::domain::sso::StaffSso;
use crate::model::{Company, PortalSettings};
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "settings/authentication.html")]
pub struct StaffSsoPage {
    pub chrome: Chrome,
    pub sso: StaffSso,
    pub msp_tenant: Option<String>,
    pub redirect_uri: String,
    pub error: String,
}

/// One contact group as a choice on the portal page.
pub struct GroupChoice {
    pub id: u64,
    pub name: String,
    pub members: u64,
    pub allowed: bool,
    pub admin: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "companies/portal.html")]
pub struct PortalAuthPage {
    pub chrome: Chrome,
    pub company: Company,
    pub settings: PortalSettings,
    pub portal_url: String,
    pub redirect_uri: String,
    pub groups: Vec<GroupChoice>,
    pub error: String,
}

/// One company's portal on PSA → Support Portal.
pub struct PortalRow {
    pub company: Company,
    pub settings: PortalSettings,
    pub url: String,
}

/// PSA → Support Portal: every active company's portal, linking to its Authentication tab.
#[derive(Template, WebTemplate)]
#[template(path = "companies/portals.html")]
pub struct PortalListPage {
    pub chrome: Chrome,
    pub rows: Vec<PortalRow>,
    pub pager: crate::web::pager::Pager,
}
