//! Every staff and portal page fits a 1366 px laptop and a 390 px phone: nothing wider than
//! the viewport (`document.documentElement.scrollWidth <= window.innerWidth`); no visible list
//! cell lies past the screen's edge, even inside a box that scrolls (on a phone lists become
//! cards, so the columns people need — Connected, Compliance, State, outcome — are on screen);
//! and no tab or menu entry is past the edge (tab strips wrap). The one exception is the
//! compliance matrix (`table.grid`, companies × controls): it scrolls sideways inside its own
//! box with the company column held in place, and its box fits.
//!
//! Which routes are pages, and the check that none is missed, are in `page_routes.rs`.

use super::page_routes::PAGES;
use super::walkthrough::{demo, shot, sign_in};
use super::{browser, browser_available, click, fill};
use fantoccini::{Client, Locator};
use std::collections::BTreeSet;

/// Where the test has been, and what did not fit.
#[derive(Default)]
struct Visits {
    patterns: BTreeSet<&'static str>,
    problems: Vec<String>,
}

impl Visits {
    /// Open `url` (for route `pattern`) at the window's current width; `expect` (CSS) must be
    /// on the page, so a redirect to the wrong place cannot pass as a fitting page.
    async fn visit(&mut self, c: &Client, pattern: &'static str, url: &str, expect: &str) {
        assert!(PAGES.contains(&pattern), "{pattern} is not in PAGES");
        self.patterns.insert(pattern);
        c.goto(url).await.expect("goto");
        if c.find(Locator::Css(expect)).await.is_err() {
            let at = c
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            self.problems
                .push(format!("{url}: {expect:?} not on the page (at {at})"));
            return;
        }
        self.measure(c, url).await;
    }

    /// The page the browser is on fits, and no visible table cell or tab is off screen.
    async fn measure(&mut self, c: &Client, what: &str) {
        let v = c
            .execute(
                "const w = window.innerWidth;
                 const off = Array.from(document.querySelectorAll('main td, main th'))
                   .filter(e => e.checkVisibility() && !e.closest('table.grid'))
                   .filter(e => {
                     // Past the screen, or past the box that scrolls it (hidden either way).
                     const box = e.closest('.scroll');
                     const edge = box ? Math.min(w, box.getBoundingClientRect().right) : w;
                     return e.getBoundingClientRect().right > edge + 1;
                   })
                   .map(e => e.textContent.trim().slice(0, 30));
                 const tabs = Array.from(document.querySelectorAll('nav.tabs a, .top nav > *'))
                   .filter(e => e.getBoundingClientRect().right > w + 1)
                   .map(e => e.textContent.trim());
                 return [document.documentElement.scrollWidth, w, off, tabs];",
                vec![],
            )
            .await
            .expect("measure");
        let (scroll, inner) = (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0));
        // Every page at both widths, to look at (TENANTRY_SCREENSHOT_DIR), not to compare.
        let name: String = what
            .split_once("//")
            .and_then(|(_, rest)| rest.split_once('/'))
            .map_or(what, |(_, path)| path)
            .chars()
            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
            .collect();
        shot(c, &format!("page-{inner}-{name}")).await;
        if inner == 0 || scroll > inner {
            self.problems
                .push(format!("{what} at {inner}px: content {scroll}px wide"));
        }
        let off: Vec<String> = v[2]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        // A tab or menu entry past the edge is hidden, even inside a box that scrolls.
        let tabs: Vec<String> = v[3]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if !tabs.is_empty() {
            self.problems
                .push(format!("{what} at {inner}px: tabs off screen: {tabs:?}"));
        }
        if !off.is_empty() {
            self.problems.push(format!(
                "{what} at {inner}px: {} cells off screen, e.g. {:?}",
                off.len(),
                &off[..off.len().min(4)]
            ));
        }
    }
}

const WIDTHS: [u32; 2] = [390, 1366];

