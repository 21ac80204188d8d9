//! Paging of 10,000 contacts: through the API (every id exactly once, sorted correctly in
//! both directions across page boundaries) and on the HTML pages ("9951–10000 of 10000"),
//! which page by cursor: Next, Previous, First and Last keep the filter, sort and search.

use crate::helpers::*;
use serde_json::Value;
use std::collections::HashSet;
use tenantry::model::Contact;

const N: u64 = 10_000;

/// Names that do not follow insertion order, with case differences and duplicate names
/// (so the id tie-break matters).
fn name_of(i: u64) -> String {
    let k = (i * 7919) % N; // 7919 is prime and coprime with 10,000: a permutation
    let base = format!("Person {:04}", k / 2);
    if k.is_multiple_of(3) {
        base.to_lowercase()
    } else {
        base
    }
}

async fn seed(app: &TestApp) -> (u64, Vec<(String, u64)>) {
    let company = app
        .services()
        .create_company(
            tenantry::model::Actor::system(),
            tenantry::model::CompanyInput::parse("Big Co", "big.example", "").expect("input"),
        )
        .await
        .expect("company");
    let cid = company.id;
    let now = app.services().now();
    let rows = app
        .services()
        .store_handle()
        .write(move |w| {
            let mut rows = Vec::with_capacity(N as usize);
            for i in 0..N {
                let id = w.next_id("contact")?;
                let display_name = name_of(i);
                w.put_contact(&Contact {
                    id,
                    company_id: cid,
                    display_name: display_name.clone(),
                    email: format!("user{i}@big.example"),
                    department: String::new(),
                    job_title: String::new(),
                    upn: format!("user{i}@big.example"),
                    account_enabled: true,
                    active: true,
                    is_guest: false,
                    entra_object_id: None,
                    created_at: now,
                    updated_at: now,
                })?;
                rows.push((display_name, id));
            }
            Ok::<_, tenantry::store::StoreError>(rows)
        })
        .await
        .expect("seed 10,000 contacts");
    (cid, rows)
}

