//! The look of the simulated login host's HTML pages (account picker, admin consent, error):
//! one inline stylesheet, a viewport tag, and a banner that says the page is simulated.
//!
//! WHY inline: the pages come from the simulator's own origin, which serves no static files,
//! and a person following the README in a phone-sized window must be able to read them and
//! must never mistake them for Microsoft's real sign-in.

use actix_web::HttpResponse;

/// Said on every page, so nobody types a real password into the simulator.
pub const SIMULATED: &str = "Simulated Microsoft sign-in — no real account is used";

/// Small, readable from 320 px up; long ids and URIs wrap instead of widening the page.
const STYLE: &str = "\
*,*::before,*::after{box-sizing:border-box}\
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\
body{margin:0;background:#f2f2f2;color:#1b1b1b;font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif}\
.sim{margin:0;padding:.5rem 1rem;background:#fff4ce;border-bottom:1px solid #e6d28a;text-align:center;font-size:.9rem}\
main{max-width:440px;margin:2rem auto;padding:1.75rem 1.5rem;background:#fff;border:1px solid #ddd;box-shadow:0 2px 6px rgba(0,0,0,.08);overflow-wrap:anywhere}\
@media (max-width:480px){main{margin:0;border:0;box-shadow:none}}\
.logo{font-weight:600;color:#5e5e5e;margin:0 0 1rem;letter-spacing:.02em}\
h1{font-size:1.4rem;font-weight:600;margin:0 0 1rem;line-height:1.3}\
p{margin:0 0 .8rem}\
small,.muted{color:#5e5e5e}\
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;background:#f3f3f3;padding:0 .2em}\
a{color:#0067b8}\
ul.accounts{list-style:none;margin:0 0 1rem;padding:0;border-top:1px solid #e5e5e5}\
ul.accounts li{border-bottom:1px solid #e5e5e5}\
a.account{display:block;padding:.7rem .5rem;color:#1b1b1b;text-decoration:none}\
a.account:hover,a.account:focus{background:#f2f2f2}\
a.account small{display:block}\
ul.perms{margin:0 0 1rem;padding-left:1.2rem}\
.buttons{display:flex;flex-wrap:wrap;gap:.5rem;justify-content:flex-end;margin-top:1.25rem}\
.buttons p{margin:0}\
a.button{display:inline-block;min-width:108px;padding:.45rem 1rem;text-align:center;text-decoration:none;border:1px solid #8a8886;color:#1b1b1b;background:#fff}\
a.button.primary{background:#0067b8;border-color:#0067b8;color:#fff}\
a.button:focus-visible,a.account:focus-visible{outline:2px solid #1b1b1b;outline-offset:2px}\
.error{color:#a80000}\
";

/// A whole page: the banner, then `body` in a card.
pub fn html(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\
         <p class=\"sim\" role=\"note\">{SIMULATED}</p>\
         <main><p class=\"logo\">Microsoft (simulated)</p>{body}</main></body></html>",
        esc(title)
    )
}

/// A 200 HTML answer.
pub fn ok(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html(title, body))
}

/// HTML escaping for text and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `scheme://host[:port]` of an http(s) URI; None for anything else (a `javascript:` or
/// relative "URI" is never turned into a link).
pub fn origin_of(uri: &str) -> Option<String> {
    let u = url::Url::parse(uri).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let origin = u.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Where an error page sends the person back to. Entra shows these errors on its own page
/// instead of redirecting (the redirect URI is unknown or not to be trusted yet), so without
/// a link the person is stuck on the login host.
pub enum Back {
    /// The application's own site: the origin of a redirect URI registered for it.
    App {
        name: String,
        origin: String,
    },
    /// Only the (unverified) address the request came with.
    Unverified(String),
    Nowhere,
}

impl Back {
    /// The app's site, from a redirect URI already checked against its registration.
    pub fn app(name: &str, redirect_uri: &str) -> Back {
        match origin_of(redirect_uri) {
            Some(origin) => Back::App {
                name: name.to_string(),
                origin,
            },
            None => Back::Nowhere,
        }
    }

    fn link(&self) -> String {
        match self {
            Back::App { name, origin } => format!(
                "<p><a id=\"back\" class=\"button primary\" href=\"{}/\">Return to {}</a> <small>{}</small></p>",
                esc(origin),
                esc(name),
                esc(origin)
            ),
            Back::Unverified(uri) => match origin_of(uri) {
                Some(origin) => format!(
                    "<p><a id=\"back\" class=\"button\" href=\"{0}/\">Return to {0}</a></p>",
                    esc(&origin)
                ),
                None => Back::Nowhere.link(),
            },
            Back::Nowhere => {
                "<p id=\"back\">Use your browser's Back button to return to the application.</p>"
                    .to_string()
            }
        }
    }
}

/// Microsoft's own error page, used where it does not redirect back (bad redirect URI,
/// unknown tenant, disabled account), with a link back to the application.
pub fn error_page(code: u32, desc: &str, back: &Back) -> HttpResponse {
    let body = format!(
        "<h1>Sorry, but we're having trouble signing you in.</h1>\
         <p id=\"error\" class=\"error\" data-code=\"AADSTS{code}\">AADSTS{code}: {}</p>{}",
        esc(desc),
        back.link()
    );
    HttpResponse::BadRequest()
        .content_type("text/html; charset=utf-8")
        .body(html("Sign in to your account", &body))
}
