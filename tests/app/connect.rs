//! Connecting companies by Microsoft's admin consent, end to end through real HTTP redirects
//! against the built-in simulator; Sync With M365 and its refusals; the sync API.

use crate::helpers::*;
use crate::support::sim::{TestRegistration, register, simulator, use_simulator};
use tenantry::jobs::Registry;
use tenantry::model::JobState;
use tenantry::simulator::{Simulator, TenantSpec};

pub(crate) const CLIENT_ID: &str = "3d3c1c7a-9a51-4d8e-8f0b-6a2b7f6c9e10";
const SECRET: &str = "test-secret-value";

pub(crate) async fn app_with_sim() -> (TestApp, Simulator) {
    let registration = |redirect_uris| TestRegistration {
        client_id: CLIENT_ID,
        secret: SECRET,
        redirect_uris,
        name: "Tenantry test",
    };
    let (sim, ctl) = simulator(1, registration(Vec::new())).await;
    let app = spawn_app_with(
        |c| use_simulator(c, &sim, CLIENT_ID, SECRET),
        Registry::default(),
    )
    .await;
    register(
        &ctl,
        registration(vec![format!("{}/connect/callback", app.url)]),
    );
    (app, sim)
}

/// At the simulated consent page `consent_url`, press Cancel; returns our callback's answer.
pub(crate) async fn cancel_consent(app: &TestApp, consent_url: &str) -> reqwest::Response {
    let page = page_text(app, consent_url).await;
    let cancel = app
        .client
        .get(href_of(&page, "cancel"))
        .send()
        .await
        .expect("cancel");
    app.client
        .get(location(&cancel))
        .send()
        .await
        .expect("callback")
}

pub(crate) fn href_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let tag_start = html[..at].rfind('<').expect("tag");
    let tag = &html[tag_start..html[at..].find('>').map(|e| at + e).expect("tag end")];
    let h = tag.find("href=\"").expect("href") + 6;
    tag[h..h + tag[h..].find('"').expect("quote")].replace("&amp;", "&")
}

/// Press "Sync With M365" on a company page (with its CSRF token).
pub(crate) async fn press_sync(app: &TestApp, id: u64) -> reqwest::Response {
    app.post_form(
        &format!("/companies/{id}"),
        &format!("/companies/{id}/sync"),
        &[],
    )
    .await
}

