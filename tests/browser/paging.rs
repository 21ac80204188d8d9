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

/// A company's contacts filtered to one group: Next, Previous and Last page by cursor (the
/// group's members in contact-id order), as on every other list.
#[tokio::test]
async fn a_groups_members_page_by_cursor_links_in_a_browser() {
    if !browser_available() {
        return;
    }
    let (_dir, app) = start_app(&[]).await;
    let company = app
        .services
        .create_company(
            tenantry::model::Actor::system(),
            tenantry::model::CompanyInput::parse("Group Co", "group.example", "").expect("input"),
        )
        .await
        .expect("company");
    let cid = company.id;
    let now = app.services.now();
    // Eight contacts; the group holds the first seven ("Member 0".."Member 6").
    let group = app
        .services
        .store_handle()
        .write(move |w| {
            let group = w.next_id("contact_group")?;
            w.put_group(&tenantry::model::ContactGroup {
                id: group,
                company_id: cid,
                display_name: "Team".into(),
                description: String::new(),
                mail_enabled: false,
                active: true,
                entra_object_id: None,
                member_count: 7,
                updated_at: now,
            })?;
            for i in 0..8u64 {
                let id = w.next_id("contact")?;
                w.put_contact(&tenantry::model::Contact {
                    id,
                    company_id: cid,
                    display_name: format!("Member {i}"),
                    email: format!("m{i}@group.example"),
                    department: String::new(),
                    job_title: String::new(),
                    upn: format!("m{i}@group.example"),
                    account_enabled: true,
                    active: true,
                    is_guest: false,
                    entra_object_id: None,
                    created_at: now,
                    updated_at: now,
                })?;
                if i < 7 {
                    w.put_membership(
                        tenantry::model::Membership {
                            company_id: cid,
                            group_id: group,
                            contact_id: id,
                        },
                        1,
                    )?;
                }
            }
            Ok::<_, tenantry::store::StoreError>(group)
        })
        .await
        .expect("seed");
    let members = |c: &fantoccini::Client| {
        let c = c.clone();
        async move {
            let text = c
                .find(Locator::Css("main table tbody"))
                .await
                .expect("table")
                .text()
                .await
                .expect("text");
            (0..8)
                .map(|i| format!("Member {i}"))
                .filter(|n| text.contains(n.as_str()))
                .collect::<Vec<_>>()
        }
    };
    let (_driver, c) = browser().await;
    c.goto(&format!("{}/login", app.url)).await.expect("goto");
    sign_in(&c).await;
    c.goto(&format!(
        "{}/companies/{cid}?tab=contacts&group={group}&per_page=3",
        app.url
    ))
    .await
    .expect("goto");
    assert_eq!(members(&c).await, ["Member 0", "Member 1", "Member 2"]);

    click(&c, Locator::Css("nav.pager a[rel=next]")).await;
    assert_eq!(members(&c).await, ["Member 3", "Member 4", "Member 5"]);
    let url = c.current_url().await.expect("url");
    assert!(
        url.query()
            .is_some_and(|q| q.contains("cursor=") && q.contains(&format!("group={group}"))),
        "{url}"
    );

    click(&c, Locator::Css("nav.pager a[rel=prev]")).await;
    assert_eq!(members(&c).await, ["Member 0", "Member 1", "Member 2"]);

    click(&c, Locator::Css("nav.pager a[rel=last]")).await;
    assert_eq!(members(&c).await, ["Member 6"]);
    click(&c, Locator::Css("nav.pager a[rel=prev]")).await;
    assert_eq!(members(&c).await, ["Member 3", "Member 4", "Member 5"]);
    let url = c.current_url().await.expect("url");
    assert!(
        url.query().is_some_and(|q| q.contains("before=")),
        "Previous by cursor: {url}"
    );
    c.close().await.expect("close");
    app.stop().await;
}
