//! List latency and memory benchmark: `cargo bench --bench lists`.
//!
//! The appliance runs in the bench process (real store in a temp dir, real HTTP on loopback).
//! The store is seeded directly through the store's `Writer` (the same methods sync uses, so
//! every index is maintained as in production), not through a sync:
//!
//! * companies of 1,000, 10,000 and 100,000 contacts (and a tenth as many assets each);
//! * then 1,000 companies of 1,000 contacts each (1 M contacts in 1,000 companies; set
//!   `LISTS_BENCH_SPREAD=N` for N companies instead, e.g. 100 for a quicker run;
//!   `LISTS_BENCH_DIR=<dir>` keeps the seeded data directory and serves it on the next run;
//!   `LISTS_BENCH_ROWS=<text>|<text>` measures only the rows whose name contains one of them).
//!
//! For each list (the company page's Contacts tab as HTML, and the API page of 50, per
//! company size; the all-contacts page and `/api/v1/contacts` across everything) it measures
//! p50 and p99 latency at 1 connection (200 requests) and at 50 concurrent connections
//! (1,000 requests), plus a far page, a sorted descending page and a search.
//!
//! The floor, measured in the same run: a bare store read of 50 contacts by key (no index,
//! no HTTP). Memory: `VmRSS` after seeding (steady), `VmHWM` peak during the web load (reset
//! through /proc/self/clear_refs when possible), `VmRSS` after the load. Not a test: `cargo
//! test` does not run it.

mod support;

use std::time::{Duration, Instant};
use tenantry::app::{App, AppOptions};
use tenantry::model::{ContactSort, Role};
use tenantry::store::{Store, StoreError, Window};

#[path = "lists/seed.rs"]
mod seed;
use seed::seed_company;
use support::load::{Latency, load, summarize};
use support::{mb, status_kib};

const ADMIN: &str = "bench@lists.example";
const PASSWORD: &str = "correct horse battery staple";

fn print_row(name: &str, (one, fifty): &(Latency, Latency), floor_ms: f64) {
    println!(
        "  {name:<46} 1 conn: p50 {:>7.2} ms p99 {:>7.2} ms ({:>5.0} req/s) | 50 conns: p50 {:>7.2} ms p99 {:>7.2} ms ({:>5.0} req/s) | p50/floor {:>5.1}x{}",
        one.p50,
        one.p99,
        one.rps,
        fifty.p50,
        fifty.p99,
        fifty.rps,
        one.p50 / floor_ms.max(1e-9),
        if one.errors + fifty.errors > 0 {
            format!(" | {} ERRORS", one.errors + fifty.errors)
        } else {
            String::new()
        }
    );
}

/// Measure one row and print it. `LISTS_BENCH_ROWS=<text>|<text>...` measures only the rows
/// whose name contains one of the texts (profiling or comparing a few rows without the rest
/// of the run).
async fn row(
    name: &str,
    measured: impl std::future::Future<Output = (Latency, Latency)>,
    floor_ms: f64,
) {
    if std::env::var("LISTS_BENCH_ROWS")
        .is_ok_and(|only| !only.split('|').any(|o| name.contains(o)))
    {
        return;
    }
    print_row(name, &measured.await, floor_ms);
}

