use super::Chrome;
use crate::domain::consent::MspTenant;
use crate::domain::entra::EntraAppView;
use crate::model::Job;
use askama::Template;
use askama_web::WebTemplate;

pub struct TenantRow {
    pub company_id: u64,
    pub company: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub connected: bool,
    pub archived: bool,
    pub last_sync: String,
    pub ok: bool,
    pub summary: String,
    pub job: Option<Job>,
}

#[derive(Template, WebTemplate)]
#[template(path = "entra/settings.html")]
pub struct EntraPage {
    pub chrome: Chrome,
    pub app: EntraAppView,
    pub msp: Option<MspTenant>,
    pub redirect_uri: String,
    pub signin_redirect_uri: String,
    pub permissions: Vec<(&'static str, &'static str)>,
    pub tenants: Vec<TenantRow>,
    pub next_identity: String,
    pub next_evidence: String,
    pub refresh: bool,
    pub error: String,
}
