//! The support portal's "Sign in with Microsoft" against each company's own tenant, through
//! real redirects: who gets in, who is refused (and why, audited), and that a portal session
//! never reaches another company or the staff side.

use crate::helpers::*;
use crate::sso_helpers::*;
use crate::sync_helpers::*;
use serde_json::json;
use tenantry::domain::portal::PortalInput;
use tenantry::model::{Actor, Contact, Outcome};
use tenantry::simulator::{IdTokenFault, Kind};

struct Portal {
    company: u64,
    slug: String,
    tid: String,
}

/// Turn a company's portal on at its default address; returns the slug.
async fn enable_portal(env: &SsoEnv, company: u64, allowed: Vec<u64>) -> String {
    let s = env.env.services();
    let slug = s.portal_settings(company).await.expect("settings").slug;
    s.update_portal_settings(
        tenantry::domain::authority::AdminActor::system(),
        company,
        PortalInput {
            slug: slug.clone(),
            sso_enabled: true,
            allowed_group_ids: allowed,
            admin_group_id: None,
        },
    )
    .await
    .expect("portal on");
    slug
}

/// A client company connected to a fresh simulated tenant, synced, its portal on.
async fn portal(env: &SsoEnv, name: &str) -> Portal {
    let t = env.env.tenant(name, 8, 6, true);
    let (company, job) = env.env.connect(name, &t.id).await;
    assert_eq!(
        job.state,
        tenantry::model::JobState::Succeeded,
        "initial sync"
    );
    let slug = enable_portal(env, company, Vec::new()).await;
    Portal {
        company,
        slug,
        tid: t.id,
    }
}

async fn contacts(env: &SsoEnv, company: u64) -> Vec<Contact> {
    snapshot(env.env.services(), company).await.contacts
}

async fn last_portal_refusal(env: &SsoEnv) -> tenantry::model::AuditEvent {
    env.audit("portal.sign_in")
        .await
        .into_iter()
        .find(|e| e.outcome == Outcome::Failure)
        .expect("refusal audited")
}

#[tokio::test]
async fn a_contact_signs_in_and_sees_their_profile_and_devices() {
    let env = sso_env().await;
    let p = portal(&env, "Contoso Dental").await;
    let snap = snapshot(env.env.services(), p.company).await;
    // Someone who is the primary user of a device.
    let owner = snap
        .assets
        .iter()
        .find_map(|a| a.primary_user_contact_id)
        .and_then(|id| snap.contacts.iter().find(|c| c.id == id && c.active))
        .expect("a device owner")
        .clone();
    let device = snap
        .assets
        .iter()
        .find(|a| a.primary_user_contact_id == Some(owner.id))
        .expect("their device");

    let app = env.app();
    let page = app.get_text(&format!("/portal/{}", p.slug)).await;
    assert!(page.contains("Sign in with Microsoft"), "sign-in page");

    let r = portal_sign_in(app, &p.slug, &owner.upn).await;
    assert_eq!(r.status(), 303, "signed in");
    assert_eq!(location(&r), format!("/portal/{}", p.slug));
    let home = app.get_text(&format!("/portal/{}", p.slug)).await;
    assert!(home.contains(&owner.display_name), "profile shown");
    assert!(home.contains(&device.hostname), "their device shown");
    assert!(
        home.contains(tenantry::domain::portal::compliance_label(&device.compliance_state).0),
        "with its compliance, in words"
    );

    let ok = env
        .audit("portal.sign_in")
        .await
        .into_iter()
        .find(|e| e.outcome == Outcome::Success)
        .expect("sign-in audited");
    assert_eq!(ok.company_id, Some(p.company));

    // A portal session is not a staff session.
    assert_eq!(
        location(&app.get("/companies").await),
        "/login?next=%2Fcompanies"
    );
    assert_eq!(app.get("/api/v1/companies").await.status(), 401);

    // Sign-out ends the session server-side.
    let home = app.get_text(&format!("/portal/{}", p.slug)).await;
    let r = app
        .client
        .post(app.at(&format!("/portal/{}/signout", p.slug)))
        .form(&[("csrf", csrf_in(&home))])
        .send()
        .await
        .expect("sign out");
    assert_eq!(r.status(), 303);
    let after = app.get_text(&format!("/portal/{}", p.slug)).await;
    assert!(!after.contains(&owner.display_name), "signed out");
}

