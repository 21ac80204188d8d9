//! The detail pages, filtered lists and bulk sync fit a 1366 px laptop and a 390 px phone
//! (nothing wider than the viewport) on a freshly consented tenant, and the asset filter works
//! as a GET form without JavaScript. Every page of the product is measured in `every_page.rs`.

use super::*;

const WIDTHS: [u32; 2] = [1366, 390];

async fn fits(c: &fantoccini::Client, url: &str, width: u32) {
    c.goto(url).await.expect("goto");
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
        "{url} at {width}px: content {sw}px wide in a {iw}px viewport"
    );
}

#[tokio::test]
async fn detail_pages_filters_and_bulk_sync_fit_a_laptop_and_a_phone() {
    use tenantry::simulator::TenantSpec;
    if !browser_available() {
        return;
    }
    let (sim, tenant, _dir, app) = start_with_simulator(TenantSpec {
        name: "Northwind Traders".into(),
        users: 12,
        devices: 10,
        intune: true,
        p1: true,
        ..Default::default()
    })
    .await;
    let company = app
        .services
        .create_company(
            tenantry::model::Actor::system(),
            tenantry::model::CompanyInput::parse("Northwind Traders", &tenant.domain, "")
                .expect("input"),
        )
        .await
        .expect("company");
    let (_driver, c) = browser().await;
    c.goto(&format!("{}/login", app.url)).await.expect("goto");
    sign_in(&c).await;
    click(&c, Locator::LinkText("Northwind Traders")).await;
    click(
        &c,
        Locator::XPath("//button[normalize-space()='Sync With M365']"),
    )
    .await;
    click(&c, Locator::Id("accept")).await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    // Wait for the devices.
    let mut asset = None;
    for _ in 0..100 {
        let page = app
            .services
            .assets(Some(company.id), Default::default())
            .await
            .expect("assets");
        if let Some(a) = page
            .items
            .into_iter()
            .find(|a| a.primary_user_contact_id.is_some())
        {
            asset = Some(a);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let asset = asset.expect("a synced device with a primary user");
    let user = asset.primary_user_contact_id.expect("user");
    let id = company.id;
    let pages = [
        "/companies".to_string(),
        format!("/companies/{id}?tab=assets"),
        format!("/companies/{id}?tab=assets&compliance=noncompliant"),
        format!("/companies/{id}?tab=contacts&active=yes"),
        format!("/companies/{id}?tab=groups"),
        format!("/companies/{id}/assets/{}", asset.id),
        format!("/companies/{id}/contacts/{user}"),
        format!("/companies/sync-selected?id={id}"),
        "/assets?stale_days=30".to_string(),
        "/contacts?guest=no".to_string(),
    ];
    for width in WIDTHS {
        c.set_window_size(width, 900).await.expect("resize");
        for p in &pages {
            fits(&c, &format!("{}{p}", app.url), width).await;
        }
        // The asset filter, as a person uses it: choose, submit, read the narrowed list.
        c.goto(&format!("{}/companies/{id}?tab=assets", app.url))
            .await
            .expect("goto");
        let select = c
            .wait()
            .for_element(Locator::Css("select[name=compliance]"))
            .await
            .expect("filter");
        select.select_by_value("compliant").await.expect("choose");
        click(
            &c,
            Locator::XPath(
                "//form[contains(@class,'filters')]//button[normalize-space()='Search']",
            ),
        )
        .await;
        c.wait()
            .for_element(Locator::Css("option[value=compliant][selected]"))
            .await
            .expect("filter kept");
        let url = c.current_url().await.expect("url");
        assert!(
            url.query()
                .is_some_and(|q| q.contains("compliance=compliant")),
            "{url}"
        );
        let badges = c
            .find_all(Locator::Css(
                "main table tbody td[data-label=Compliance] .badge",
            ))
            .await
            .expect("rows");
        for b in badges {
            let t = b.text().await.expect("text");
            assert_eq!(t, "Compliant", "only compliant devices listed");
        }
    }
    c.close().await.expect("close");
    app.stop().await;
    sim.stop().await;
}
