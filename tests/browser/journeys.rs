//! The journeys of #14 a technician walks with buttons and links, at 1366 px and 390 px on the
//! demo: archive → Sync and Disconnect disabled with the reason and a Restore link → restore →
//! enabled again; Disconnect through its confirmation page (Cancel keeps the connection,
//! confirming ends it); a group's members from the Groups tab through the contacts' group
//! filter; a contact's page with their groups and devices. Each page met is measured too.

use super::walkthrough::{demo, press, shot, sign_in};
use super::{browser, browser_available, click};
use fantoccini::{Client, Locator};
use tenantry::domain::Services;

/// The page the browser is on is no wider than the window.
pub(super) async fn fits(c: &Client, what: &str) {
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .expect("measure");
    let (scroll, inner) = (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0));
    assert!(
        inner > 0 && scroll <= inner,
        "{what} at {inner}px: content {scroll}px wide"
    );
}

/// The visible text of `css`, once it is on the page.
pub(super) async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} not found: {e}"))
        .text()
        .await
        .expect("text")
}

async fn notice(c: &Client) -> String {
    text_of(c, "p.notice[role=status]").await
}

/// Whether a button with this label is there and enabled / disabled.
async fn button_state(c: &Client, label: &str) -> Option<bool> {
    let xpath = format!("//main//button[normalize-space()='{label}']");
    let b = c.find(Locator::XPath(&xpath)).await.ok()?;
    Some(b.is_enabled().await.expect("enabled?"))
}

/// The company's tenant link, as stored.
async fn connected(s: &Services, id: u64) -> bool {
    s.company(id)
        .await
        .expect("company")
        .tenant
        .is_some_and(|t| t.connected)
}