/// GET a page (Microsoft's consent page, here) with the app's cookie-keeping client.
pub(crate) async fn page_text(app: &TestApp, url: impl reqwest::IntoUrl) -> String {
    app.client
        .get(url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html")
}

pub(crate) async fn create_company(app: &TestApp, name: &str, domain: &str) -> u64 {
    let r = app
        .post_form(
            "/companies/new",
            "/companies",
            &[("name", name), ("domain", domain)],
        )
        .await;
    let at = location(&r);
    assert!(
        at.starts_with("/companies/"),
        "company created: {} {at}",
        r.status()
    );
    at.trim_start_matches("/companies/")
        .split('?')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("id")
}

/// A company created through the form and connected as the consent callback does (the
/// tenant must already have consented), with its initial sync finished.
async fn connected_company(
    app: &TestApp,
    name: &str,
    tenant: &tenantry::simulator::TenantInfo,
) -> u64 {
    let id = create_company(app, name, &tenant.domain).await;
    app.services()
        .connect_company_tenant(
            tenantry::model::Actor::system(),
            id,
            &tenant.id,
            Some(tenantry::model::Trigger::Consent),
        )
        .await
        .expect("connect");
    wait_job_done(app, id).await;
    id
}

async fn wait_job_done(app: &TestApp, company: u64) -> tenantry::model::Job {
    eventually(
        &format!("the sync of company {company} finishes"),
        || async {
            let jobs = app
                .services()
                .jobs(Some(company), 1, 10)
                .await
                .expect("jobs");
            jobs.items.first().filter(|j| !j.state.is_active()).cloned()
        },
    )
    .await
}

#[tokio::test]
async fn sync_with_m365_connects_by_admin_consent_and_queues_the_initial_sync() {
    let (app, sim) = app_with_sim().await;
    let tenant = sim
        .control()
        .create_tenant(TenantSpec {
            name: "Woodgrove Bank".into(),
            users: 30,
            intune: true,
            p1: true,
            ..Default::default()
        })
        .expect("tenant");
    app.login().await;
    let id = create_company(&app, "Woodgrove Bank", &tenant.domain).await;
    // Not connected: the button sends the admin to Microsoft's consent on the customer's tenant.
    let r = press_sync(&app, id).await;
    assert_eq!(r.status(), 303);
    let consent_url = location(&r);
    assert!(
        consent_url.starts_with(&format!(
            "{}/{}/v2.0/adminconsent?",
            sim.login_url(),
            tenant.domain
        )),
        "{consent_url}"
    );
    assert!(
        consent_url.contains("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
            && consent_url.contains("state=")
    );
    // The admin approves on Microsoft's page; Microsoft redirects back to our callback.
    let page = page_text(&app, &consent_url).await;
    let accept = app
        .client
        .get(href_of(&page, "accept"))
        .send()
        .await
        .expect("accept");
    assert_eq!(accept.status(), 302);
    let callback = location(&accept);
    assert!(
        callback.starts_with(&format!("{}/connect/callback?", app.url)),
        "{callback}"
    );
    let back = app.client.get(&callback).send().await.expect("callback");
    assert_eq!(back.status(), 303);
    assert_eq!(
        location(&back),
        format!("/companies/{id}?notice=sync_queued")
    );
    let shown = app.get_text(&location(&back)).await;
    assert!(
        (shown.contains("Sync queued") || shown.contains("Sync finished."))
            && shown.contains("Connected"),
        "the page says so (a small tenant may be synced already)"
    );
    let job = wait_job_done(&app, id).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    // The notice rides in the URL; once the sync is over the same address says so.
    let again = app.get_text(&location(&back)).await;
    assert!(
        again.contains("Sync finished.") && !again.contains("Sync queued"),
        "a finished sync no longer reads as queued"
    );
    assert_eq!(job.trigger.as_str(), "consent");
    let contacts = app
        .services()
        .contacts(Some(id), Default::default())
        .await
        .expect("contacts");
    assert_eq!(contacts.total, 30);
    // The callback cannot be replayed: the state is single-use.
    let replay = app.client.get(&callback).send().await.expect("replay");
    assert_eq!(replay.status(), 403);
    // Connected now: the button queues a background sync and says so.
    let r = press_sync(&app, id).await;
    assert_eq!(location(&r), format!("/companies/{id}?notice=sync_queued"));
    let job = wait_job_done(&app, id).await;
    assert_eq!(job.trigger.as_str(), "company_button");
    let audit = app
        .services()
        .audit_page(Default::default(), 1, 100)
        .await
        .expect("audit");
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.kind == "tenant.connect" && e.company_id == Some(id))
    );
}

#[tokio::test]
async fn denied_consent_connects_nothing_and_says_why() {
    let (app, sim) = app_with_sim().await;
    let tenant = sim
        .control()
        .create_tenant(TenantSpec {
            name: "Litware".into(),
            users: 5,
            ..Default::default()
        })
        .expect("tenant");
    app.login().await;
    let id = create_company(&app, "Litware", &tenant.domain).await;
    let r = press_sync(&app, id).await;
    let back = cancel_consent(&app, &location(&r)).await;
    // Not an error page: what happened in plain words, the navigation, the way back.
    assert_eq!(back.status(), 200);
    let body = back.text().await.expect("body");
    assert!(
        body.contains("Consent was cancelled at Microsoft; nothing was connected."),
        "{body}"
    );
    assert!(
        body.contains("<header class=\"top\">") && body.contains(ADMIN_EMAIL),
        "the navigation stays: {body}"
    );
    assert!(
        body.contains(&format!("href=\"/companies/{id}\">Back to Litware</a>")),
        "{body}"
    );
    assert!(
        app.services()
            .company(id)
            .await
            .expect("company")
            .tenant
            .is_none()
    );
    let audit = app
        .services()
        .audit_page(Default::default(), 1, 50)
        .await
        .expect("audit");
    assert!(audit.items.iter().any(|e| e.kind == "tenant.consent"
        && e.outcome.as_str() == "failure"
        && e.company_id == Some(id)));
}