#[tokio::test]
async fn ten_thousand_contacts_page_through_api_and_html() {
    let app = spawn_app().await;
    let (cid, rows) = seed(&app).await;
    let token = app.admin_token().await;

    // The order the API must produce: name (case-insensitive), then id.
    let mut expected: Vec<(String, u64)> =
        rows.iter().map(|(n, id)| (n.to_lowercase(), *id)).collect();
    expected.sort();
    let asc: Vec<u64> = expected.iter().map(|(_, id)| *id).collect();
    let desc: Vec<u64> = asc.iter().rev().copied().collect();

    // Ascending: every page, so every id is seen and the whole order is checked. Descending:
    // the pages around the first, a middle and the last boundary (each request sorts all
    // 10,000 rows, which is slow-ish in a debug build).
    let all_pages: Vec<usize> = (1..=21).collect();
    for (dir, want, pages) in [
        ("asc", &asc, all_pages),
        ("desc", &desc, vec![1, 2, 10, 11, 19, 20, 21]),
    ] {
        let mut seen = Vec::with_capacity(N as usize);
        let mut names = Vec::with_capacity(N as usize);
        let mut last: Option<(usize, String)> = None;
        for page in pages {
            let r = app
                .client
                .get(app.at(&format!(
                    "/api/v1/companies/{cid}/contacts?per_page=500&page={page}&sort=name&dir={dir}"
                )))
                .bearer_auth(&token)
                .send()
                .await
                .expect("GET");
            assert_eq!(r.status(), 200, "page {page} {dir}");
            let v: Value = r.json().await.expect("JSON");
            assert_eq!(v["total"], N, "total on page {page}");
            assert_eq!(v["page"], page);
            assert_eq!(v["per_page"], 500);
            let items = v["items"].as_array().expect("items");
            if page == 21 {
                assert!(items.is_empty(), "nothing past the last page");
                continue;
            }
            assert_eq!(items.len(), 500, "full page {page}");
            let ids: Vec<u64> = items
                .iter()
                .map(|c| c["id"].as_u64().expect("id"))
                .collect();
            assert_eq!(
                ids,
                want[(page - 1) * 500..page * 500],
                "{dir} page {page}: sorted by name then id"
            );
            // Consecutive pages continue each other's order.
            let first = items[0]["display_name"]
                .as_str()
                .expect("name")
                .to_lowercase();
            if let Some((prev_page, prev_name)) = &last
                && *prev_page + 1 == page
            {
                match dir {
                    "asc" => assert!(*prev_name <= first, "{prev_name} then {first}"),
                    _ => assert!(*prev_name >= first, "{prev_name} then {first}"),
                }
            }
            let last_name = items[499]["display_name"]
                .as_str()
                .expect("name")
                .to_lowercase();
            last = Some((page, last_name));
            for c in items {
                names.push(c["display_name"].as_str().expect("name").to_lowercase());
            }
            seen.extend(ids);
        }
        if dir == "asc" {
            let unique: HashSet<u64> = seen.iter().copied().collect();
            assert_eq!(seen.len(), N as usize, "{N} rows seen");
            assert_eq!(unique.len(), N as usize, "every id exactly once");
            assert_eq!(
                unique,
                rows.iter().map(|(_, id)| *id).collect::<HashSet<_>>()
            );
            assert_eq!(&seen, want, "sorted by name then id across all pages");
            for w in names.windows(2) {
                assert!(w[0] <= w[1], "{w:?}");
            }
        }
    }

    // The cross-company API list sees the same total.
    let v: Value = app
        .client
        .get(app.at("/api/v1/contacts?per_page=1&page=10000"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(v["total"], N);
    assert_eq!(v["items"][0]["id"], asc[9_999]);

    // `page` reaches the first 10,000 rows; a page starting further in is refused with a
    // code a script can branch on, and the message names the way on: `cursor`.
    for path in [
        "/api/v1/contacts?per_page=1&page=10002".to_string(),
        format!("/api/v1/companies/{cid}/contacts?per_page=500&page=22&sort=name&dir=desc"),
    ] {
        let r = app
            .client
            .get(app.at(&path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status(), 400, "{path}");
        let v: Value = r.json().await.expect("JSON");
        assert_eq!(v["code"], "page_too_deep", "{path}: {v}");
        let msg = v["message"].as_str().expect("message");
        assert!(msg.contains("cursor"), "{msg}");
    }
    // Every row, including those past that depth, by following `next_cursor` (and a
    // `page` beside a cursor is ignored, so it is not refused either).
    let mut walked: Vec<u64> = Vec::with_capacity(N as usize);
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/companies/{cid}/contacts?per_page=300&sort=name&page=99");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        } else {
            path = path.replace("&page=99", "");
        }
        let v: Value = app
            .client
            .get(app.at(&path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        let items = v["items"].as_array().expect("items");
        walked.extend(items.iter().map(|c| c["id"].as_u64().expect("id")));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(walked, asc, "the cursor walk meets every row in order");

    // The HTML pages (50 per page by default).
    app.login().await;
    for (path, shows) in [
        (
            format!("/companies/{cid}?tab=contacts&page=200"),
            "9951–10000 of 10000",
        ),
        ("/contacts?page=200".to_string(), "9951–10000 of 10000"),
        ("/contacts?page=1".to_string(), "1–50 of 10000"),
        (
            "/contacts?page=20&per_page=500&sort=name&dir=desc".to_string(),
            "9501–10000 of 10000",
        ),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status(), 200, "{path}");
        let html = r.text().await.expect("body");
        assert!(html.contains(shows), "{path} shows {shows:?}");
    }
    // The last page of the list links back but not forward.
    let last = app.get_text("/contacts?page=200").await;
    assert!(last.contains("rel=\"prev\""));
    assert!(!last.contains("rel=\"next\""));
}

/// 130 contacts of one company, stored in shuffled order: "Person 000" … "Person 129"
/// (every second one also "Blue"), every third inactive. Returns the company id.
async fn seed_for_cursors(app: &TestApp) -> u64 {
    let company = app
        .services()
        .create_company(
            tenantry::model::Actor::system(),
            tenantry::model::CompanyInput::parse("Cursor Co", "cursor.example", "").expect("input"),
        )
        .await
        .expect("company");
    let cid = company.id;
    let now = app.services().now();
    app.services()
        .store_handle()
        .write(move |w| {
            for n in 0..130u64 {
                let i = (n * 37) % 130;
                let id = w.next_id("contact")?;
                let blue = if i % 2 == 0 { " Blue" } else { "" };
                w.put_contact(&Contact {
                    id,
                    company_id: cid,
                    display_name: format!("Person {i:03}{blue}"),
                    email: format!("p{i:03}@cursor.example"),
                    department: String::new(),
                    job_title: String::new(),
                    upn: format!("p{i:03}@cursor.example"),
                    account_enabled: true,
                    active: i % 3 != 0,
                    is_guest: false,
                    entra_object_id: None,
                    created_at: now,
                    updated_at: now,
                })?;
            }
            Ok::<_, tenantry::store::StoreError>(())
        })
        .await
        .expect("seed");
    cid
}

/// The e-mails a contacts table shows, in page order.
fn emails(html: &str) -> Vec<String> {
    // A cell is `<td data-label="…">value</td>` (phones show the label beside the value).
    html.split("<td")
        .filter_map(|cell| cell.split_once('>').map(|(_, rest)| rest))
        .filter_map(|cell| cell.split_once("</td>").map(|(v, _)| v))
        .filter(|v| v.ends_with("@cursor.example"))
        .map(str::to_string)
        .collect()
}

/// The pager's link with `rel` (next, prev, first, last), as a path.
fn pager_link(html: &str, rel: &str) -> Option<String> {
    let at = html.find(&format!("rel=\"{rel}\""))?;
    let start = html[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + html[start..].find('"')?;
    Some(crate::compliance::unescape(&html[start..end]))
}

#[tokio::test]
async fn html_lists_page_by_cursor_both_ways_keeping_filter_sort_and_search() {
    let app = spawn_app().await;
    let cid = seed_for_cursors(&app).await;
    app.login().await;
    for (query, per_page, blue_only) in [
        ("active=yes&sort=name&dir=desc", 20usize, false),
        ("active=yes&sort=name&dir=desc&q=blue", 7, true),
    ] {
        // Active contacts (and Blue ones for the search), by name descending.
        let want: Vec<String> = (0..130u64)
            .rev()
            .filter(|i| i % 3 != 0 && (!blue_only || i % 2 == 0))
            .map(|i| format!("p{i:03}@cursor.example"))
            .collect();
        let chunks: Vec<Vec<String>> = want.chunks(per_page).map(<[String]>::to_vec).collect();
        assert!(chunks.len() >= 4, "enough pages to walk: {}", chunks.len());
        let first_path = format!("/companies/{cid}?tab=contacts&{query}&per_page={per_page}");
        let first = app.get_text(&first_path).await;
        assert_eq!(emails(&first), chunks[0], "{query}: page 1");

        // Forward by Next: each page shows the next rows; filter, sort and search ride along.
        let mut html = first.clone();
        let mut pages = vec![emails(&html)];
        while let Some(next) = pager_link(&html, "next") {
            assert!(next.contains("cursor="), "Next pages by cursor: {next}");
            for part in query.split('&') {
                assert!(next.contains(part), "{next} keeps {part}");
            }
            html = app.get_text(&next).await;
            let n = pages.len();
            assert_eq!(emails(&html), chunks[n], "{query}: page {} by Next", n + 1);
            assert!(html.contains(&format!("Page {} of {}", n + 1, chunks.len())));
            pages.push(emails(&html));
        }
        assert_eq!(
            pages.len(),
            chunks.len(),
            "{query}: Next reaches the last page"
        );
        assert!(pager_link(&html, "last").is_none());

        // Back by Previous, from the last page to the first.
        let mut at = pages.len() - 1;
        while let Some(prev) = pager_link(&html, "prev") {
            assert!(prev.contains("before="), "Previous pages by cursor: {prev}");
            html = app.get_text(&prev).await;
            at -= 1;
            assert_eq!(
                emails(&html),
                chunks[at],
                "{query}: page {} by Previous",
                at + 1
            );
            if at >= 2 {
                let first_link = pager_link(&html, "first").expect("a First link");
                assert_eq!(emails(&app.get_text(&first_link).await), chunks[0]);
            }
        }
        assert_eq!(at, 0, "{query}: Previous returns to page 1");

        // Last from page 1: the last page, aligned on the list's start; Previous from there.
        let last = pager_link(&first, "last").expect("a Last link");
        let html = app.get_text(&last).await;
        let n = chunks.len();
        assert_eq!(emails(&html), chunks[n - 1], "{query}: Last");
        assert!(html.contains(&format!("Page {n} of {n}")));
        assert!(pager_link(&html, "next").is_none());
        let prev = pager_link(&html, "prev").expect("Previous from Last");
        assert_eq!(emails(&app.get_text(&prev).await), chunks[n - 2]);

        // Old links by page number still work.
        let old = app
            .get_text(&format!(
                "/companies/{cid}?tab=contacts&{query}&per_page={per_page}&page=3"
            ))
            .await;
        assert_eq!(emails(&old), chunks[2], "{query}: page=3");
    }
    // A cursor edited by hand is ignored: the page starts where `page` says.
    let r = app
        .get_text("/contacts?per_page=5&cursor=%21%21&page=1")
        .await;
    assert!(
        r.contains("1–5 of 130"),
        "a bad cursor falls back to the page"
    );
}

#[tokio::test]
async fn the_companies_list_pages_by_cursor_and_back() {
    let app = spawn_app().await;
    for i in 0..7 {
        app.services()
            .create_company(
                tenantry::model::Actor::system(),
                tenantry::model::CompanyInput::parse(
                    &format!("Company {i}"),
                    &format!("c{i}.example"),
                    "",
                )
                .expect("input"),
            )
            .await
            .expect("company");
    }
    app.login().await;
    let names = |html: &str| -> Vec<String> {
        (0..7)
            .map(|i| format!("Company {i}"))
            .filter(|n| html.contains(&format!(">{n}<")))
            .collect()
    };
    let p1 = app
        .get_text("/companies?per_page=3&sort=name&dir=desc")
        .await;
    assert_eq!(names(&p1), ["Company 4", "Company 5", "Company 6"]);
    let next = pager_link(&p1, "next").expect("Next");
    assert!(
        next.contains("cursor=") && next.contains("dir=desc"),
        "{next}"
    );
    let p2 = app.get_text(&next).await;
    assert_eq!(names(&p2), ["Company 1", "Company 2", "Company 3"]);
    let back = app
        .get_text(&pager_link(&p2, "prev").expect("Previous"))
        .await;
    assert_eq!(names(&back), names(&p1));
    let last = app.get_text(&pager_link(&p1, "last").expect("Last")).await;
    assert_eq!(names(&last), ["Company 0"]);
}

/// A group's members (every second contact of `seed_for_cursors`) page by cursor both ways
/// on the company page, like every other list: Next by `cursor=`, Previous by `before=`,
/// Last from the end, each page the members in contact-id order.
#[tokio::test]
async fn a_groups_members_page_by_cursor_both_ways() {
    let app = spawn_app().await;
    let cid = seed_for_cursors(&app).await;
    let now = app.services().now();
    let (group, want) = app
        .services()
        .store_handle()
        .write(move |w| {
            let group = w.next_id("contact_group")?;
            let mut members: Vec<(u64, String)> = w
                .contacts_of(cid)?
                .into_iter()
                .filter(|c| c.display_name.ends_with("Blue"))
                .map(|c| (c.id, c.email))
                .collect();
            members.sort();
            w.put_group(&tenantry::model::ContactGroup {
                id: group,
                company_id: cid,
                display_name: "Blue team".into(),
                description: String::new(),
                mail_enabled: false,
                active: true,
                entra_object_id: None,
                member_count: members.len() as u64,
                updated_at: now,
            })?;
            for (id, _) in &members {
                w.put_membership(
                    tenantry::model::Membership {
                        company_id: cid,
                        group_id: group,
                        contact_id: *id,
                    },
                    1,
                )?;
            }
            let emails: Vec<String> = members.into_iter().map(|(_, e)| e).collect();
            Ok::<_, tenantry::store::StoreError>((group, emails))
        })
        .await
        .expect("group");
    app.login().await;
    let per_page = 10;
    let chunks: Vec<Vec<String>> = want.chunks(per_page).map(<[String]>::to_vec).collect();
    assert_eq!(chunks.len(), 7, "65 members in pages of 10");
    let first = app
        .get_text(&format!(
            "/companies/{cid}?tab=contacts&group={group}&per_page={per_page}"
        ))
        .await;
    assert_eq!(emails(&first), chunks[0], "page 1");

    let mut html = first.clone();
    let mut at = 0;
    while let Some(next) = pager_link(&html, "next") {
        assert!(next.contains("cursor="), "Next pages by cursor: {next}");
        assert!(next.contains(&format!("group={group}")), "{next}");
        html = app.get_text(&next).await;
        at += 1;
        assert_eq!(emails(&html), chunks[at], "page {} by Next", at + 1);
    }
    assert_eq!(at, chunks.len() - 1, "Next reaches the last page");

    while let Some(prev) = pager_link(&html, "prev") {
        assert!(prev.contains("before="), "Previous pages by cursor: {prev}");
        assert!(prev.contains(&format!("group={group}")), "{prev}");
        html = app.get_text(&prev).await;
        at -= 1;
        assert_eq!(emails(&html), chunks[at], "page {} by Previous", at + 1);
        assert!(html.contains(&format!("Page {} of 7", at + 1)), "label");
    }
    assert_eq!(at, 0, "Previous returns to page 1");

    let last = app
        .get_text(&pager_link(&first, "last").expect("a Last link"))
        .await;
    assert_eq!(emails(&last), chunks[6], "Last");
    assert!(last.contains("Page 7 of 7"));
    let prev = pager_link(&last, "prev").expect("Previous from Last");
    assert!(prev.contains("before="), "{prev}");
    assert_eq!(emails(&app.get_text(&prev).await), chunks[5]);
}
