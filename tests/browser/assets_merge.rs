//! Assets from Intune and Level.io in a real browser, on the demo (Contoso Dental's estates
//! overlap): a merged asset's page shows where each field comes from, and the review queue's
//! Merge works end to end — the pair leaves the queue, the two records are one asset, and the
//! pages fit a 1366 px laptop and a 390 px phone.

use super::journeys::{fits, text_of as text};
use super::walkthrough::{shot, sign_in};
use super::{browser, browser_available, click};
use fantoccini::Locator;
use tenantry::domain::companies::CompanyFilter;
use tenantry::model::ListQuery;

/// Wait until none of the company's jobs is queued or running (the state another task
/// changes; re-checked every 50 ms, for at most a minute).
async fn idle(s: &tenantry::domain::Services, company: u64) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let jobs = s.jobs(Some(company), 1, 50).await.expect("jobs").items;
        if jobs.iter().all(|j| !j.state.is_active()) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the demo's jobs for company {company} never finished: {jobs:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_merged_asset_shows_provenance_and_the_review_merge_works() {
    if !browser_available() {
        return;
    }
    let demo = super::walkthrough::demo().await;
    let s = demo.app.services.clone();
    let contoso = s
        .companies(
            CompanyFilter::All,
            ListQuery::new(None, Some(100), None, None, None),
        )
        .await
        .expect("companies")
        .items
        .into_iter()
        .find(|c| c.name.contains("Contoso"))
        .expect("Contoso in the demo");
    // The demo waits a bounded time for its first syncs; on a loaded machine Contoso's may
    // still be running, and its Level phase would then rewrite the estate seeded below.
    idle(&s, contoso.id).await;
    // The estate is written as the Level phase writes it, so the test does not hang on the
    // demo's own Level wiring (tests/app/asset_merge_seed.rs).
    let seeded = super::asset_merge_seed::seed(&s, contoso.id).await;
    let m = s
        .asset_detail(contoso.id, seeded.merged)
        .await
        .expect("the merged asset")
        .asset;
    let pair = s
        .asset_review_page(contoso.id, None, 200)
        .await
        .expect("review")
        .items
        .into_iter()
        .find(|p| p.key() == seeded.key)
        .expect("the seeded pair is in the queue");

    let (_driver, c) = browser().await;
    sign_in(&c, &demo).await;
    let base = &demo.info.url;
    for width in [1366u32, 390] {
        c.set_window_size(width, 900).await.expect("resize");
        // The asset page: every field with its source and when that source saw it.
        c.goto(&format!("{base}/companies/{}/assets/{}", contoso.id, m.id))
            .await
            .expect("goto");
        let table = text(&c, "table.provenance").await;
        assert!(
            table.contains("Microsoft Intune") && table.contains("Level.io"),
            "both sources give fields: {table}"
        );
        assert!(table.contains("Hostname"), "{table}");
        let records = text(&c, "table.source-records").await;
        for src in &m.sources {
            assert!(records.contains(&src.external_id), "{records}");
        }
        c.find(Locator::LinkText("Unmerge"))
            .await
            .expect("a merged asset offers Unmerge");
        fits(&c, &format!("asset page at {width}px")).await;
        shot(&c, &format!("asset-provenance-{width}")).await;
        // The review queue, side by side, with its reason.
        c.goto(&format!("{base}/companies/{}/assets/review", contoso.id))
            .await
            .expect("goto");
        let queue = text(&c, "table.review").await;
        assert!(queue.contains(pair.reason.describe()), "{queue}");
        fits(&c, &format!("review queue at {width}px")).await;
        shot(&c, &format!("asset-review-{width}")).await;
    }

    // Merge the first pair from the page.
    c.set_window_size(1366, 900).await.expect("resize");
    c.goto(&format!("{base}/companies/{}/assets/review", contoso.id))
        .await
        .expect("goto");
    let form = format!(
        "//form[input[@name='pair' and @value='{}'] and contains(@action, '/assets/merge')]//button",
        pair.key()
    );
    click(&c, Locator::XPath(&form)).await;
    let notice = text(&c, "p.notice[role=status]").await;
    assert!(notice.contains("Assets merged"), "{notice}");
    let table = text(&c, "table.provenance").await;
    assert!(
        table.contains("Microsoft Intune") && table.contains("Level.io"),
        "the merged asset has both sources: {table}"
    );
    let facts = text(&c, "dl.facts").await;
    assert!(facts.contains("merged by hand"), "{facts}");

    let after = s
        .asset_review_page(contoso.id, None, 200)
        .await
        .expect("review");
    assert!(
        after.items.iter().all(|r| r.key() != pair.key()),
        "the pair left the queue"
    );
    let holder = s
        .asset_detail(contoso.id, seeded.review_intune.min(seeded.review_level))
        .await
        .expect("the surviving asset")
        .asset;
    let held: Vec<&str> = holder
        .sources
        .iter()
        .map(|x| x.external_id.as_str())
        .collect();
    assert!(
        held.contains(&pair.intune_id.as_str()) && held.contains(&pair.level_id.as_str()),
        "one asset holds both records: {held:?}"
    );
    demo.stop().await;
}
