//! Paging of 10,000 contacts: through the API (every id exactly once, sorted correctly in
//! both directions across page boundaries) and on the HTML pages ("9951–10000 of 10000").

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