#[tokio::test]
async fn users_of_another_tenant_are_refused() {
    let env = sso_env().await;
    let a = portal(&env, "Contoso Dental").await;
    let b = portal(&env, "Fabrikam Bakery").await;
    let stranger = contacts(&env, b.company)
        .await
        .into_iter()
        .find(|c| c.active)
        .expect("a B user");
    // At A's authority, Microsoft itself does not know B's user.
    let to = start_portal(env.app(), &a.slug).await;
    assert!(to.contains(&a.tid), "A's own tenant authority: {to}");
    match at_microsoft(&to, &stranger.upn).await {
        AtMicrosoft::Page(p) => assert!(p.contains("No account matches"), "{p}"),
        AtMicrosoft::Callback(cb) => panic!("a code for B's user at A: {cb}"),
    }
    // A token from another organisation reaching A's callback is refused.
    let insider = contacts(&env, a.company)
        .await
        .into_iter()
        .find(|c| c.active)
        .expect("an A user");
    env.set_fault(Some(IdTokenFault::ForeignTenant));
    let r = portal_sign_in(env.app(), &a.slug, &insider.upn).await;
    env.set_fault(None);
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("another organisation")
    );
    let e = last_portal_refusal(&env).await;
    assert_eq!(e.company_id, Some(a.company));
    assert_eq!(e.details["code"], "wrong_tenant");
}

#[tokio::test]
async fn disabled_or_deleted_users_lose_access_at_the_next_sync() {
    let env = sso_env().await;
    let p = portal(&env, "Contoso Dental").await;
    let people: Vec<Contact> = contacts(&env, p.company)
        .await
        .into_iter()
        .filter(|c| c.active && c.account_enabled && !c.is_guest)
        .take(2)
        .collect();
    let (disabled, deleted) = (&people[0], &people[1]);
    let first = env.app();
    let second = second_browser(first);
    assert_eq!(
        portal_sign_in(first, &p.slug, &disabled.upn).await.status(),
        303
    );
    assert_eq!(
        portal_sign_in(&second, &p.slug, &deleted.upn)
            .await
            .status(),
        303
    );

    let oid = |c: &Contact| c.entra_object_id.clone().expect("oid");
    let mut patch = serde_json::Map::new();
    patch.insert("accountEnabled".into(), json!(false));
    env.env
        .ctl
        .update_object(&p.tid, Kind::User, &oid(disabled), patch)
        .expect("disabled in Entra");
    env.env
        .ctl
        .delete_object(&p.tid, Kind::User, &oid(deleted), false)
        .expect("deleted in Entra");
    // Until the next sync they are still contacts; after it, both doors shut.
    env.env.sync(p.company).await;
    for (browser, c) in [(first, disabled), (&second, deleted)] {
        let page = browser.get_text(&format!("/portal/{}", p.slug)).await;
        assert!(
            page.contains("Sign in with Microsoft"),
            "{} back at sign-in",
            c.upn
        );
        assert!(!page.contains(&c.display_name), "{} no longer in", c.upn);
    }
}

#[tokio::test]
async fn group_rules_decide_who_enters() {
    let env = sso_env().await;
    let t = env.env.tenant("Contoso Dental", 30, 0, false);
    let (company, _) = env.env.connect("Contoso Dental", &t.id).await;
    let snap = snapshot(env.env.services(), company).await;
    // The smallest group with members, so some active contacts are outside it.
    let size = |g: &tenantry::model::ContactGroup| {
        snap.memberships
            .iter()
            .filter(|m| m.group_id == g.id)
            .count()
    };
    // Without nested groups, so its direct members are all its members.
    let flat = |g: &tenantry::model::ContactGroup| {
        let oid = g.entra_object_id.as_deref().expect("oid");
        env.env
            .ctl
            .members(&t.id, oid)
            .expect("members")
            .iter()
            .all(|(ty, _)| ty == "#microsoft.graph.user")
    };
    let group = snap
        .groups
        .iter()
        .filter(|g| size(g) > 0 && flat(g))
        .min_by_key(|g| size(g))
        .expect("a group with members");
    let member_ids: Vec<u64> = snap
        .memberships
        .iter()
        .filter(|m| m.group_id == group.id)
        .map(|m| m.contact_id)
        .collect();
    let member = snap
        .contacts
        .iter()
        .find(|c| c.active && member_ids.contains(&c.id))
        .expect("a member");
    let outsider = snap
        .contacts
        .iter()
        .find(|c| c.active && c.account_enabled && !member_ids.contains(&c.id))
        .expect("an outsider");
    let slug = enable_portal(&env, company, vec![group.id]).await;

    let r = portal_sign_in(env.app(), &slug, &outsider.upn).await;
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("not a member of a group allowed")
    );
    let e = last_portal_refusal(&env).await;
    assert_eq!(e.details["code"], "not_in_allowed_group");
    assert_eq!(e.company_id, Some(company));

    let other = second_browser(env.app());
    let r = portal_sign_in(&other, &slug, &member.upn).await;
    assert_eq!(r.status(), 303, "a member gets in");
}

