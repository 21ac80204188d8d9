//! Safe buttons: a form that destroys or disconnects posts only from a confirmation page
//! (marked `data-confirm-page`, with a Cancel link), never from an ordinary page in one click.
//! Checked twice: over every template's source, and over the pages as an admin sees them.

use crate::helpers::*;
use crate::sync_helpers::{SyncEnv, sync_env};
use tenantry::model::{Actor, Role};

/// Words in a form's action that mean it destroys, disconnects or takes something away.
const DESTROYING: &[&str] = &[
    "disconnect",
    "remove",
    "revoke",
    "delete",
    "archive",
    "destroy",
    "purge",
    "erase",
    "wipe",
    "unlink",
    "forget",
];

/// What makes a page a confirmation page.
const MARKER: &str = "data-confirm-page";

/// If a template block (`{{ … }}`, `{% … %}`, `{# … #}`) starts at `i`, where it ends.
fn block_end(s: &[u8], i: usize) -> Option<usize> {
    let close: &[u8] = match s.get(i..i + 2)? {
        b"{{" => b"}}",
        b"{%" => b"%}",
        b"{#" => b"#}",
        _ => return None,
    };
    let rest = &s[i + 2..];
    let at = rest.windows(2).position(|w| w == close)?;
    Some(i + 2 + at + 2)
}

