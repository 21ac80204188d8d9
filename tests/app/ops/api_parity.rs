//! Everything the UI can change, a script can change: every state-changing page form (a POST
//! route of the HTML UI) has an API twin, or is listed here as a deliberate exception with its
//! reason. The route tables are read from the source, like tests/app/api/roles.rs does, so a
//! new form without a twin fails this test the day it is added.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What a page form maps to.
enum Twin {
    /// `METHOD /path` under `/api/v1`.
    Api(&'static str),
    /// No twin, on purpose.
    Exception(&'static str),
    /// A form another branch adds with its twin (`METHOD /path`, who adds it): listed before it
    /// lands so the merge keeps this test green; once the form exists its twin must too.
    Coming(&'static str, &'static str),
}

/// Page form (POST path, as routed) → its twin.
const PARITY: &[(&str, Twin)] = &[
    // Sign-in and sessions: browsers hold sessions, scripts hold API tokens.
    (
        "/login",
        Twin::Exception(
            "password sign-in makes a browser session; the API authenticates each call with a token",
        ),
    ),
    (
        "/logout",
        Twin::Exception("ends a browser session; a token is revoked with DELETE /tokens/{id}"),
    ),
    (
        "/setup",
        Twin::Exception(
            "first-admin setup runs before any API token can exist; `tenantry admin add-user` is its scripted twin",
        ),
    ),
    (
        "/auth/microsoft",
        Twin::Exception("starts an interactive Microsoft sign-in for a browser session"),
    ),
    // The client portal acts for a client's own signed-in user, never for the MSP's scripts.
    (
        "/portal/{slug}/signin",
        Twin::Exception("client portal sign-in (a client's user in a browser)"),
    ),
    (
        "/portal/{slug}/signout",
        Twin::Exception("client portal sign-out"),
    ),
    (
        "/portal/{slug}/requests/new",
        Twin::Exception(
            "a client's user raises a request in the portal; staff work on it through /companies/{id}/requests",
        ),
    ),
    (
        "/portal/{slug}/requests/{id}/reply",
        Twin::Exception(
            "a client's user replies in the portal; staff reply with POST /companies/{id}/requests/{rid}/replies",
        ),
    ),
    (
        "/portal/{slug}/requests/{id}/close",
        Twin::Exception(
            "a client's user closes their own request; staff set the status with PATCH /companies/{id}/requests/{rid}",
        ),
    ),
    // Staff work on requests.
    (
        "/companies/{id}/requests/{rid}/reply",
        Twin::Api("POST /companies/{id}/requests/{rid}/replies"),
    ),
    (
        "/companies/{id}/requests/{rid}/status",
        Twin::Api("PATCH /companies/{id}/requests/{rid}"),
    ),
    (
        "/companies/{id}/requests/{rid}/assignee",
        Twin::Api("PATCH /companies/{id}/requests/{rid}"),
    ),
    (
        "/companies/{id}/requests/{rid}/notes",
        Twin::Api("POST /companies/{id}/requests/{rid}/notes"),
    ),
    // Companies.
    ("/companies", Twin::Api("POST /companies")),
    ("/companies/{id}/edit", Twin::Api("PATCH /companies/{id}")),
    (
        "/companies/{id}/archive",
        Twin::Api("POST /companies/{id}/archive"),
    ),
    (
        "/companies/{id}/restore",
        Twin::Api("POST /companies/{id}/restore"),
    ),
    ("/companies/{id}/guests", Twin::Api("PATCH /companies/{id}")),
    (
        "/companies/{id}/portal",
        Twin::Api("PUT /companies/{id}/portal"),
    ),
    (
        "/companies/{id}/sync",
        Twin::Api("POST /companies/{id}/sync-with-m365"),
    ),
    // Assets from Intune and Level.io (#12): the Review tab and the asset page.
    (
        "/companies/{id}/assets/merge",
        Twin::Api("POST /companies/{id}/assets/merge"),
    ),
    (
        "/companies/{id}/assets/keep-apart",
        Twin::Api("POST /companies/{id}/assets/keep-apart"),
    ),
    (
        "/companies/{id}/assets/{aid}/unmerge",
        Twin::Api("POST /companies/{id}/assets/{aid}/unmerge"),
    ),
    (
        "/companies/{id}/disconnect",
        Twin::Api("POST /companies/{id}/disconnect"),
    ),
    (
        "/companies/sync-selected",
        Twin::Api("POST /companies/sync"),
    ),
    // Compliance evidence.
    ("/compliance/collect", Twin::Api("POST /compliance/collect")),
    (
        "/companies/{id}/compliance/settings",
        Twin::Api("PUT /companies/{id}/evidence/settings"),
    ),
    (
        "/companies/{id}/evidence/collect",
        Twin::Api("POST /companies/{id}/evidence/collect"),
    ),
    // Settings.
    ("/settings/authentication", Twin::Api("PUT /settings/sso")),
    (
        "/settings/integrations/entra/app",
        Twin::Api("PUT /settings/entra"),
    ),
    (
        "/settings/integrations/entra/certificate",
        Twin::Api("PUT /settings/entra"),
    ),
    (
        "/settings/integrations/entra/certificate/remove",
        Twin::Api("DELETE /settings/entra/certificate"),
    ),
    // Level.io connection and group mapping (#12).
    (
        "/settings/integrations/level",
        Twin::Api("PUT /settings/level"),
    ),
    (
        "/settings/integrations/level/disconnect",
        Twin::Api("DELETE /settings/level"),
    ),
    (
        "/settings/integrations/level/test",
        Twin::Api("POST /settings/level/test"),
    ),
    (
        "/settings/integrations/level/groups",
        Twin::Api("PUT /companies/{id}/level-groups"),
    ),
    (
        "/settings/integrations/entra/connect",
        Twin::Api("POST /settings/entra/connect"),
    ),
    (
        "/settings/integrations/entra/disconnect",
        Twin::Api("POST /settings/entra/disconnect"),
    ),
    ("/settings/integrations/entra/sync", Twin::Api("POST /sync")),
    ("/settings/users", Twin::Api("POST /users")),
    ("/settings/users/{id}", Twin::Api("PATCH /users/{id}")),
    (
        "/settings/users/{id}/password",
        Twin::Api("POST /users/{id}/password"),
    ),
    ("/settings/tokens", Twin::Api("POST /tokens")),
    (
        "/settings/tokens/{id}/revoke",
        Twin::Api("DELETE /tokens/{id}"),
    ),
    // Settings → Notifications and its test send come with the alerts work of #13, which
    // brings their API twins.
    (
        "/settings/notifications",
        Twin::Coming("PUT /settings/notifications", "added by alerts"),
    ),
    (
        "/settings/notifications/test",
        Twin::Coming("POST /settings/notifications/test", "added by alerts"),
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// (METHOD, path) of every `.route("path", web::method()…)` under `dirs` (relative to src/web).
fn routes_in(dirs: &[&str]) -> BTreeSet<(String, String)> {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut files = Vec::new();
    for d in dirs {
        let p = web.join(d);
        if p.is_dir() {
            rust_files(&p, &mut files);
        } else {
            files.push(p);
        }
    }
    let mut out = BTreeSet::new();
    for f in files {
        let src = std::fs::read_to_string(&f).expect("source");
        let flat: String = src.split_whitespace().collect::<Vec<_>>().join(" ");
        for piece in flat.split(".route(").skip(1) {
            let Some((path, rest)) = piece
                .trim_start()
                .strip_prefix('"')
                .and_then(|p| p.split_once('"'))
            else {
                continue;
            };
            let Some(rest) = rest.trim_start_matches([',', ' ']).strip_prefix("web::") else {
                continue;
            };
            let Some((method, _)) = rest.split_once("()") else {
                continue;
            };
            out.insert((method.to_uppercase(), path.to_string()));
        }
    }
    out
}

#[test]
fn every_page_form_has_an_api_twin_or_a_reason() {
    let pages = routes_in(&["handlers", "portal", "signin_callback.rs"]);
    let api = routes_in(&["api"]);
    let forms: Vec<&String> = pages
        .iter()
        .filter(|(m, _)| m == "POST")
        .map(|(_, p)| p)
        .collect();
    assert!(forms.len() > 30, "found the page forms: {forms:?}");
    assert!(api.len() > 30, "found the API routes: {api:?}");
    let mut problems = Vec::new();
    for form in &forms {
        match PARITY.iter().find(|(p, _)| p == form) {
            None => problems.push(format!(
                "POST {form} (a page form) has no API twin: add one, or list it in PARITY with the reason"
            )),
            Some((_, Twin::Api(twin))) => {
                let (m, p) = twin.split_once(' ').expect("METHOD /path");
                if !api.contains(&(m.to_string(), p.to_string())) {
                    problems.push(format!("POST {form}: its twin {twin} is not an API route"));
                }
            }
            Some((_, Twin::Coming(twin, by))) => {
                let (m, p) = twin.split_once(' ').expect("METHOD /path");
                if !api.contains(&(m.to_string(), p.to_string())) {
                    problems.push(format!(
                        "POST {form} has landed but its twin {twin} ({by}) has not"
                    ));
                }
            }
            Some((_, Twin::Exception(reason))) => assert!(reason.len() > 20, "{form}: say why"),
        }
    }
    for (path, twin) in PARITY {
        if !matches!(twin, Twin::Coming(..)) && !forms.iter().any(|f| f == path) {
            problems.push(format!(
                "PARITY lists {path}, which is no page form any more"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
