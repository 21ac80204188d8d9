//! A list's "Export CSV" holds exactly the rows the page lists, in the page's order (its
//! search, sort, direction and filters ride on the link), per company and across all; and the
//! assets tab's empty state says why it is empty: never synced, no Intune licence (neutral),
//! synced but none, or no match for the filters.

use crate::helpers::*;
use crate::sync_helpers::*;
use std::collections::HashMap;

/// The ids a list page links to under `/companies/{c}/{what}/{id}`, in page order.
fn linked_ids(html: &str, what: &str) -> Vec<u64> {
    let marker = format!("/{what}/");
    let mut out = Vec::new();
    for piece in html.split("href=\"/companies/").skip(1) {
        let Some((_, rest)) = piece.split_once(&marker) else {
            continue;
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if rest[digits.len()..].starts_with('"')
            && let Ok(id) = digits.parse()
        {
            out.push(id);
        }
    }
    out
}

/// The page's "Export CSV" link, unescaped.
fn export_link(html: &str) -> String {
    let at = html
        .find("download>Export CSV")
        .expect("an Export CSV link");
    let start = html[..at].rfind("href=\"").expect("its href") + 6;
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].replace("&#38;", "&").replace("&amp;", "&")
}

/// A CSV body as rows of cells (quotes and doubled quotes undone).
fn parse_csv(body: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = body.chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

async fn csv(app: &TestApp, link: &str) -> Vec<Vec<String>> {
    let r = app.get(link).await;
    assert_eq!(r.status(), 200, "GET {link}");
    parse_csv(&r.text().await.expect("body"))
}

#[tokio::test]
async fn a_filtered_sorted_export_holds_exactly_the_pages_rows_in_its_order() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 20, 40, true);
    let (contoso, _) = env.connect("Contoso Dental", &t.id).await;
    let t2 = env.tenant("Fabrikam", 15, 0, true);
    let (fabrikam, _) = env.connect("Fabrikam", &t2.id).await;
    let snap = snapshot(env.services(), contoso).await;
    let snap2 = snapshot(env.services(), fabrikam).await;
    env.app.login().await;

    // A company's non-compliant assets by hostname, descending.
    let page = env
        .app
        .get_text(&format!(
            "/companies/{contoso}?tab=assets&compliance=noncompliant&sort=hostname&dir=desc&per_page=500"
        ))
        .await;
    let hostnames: HashMap<u64, String> = snap
        .assets
        .iter()
        .map(|a| (a.id, a.hostname.clone()))
        .collect();
    let shown: Vec<String> = linked_ids(&page, "assets")
        .iter()
        .map(|id| hostnames[id].clone())
        .collect();
    let expected = snap
        .assets
        .iter()
        .filter(|a| a.compliance_state == "noncompliant")
        .count();
    assert!(expected > 1, "the tenant has several non-compliant devices");
    assert_eq!(shown.len(), expected, "the page lists the filtered devices");
    let link = export_link(&page);
    for part in ["compliance=noncompliant", "sort=hostname", "dir=desc"] {
        assert!(link.contains(part), "{link} carries {part}");
    }
    let rows = csv(&env.app, &link).await;
    assert_eq!(rows[0][1], "Hostname", "{:?}", rows[0]);
    let exported: Vec<String> = rows[1..].iter().map(|r| r[1].clone()).collect();
    assert_eq!(
        exported, shown,
        "the export is the page's rows in its order"
    );
    assert!(
        rows[1..].iter().all(|r| r[5] == "Not compliant"),
        "only non-compliant devices"
    );

    // Every company's members (no guests), by e-mail descending: the cross-company page and
    // its export agree row for row.
    let page = env
        .app
        .get_text("/contacts?guest=no&sort=email&dir=desc&per_page=500")
        .await;
    let emails: HashMap<u64, String> = snap
        .contacts
        .iter()
        .chain(snap2.contacts.iter())
        .map(|c| (c.id, c.email.clone()))
        .collect();
    let shown: Vec<String> = linked_ids(&page, "contacts")
        .iter()
        .map(|id| emails[id].clone())
        .collect();
    let members = snap
        .contacts
        .iter()
        .chain(snap2.contacts.iter())
        .filter(|c| !c.is_guest)
        .count();
    assert!(members > 20, "both companies' members listed: {members}");
    assert_eq!(shown.len(), members);
    let default_order: Vec<u64> = linked_ids(
        &env.app.get_text("/contacts?guest=no&per_page=500").await,
        "contacts",
    );
    assert_ne!(
        linked_ids(&page, "contacts"),
        default_order,
        "the sort changes the order, so the comparison below tests it"
    );
    let link = export_link(&page);
    assert!(link.starts_with("/contacts.csv?"), "{link}");
    let rows = csv(&env.app, &link).await;
    let exported: Vec<String> = rows[1..].iter().map(|r| r[2].clone()).collect();
    assert_eq!(
        exported, shown,
        "the export is the page's rows in its order"
    );
    assert!(rows[1..].iter().all(|r| r[7] == "No"), "no guests exported");
    let companies: std::collections::BTreeSet<&str> =
        rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        companies,
        ["Contoso Dental", "Fabrikam"].into_iter().collect(),
        "across all companies, named"
    );

    // A company's contacts in one group: the export has that group's members only.
    let m = snap.memberships.first().expect("a membership");
    let page = env
        .app
        .get_text(&format!(
            "/companies/{contoso}?tab=contacts&group={}&per_page=500",
            m.group_id
        ))
        .await;
    let shown: Vec<String> = linked_ids(&page, "contacts")
        .iter()
        .map(|id| emails[id].clone())
        .collect();
    let link = export_link(&page);
    assert!(link.contains(&format!("group={}", m.group_id)), "{link}");
    let rows = csv(&env.app, &link).await;
    let exported: Vec<String> = rows[1..].iter().map(|r| r[2].clone()).collect();
    assert!(!shown.is_empty());
    assert_eq!(exported, shown);

    // A filter the list would refuse is refused by the export too, before any row is sent.
    let r = env
        .app
        .get(&format!("/companies/{contoso}/assets.csv?compliance=green"))
        .await;
    assert_eq!(r.status(), 400);
    // The API's export takes the same parameters.
    let token = env.app.admin_token().await;
    let r = env
        .app
        .client
        .get(env.app.at(&format!(
            "/api/v1/assets.csv?company={contoso}&compliance=noncompliant&sort=hostname&dir=desc"
        )))
        .bearer_auth(&token)
        .send()
        .await
        .expect("api csv");
    assert_eq!(r.status(), 200);
    let rows = parse_csv(&r.text().await.expect("body"));
    let api_rows: Vec<String> = rows[1..].iter().map(|r| r[1].clone()).collect();
    let page_rows: Vec<String> = csv(
        &env.app,
        &format!("/companies/{contoso}/assets.csv?compliance=noncompliant&sort=hostname&dir=desc"),
    )
    .await[1..]
        .iter()
        .map(|r| r[1].clone())
        .collect();
    assert_eq!(api_rows, page_rows);
    env.stop().await;
}