/// Where the tag opened at `start` ends (after its `>`), past quoted values and template
/// blocks (either may hold a `>`).
fn tag_end(s: &[u8], start: usize) -> usize {
    let (mut i, mut quote) = (start, None);
    while i < s.len() {
        if let Some(end) = block_end(s, i) {
            i = end;
            continue;
        }
        match (s[i], quote) {
            (b'"' | b'\'', None) => quote = Some(s[i]),
            (c, Some(q)) if c == q => quote = None,
            (b'>', None) => return i + 1,
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// The raw value of attribute `name` in `tag` (template blocks included), if present.
fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let b = tag.as_bytes();
    let mut from = 0;
    while let Some(at) = lower[from..].find(&format!("{name}=")) {
        let at = from + at;
        from = at + 1;
        // A whole attribute name: `action=`, not `formaction=` or `data-action=`.
        if at > 0 && !b[at - 1].is_ascii_whitespace() {
            continue;
        }
        let mut i = at + name.len() + 1;
        let quote = *b.get(i)?;
        if quote != b'"' && quote != b'\'' {
            let end = lower[i..]
                .find(|c: char| c.is_ascii_whitespace() || c == '>')
                .map_or(tag.len(), |e| i + e);
            return Some(tag[i..end].to_string());
        }
        i += 1;
        let start = i;
        while i < b.len() {
            if let Some(end) = block_end(b, i) {
                i = end;
                continue;
            }
            if b[i] == quote {
                return Some(tag[start..i].to_string());
            }
            i += 1;
        }
        return Some(tag[start..].to_string());
    }
    None
}

/// The text of a value without its template code: `/companies/{{ id }}/{% if a %}archive{%
/// else %}restore{% endif %}` reads `/companies//archiverestore`.
fn literal(v: &str) -> String {
    let b = v.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        match block_end(b, i) {
            Some(end) => i = end,
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).to_lowercase()
}

/// Every tag of `html` as (lower-case name, source).
fn tags(html: &str) -> Vec<(String, String)> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if let Some(end) = block_end(b, i) {
            i = end;
            continue;
        }
        if b[i] == b'<' && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            let end = tag_end(b, i);
            let tag = &html[i..end];
            let name: String = tag[1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            out.push((name.to_ascii_lowercase(), tag.to_string()));
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// Where `html` would post, one click from the page: the actions of its POST forms and any
/// `formaction` on a button.
fn post_targets(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (name, tag) in tags(html) {
        let post = attr(&tag, "method").is_some_and(|m| literal(&m).trim() == "post");
        if name == "form" && post {
            out.push(attr(&tag, "action").unwrap_or_default());
        }
        if let Some(a) = attr(&tag, "formaction") {
            out.push(a);
        }
    }
    out
}

/// Why the page `name` breaks the rule, if it does: a destroying form posting from a page that
/// is not a confirmation page. An action built wholly by template code cannot be read, so it
/// is held to the same rule.
fn violations(name: &str, html: &str) -> Vec<String> {
    let confirmation = html.contains(MARKER);
    let mut out = Vec::new();
    for action in post_targets(html) {
        let text = literal(&action);
        let why = match DESTROYING.iter().find(|v| text.contains(*v)) {
            Some(verb) => format!("it {verb}s"),
            None if !text.chars().any(|c| c.is_ascii_alphabetic()) => {
                "its action is built by code, so it may destroy".to_string()
            }
            None => continue,
        };
        if !confirmation {
            out.push(format!(
                "{name}: the form posting to {action:?} is one click on an ordinary page ({why}); \
                 link to a confirmation page instead (see templates/confirm.html)"
            ));
        }
    }
    if confirmation && !html.contains(">Cancel</a>") {
        out.push(format!("{name}: a confirmation page without a Cancel link"));
    }
    out
}

fn templates(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("templates dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            templates(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

#[test]
fn every_form_that_destroys_or_disconnects_posts_from_a_confirmation_page() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut files = Vec::new();
    templates(&root, &mut files);
    files.sort();
    let (mut forms, mut guarded, mut wrong) = (0, 0, Vec::new());
    for path in &files {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let html = std::fs::read_to_string(path).expect("template");
        let targets = post_targets(&html);
        forms += targets.len();
        if html.contains(MARKER) {
            guarded += targets.len();
        }
        wrong.extend(violations(&name, &html));
    }
    // Not vacuous: the walk saw the app's forms and its confirmation pages.
    assert!(files.len() > 25, "templates found: {files:?}");
    assert!(forms > 20, "POST forms found: {forms}");
    assert!(guarded >= 2, "forms on confirmation pages: {guarded}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_template_check_catches_a_one_click_disconnect() {
    let one_click = r#"<form method="post" action="/companies/{{ company.id }}/disconnect">
      <input type="hidden" name="csrf" value="{{ chrome.csrf }}">
      <button type="submit">Disconnect</button></form>"#;
    assert_eq!(violations("page.html", one_click).len(), 1);
    let shouting = r#"<FORM class="x" METHOD="POST" ACTION='/settings/tokens/{{ t.id }}/Revoke'>"#;
    assert_eq!(violations("page.html", shouting).len(), 1);
    let by_code = r#"<form method="post" action="{{ action }}"></form>"#;
    assert_eq!(violations("page.html", by_code).len(), 1);
    let button = r#"<form method="post" action="/companies/1/edit">
      <button formaction="/companies/1/delete">Delete</button></form>"#;
    assert_eq!(violations("page.html", button).len(), 1);
    let guarded = format!(r#"<section {MARKER}>{one_click}<a href="/companies/1">Cancel</a>"#);
    assert!(violations("confirm.html", &guarded).is_empty());
    let no_way_back = format!("<section {MARKER}>{one_click}");
    assert_eq!(violations("confirm.html", &no_way_back).len(), 1);
    // Ordinary forms and links are fine.
    let ordinary = r#"<form method="post" action="/companies/{{ id }}/sync"></form>
      <form action="/companies/disconnected"></form>
      <a class="button" href="/companies/1/disconnect">Disconnect</a>"#;
    assert!(violations("page.html", ordinary).is_empty());
}

/// The `href` of the link whose text is `text`.
fn href_before(html: &str, text: &str) -> String {
    let at = html
        .find(&format!(">{text}</a>"))
        .unwrap_or_else(|| panic!("no {text} link in {html}"));
    let open = html[..at].rfind("<a ").expect("link");
    attr(&html[open..at], "href")
        .expect("href")
        .replace("&amp;", "&")
}

/// The confirmation page behind `link`: it names its form's action and a way back.
async fn confirmation(app: &TestApp, link: &str) -> String {
    let r = app.get(link).await;
    assert_eq!(r.status(), 200, "GET {link}");
    let html = r.text().await.expect("html");
    assert!(html.contains(MARKER), "{html}");
    assert!(
        html.contains(&format!(r#"<form method="post" action="{link}""#)),
        "{html}"
    );
    assert!(
        html.contains(r#"<button type="submit" class="danger">"#),
        "{html}"
    );
    assert!(!csrf_in(&html).is_empty());
    html
}

async fn connected_company(env: &SyncEnv) -> u64 {
    let t = env.tenant("Contoso", 10, 2, true);
    let (company, job) = env.connect("Contoso", &t.id).await;
    assert!(job.error.is_none(), "{:?}", job.error);
    company
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnecting_a_company_asks_first_cancel_goes_back_and_confirm_disconnects() {
    let env = sync_env().await;
    let company = connected_company(&env).await;
    let app = &env.app;
    app.login().await;
    let page_path = format!("/companies/{company}");
    let link = format!("/companies/{company}/disconnect");

    // The company page links to the confirmation; it does not post.
    let page = app.get_text(&page_path).await;
    assert_eq!(href_before(&page, "Disconnect"), link);
    assert!(violations(&page_path, &page).is_empty(), "{page}");

    let confirm = confirmation(app, &link).await;
    assert!(confirm.contains("Disconnect Contoso from Microsoft 365?"));
    assert!(confirm.contains("Contacts and assets stay; syncing stops"));

    // Cancel goes back to the company, still connected.
    let cancel = href_before(&confirm, "Cancel");
    assert_eq!(cancel, page_path);
    assert_eq!(app.get(&cancel).await.status(), 200);
    let c = app.services().company(company).await.expect("company");
    assert!(
        c.tenant.as_ref().is_some_and(|t| t.connected),
        "still connected"
    );
    let contacts = app
        .services()
        .contacts(Some(company), Default::default())
        .await
        .expect("contacts")
        .total;

    // Confirm posts the real form and disconnects.
    let r = app.post_form(&link, &link, &[]).await;
    assert_eq!(
        location(&r),
        format!("/companies/{company}?notice=tenant_disconnected")
    );
    let c = app.services().company(company).await.expect("company");
    assert!(
        c.tenant.as_ref().is_some_and(|t| !t.connected),
        "disconnected"
    );
    let kept = app
        .services()
        .contacts(Some(company), Default::default())
        .await
        .expect("contacts")
        .total;
    assert_eq!(kept, contacts, "contacts stay");
    // Nothing left to confirm.
    assert_eq!(app.get(&link).await.status(), 409);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_destroying_button_opens_a_confirmation_page_that_posts_the_real_form() {
    let env = sync_env().await;
    let company = connected_company(&env).await;
    let msp = env.tenant("Our MSP", 2, 0, false);
    let s = env.services();
    s.connect_msp_tenant(Actor::system(), &msp.id)
        .await
        .expect("MSP tenant");
    s.set_entra_certificate(
        tenantry::domain::authority::AdminActor::system(),
        include_str!("../fixtures/certs/test-only-key.pem"),
        include_str!("../fixtures/certs/test-only-cert.pem"),
    )
    .await
    .expect("certificate stored");
    let (_, token) = s
        .create_api_token(
            tenantry::domain::authority::AdminActor::system(),
            "PSA automation",
            Role::Technician,
        )
        .await
        .expect("token");
    let app = &env.app;
    app.login().await;

    let entra = "/settings/integrations/entra";
    let buttons = [
        (
            format!("/companies/{company}"),
            "Disconnect",
            format!("/companies/{company}/disconnect"),
        ),
        (
            entra.to_string(),
            "Disconnect",
            format!("{entra}/disconnect"),
        ),
        (
            entra.to_string(),
            "Remove certificate",
            format!("{entra}/certificate/remove"),
        ),
        (
            "/settings/tokens".to_string(),
            "Revoke",
            format!("/settings/tokens/{}/revoke", token.id),
        ),
    ];
    for (page_path, label, link) in &buttons {
        let page = app.get_text(page_path).await;
        assert!(violations(page_path, &page).is_empty(), "{page}");
        assert_eq!(&href_before(&page, label), link, "{label} on {page_path}");
        let confirm = confirmation(app, link).await;
        let back = href_before(&confirm, "Cancel");
        assert_eq!(back.split('#').next(), Some(page_path.as_str()));
    }

    // Each confirm button does what the one-click button did.
    let r = app.post_form(&buttons[1].2, &buttons[1].2, &[]).await;
    assert_eq!(location(&r), format!("{entra}?notice=msp_disconnected"));
    assert!(s.msp_tenant().await.expect("msp").is_none());
    let r = app.post_form(&buttons[2].2, &buttons[2].2, &[]).await;
    assert_eq!(
        location(&r),
        format!("{entra}?notice=entra_certificate_removed")
    );
    assert!(s.entra_app().await.expect("app").certificate.is_none());
    let r = app.post_form(&buttons[3].2, &buttons[3].2, &[]).await;
    assert_eq!(location(&r), "/settings/tokens?notice=token_revoked");
    let tokens = s.api_tokens().await.expect("tokens");
    assert!(tokens.iter().all(|t| t.revoked));
    // Gone: nothing to confirm any more.
    for (_, _, link) in &buttons[1..] {
        let status = app.get(link).await.status();
        assert!([404, 409].contains(&status.as_u16()), "{link}: {status}");
    }
    env.stop().await;
}
