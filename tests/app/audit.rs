//! The audit log page: filters by company, kind, outcome and time range (events made through
//! the UI), paging that keeps the filters, CSV export of the same rows, and 400 for bad filters.

use crate::helpers::*;
use crate::settings::spawn_app_at;
use chrono::{TimeZone, Utc};
use tenantry::model::{Actor, NewAuditEvent};

fn count(page: &str, needle: &str) -> usize {
    page.matches(needle).count()
}

async fn create_company(app: &TestApp, name: &str) -> u64 {
    let r = app
        .post_form("/companies/new", "/companies", &[("name", name)])
        .await;
    assert_eq!(r.status(), 303);
    let loc = location(&r);
    loc.strip_prefix("/companies/")
        .and_then(|r| r.split('?').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("company id in {loc:?}"))
}

#[tokio::test]
async fn the_audit_log_filters_by_company_kind_outcome_and_time_and_exports_csv() {
    let day1 = Utc
        .with_ymd_and_hms(2026, 3, 1, 10, 0, 0)
        .single()
        .expect("time");
    let (app, clock) = spawn_app_at(day1, &[]).await;
    app.login().await;
    let alpha = create_company(&app, "Alpha").await;
    clock.advance(chrono::Duration::days(2));
    app.login().await; // the session from two days ago has expired
    let smith = create_company(&app, "Smith, \"Jones\" & Co").await;
    let r = app
        .post_form(
            &format!("/companies/{smith}/archive"),
            &format!("/companies/{smith}/archive"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    // A failed sign-in from another browser.
    let other = TestApp {
        app: None,
        url: app.url.clone(),
        dir: tempfile::tempdir().expect("dir"),
        config: app.config.clone(),
        client: client(),
    };
    assert_eq!(
        other
            .login_as(ADMIN_EMAIL, "wrong password!!")
            .await
            .status(),
        401
    );

    // Unfiltered: everything, newest first, with the company linked.
    let all = app.get_text("/audit").await;
    assert!(all.contains(&format!("href=\"/companies/{alpha}\"")));
    let (i_alpha, i_smith) = (
        all.find("Created company Alpha").expect("alpha"),
        all.find("Created company Smith").expect("smith"),
    );
    assert!(i_smith < i_alpha, "newest first");

    // By company.
    let page = app.get_text(&format!("/audit?company={alpha}")).await;
    assert!(page.contains("Created company Alpha"));
    assert!(!page.contains("Created company Smith"));
    assert!(page.contains(&format!(
        "<option value=\"{alpha}\" selected>Alpha</option>"
    )));

    // By kind: exact and as a dotted prefix.
    let page = app.get_text("/audit?kind=company.archive").await;
    assert_eq!(count(&page, "<code>company.archive</code>"), 1, "{page}");
    assert_eq!(count(&page, "<code>company.create</code>"), 0);
    let page = app.get_text("/audit?kind=company").await;
    assert_eq!(count(&page, "<code>company."), 3, "{page}");
    assert_eq!(count(&page, "<code>staff."), 0);
    assert!(page.contains("href=\"/audit.csv?kind=company\""));

    // By outcome.
    let page = app.get_text("/audit?outcome=failure").await;
    assert_eq!(count(&page, "class=\"badge failure\""), 1, "{page}");
    assert!(page.contains("Sign-in refused"));
    assert!(!page.contains("Created company"));
    let page = app.get_text("/audit?outcome=any&kind=company").await;
    assert_eq!(count(&page, "<code>company."), 3);

    // By time: dates (a `to` date includes its whole day) and exact datetime-local times.
    let page = app.get_text("/audit?from=2026-03-02").await;
    assert!(page.contains("Created company Smith") && !page.contains("Created company Alpha"));
    let page = app.get_text("/audit?to=2026-03-01").await;
    assert!(page.contains("Created company Alpha") && !page.contains("Created company Smith"));
    let page = app
        .get_text("/audit?from_at=2026-03-01T09:00&to_at=2026-03-01T11:00&kind=company")
        .await;
    assert_eq!(count(&page, "<code>company."), 1, "{page}");
    assert!(page.contains("Created company Alpha"));
    let page = app.get_text("/audit?from=2026-03-04").await;
    assert!(page.contains("No events match these filters."));

    // CSV export of the same filter: a header row, the filtered rows (oldest first), quoting.
    let r = app.get("/audit.csv?kind=company").await;
    assert_eq!(r.status(), 200);
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert!(header("content-type").starts_with("text/csv"));
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"tenantry-audit.csv\""
    );
    let csv = r.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,time,actor,kind,company,outcome,summary,details"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    // The page's order: newest first.
    assert!(lines[3].contains(",company.create,") && lines[3].contains("Created company Alpha"));
    assert!(
        lines[2].contains("\"Created company Smith, \"\"Jones\"\" & Co\""),
        "{csv}"
    );
    assert!(lines[1].contains(",company.archive,"));
    let csv = app
        .get_text(&format!("/audit.csv?company={alpha}&outcome=success"))
        .await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    // Companies by name, outcomes in the words jobs use.
    assert!(csv.contains(",company.create,Alpha,succeeded,"), "{csv}");
}

#[tokio::test]
async fn paging_keeps_the_filters() {
    let app = spawn_app().await;
    app.login().await;
    let now = app.services().now();
    for i in 0..55 {
        app.services()
            .record(NewAuditEvent::new(
                now,
                Actor::system(),
                "test.bulk",
                format!("bulk event {i:02}"),
            ))
            .await
            .expect("record");
    }
    let page = app.get_text("/audit?kind=test&outcome=success").await;
    assert!(page.contains("1–50 of 55"), "{page}");
    assert_eq!(count(&page, "<code>test.bulk</code>"), 50);
    let next = "/audit?kind=test&#38;outcome=success&#38;page=2&#38;per_page=50";
    assert!(page.contains(next), "{page}");
    let page2 = app
        .get_text("/audit?kind=test&outcome=success&page=2&per_page=50")
        .await;
    assert_eq!(count(&page2, "<code>test.bulk</code>"), 5);
    assert!(page2.contains("51–55 of 55"));
}

#[tokio::test]
async fn bad_filter_values_get_a_400_that_says_why() {
    let app = spawn_app().await;
    app.login().await;
    for (path, says) in [
        ("/audit?from=yesterday-ish", "not a date"),
        ("/audit?to=2026-02-30", "not a date"),
        ("/audit?from_at=2026-03-01T25:00", "not a date"),
        ("/audit?company=acme", "not a company id"),
        ("/audit?outcome=meh", "not one of"),
        ("/audit?kind=%3Cscript%3E", "not an event kind"),
        ("/audit?page=0", "1 or more"),
        ("/audit?from=2026-03-03&to=2026-03-01", "must be before"),
        ("/audit.csv?from=yesterday-ish", "not a date"),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 400, "{path}");
        let body = r.text().await.expect("body");
        assert!(body.contains(says), "{path}: {body}");
    }
    // Signed out, the CSV is not served.
    let r = client()
        .get(app.at("/audit.csv"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 303);
}