#[tokio::test]
async fn archived_companies_are_refused_by_button_and_api_until_restored() {
    let (app, sim) = app_with_sim().await;
    let tenant = sim
        .control()
        .create_tenant(TenantSpec {
            name: "Adatum".into(),
            users: 8,
            intune: true,
            ..Default::default()
        })
        .expect("tenant");
    sim.control()
        .grant_consent(&tenant.id, CLIENT_ID)
        .expect("consent");
    app.login().await;
    let id = connected_company(&app, "Adatum", &tenant).await;
    app.post_form(
        &format!("/companies/{id}/archive"),
        &format!("/companies/{id}/archive"),
        &[],
    )
    .await;
    let r = press_sync(&app, id).await;
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("restore the company first")
    );
    let token = app.admin_token().await;
    let r = app
        .client
        .post(app.at(&format!("/api/v1/companies/{id}/sync")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("api");
    assert_eq!(r.status(), 409);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["code"], "conflict");
    assert!(body["message"].as_str().unwrap_or("").contains("restore"));
    let r = app
        .client
        .post(app.at(&format!("/api/v1/companies/{id}/restore")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("api");
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .post(app.at(&format!("/api/v1/companies/{id}/sync")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("api");
    assert_eq!(r.status(), 202);
    let queued: serde_json::Value = r.json().await.expect("json");
    assert_eq!(queued["job"]["trigger"], "api");
    let job = wait_job_done(&app, id).await;
    assert_eq!(job.state, JobState::Succeeded);
    let detail: serde_json::Value = app
        .client
        .get(app.at(&format!("/api/v1/companies/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json");
    assert_eq!(detail["tenant"]["tenant_id"], tenant.id.to_lowercase());
    assert_eq!(detail["last_sync"]["ok"], true, "{detail}");
}

#[tokio::test]
async fn the_api_answers_with_the_consent_url_and_a_script_following_redirects_completes_it() {
    let (app, sim) = app_with_sim().await;
    let tenant = sim
        .control()
        .create_tenant(TenantSpec {
            name: "Proseware".into(),
            users: 3,
            ..Default::default()
        })
        .expect("tenant");
    let token = app.admin_token().await;
    let r = app
        .client
        .post(app.at("/api/v1/companies"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Proseware", "domain": tenant.domain}))
        .send()
        .await
        .expect("create");
    let id = r.json::<serde_json::Value>().await.expect("json")["id"]
        .as_u64()
        .expect("id");
    let r = app
        .client
        .post(app.at(&format!("/api/v1/companies/{id}/connect")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("connect");
    assert_eq!(r.status(), 200);
    let url = r.json::<serde_json::Value>().await.expect("json")["consent_url"]
        .as_str()
        .expect("url")
        .to_string();
    let page = reqwest::get(&url)
        .await
        .expect("consent")
        .text()
        .await
        .expect("html");
    // A script follows the accept link's redirects all the way to our callback.
    let follow = reqwest::Client::new()
        .get(href_of(&page, "accept"))
        .send()
        .await
        .expect("follow");
    assert!(
        follow.url().path().starts_with(&format!("/companies/{id}"))
            || follow.url().path() == "/login",
        "{}",
        follow.url()
    );
    let c = app.services().company(id).await.expect("company");
    assert!(
        c.tenant
            .is_some_and(|t| t.connected && t.tenant_id == tenant.id.to_lowercase())
    );
}

#[tokio::test]
async fn connect_on_the_entra_page_links_the_msp_tenant_and_disconnect_keeps_data() {
    let (app, sim) = app_with_sim().await;
    let msp = sim
        .control()
        .create_tenant(TenantSpec {
            name: "Northwind IT".into(),
            users: 4,
            ..Default::default()
        })
        .expect("tenant");
    let client = sim
        .control()
        .create_tenant(TenantSpec {
            name: "Alpine Ski".into(),
            users: 6,
            intune: true,
            ..Default::default()
        })
        .expect("tenant");
    app.login().await;
    let page = app.get_text("/settings/integrations/entra").await;
    assert!(
        page.contains(&format!("{}/connect/callback", app.url)),
        "the redirect URI to register is shown"
    );
    assert!(
        page.contains("DeviceManagementManagedDevices.Read.All"),
        "the permissions to grant are shown"
    );
    // Connect: Microsoft's consent for the MSP's own tenant (`organizations`: the admin picks it).
    let r = app
        .post_form(
            "/settings/integrations/entra",
            "/settings/integrations/entra/connect",
            &[],
        )
        .await;
    let url = location(&r);
    assert!(
        url.starts_with(&format!(
            "{}/organizations/v2.0/adminconsent?",
            sim.login_url()
        )),
        "{url}"
    );
    let consent = page_text(&app, &url).await;
    let back = app
        .client
        .get(href_of(&consent, &format!("accept-{}", msp.id)))
        .send()
        .await
        .expect("accept");
    let done = app
        .client
        .get(location(&back))
        .send()
        .await
        .expect("callback");
    assert_eq!(
        location(&done),
        "/settings/integrations/entra?notice=msp_connected"
    );
    let page = app.get_text(&location(&done)).await;
    assert!(
        page.contains("Connected")
            && page.contains("Northwind IT")
            && page.contains(&msp.id.to_lowercase())
    );

    // A client company, synced, then disconnected: its contacts stay, syncing stops.
    sim.control()
        .grant_consent(&client.id, CLIENT_ID)
        .expect("consent");
    let id = connected_company(&app, "Alpine Ski", &client).await;
    let listed = app.get_text("/settings/integrations/entra").await;
    assert!(
        listed.contains("Alpine Ski")
            && listed.contains("<span class=\"badge success\">Succeeded</span>"),
        "the tenant is listed with its last sync"
    );
    let r = app
        .post_form(
            &format!("/companies/{id}"),
            &format!("/companies/{id}/disconnect"),
            &[],
        )
        .await;
    assert_eq!(
        location(&r),
        format!("/companies/{id}?notice=tenant_disconnected")
    );
    assert_eq!(
        app.services()
            .contacts(Some(id), Default::default())
            .await
            .expect("contacts")
            .total,
        6,
        "data kept"
    );
    let refused = app
        .services()
        .queue_company_sync(
            tenantry::model::Actor::system(),
            id,
            tenantry::model::Trigger::Manual,
        )
        .await;
    assert!(refused.is_err(), "a disconnected company does not sync");
    let jobs = app
        .services()
        .queue_all_syncs(
            tenantry::model::Actor::system(),
            tenantry::model::Trigger::Manual,
        )
        .await
        .expect("sync all");
    assert!(jobs.is_empty(), "Sync now skips disconnected companies");
    let audit = app
        .services()
        .audit_page(Default::default(), 1, 100)
        .await
        .expect("audit");
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.kind == "tenant.disconnect" && e.company_id == Some(id))
    );
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.kind == "tenant.consent" && e.summary.contains("Northwind IT"))
    );
}

#[tokio::test]
async fn sync_with_m365_through_the_api_asks_for_consent_then_queues_a_sync() {
    let (app, sim) = app_with_sim().await;
    let tenant = sim
        .control()
        .create_tenant(TenantSpec {
            name: "Litware".into(),
            users: 4,
            ..Default::default()
        })
        .expect("tenant");
    sim.control()
        .grant_consent(&tenant.id, CLIENT_ID)
        .expect("consent");
    let token = app.admin_token().await;
    let api = |path: String| app.client.post(app.at(&path)).bearer_auth(&token).send();
    app.login().await;
    let id = create_company(&app, "Litware", &tenant.domain).await;
    let r = api(format!("/api/v1/companies/{id}/sync-with-m365"))
        .await
        .expect("POST");
    assert_eq!(r.status(), 200, "not connected: consent first");
    let body: serde_json::Value = r.json().await.expect("json");
    let url = body["consent_url"].as_str().unwrap_or_default();
    assert!(url.contains("/adminconsent"), "{body}");

    app.services()
        .connect_company_tenant(tenantry::model::Actor::system(), id, &tenant.id, None)
        .await
        .expect("connect");
    let r = api(format!("/api/v1/companies/{id}/sync-with-m365"))
        .await
        .expect("POST");
    assert_eq!(r.status(), 202, "connected: a sync is queued");
    let location = location(&r);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(location, format!("/api/v1/jobs/{}", body["job"]["id"]));
    assert_eq!(body["job"]["company_id"], id);
    wait_job_done(&app, id).await;

    app.services()
        .archive_company(tenantry::model::Actor::system(), id)
        .await
        .expect("archive");
    let r = api(format!("/api/v1/companies/{id}/sync-with-m365"))
        .await
        .expect("POST");
    assert_eq!(r.status(), 409, "archived companies never sync");
}
