//! The Jobs and Audit pages page by cursor (#11): Next, Previous, First and Last walk a
//! filtered list both ways and show exactly the rows a full scan of the records gives, in
//! order, with the filter kept in every link; `page=` keeps working.

use crate::helpers::*;
use tenantry::model::{
    Actor, AuditFilter, Job, JobState, NewAuditEvent, Outcome, Requester, Trigger,
};

/// The pager's link with `rel` (next, prev, first, last), as a path.
fn pager_link(html: &str, rel: &str) -> Option<String> {
    let at = html.find(&format!("rel=\"{rel}\""))?;
    let start = html[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + html[start..].find('"')?;
    Some(crate::compliance::unescape(&html[start..end]))
}

/// The values of the cells labelled `label`, in page order.
fn cells(html: &str, label: &str, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    html.split(&format!("<td data-label=\"{label}\""))
        .skip(1)
        .filter_map(|cell| cell.split_once('>').map(|(_, rest)| rest))
        .filter_map(|cell| cell.split_once("</td>").map(|(v, _)| v))
        .map(|v| v.split('<').next().unwrap_or("").trim().to_string())
        .filter(|v| wanted(v))
        .collect()
}

/// Walk a list from `first_path` by Next to its end, back by Previous to page 1, then to Last
/// and one Previous from there, comparing every page with `want` cut into pages.
async fn walk(
    app: &TestApp,
    first_path: &str,
    keeps: &str,
    want: &[String],
    per: usize,
    rows: impl Fn(&str) -> Vec<String>,
) {
    let chunks: Vec<Vec<String>> = want.chunks(per).map(<[String]>::to_vec).collect();
    assert!(chunks.len() >= 4, "enough pages to walk: {}", chunks.len());
    let first = app.get_text(first_path).await;
    assert_eq!(rows(&first), chunks[0], "{first_path}: page 1");
    let mut html = first.clone();
    let mut n = 1;
    while let Some(next) = pager_link(&html, "next") {
        assert!(next.contains("cursor="), "Next pages by cursor: {next}");
        assert!(next.contains(keeps), "{next} keeps {keeps}");
        html = app.get_text(&next).await;
        assert_eq!(
            rows(&html),
            chunks[n],
            "{first_path}: page {} by Next",
            n + 1
        );
        assert!(html.contains(&format!("Page {} of {}", n + 1, chunks.len())));
        n += 1;
    }
    assert_eq!(n, chunks.len(), "Next reaches the last page");
    let mut at = n - 1;
    while let Some(prev) = pager_link(&html, "prev") {
        assert!(prev.contains("before="), "Previous pages by cursor: {prev}");
        assert!(prev.contains(keeps), "{prev} keeps {keeps}");
        html = app.get_text(&prev).await;
        at -= 1;
        assert_eq!(
            rows(&html),
            chunks[at],
            "{first_path}: page {} by Previous",
            at + 1
        );
        if at >= 2 {
            let first_link = pager_link(&html, "first").expect("a First link");
            assert_eq!(rows(&app.get_text(&first_link).await), chunks[0]);
        }
    }
    assert_eq!(at, 0, "Previous returns to page 1");
    let last = pager_link(&first, "last").expect("a Last link");
    let html = app.get_text(&last).await;
    assert_eq!(rows(&html), chunks[n - 1], "{first_path}: Last");
    assert!(pager_link(&html, "next").is_none());
    let prev = pager_link(&html, "prev").expect("Previous from Last");
    assert_eq!(rows(&app.get_text(&prev).await), chunks[n - 2]);
    // An old `page=` link still shows that page.
    let page3 = app.get_text(&format!("{first_path}&page=3")).await;
    assert_eq!(rows(&page3), chunks[2], "{first_path}: page=3");
}

#[tokio::test]
async fn jobs_and_audit_pages_walk_a_filter_by_cursor_both_ways() {
    let app = spawn_app().await;
    let now = app.services().now();
    // 90 identity jobs of company 7, one in three failed; 150 audit events, every other a
    // failure of kind `paging.test`.
    app.services()
        .store_handle()
        .write(move |w| {
            for i in 0..90u64 {
                w.enqueue_job(Job::new(
                    "identity_sync",
                    Some(7),
                    Trigger::Manual,
                    Requester::system(),
                    3,
                    now,
                    serde_json::Value::Null,
                ))?;
                if let Some(j) = w.claim_job(now)? {
                    let st = if i % 3 == 0 {
                        JobState::Failed
                    } else {
                        JobState::Succeeded
                    };
                    w.finish_job(j, st, now)?;
                }
            }
            for i in 0..150u64 {
                let mut e = NewAuditEvent::new(
                    now + chrono::Duration::seconds(i as i64),
                    Actor("staff:1".into()),
                    if i % 2 == 0 {
                        "paging.test"
                    } else {
                        "paging.other"
                    },
                    format!("event-{i:03}"),
                );
                e.outcome = if i % 4 == 0 {
                    Outcome::Failure
                } else {
                    Outcome::Success
                };
                w.append_audit(e)?;
            }
            Ok::<_, tenantry::store::StoreError>(())
        })
        .await
        .expect("seed");
    app.login().await;

    // Jobs: company 7's failed identity syncs, newest first, as the records say.
    let want_jobs: Vec<String> = {
        let all = app
            .services()
            .store_handle()
            .read(|r| {
                let mut v = Vec::new();
                for id in 1..=200u64 {
                    if let Some(j) = r.job(id)? {
                        v.push(j);
                    }
                }
                Ok::<_, tenantry::store::StoreError>(v)
            })
            .await
            .expect("jobs");
        all.iter()
            .rev()
            .filter(|j| j.company_id == Some(7) && j.state == JobState::Failed)
            .map(|j| j.id.to_string())
            .collect()
    };
    assert_eq!(want_jobs.len(), 30);
    let numeric = |v: &str| v.parse::<u64>().is_ok();
    walk(
        &app,
        "/jobs?company=7&state=failed&kind=identity_sync&per_page=7",
        "state=failed",
        &want_jobs,
        7,
        |html| {
            // The # cell holds a link whose text is the id.
            html.split("<td data-label=\"#\"><a href=\"/jobs/")
                .skip(1)
                .filter_map(|c| c.split_once('"').map(|(id, _)| id.to_string()))
                .filter(|id| numeric(id))
                .collect()
        },
    )
    .await;

    // Audit: failures of kind `paging`, newest first, as the full filter says.
    let f = AuditFilter {
        kind: Some("paging.test".into()),
        outcome: Some(Outcome::Failure),
        ..AuditFilter::default()
    };
    let mut want_audit = Vec::new();
    let filter = f.clone();
    let events = app
        .services()
        .store_handle()
        .read(move |r| {
            let mut v = Vec::new();
            r.audit_each(&AuditFilter::default(), |e| v.push(e))?;
            Ok::<_, tenantry::store::StoreError>(v)
        })
        .await
        .expect("events");
    for e in events.iter().rev().filter(|e| filter.matches(e)) {
        want_audit.push(e.summary.clone());
    }
    assert_eq!(want_audit.len(), 38);
    walk(
        &app,
        "/audit?kind=paging.test&outcome=failure&per_page=9",
        "outcome=failure",
        &want_audit,
        9,
        |html| cells(html, "Summary", |v| v.starts_with("event-")),
    )
    .await;
}
