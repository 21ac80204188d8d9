//! The client support portal's views. Every signed-in portal page carries a [`PortalChrome`].

use crate::domain::portal::PortalSignedIn;
use askama::Template;
use askama_web::WebTemplate;

/// The portal layout's data: whose portal, who is signed in, the CSRF token for sign-out.
#[derive(Debug, Clone)]
pub struct PortalChrome {
    pub company_name: String,
    pub slug: String,
    pub display_name: String,
    pub csrf: String,
    pub is_portal_admin: bool,
    /// "home", "devices", "requests"
    pub section: &'static str,
    pub notice: &'static str,
}

impl PortalChrome {
    /// From the signed-in portal user (the domain's record, so views need nothing from the
    /// portal's handlers).
    pub fn new(user: &PortalSignedIn, section: &'static str, notice: Option<&str>) -> Self {
        Self {
            company_name: user.company.name.clone(),
            slug: user.settings.slug.clone(),
            display_name: user.contact.display_name.clone(),
            csrf: user.session.csrf_token.clone(),
            is_portal_admin: user.is_portal_admin,
            section,
            notice: notice.map(portal_notice).unwrap_or_default(),
        }
    }
}

/// Fixed notice codes only (see `views::notice_text` for why).
fn portal_notice(code: &str) -> &'static str {
    match code {
        "request_created" => "Your request was sent to your IT provider.",
        "reply_sent" => "Reply sent.",
        "request_closed" => "Request closed.",
        _ => "",
    }
}

/// The sign-in page of a company's portal (also shows why a sign-in was refused).
#[derive(Template, WebTemplate)]
#[template(path = "portal/signin.html")]
pub struct PortalSignInPage {
    pub company_name: String,
    pub slug: String,
    pub csrf: String,
    pub sso_enabled: bool,
    pub error: String,
    pub notice: String,
}

/// One device of the signed-in user, with what its compliance state means.
pub struct DeviceRow {
    pub hostname: String,
    pub os: String,
    pub serial_number: String,
    pub compliance_state: String,
    pub meaning: &'static str,
    pub last_check_in: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/home.html")]
pub struct PortalHomePage {
    pub portal: PortalChrome,
    pub display_name: String,
    pub email: String,
    pub upn: String,
    pub department: String,
    pub job_title: String,
    pub groups: Vec<String>,
    pub devices: Vec<DeviceRow>,
    pub synced_at: String,
}
