//! An asset's page, a contact's requests, the compliance bar, and the contact and asset
//! filters on the pages and the API, with empty states that say why nothing is listed.

use crate::sync_helpers::*;
use tenantry::domain::requests::Requester;
use tenantry::model::NewRequest;

#[tokio::test]
async fn an_asset_page_shows_its_user_sources_and_compliance_and_no_other_companys_asset() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 6, 12, true);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    let other = env.company("Fabrikam Bakery").await;
    let snap = snapshot(env.services(), company).await;
    let (asset, user) = snap
        .assets
        .iter()
        .find_map(|a| {
            let c = snap
                .contacts
                .iter()
                .find(|c| Some(c.id) == a.primary_user_contact_id)?;
            Some((a.clone(), c.clone()))
        })
        .expect("a device with a primary user");
    env.app.login().await;
    let link = format!("/companies/{company}/assets/{}", asset.id);
    let list = env
        .app
        .get_text(&format!("/companies/{company}?tab=assets&per_page=100"))
        .await;
    assert!(
        list.contains(&format!("href=\"{link}\"")),
        "the list links the page"
    );
    let page = env.app.get_text(&link).await;
    assert!(page.contains(&asset.hostname) && page.contains(&asset.serial_number));
    assert!(
        page.contains(&format!(
            "href=\"/companies/{company}/contacts/{}\">{}</a>",
            user.id, user.display_name
        )),
        "primary user linked to their page"
    );
    assert!(page.contains("Microsoft Intune"), "source named");
    let (words, _) = tenantry::domain::portal::compliance_label(&asset.compliance_state);
    assert!(page.contains(words), "compliance in words: {words}");
    assert!(
        page.contains("Encrypted")
            || page.contains("Not encrypted")
            || page.contains("Not reported")
    );
    let contact_page = env
        .app
        .get_text(&format!("/companies/{company}/contacts/{}", user.id))
        .await;
    assert!(
        contact_page.contains(&format!("href=\"{link}\"")),
        "contact page links the device"
    );
    let r = env
        .app
        .get(&format!("/companies/{other}/assets/{}", asset.id))
        .await;
    assert_eq!(
        r.status(),
        404,
        "another company's asset id is not found there"
    );
}

#[tokio::test]
async fn a_contact_page_lists_their_support_requests() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 4, 0, false);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    let snap = snapshot(env.services(), company).await;
    let (ann, bob) = (&snap.contacts[0], &snap.contacts[1]);
    let who = |c: &tenantry::model::Contact| Requester {
        company_id: company,
        contact_id: c.id,
        display_name: c.display_name.clone(),
        audit_name: c.upn.clone(),
        is_portal_admin: false,
    };
    for (c, subject) in [(ann, "Printer offline"), (bob, "VPN drops")] {
        env.services()
            .create_request(
                &who(c),
                NewRequest::parse(subject, "Since this morning.").expect("input"),
            )
            .await
            .expect("request");
    }
    env.app.login().await;
    let page = env
        .app
        .get_text(&format!("/companies/{company}/contacts/{}", ann.id))
        .await;
    assert!(page.contains("Printer offline"), "their request");
    assert!(!page.contains("VPN drops"), "not someone else's");
}

#[tokio::test]
async fn asset_filters_narrow_the_list_on_the_page_and_the_api_and_say_when_nothing_matches() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 4, 30, true);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    let snap = snapshot(env.services(), company).await;
    let noncompliant: Vec<_> = snap
        .assets
        .iter()
        .filter(|a| a.compliance_state == "noncompliant")
        .collect();
    assert!(
        !noncompliant.is_empty(),
        "the simulated tenant has non-compliant devices"
    );
    env.app.login().await;
    let page = env
        .app
        .get_text(&format!(
            "/companies/{company}?tab=assets&compliance=noncompliant&per_page=100"
        ))
        .await;
    for a in &snap.assets {
        let shown = page.contains(&format!("/assets/{}\"", a.id));
        assert_eq!(
            shown,
            a.compliance_state == "noncompliant",
            "{} ({})",
            a.hostname,
            a.compliance_state
        );
    }
    // The filter stays in the form and the paging links.
    assert!(page.contains("<option value=\"noncompliant\" selected>"));
    // The compliance bar counts every device and links each state to its filter.
    assert!(page.contains(&format!(
        "aria-label=\"Compliance of {} devices\"",
        snap.assets.len()
    )));
    assert!(page.contains("compliance=noncompliant\">Not compliant</a> "));
    let none = env
        .app
        .get_text(&format!("/companies/{company}?tab=assets&os=Linux"))
        .await;
    assert!(
        none.contains("No assets match these filters."),
        "no match, not 'no assets yet'"
    );
    assert!(!none.contains("No assets yet"));
    // Every device checked in within the simulator's recent past: none is a year stale, and
    // with a cutoff in the future-facing direction (1 day) the list is the devices older
    // than a day, counted by the record.
    let now = env.services().now();
    let stale: Vec<_> = snap
        .assets
        .iter()
        .filter(|a| {
            a.last_check_in
                .is_none_or(|t| t < now - chrono::Duration::days(1))
        })
        .collect();
    let t = env.app.admin_token().await;
    let get = |path: String| {
        let (app, t) = (&env.app, t.clone());
        async move {
            let r = app
                .client
                .get(app.at(&path))
                .bearer_auth(&t)
                .send()
                .await
                .expect("api");
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.expect("json"))
        }
    };
    let (status, v) = get(format!(
        "/api/v1/assets?company={company}&stale_days=1&per_page=500"
    ))
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["total"].as_u64(), Some(stale.len() as u64), "{v}");
    let (_, v) = get(format!(
        "/api/v1/companies/{company}/assets?compliance=noncompliant&per_page=500"
    ))
    .await;
    assert_eq!(v["total"].as_u64(), Some(noncompliant.len() as u64), "{v}");
    let (status, v) = get("/api/v1/assets?compliance=green".to_string()).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_input")),
        "{v}"
    );
}

#[tokio::test]
async fn contact_filters_by_guest_active_and_group() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 12, 0, false);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    let snap = snapshot(env.services(), company).await;
    env.app.login().await;
    let page = env
        .app
        .get_text(&format!(
            "/companies/{company}?tab=contacts&guest=no&active=yes&per_page=100"
        ))
        .await;
    for c in &snap.contacts {
        let shown = page.contains(&format!("/contacts/{}\"", c.id));
        assert_eq!(shown, !c.is_guest && c.active, "{}", c.display_name);
    }
    let m = snap.memberships.first().expect("a membership");
    let page = env
        .app
        .get_text(&format!(
            "/companies/{company}?tab=contacts&group={}&per_page=100",
            m.group_id
        ))
        .await;
    for c in &snap.contacts {
        let member = snap
            .memberships
            .iter()
            .any(|x| x.group_id == m.group_id && x.contact_id == c.id);
        assert_eq!(
            page.contains(&format!("/contacts/{}\"", c.id)),
            member,
            "{}",
            c.display_name
        );
    }
    assert!(page.contains(&format!("<option value=\"{}\" selected>", m.group_id)));
    let t = env.app.admin_token().await;
    let r = env
        .app
        .client
        .get(
            env.app
                .at(&format!("/api/v1/companies/{company}/contacts?guest=yes")),
        )
        .bearer_auth(&t)
        .send()
        .await
        .expect("api");
    let v: serde_json::Value = r.json().await.expect("json");
    let guests = snap.contacts.iter().filter(|c| c.is_guest).count() as u64;
    assert_eq!(v["total"].as_u64(), Some(guests), "{v}");
}
