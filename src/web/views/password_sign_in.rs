use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    pub csrf: String,
    pub next: String,
    pub email: String,
    pub error: String,
    /// Staff sign-in with Microsoft is on: show its button.
    pub sso_enabled: bool,
    /// Password sign-in is allowed for this request (see "only from this machine").
    pub password_allowed: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/setup.html")]
pub struct SetupPage {
    pub csrf: String,
    pub token: String,
    pub email: String,
    pub display_name: String,
    pub error: String,
}