#[tokio::test]
async fn a_portal_session_never_opens_another_companys_portal() {
    let env = sso_env().await;
    let a = portal(&env, "Contoso Dental").await;
    let b = portal(&env, "Fabrikam Bakery").await;
    let user = contacts(&env, a.company)
        .await
        .into_iter()
        .find(|c| c.active && c.account_enabled)
        .expect("an A user");
    let app = env.app();
    assert_eq!(portal_sign_in(app, &a.slug, &user.upn).await.status(), 303);
    let at_b = app.get_text(&format!("/portal/{}", b.slug)).await;
    assert!(at_b.contains("Sign in with Microsoft"), "B asks to sign in");
    assert!(
        !at_b.contains(&user.display_name),
        "nothing of A's user at B"
    );
    let r = app.get(&format!("/portal/{}/requests", b.slug)).await;
    assert_eq!(
        location(&r),
        format!("/portal/{}", b.slug),
        "B's pages need B's sign-in"
    );
    let r = app.get("/portal/no-such-portal").await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn portal_settings_page_and_archived_companies() {
    let env = sso_env().await;
    let a = portal(&env, "Contoso Dental").await;
    let b = portal(&env, "Fabrikam Bakery").await;
    let app = env.app();
    let staff = second_browser(app);
    staff.login().await;
    let page = staff
        .get_text(&format!("/companies/{}/portal", a.company))
        .await;
    assert!(
        page.contains(&format!("/portal/{}", a.slug)),
        "portal address shown"
    );
    assert!(
        page.contains("Members of nested groups count too"),
        "the group rule says nesting counts"
    );
    // Another company's address is refused with the reason.
    let r = staff
        .post_form(
            &format!("/companies/{}/portal", a.company),
            &format!("/companies/{}/portal", a.company),
            &[("slug", b.slug.as_str()), ("sso_enabled", "on")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("body").contains("already used"));
    let r = staff
        .post_form(
            &format!("/companies/{}/portal", a.company),
            &format!("/companies/{}/portal", a.company),
            &[("slug", "contoso-help"), ("sso_enabled", "on")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        app.get_text("/portal/contoso-help")
            .await
            .contains("Sign in with Microsoft")
    );
    assert!(
        env.audit("portal.settings")
            .await
            .iter()
            .any(|e| e.summary.contains("/portal/contoso-help")),
        "audited"
    );

    // Archived: the portal closes.
    env.env
        .services()
        .archive_company(Actor::system(), a.company)
        .await
        .expect("archived");
    let page = app.get_text("/portal/contoso-help").await;
    assert!(!page.contains("<button type=\"submit\" class=\"primary\">Sign in with Microsoft"));
    let r = app
        // The archived portal shows no form; the visitor's form token comes from any page.
        .post_form("/login", "/portal/contoso-help/signin", &[])
        .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.expect("body").contains("archived"));
}

#[tokio::test]
async fn sso_and_portal_settings_through_the_api() {
    let env = sso_env().await;
    let a = portal(&env, "Contoso Dental").await;
    let app = env.app();
    let token = app.admin_token().await;
    let api = reqwest::Client::new();
    let auth = format!("Bearer {token}");

    let r = api
        .get(app.at("/api/v1/settings/sso"))
        .header("authorization", &auth)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["enabled"], true);
    assert!(
        v["redirect_uri"]
            .as_str()
            .expect("uri")
            .ends_with("/auth/callback")
    );

    let r = api
        .put(app.at("/api/v1/settings/sso"))
        .header("authorization", &auth)
        .json(&json!({ "enabled": true, "auto_create_group_id": "nope" }))
        .send()
        .await
        .expect("PUT");
    assert_eq!(r.status(), 400, "bad group id refused");
    let r = api
        .put(app.at("/api/v1/settings/sso"))
        .header("authorization", &auth)
        .json(&json!({ "enabled": true, "local_login_loopback_only": true }))
        .send()
        .await
        .expect("PUT");
    assert_eq!(r.status(), 200);
    assert!(
        env.env
            .services()
            .staff_sso()
            .await
            .expect("sso")
            .local_login_loopback_only
    );

    let path = format!("/api/v1/companies/{}/portal", a.company);
    let r = api
        .get(app.at(&path))
        .header("authorization", &auth)
        .send()
        .await
        .expect("GET");
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["sso_enabled"], true);
    assert_eq!(v["path"], format!("/portal/{}", a.slug));
    let group = snapshot(env.env.services(), a.company).await.groups[0].id;
    let r = api
        .put(app.at(&path))
        .header("authorization", &auth)
        .json(
            &json!({ "sso_enabled": true, "allowed_group_ids": [group], "admin_group_id": 999999 }),
        )
        .send()
        .await
        .expect("PUT");
    assert_eq!(r.status(), 400, "a group of no one is refused");
    let r = api
        .put(app.at(&path))
        .header("authorization", &auth)
        .json(&json!({ "sso_enabled": false, "allowed_group_ids": [group] }))
        .send()
        .await
        .expect("PUT");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["sso_enabled"], false);
    assert_eq!(v["allowed_group_ids"], json!([group]));
    assert_eq!(v["slug"], a.slug.as_str(), "address kept");
}

