//! The route table behind `every_page.rs`: every GET route under `src/web` (outside the JSON
//! API) is either a page the browser test visits ([`PAGES`]) or excused with its reason
//! ([`NOT_PAGES`]).
//!
//! WHY: a page added later without a visit would never be measured at 1366 px and 390 px.
//! `every_get_route_is_visited_or_excused` reads the GET routes from the source (as
//! tests/app/api/roles.rs reads the API's) and fails on one that is in neither list; the browser
//! test fails when it did not visit every pattern of [`PAGES`].

use std::collections::BTreeSet;

/// The GET routes the browser test visits (patterns as registered).
pub(super) const PAGES: &[&str] = &[
    "/",
    "/login",
    "/setup",
    "/auth/callback",
    "/connect/callback",
    "/companies",
    "/companies/new",
    "/companies/{id}",
    "/companies/{id}/edit",
    "/companies/{id}/archive",
    "/companies/{id}/restore",
    "/companies/{id}/disconnect",
    "/companies/sync-selected",
    "/companies/{id}/portal",
    "/portals",
    "/contacts",
    "/assets",
    "/companies/{id}/contacts/{cid}",
    "/companies/{id}/assets/{aid}",
    "/companies/{id}/assets/review",
    "/companies/{id}/assets/{aid}/unmerge",
    "/companies/{id}/compliance",
    "/companies/{id}/compliance/export",
    "/companies/{id}/evidence",
    "/companies/{id}/evidence/collect",
    "/companies/{id}/evidence/{snapshot_id}",
    "/compliance",
    "/compliance/collect",
    "/requests",
    "/companies/{id}/requests",
    "/companies/{id}/requests/{rid}",
    "/audit",
    "/jobs",
    "/jobs/{id}",
    "/settings/integrations",
    "/settings/integrations/entra",
    "/settings/integrations/entra/disconnect",
    "/settings/integrations/entra/certificate/remove",
    "/settings/users",
    "/settings/users/{id}",
    "/settings/tokens",
    "/settings/tokens/{id}/revoke",
    "/settings/authentication",
    "/settings/notifications",
    "/settings/integrations/level",
    "/settings/integrations/level/disconnect",
    "/settings/integrations/level/groups",
    "/portal/{slug}",
    "/portal/{slug}/requests",
    "/portal/{slug}/requests/new",
    "/portal/{slug}/requests/{id}",
];

/// GET routes that are not pages, and why they are not measured.
const NOT_PAGES: &[(&str, &str)] = &[
    ("/settings", "redirects to /settings/integrations"),
    ("/healthz", "plain-text probe for load balancers"),
    ("/readyz", "plain-text probe for load balancers"),
    ("/static/{path:.*}", "the stylesheet itself"),
    ("/audit.csv", "a CSV download"),
    ("/contacts.csv", "a CSV download"),
    ("/assets.csv", "a CSV download"),
    ("/companies/{id}/contacts.csv", "a CSV download"),
    ("/companies/{id}/assets.csv", "a CSV download"),
];

/// Every `.route("…", web::get()…)` under src/web outside the JSON API (src/web/api).
fn page_routes() -> BTreeSet<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("api") {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"),
        &mut files,
    );
    let mut out = BTreeSet::new();
    for f in files {
        let src = std::fs::read_to_string(&f).expect("source");
        let flat = src.split_whitespace().collect::<Vec<_>>().join(" ");
        for piece in flat.split(".route(").skip(1) {
            let Some((path, rest)) = piece
                .trim_start()
                .strip_prefix('"')
                .and_then(|p| p.split_once('"'))
            else {
                continue;
            };
            if rest
                .trim_start_matches([',', ' '])
                .starts_with("web::get()")
            {
                out.insert(path.to_string());
            }
        }
    }
    out
}

#[test]
fn every_get_route_is_visited_or_excused() {
    // The reader below knows `.route("…", web::get()…)` only: a route registered another way
    // would slip past it, so other ways fail here until the reader learns them.
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut other_ways = Vec::new();
    for dir in [web.clone(), web.join("handlers"), web.join("portal")] {
        for e in std::fs::read_dir(&dir).expect("src/web").flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "rs") {
                let src = std::fs::read_to_string(&p).expect("source");
                for way in ["web::resource(", "web::scope(", "#[get(", ".service("] {
                    if src.contains(way) {
                        other_ways.push(format!("{}: {way}", p.display()));
                    }
                }
            }
        }
    }
    assert!(
        other_ways.is_empty(),
        "routes registered in a way page_routes() does not read: {other_ways:?}"
    );
    let routes = page_routes();
    assert!(routes.len() > 40, "found the routes: {routes:?}");
    let listed: BTreeSet<String> = PAGES
        .iter()
        .map(|p| p.to_string())
        .chain(NOT_PAGES.iter().map(|(p, _)| p.to_string()))
        .collect();
    let unvisited: Vec<_> = routes.difference(&listed).collect();
    assert!(
        unvisited.is_empty(),
        "GET routes no browser test measures; visit them in tests/browser/every_page.rs \
         (or list them in NOT_PAGES with the reason): {unvisited:?}"
    );
    let stale: Vec<_> = listed.difference(&routes).collect();
    assert!(
        stale.is_empty(),
        "listed but not routes any more: {stale:?}"
    );
}