/// The floor: 50 contacts read by key through `Store::read` (blocking pool, one snapshot).
async fn floor(store: &Store, company: u64, ids: &[u64]) -> f64 {
    let mut ms = Vec::new();
    for _ in 0..500 {
        let ids = ids.to_vec();
        let t = Instant::now();
        let got = store
            .read(move |r| {
                let mut n = 0;
                for id in ids {
                    n += usize::from(r.contact(company, id)?.is_some());
                }
                Ok::<_, StoreError>(n)
            })
            .await
            .unwrap_or(0);
        assert_eq!(got, 50);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    summarize(ms, 1.0, 0).p50
}

pub fn main() {
    support::bench_main("lists", run);
}

async fn run() {
    let spread: u64 = std::env::var("LISTS_BENCH_SPREAD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    // Seeding runs in a child process (this binary again, with LISTS_BENCH_SEED_DIR), so the
    // memory figures below are those of a process that only serves, as after a restart.
    let seed_dir = std::env::var("LISTS_BENCH_SEED_DIR").ok();
    // `LISTS_BENCH_DIR`: a data directory kept between runs (seeded on the first, served as
    // it is on the next), for iterating without seeding 1 M contacts each time.
    let kept = std::env::var("LISTS_BENCH_DIR").ok();
    let temp = tempfile::tempdir().expect("tempdir");
    let dir_path = seed_dir
        .clone()
        .or(kept.clone())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    let already_seeded = kept.is_some() && dir_path.join("tenantry.redb").exists();
    if seed_dir.is_none() && !already_seeded {
        let exe = std::env::current_exe().expect("this binary");
        let status = std::process::Command::new(exe)
            .arg("--bench")
            .env("LISTS_BENCH_SEED_DIR", &dir_path)
            .status()
            .expect("seeding child");
        assert!(status.success(), "seeding failed: {status}");
    }
    let dir = &dir_path;
    let config = support::config(dir, &[]);
    let cache_mb = config.store.cache_mb;
    let app = App::build(
        config,
        AppOptions {
            admin_email: Some(ADMIN.into()),
            admin_password: Some(PASSWORD.into()),
            ..Default::default()
        },
    )
    .await
    .expect("app");
    let store = app.services.store_handle().clone();
    println!(
        "lists benchmark: {} build, {}, {} CPUs, store.cache_mb = {cache_mb}, {spread} companies of 1,000 for the spread",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        tenantry::allocator::NAME,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );

    if seed_dir.is_none() {
        serve(app, spread).await;
        return;
    }
    // Seed.
    let t0 = Instant::now();
    // The serving half relies on these ids (companies 1–3, contact ids in one sequence).
    for (n, want_id, want_first) in [(1_000u64, 1, 1), (10_000, 2, 1_001), (100_000, 3, 11_001)] {
        let s = store.clone();
        let (id, first) =
            tokio::task::spawn_blocking(move || seed_company(&s, &format!("Size {n}"), n))
                .await
                .expect("join")
                .expect("seed");
        assert_eq!(
            (id, first),
            (want_id, (want_first..want_first + 50).collect::<Vec<u64>>())
        );
    }
    let s = store.clone();
    let seeded_spread = tokio::task::spawn_blocking(move || {
        for i in 0..spread {
            seed_company(&s, &format!("Spread {i:04}"), 1_000)?;
            if (i + 1) % 100 == 0 {
                eprintln!("  seeded {} spread companies", i + 1);
            }
        }
        Ok::<_, StoreError>(spread)
    })
    .await
    .expect("join")
    .expect("seed");
    let total = 111_000 + seeded_spread * 1_000;
    let db_mb = std::fs::metadata(dir.join("tenantry.redb"))
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0);
    println!(
        "seeded {total} contacts ({} assets) in {} companies in {:.1} s ({:.0} contacts/s through the Writer, indexes included); database {db_mb:.0} MB",
        total / 10,
        3 + seeded_spread,
        t0.elapsed().as_secs_f64(),
        total as f64 / t0.elapsed().as_secs_f64()
    );
    println!(
        "RSS of the seeding process: {:.1} MB (peak {:.1} MB)",
        mb(status_kib("VmRSS:")),
        mb(status_kib("VmHWM:"))
    );
    app.stop().await;
}

/// Serve the seeded store and measure. Companies 1, 2 and 3 are the sized ones; contact ids
/// are one sequence, so each sized company's first 50 contacts are known.
async fn serve(app: App, spread: u64) {
    let store = app.services.store_handle().clone();
    let total = 111_000 + spread * 1_000;
    let sized: Vec<(u64, u64, Vec<u64>)> = vec![
        (1_000, 1, (1..=50).collect()),
        (10_000, 2, (1_001..=1_050).collect()),
        (100_000, 3, (11_001..=11_050).collect()),
    ];
    let seeded_spread = spread;
    let steady = status_kib("VmRSS:");
    println!(
        "RSS after start on the seeded store (steady, idle): {:.1} MB",
        mb(steady)
    );

    // Who asks: a signed-in admin (HTML) and an API token.
    let client = support::load::signed_in_client(&app.url, ADMIN, PASSWORD).await;
    let (token, _) = app
        .services
        .create_api_token(
            tenantry::domain::authority::AdminActor::system(),
            "bench",
            Role::Admin,
        )
        .await
        .expect("token");

    // The floor, on the largest company.
    let (_, big, big_first) = &sized[2];
    let floor_ms = floor(&store, *big, big_first).await;
    println!("floor: a bare store read of 50 contacts by key: p50 {floor_ms:.3} ms");
    // The indexed store read of a page (no HTTP), for the ratio to the floor.
    let mut ms = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        let big = *big;
        store
            .read(move |r| {
                r.contact_page(
                    Some(big),
                    ContactSort::Name,
                    Window {
                        desc: false,
                        search: None,
                        after: None,
                        offset: 0,
                        limit: 50,
                    },
                )
            })
            .await
            .expect("page");
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let page_ms = summarize(ms, 1.0, 0).p50;
    println!(
        "store page of 50 through the name index (100 k company): p50 {page_ms:.3} ms ({:.2}x floor)",
        page_ms / floor_ms.max(1e-9)
    );

    // The HTML pages really are the lists (not a sign-in page).
    let html = client
        .get(format!("{}/companies/3?tab=contacts", app.url))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Size 100000") && html.contains("@c3.example"),
        "the contacts tab shows contacts"
    );
    let peak_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let t_load = Instant::now();
    for (n, id, _) in &sized {
        println!("== company of {n} contacts ==");
        let html = format!("{}/companies/{id}?tab=contacts", app.url);
        row(
            "HTML contacts tab, page 1",
            load(&client, &html, None),
            floor_ms,
        )
        .await;
        let api = format!(
            "{}/api/v1/companies/{id}/contacts?page=1&per_page=50",
            app.url
        );
        row(
            "API contacts, page 1 of 50",
            load(&client, &api, Some(&token)),
            floor_ms,
        )
        .await;
        if *n == 100_000 {
            // The deepest page `page=` reaches (rows 9,951–10,000; past 10,000 rows the API
            // answers 400 page_too_deep and names `cursor`).
            let deepest = format!(
                "{}/api/v1/companies/{id}/contacts?page=200&per_page=50&sort=email&dir=desc",
                app.url
            );
            row(
                "API contacts, page 200 by e-mail desc (deepest page=)",
                load(&client, &deepest, Some(&token)),
                floor_ms,
            )
            .await;
            let far = format!(
                "{}/api/v1/companies/{id}/contacts?page=1500&per_page=50&sort=email&dir=desc",
                app.url
            );
            let refused = client
                .get(&far)
                .bearer_auth(&token)
                .send()
                .await
                .expect("page 1,500");
            let status = refused.status().as_u16();
            let body: serde_json::Value = refused.json().await.expect("json");
            assert_eq!(
                (status, body["code"].as_str()),
                (400, Some("page_too_deep")),
                "page 1,500 by number is refused"
            );
            // Page 1,500 by keyset: walk 1,499 pages by cursor for its cursor.
            let mut cursor = String::new();
            for _ in 0..1_499 {
                let next: serde_json::Value = client
                    .get(format!(
                        "{}/api/v1/companies/{id}/contacts?per_page=50&sort=email&dir=desc&cursor={cursor}",
                        app.url
                    ))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("a page by cursor")
                    .json()
                    .await
                    .expect("json");
                cursor = next["next_cursor"]
                    .as_str()
                    .expect("a next cursor")
                    .to_string();
            }
            let keyset = format!(
                "{}/api/v1/companies/{id}/contacts?per_page=50&sort=email&dir=desc&cursor={cursor}",
                app.url
            );
            row(
                "API contacts, page 1,500 by e-mail desc, by cursor",
                load(&client, &keyset, Some(&token)),
                floor_ms,
            )
            .await;
            let search = format!(
                "{}/api/v1/companies/{id}/contacts?q=hana%20oka&per_page=50",
                app.url
            );
            row(
                "API contacts, search \"hana oka\"",
                load(&client, &search, Some(&token)),
                floor_ms,
            )
            .await;
            // By e-mail there are no word lists in that order: the search ranks its
            // candidates, at most two such searches at once (`domain::search_turns`).
            row(
                "API contacts, search \"hana oka\" by e-mail",
                load(&client, &format!("{search}&sort=email"), Some(&token)),
                floor_ms,
            )
            .await;
            // A rare search (a handful of matches: one e-mail word) and one with no match:
            // what a search costs when the words' lists are short or empty.
            row(
                "API contacts, search \"hana okafor47\" (rare)",
                load(
                    &client,
                    &format!(
                        "{}/api/v1/companies/{id}/contacts?q=hana%20okafor47&per_page=50",
                        app.url
                    ),
                    Some(&token),
                ),
                floor_ms,
            )
            .await;
            row(
                "API contacts, search \"zed\" (no match)",
                load(
                    &client,
                    &format!(
                        "{}/api/v1/companies/{id}/contacts?q=zed&per_page=50",
                        app.url
                    ),
                    Some(&token),
                ),
                floor_ms,
            )
            .await;
            let assets = format!(
                "{}/api/v1/companies/{id}/assets?page=1&per_page=50&sort=serial",
                app.url
            );
            row(
                "API assets, page 1 by serial",
                load(&client, &assets, Some(&token)),
                floor_ms,
            )
            .await;
        }
    }
    println!(
        "== every company ({total} contacts in {} companies) ==",
        3 + seeded_spread
    );
    row(
        "HTML /contacts, page 1",
        load(&client, &format!("{}/contacts", app.url), None),
        floor_ms,
    )
    .await;
    row(
        "API /api/v1/contacts, page 1 of 50",
        load(
            &client,
            &format!("{}/api/v1/contacts?page=1&per_page=50", app.url),
            Some(&token),
        ),
        floor_ms,
    )
    .await;
    row(
        "API /api/v1/contacts, sorted by updated desc",
        load(
            &client,
            &format!(
                "{}/api/v1/contacts?sort=updated&dir=desc&per_page=50",
                app.url
            ),
            Some(&token),
        ),
        floor_ms,
    )
    .await;
    // A search by name across companies intersects the per-prefix word lists kept across
    // companies (schema v19): one list per query word, not one word index per company.
    row(
        "API /api/v1/contacts, search \"hana oka\"",
        load(
            &client,
            &format!("{}/api/v1/contacts?q=hana%20oka&per_page=50", app.url),
            Some(&token),
        ),
        floor_ms,
    )
    .await;
    row(
        "API /api/v1/contacts, search \"hana okafor47\" (rare)",
        load(
            &client,
            &format!("{}/api/v1/contacts?q=hana%20okafor47&per_page=50", app.url),
            Some(&token),
        ),
        floor_ms,
    )
    .await;
    row(
        "API /api/v1/contacts, search \"zed\" (no match)",
        load(
            &client,
            &format!("{}/api/v1/contacts?q=zed&per_page=50", app.url),
            Some(&token),
        ),
        floor_ms,
    )
    .await;
    row(
        "API /api/v1/contacts, active=no",
        load(
            &client,
            &format!("{}/api/v1/contacts?active=no&per_page=50", app.url),
            Some(&token),
        ),
        floor_ms,
    )
    .await;
    row(
        "API /api/v1/assets, compliance=noncompliant",
        load(
            &client,
            &format!(
                "{}/api/v1/assets?compliance=noncompliant&per_page=50",
                app.url
            ),
            Some(&token),
        ),
        floor_ms,
    )
    .await;
    row(
        "HTML /companies, page 1",
        load(&client, &format!("{}/companies", app.url), None),
        floor_ms,
    )
    .await;
    // The first rows again, last: the same requests after every other row has run, so a
    // difference from the first pass is the run's order (caches, start-up), not the page.
    let (_, first_id, _) = &sized[0];
    println!("== company of 1000 contacts again, after every other row ==");
    row(
        "HTML contacts tab, page 1",
        load(
            &client,
            &format!("{}/companies/{first_id}?tab=contacts", app.url),
            None,
        ),
        floor_ms,
    )
    .await;
    row(
        "API contacts, page 1 of 50",
        load(
            &client,
            &format!(
                "{}/api/v1/companies/{first_id}/contacts?page=1&per_page=50",
                app.url
            ),
            Some(&token),
        ),
        floor_ms,
    )
    .await;
    println!(
        "web load: {:.1} s; RSS after: {:.1} MB; peak RSS during the load: {:.1} MB (VmHWM{})",
        t_load.elapsed().as_secs_f64(),
        mb(status_kib("VmRSS:")),
        mb(status_kib("VmHWM:")),
        if peak_reset {
            ", reset after seeding"
        } else {
            " since process start"
        }
    );
    // What the process keeps once the load is over: jemalloc (`src/allocator.rs`) returns
    // freed pages at once, glibc's malloc (`--no-default-features`) keeps them in its arenas.
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!(
        "RSS 3 s after the load (settled): {:.1} MB",
        mb(status_kib("VmRSS:"))
    );
    app.stop().await;
}
