//! A list page in a real browser: Next, Previous and Last are plain links (no script) that
//! page by cursor, keep the sort, and fit a phone.

use super::*;

/// The company names the list shows, in order.
async fn shown(c: &fantoccini::Client) -> Vec<String> {
    let mut out = Vec::new();
    for cell in c
        .find_all(Locator::Css("main table tbody tr td:nth-child(2) a"))
        .await
        .expect("rows")
    {
        out.push(cell.text().await.expect("text"));
    }
    out
}

#[tokio::test]
async fn the_companies_list_pages_by_cursor_links_in_a_browser() {
    if !browser_available() {
        return;
    }
    let (_dir, app) = start_app(&[]).await;
    for i in 0..7 {
        app.services
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
    let (_driver, c) = browser().await;
    c.goto(&format!("{}/login", app.url)).await.expect("goto");
    sign_in(&c).await;
    c.goto(&format!(
        "{}/companies?per_page=3&sort=name&dir=desc",
        app.url
    ))
    .await
    .expect("goto");
    assert_eq!(shown(&c).await, ["Company 6", "Company 5", "Company 4"]);

    click(&c, Locator::Css("nav.pager a[rel=next]")).await;
    assert_eq!(shown(&c).await, ["Company 3", "Company 2", "Company 1"]);
    let url = c.current_url().await.expect("url");
    assert!(
        url.query()
            .is_some_and(|q| q.contains("cursor=") && q.contains("dir=desc")),
        "{url}"
    );

    click(&c, Locator::Css("nav.pager a[rel=prev]")).await;
    assert_eq!(shown(&c).await, ["Company 6", "Company 5", "Company 4"]);

    click(&c, Locator::Css("nav.pager a[rel=last]")).await;
    assert_eq!(shown(&c).await, ["Company 0"]);
    let pager = c
        .find(Locator::Css("nav.pager"))
        .await
        .expect("pager")
        .text()
        .await
        .expect("text");
    assert!(pager.contains("Page 3 of 3"), "{pager}");

    // The pager with all its links fits a phone.
    c.set_window_size(390, 844).await.expect("resize");
    click(&c, Locator::Css("nav.pager a[rel=prev]")).await;
    assert_eq!(shown(&c).await, ["Company 3", "Company 2", "Company 1"]);
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .expect("measure");
    let (sw, iw) = (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0));
    assert!(
        iw > 0 && sw <= iw,
        "content {sw}px wide in a {iw}px viewport"
    );
    c.close().await.expect("close");
    app.stop().await;
}