#[tokio::test]
async fn archive_restore_disconnect_groups_and_a_contact_at_laptop_and_phone_widths() {
    use tenantry::domain::companies::CompanyFilter;
    use tenantry::model::ListQuery;
    if !browser_available() {
        return;
    }
    let demo = demo().await;
    let s = demo.app.services.clone();
    let companies = s
        .companies(
            CompanyFilter::Active,
            ListQuery::new(None, Some(100), None, None, None),
        )
        .await
        .expect("companies")
        .items;
    let connected_ids: Vec<(u64, String)> = companies
        .iter()
        .filter(|c| c.tenant.as_ref().is_some_and(|t| t.connected))
        .map(|c| (c.id, c.name.clone()))
        .collect();
    assert!(
        connected_ids.len() >= 2,
        "the demo has two connected clients"
    );
    let (_driver, c) = browser().await;
    c.set_window_size(1366, 900).await.expect("resize");
    sign_in(&c, &demo).await;
    c.wait()
        .for_element(Locator::XPath("//button[normalize-space()='Sign out']"))
        .await
        .expect("signed in");

    // One connected company per width: the journey ends by disconnecting it.
    for (width, (id, name)) in [1366u32, 390].into_iter().zip(connected_ids) {
        c.set_window_size(width, 900).await.expect("resize");
        let page = format!("{}/companies/{id}", demo.info.url);
        c.goto(&page).await.expect("goto");
        assert_eq!(button_state(&c, "Sync With M365").await, Some(true));

        // Archive, through its confirmation page.
        click(&c, Locator::LinkText("Archive")).await;
        fits(&c, "the archive confirmation").await;
        press(&c, "Archive company").await;
        assert!(notice(&c).await.starts_with("Company archived."));
        assert_eq!(
            button_state(&c, "Sync With M365").await,
            Some(false),
            "{name}: Sync With M365 is disabled while archived ({width}px)"
        );
        assert_eq!(button_state(&c, "Disconnect").await, Some(false));
        let why = text_of(&c, "#archived-why").await;
        assert!(
            why.contains("archived") && why.contains("Restore it"),
            "the reason beside the buttons: {why}"
        );
        shot(&c, &format!("journey-{width}-archived")).await;
        fits(&c, "an archived company").await;
        // The reason's Restore link, its confirmation, and the actions are back.
        click(&c, Locator::Css("#archived-why a")).await;
        fits(&c, "the restore confirmation").await;
        press(&c, "Restore company").await;
        assert_eq!(notice(&c).await, "Company restored.");
        assert_eq!(button_state(&c, "Sync With M365").await, Some(true));
        assert!(
            c.find(Locator::Css("main a[href$='/disconnect']"))
                .await
                .is_ok(),
            "Disconnect is offered again"
        );
        assert!(c.find(Locator::Css("#archived-why")).await.is_err());

        // Disconnect: the confirmation page; Cancel keeps the connection.
        click(&c, Locator::Css("main a[href$='/disconnect']")).await;
        let h1 = text_of(&c, "main h1").await;
        assert_eq!(h1, format!("Disconnect {name} from Microsoft 365?"));
        fits(&c, "the disconnect confirmation").await;
        click(&c, Locator::LinkText("Cancel")).await;
        text_of(&c, "nav.tabs").await;
        assert!(
            c.current_url()
                .await
                .expect("url")
                .path()
                .ends_with(&format!("/companies/{id}")),
            "Cancel goes back to the company"
        );
        assert!(connected(&s, id).await, "Cancel kept {name} connected");
        // Confirming disconnects.
        click(&c, Locator::Css("main a[href$='/disconnect']")).await;
        press(&c, "Disconnect").await;
        assert!(
            notice(&c)
                .await
                .starts_with("Disconnected from Microsoft 365.")
        );
        assert!(!connected(&s, id).await, "{name} disconnected");
        assert!(
            c.find(Locator::Css("main a[href$='/disconnect']"))
                .await
                .is_err(),
            "nothing left to disconnect"
        );
        fits(&c, "a disconnected company").await;
    }

    // The healthy client's groups: a group's member count links to its members, which the
    // contacts' group filter lists — exactly the contacts whose pages name that group.
    let healthy = companies
        .iter()
        .find(|c| c.name.contains("Contoso"))
        .expect("Contoso Dental")
        .id;
    for width in [1366u32, 390] {
        c.set_window_size(width, 900).await.expect("resize");
        c.goto(&format!("{}/companies/{healthy}?tab=groups", demo.info.url))
            .await
            .expect("goto");
        fits(&c, "the groups tab").await;
        let link = c
            .wait()
            .for_element(Locator::Css("main td[data-label=Members] a"))
            .await
            .expect("a group's member count");
        let count: usize = link
            .text()
            .await
            .expect("text")
            .trim()
            .parse()
            .expect("a number");
        let row_text = c
            .find(Locator::Css("main tbody tr"))
            .await
            .expect("first row")
            .text()
            .await
            .expect("text");
        link.click().await.expect("open the members");
        let selected = c
            .wait()
            .for_element(Locator::Css("select[name=group] option[selected]"))
            .await
            .expect("the group filter is set");
        let group_name = selected.text().await.expect("name");
        assert!(
            row_text.contains(&group_name),
            "the filter names the group clicked: {group_name} / {row_text}"
        );
        fits(&c, "contacts filtered by group").await;
        let members = c
            .find_all(Locator::Css("main td[data-label=Name] a"))
            .await
            .expect("rows");
        assert_eq!(members.len(), count.min(50), "the group's members listed");
        // Each listed contact's page names the group; the first is opened in the browser.
        let mut hrefs = Vec::new();
        for m in &members {
            hrefs.push(m.attr("href").await.expect("href").expect("a link"));
        }
        for h in &hrefs {
            let cid: u64 = h
                .rsplit('/')
                .next()
                .and_then(|x| x.parse().ok())
                .expect("id");
            let detail = s.contact_detail(healthy, cid).await.expect("contact");
            assert!(
                detail.groups.iter().any(|g| g.display_name == group_name),
                "{} is in {group_name}",
                detail.contact.display_name
            );
        }
        // The same list through the filter form, as a person picks the group.
        let group_id = c
            .current_url()
            .await
            .expect("url")
            .query_pairs()
            .find(|(k, _)| k == "group")
            .map(|(_, v)| v.to_string())
            .expect("group in the link");
        c.goto(&format!(
            "{}/companies/{healthy}?tab=contacts",
            demo.info.url
        ))
        .await
        .expect("goto");
        c.wait()
            .for_element(Locator::Css("select[name=group]"))
            .await
            .expect("group filter")
            .select_by_value(&group_id)
            .await
            .expect("choose the group");
        click(
            &c,
            Locator::XPath(
                "//form[contains(@class,'filters')]//button[normalize-space()='Search']",
            ),
        )
        .await;
        c.wait()
            .for_element(Locator::Css(&format!(
                "select[name=group] option[value='{group_id}'][selected]"
            )))
            .await
            .expect("the filter is kept");
        let mut by_form = Vec::new();
        for m in c
            .find_all(Locator::Css("main td[data-label=Name] a"))
            .await
            .expect("rows")
        {
            by_form.push(m.attr("href").await.expect("href").expect("a link"));
        }
        assert_eq!(by_form, hrefs, "the form lists the same members");
        c.goto(&format!("{}{}", demo.info.url, hrefs[0]))
            .await
            .expect("goto");
        let groups = text_of(&c, "main ul").await;
        assert!(groups.contains(&group_name), "{groups}");
        fits(&c, "a contact's page").await;
    }

    // A contact with devices: their page lists each device and every group they are in.
    let asset = s
        .assets(
            Some(healthy),
            ListQuery::new(None, Some(200), None, None, None),
        )
        .await
        .expect("assets")
        .items
        .into_iter()
        .find(|a| a.primary_user_contact_id.is_some())
        .expect("a device with a primary user");
    let user = asset.primary_user_contact_id.expect("user");
    let detail = s.contact_detail(healthy, user).await.expect("contact");
    for width in [1366u32, 390] {
        c.set_window_size(width, 900).await.expect("resize");
        c.goto(&format!(
            "{}/companies/{healthy}/contacts/{user}",
            demo.info.url
        ))
        .await
        .expect("goto");
        let body = text_of(&c, "main").await;
        assert!(body.contains(&detail.contact.display_name));
        for d in &detail.devices {
            assert!(body.contains(&d.hostname), "device {} listed", d.hostname);
        }
        assert!(body.contains(&asset.hostname));
        for g in &detail.groups {
            assert!(
                body.contains(&g.display_name),
                "group {} listed",
                g.display_name
            );
        }
        // The device's compliance reads in words on the phone too, on screen.
        let on_screen = c
            .execute(
                "const b = document.querySelector('main td[data-label=Compliance]');
                 if (!b) return false;
                 const r = b.getBoundingClientRect();
                 return r.width > 0 && r.right <= window.innerWidth;",
                vec![],
            )
            .await
            .expect("measure");
        assert_eq!(on_screen, serde_json::Value::Bool(true), "at {width}px");
        fits(&c, "a contact with devices").await;
        shot(&c, &format!("journey-{width}-contact")).await;
    }
    c.close().await.expect("close");
    demo.stop().await;
}
