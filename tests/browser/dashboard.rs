//! The home dashboard (#13) against `tenantry demo`: after sign-in `/` is the dashboard, every
//! demo company in one table with its sparkline, and it fits a 1366 px laptop and a 390 px
//! phone without scrolling sideways.

use super::walkthrough::{demo, fits, shot, sign_in, text_once};
use super::{browser, browser_available};
use fantoccini::Locator;

#[tokio::test]
async fn the_dashboard_fits_a_laptop_and_a_phone() {
    if !browser_available() {
        return;
    }
    let demo = demo().await;
    let (_driver, c) = browser().await;
    c.set_window_size(1366, 900).await.expect("resize");
    sign_in(&c, &demo).await;
    c.goto(&format!("{}/", demo.info.url)).await.expect("goto");
    let text = text_once(&c, Locator::Css("table.dashboard")).await;
    assert!(
        text.contains("Contoso Dental") && text.contains("Fabrikam Bakery"),
        "{text}"
    );
    let rows = c
        .find_all(Locator::Css("table.dashboard tbody tr[data-company]"))
        .await
        .expect("rows");
    assert!(rows.len() >= 2, "one row per active company");
    let sparks = c
        .find_all(Locator::Css("table.dashboard svg.spark polyline"))
        .await
        .expect("sparklines");
    assert!(
        !sparks.is_empty(),
        "synced companies draw their 30-day lines"
    );
    shot(&c, "dashboard-1366").await;
    fits(&c, 1366, "the dashboard").await;
    fits(&c, 390, "the dashboard").await;
    shot(&c, "dashboard-390").await;
    demo.stop().await;
}