#[tokio::test]
async fn every_staff_and_portal_page_fits_a_laptop_and_a_phone() {
    use tenantry::domain::companies::CompanyFilter;
    use tenantry::model::{JobFilter, ListQuery};
    if !browser_available() {
        return;
    }
    let demo = demo().await;
    let s = demo.app.services.clone();
    let url = |p: &str| format!("{}{p}", demo.info.url);
    let all = s
        .companies(
            CompanyFilter::All,
            ListQuery::new(None, Some(100), None, None, None),
        )
        .await
        .expect("companies")
        .items;
    let find = |name: &str| {
        all.iter()
            .find(|c| c.name.contains(name))
            .unwrap_or_else(|| panic!("{name} in the demo"))
            .clone()
    };
    let healthy = find("Contoso");
    let unlicensed = find("Fabrikam");
    let archived = all
        .iter()
        .find(|c| c.is_archived())
        .expect("an archived company")
        .clone();
    let h = healthy.id;
    let asset = s
        .assets(Some(h), ListQuery::new(None, Some(100), None, None, None))
        .await
        .expect("assets")
        .items
        .into_iter()
        .find(|a| a.primary_user_contact_id.is_some())
        .expect("a device with a user");
    let user = asset.primary_user_contact_id.expect("user");
    // A merged asset (provenance, Unmerge confirmation) and a review pair, written as the
    // Level phase writes them (tests/app/asset_merge_seed.rs).
    let merged = super::asset_merge_seed::seed(&s, h).await.merged;
    let job = s
        .jobs_filtered(JobFilter::default(), 1, 1)
        .await
        .expect("jobs")
        .items
        .into_iter()
        .next()
        .expect("a job");
    let snapshot = s
        .evidence_snapshots(h, ListQuery::new(None, Some(1), None, None, None))
        .await
        .expect("snapshots")
        .items
        .into_iter()
        .next()
        .expect("collected evidence");
    let staff = s.staff_users().await.expect("staff");
    let token = s.api_tokens().await.expect("tokens");
    let token = token.first().expect("the demo token");
    let slug = s.portal_settings(h).await.expect("portal").slug;

    // The first run's page, on an appliance with nobody set up yet.
    let (_fresh_dir, fresh) = super::start_app_without_admin().await;

    let (_driver, c) = browser().await;
    let mut v = Visits::default();

    // Signed out: sign-in pages, the portal's sign-in, error pages without the staff bar.
    for width in WIDTHS {
        c.set_window_size(width, 900).await.expect("resize");
        v.visit(
            &c,
            "/setup",
            &format!("{}/setup", fresh.url),
            "input[name=email]",
        )
        .await;
        v.visit(&c, "/login", &url("/login"), "input[name=password]")
            .await;
        v.visit(
            &c,
            "/portal/{slug}",
            &url(&format!("/portal/{slug}")),
            "main button",
        )
        .await;
        v.visit(&c, "/auth/callback", &url("/auth/callback"), "main h1")
            .await;
    }
    fresh.stop().await;

    // The employee: portal sign-in with Microsoft, a request raised through the form.
    c.set_window_size(1366, 900).await.expect("resize");
    c.goto(&url(&format!("/portal/{slug}")))
        .await
        .expect("goto");
    click(
        &c,
        Locator::XPath("//button[normalize-space()='Sign in with Microsoft']"),
    )
    .await;
    click(
        &c,
        Locator::Css(&format!("a.account[data-upn='{}']", demo.info.portal_user)),
    )
    .await;
    click(&c, Locator::LinkText("New request")).await;
    fill(
        &c,
        Locator::Css("input[name=subject]"),
        "Outlook keeps asking for my password on the shared reception PC",
    )
    .await;
    fill(
        &c,
        Locator::Css("textarea[name=description]"),
        "Since this morning. https://portal.office.com/account/manage-your-security-info-and-sign-in-methods-very-long-link",
    )
    .await;
    click(
        &c,
        Locator::XPath("//button[normalize-space()='Send request']"),
    )
    .await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("request sent");
    let request_path = c.current_url().await.expect("url").path().to_string();
    let rid: u64 = request_path
        .rsplit('/')
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("request id in {request_path}"));

    // Staff.
    sign_in(&c, &demo).await;
    c.wait()
        .for_element(Locator::XPath("//button[normalize-space()='Sign out']"))
        .await
        .expect("signed in");
    // A certificate, so its removal has a confirmation page (after the syncs: the demo's
    // simulated tenants know only the secret).
    s.set_entra_certificate(
        tenantry::domain::authority::AdminActor::system(),
        include_str!("../fixtures/certs/test-only-key.pem"),
        include_str!("../fixtures/certs/test-only-cert.pem"),
    )
    .await
    .expect("certificate stored");

    let (u, a, ar) = (unlicensed.id, archived.id, asset.id);
    let staff_pages: Vec<(&'static str, String, &str)> = vec![
        ("/companies", "/companies".into(), "main table"),
        ("/companies", "/companies?tab=archived".into(), "main table"),
        ("/companies/new", "/companies/new".into(), "main form"),
        ("/companies/{id}", format!("/companies/{h}"), "nav.tabs"),
        (
            "/companies/{id}",
            format!("/companies/{h}?tab=contacts"),
            "main table",
        ),
        (
            "/companies/{id}",
            format!("/companies/{h}?tab=assets"),
            "main table",
        ),
        (
            "/companies/{id}",
            format!("/companies/{h}?tab=groups"),
            "main table",
        ),
        ("/companies/{id}", format!("/companies/{u}"), "nav.tabs"),
        (
            "/companies/{id}",
            format!("/companies/{u}?tab=assets"),
            "main table",
        ),
        ("/companies/{id}", format!("/companies/{a}"), "nav.tabs"),
        (
            "/companies/{id}/edit",
            format!("/companies/{h}/edit"),
            "main form",
        ),
        (
            "/companies/{id}/archive",
            format!("/companies/{h}/archive"),
            "main form",
        ),
        (
            "/companies/{id}/restore",
            format!("/companies/{a}/restore"),
            "main form",
        ),
        (
            "/companies/{id}/disconnect",
            format!("/companies/{h}/disconnect"),
            "main form",
        ),
        (
            "/companies/sync-selected",
            format!("/companies/sync-selected?id={h}&id={u}"),
            "main form",
        ),
        (
            "/companies/{id}/portal",
            format!("/companies/{h}/portal"),
            "main form",
        ),
        ("/portals", "/portals".into(), "main table"),
        ("/contacts", "/contacts".into(), "main table"),
        ("/assets", "/assets".into(), "main table"),
        (
            "/companies/{id}/contacts/{cid}",
            format!("/companies/{h}/contacts/{user}"),
            "main h1",
        ),
        (
            "/companies/{id}/assets/{aid}",
            format!("/companies/{h}/assets/{ar}"),
            "main h1",
        ),
        (
            "/companies/{id}/assets/{aid}",
            format!("/companies/{h}/assets/{merged}"),
            "table.provenance",
        ),
        (
            "/companies/{id}/assets/review",
            format!("/companies/{h}/assets/review"),
            "main table.review",
        ),
        (
            "/companies/{id}",
            format!("/companies/{h}?tab=assets&sources=no_agent"),
            "main table",
        ),
        (
            "/companies/{id}/assets/{aid}/unmerge",
            format!("/companies/{h}/assets/{merged}/unmerge"),
            "main form",
        ),
        (
            "/companies/{id}/compliance",
            format!("/companies/{h}/compliance"),
            "li.control",
        ),
        (
            "/companies/{id}/compliance",
            format!("/companies/{u}/compliance"),
            "li.control",
        ),
        (
            "/companies/{id}/compliance/export",
            format!("/companies/{h}/compliance/export?format=html"),
            "body.report",
        ),
        (
            "/companies/{id}/evidence",
            format!("/companies/{h}/evidence"),
            "main table",
        ),
        (
            "/companies/{id}/evidence/collect",
            format!("/companies/{h}/evidence/collect"),
            "main form",
        ),
        (
            "/companies/{id}/evidence/{snapshot_id}",
            format!("/companies/{h}/evidence/{}", snapshot.id),
            "main h1",
        ),
        ("/compliance", "/compliance".into(), "main table"),
        (
            "/compliance/collect",
            "/compliance/collect".into(),
            "main form",
        ),
        ("/requests", "/requests".into(), "main table"),
        (
            "/companies/{id}/requests",
            format!("/companies/{h}/requests"),
            "main table",
        ),
        (
            "/companies/{id}/requests/{rid}",
            format!("/companies/{h}/requests/{rid}"),
            "textarea",
        ),
        ("/", "/".into(), "main table.dashboard"),
        ("/audit", "/audit".into(), "main table"),
        ("/jobs", "/jobs".into(), "main table"),
        ("/jobs/{id}", format!("/jobs/{}", job.id), "main h1"),
        (
            "/settings/integrations",
            "/settings/integrations".into(),
            "nav.tabs",
        ),
        (
            "/settings/integrations/entra",
            "/settings/integrations/entra".into(),
            "nav.tabs",
        ),
        (
            "/settings/integrations/entra/disconnect",
            "/settings/integrations/entra/disconnect".into(),
            "main form",
        ),
        (
            "/settings/integrations/entra/certificate/remove",
            "/settings/integrations/entra/certificate/remove".into(),
            "main form",
        ),
        ("/settings/users", "/settings/users".into(), "main table"),
        (
            "/settings/users/{id}",
            format!("/settings/users/{}", staff[0].id),
            "main form",
        ),
        ("/settings/tokens", "/settings/tokens".into(), "main table"),
        (
            "/settings/tokens/{id}/revoke",
            format!("/settings/tokens/{}/revoke", token.id),
            "main form",
        ),
        (
            "/settings/authentication",
            "/settings/authentication".into(),
            "main form",
        ),
        (
            "/settings/notifications",
            "/settings/notifications".into(),
            "main form",
        ),
        (
            "/settings/integrations/level",
            "/settings/integrations/level".into(),
            "main form",
        ),
        (
            "/settings/integrations/level/disconnect",
            "/settings/integrations/level/disconnect".into(),
            "main form",
        ),
        (
            "/settings/integrations/level/groups",
            "/settings/integrations/level/groups".into(),
            "main table",
        ),
        ("/portal/{slug}", format!("/portal/{slug}"), "main h1"),
        (
            "/portal/{slug}/requests",
            format!("/portal/{slug}/requests"),
            "main",
        ),
        (
            "/portal/{slug}/requests/new",
            format!("/portal/{slug}/requests/new"),
            "textarea",
        ),
        (
            "/portal/{slug}/requests/{id}",
            request_path.clone(),
            "main h1",
        ),
        // Error pages: the staff bar kept, plain words.
        ("/companies/{id}", "/companies/999999".into(), "header.top"),
        (
            "/companies/{id}/disconnect",
            format!("/companies/{a}/disconnect"),
            "header.top",
        ),
        (
            "/companies/{id}/edit",
            format!("/companies/{a}/edit"),
            "header.top",
        ),
        (
            "/portal/{slug}/requests/{id}",
            format!("/portal/{slug}/requests/999999"),
            "main h1",
        ),
        ("/connect/callback", "/connect/callback".into(), "main h1"),
        ("/portal/{slug}", "/portal/no-such-portal".into(), "main h1"),
    ];
    for width in WIDTHS {
        c.set_window_size(width, 900).await.expect("resize");
        for (pattern, path, expect) in &staff_pages {
            v.visit(&c, pattern, &url(path), expect).await;
        }
        // A page the default service answers (no route): the 404 page.
        c.goto(&url("/no-such-page")).await.expect("goto");
        v.measure(&c, "/no-such-page").await;
        // The menus opened on a phone push the page down, never sideways.
        c.goto(&url("/companies")).await.expect("goto");
        for menu in c
            .find_all(Locator::Css("details.menu > summary"))
            .await
            .expect("menus")
        {
            menu.click().await.expect("open the menu");
        }
        v.measure(&c, "/companies with both menus open").await;
    }
    let missed: Vec<_> = PAGES.iter().filter(|p| !v.patterns.contains(*p)).collect();
    assert!(missed.is_empty(), "PAGES not visited: {missed:?}");
    assert!(
        v.problems.is_empty(),
        "pages that do not fit:\n{}",
        v.problems.join("\n")
    );
    c.close().await.expect("close");
    demo.stop().await;
}
