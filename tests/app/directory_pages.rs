//! What was synced, as staff see it: lists that speak plainly (compliance in words with a
//! colour, empty lists that say whether nothing matched or nothing was synced yet), the
//! company list's last sync, the Groups tab and a contact's page.

use crate::sync_helpers::*;

#[tokio::test]
async fn compliance_shows_in_words_and_a_search_without_matches_says_so() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 4, 30, true);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    env.app.login().await;
    let assets = env
        .app
        .get_text(&format!("/companies/{company}?tab=assets&per_page=100"))
        .await;
    for raw in [
        "compliant</span>",
        "noncompliant</span>",
        "inGracePeriod</span>",
        "configManager</span>",
    ] {
        assert!(
            !assets.contains(&format!(">{raw}")),
            "raw Intune value {raw} shown"
        );
    }
    assert!(
        assets.contains("class=\"badge ok\" title=\"Meets your organisation")
            && assets.contains(">Compliant</span>"),
        "compliant devices in words, green"
    );
    let none = env
        .app
        .get_text(&format!(
            "/companies/{company}?tab=assets&q=no-such-device-zz"
        ))
        .await;
    assert!(
        none.contains("No assets match “no-such-device-zz”."),
        "no match, not 'no assets yet'"
    );
    assert!(!none.contains("No assets yet"));
    let contacts = env
        .app
        .get_text(&format!(
            "/companies/{company}?tab=contacts&q=no-such-person-zz"
        ))
        .await;
    assert!(contacts.contains("No contacts match “no-such-person-zz”."));
}

#[tokio::test]
async fn the_groups_tab_shows_each_group_its_size_and_the_portal_rule_that_uses_it() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 12, 0, false);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    let s = env.services();
    let groups = s
        .contact_groups(
            company,
            tenantry::model::ListQuery::new(None, Some(500), None, None, None),
        )
        .await
        .expect("groups")
        .items;
    assert!(groups.len() >= 2, "the simulated tenant has groups");
    let (allowed, admins) = (&groups[0], &groups[1]);
    let slug = s.portal_settings(company).await.expect("portal").slug;
    s.update_portal_settings(
        tenantry::domain::authority::AdminActor::system(),
        company,
        tenantry::domain::portal::PortalInput {
            slug,
            sso_enabled: false,
            allowed_group_ids: vec![allowed.id],
            admin_group_id: Some(admins.id),
        },
    )
    .await
    .expect("portal rules");
    env.app.login().await;
    let page = env
        .app
        .get_text(&format!("/companies/{company}?tab=groups&per_page=500"))
        .await;
    assert!(
        page.contains("?tab=groups\" class=\"current\">Groups</a>"),
        "Groups tab"
    );
    for g in &groups {
        assert!(page.contains(&g.display_name), "{} listed", g.display_name);
    }
    let row_of = |name: &str| {
        let at = page.find(name).expect("row");
        page[at..at + page[at..].find("</tr>").expect("row end")].to_string()
    };
    let row = row_of(&allowed.display_name);
    assert!(row.contains("Allowed into the portal"), "{row}");
    assert!(
        row.contains(&format!(">{}</a></td>", allowed.member_count)),
        "size shown: {row}"
    );
    assert!(row_of(&admins.display_name).contains("Portal admins"));
}

#[tokio::test]
async fn the_company_list_shows_how_long_ago_each_company_last_synced_and_how_it_went() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 3, 2, true);
    env.connect("Contoso Dental", &t.id).await;
    env.company("Never Synced Ltd").await;
    env.app.login().await;
    let list = env.app.get_text("/companies").await;
    let row_of = |name: &str| {
        let at = list.find(name).expect("row");
        list[at..at + list[at..].find("</tr>").expect("row end")].to_string()
    };
    let synced = row_of("Contoso Dental");
    assert!(
        synced.contains(
            "<span class=\"badge success\">Succeeded</span> <span class=\"nowrap\">just now</span>"
        ),
        "{synced}"
    );
    assert!(row_of("Never Synced Ltd").contains("Never"));
}

#[tokio::test]
async fn a_contact_page_shows_their_entra_ids_groups_and_devices_and_no_other_companys_contact() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 6, 12, true);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    let other = env.company("Fabrikam Bakery").await;
    let snap = snapshot(env.services(), company).await;
    // Someone who is the primary user of a device and in at least one group.
    let (contact, device) = snap
        .assets
        .iter()
        .find_map(|a| {
            let c = snap
                .contacts
                .iter()
                .find(|c| Some(c.id) == a.primary_user_contact_id)?;
            snap.memberships
                .iter()
                .any(|m| m.contact_id == c.id)
                .then(|| (c.clone(), a.clone()))
        })
        .expect("a contact with a device and a group");
    let group_id = snap
        .memberships
        .iter()
        .find(|m| m.contact_id == contact.id)
        .map(|m| m.group_id)
        .expect("membership");
    let group = snap
        .groups
        .iter()
        .find(|g| g.id == group_id)
        .expect("group");
    env.app.login().await;
    let list = env
        .app
        .get_text(&format!("/companies/{company}?tab=contacts&per_page=100"))
        .await;
    let link = format!("/companies/{company}/contacts/{}", contact.id);
    assert!(
        list.contains(&format!("href=\"{link}\"")),
        "the list links the page"
    );
    let page = env.app.get_text(&link).await;
    assert!(page.contains(&contact.display_name) && page.contains(&contact.upn));
    assert!(
        page.contains(contact.entra_object_id.as_deref().expect("synced")),
        "Entra object id shown"
    );
    assert!(page.contains(&group.display_name), "group shown");
    assert!(page.contains(&device.hostname), "device shown");
    let r = env
        .app
        .get(&format!("/companies/{other}/contacts/{}", contact.id))
        .await;
    assert_eq!(
        r.status(),
        404,
        "another company's contact id is not found there"
    );
}