#[tokio::test]
async fn the_assets_tab_says_never_synced_not_licensed_none_found_or_no_match() {
    let env = sync_env().await;
    // Never synced: a company with no tenant yet.
    let fresh = env.company("Woodgrove Bank").await;
    // No Intune licence: users sync, devices cannot.
    let t = env.tenant("Fabrikam", 6, 0, false);
    let (unlicensed, job) = env.connect("Fabrikam", &t.id).await;
    assert!(job.state == tenantry::model::JobState::Succeeded, "{job:?}");
    // Licensed, nothing enrolled.
    let t = env.tenant("Tailspin Toys", 4, 0, true);
    let (empty, _) = env.connect("Tailspin Toys", &t.id).await;
    // Licensed with devices, for the no-match case.
    let t = env.tenant("Contoso Dental", 4, 6, true);
    let (full, _) = env.connect("Contoso Dental", &t.id).await;
    env.app.login().await;
    let tab = |id: u64, extra: &str| {
        let app = &env.app;
        let path = format!("/companies/{id}?tab=assets{extra}");
        async move { app.get_text(&path).await }
    };

    const NEVER: &str = "No assets yet.";
    const UNLICENSED: &str = "This tenant has no Microsoft Intune licence";
    const NONE_FOUND: &str = "the last sync found none enrolled in Intune";
    const NO_MATCH: &str = "No assets match these filters.";
    let cases = [
        (tab(fresh, "").await, NEVER),
        (tab(unlicensed, "").await, UNLICENSED),
        (tab(empty, "").await, NONE_FOUND),
        (tab(full, "&os=Linux").await, NO_MATCH),
    ];
    let all = [NEVER, UNLICENSED, NONE_FOUND, NO_MATCH];
    for (i, (page, want)) in cases.iter().enumerate() {
        assert!(page.contains(want), "case {i}: says {want:?}");
        for other in all.iter().filter(|o| *o != want) {
            assert!(!page.contains(other), "case {i}: not {other:?}");
        }
    }
    // The licence state is neutral: a grey badge, not an error.
    let page = &cases[1].0;
    assert!(
        page.contains("<span class=\"badge neutral\">Intune not licensed</span>"),
        "neutral badge"
    );
    assert!(!page.contains("class=\"error\""), "not an error");
    env.stop().await;
}