#[tokio::test]
async fn members_of_a_group_nested_in_an_allowed_group_get_in_and_others_are_refused() {
    let env = sso_env().await;
    let t = env.env.tenant("Contoso Dental", 12, 0, false);
    let (company, _) = env.env.connect("Contoso Dental", &t.id).await;
    let people: Vec<Contact> = contacts(&env, company)
        .await
        .into_iter()
        .filter(|c| c.active && c.account_enabled && !c.is_guest)
        .take(2)
        .collect();
    let (nested, outsider) = (&people[0], &people[1]);
    // In Entra: Portal Users ⊃ Helpdesk ⊃ Night Shift ∋ `nested`, two levels down.
    let ctl = &env.env.ctl;
    let new_group = |name: &str| {
        let mut props = serde_json::Map::new();
        props.insert("displayName".into(), json!(name));
        let g = ctl
            .create_object(&t.id, Kind::Group, props)
            .expect("group created");
        g["id"].as_str().expect("id").to_string()
    };
    let (outer, middle, inner) = (
        new_group("Portal Users"),
        new_group("Helpdesk"),
        new_group("Night Shift"),
    );
    ctl.add_member(&t.id, &outer, &middle).expect("nested");
    ctl.add_member(&t.id, &middle, &inner).expect("nested");
    let oid = nested.entra_object_id.clone().expect("oid");
    ctl.add_member(&t.id, &inner, &oid).expect("member");
    let job = env.env.sync(company).await;
    assert_eq!(job.state, tenantry::model::JobState::Succeeded);
    let snap = snapshot(env.env.services(), company).await;
    assert!(
        snap.members_of(&outer).is_empty(),
        "Portal Users has no direct user members"
    );
    let slug = enable_portal(&env, company, vec![snap.group(&outer).id]).await;

    let r = portal_sign_in(env.app(), &slug, &outsider.upn).await;
    assert_eq!(r.status(), 403, "in none of the groups");
    let e = last_portal_refusal(&env).await;
    assert_eq!(e.details["code"], "not_in_allowed_group");

    let browser = second_browser(env.app());
    let r = portal_sign_in(&browser, &slug, &nested.upn).await;
    assert_eq!(r.status(), 303, "a member two groups down gets in");
    let home = browser.get_text(&format!("/portal/{slug}")).await;
    assert!(home.contains("My devices"), "portal home");

    // Helpdesk taken out of Portal Users in Entra: the door shuts at the next sync.
    ctl.remove_member(&t.id, &outer, &middle).expect("unnested");
    env.env.sync(company).await;
    let page = browser.get_text(&format!("/portal/{slug}")).await;
    assert!(page.contains("Sign in with Microsoft"), "back at sign-in");
    assert!(!page.contains("My devices"), "no longer in");
}
