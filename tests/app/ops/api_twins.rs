//! The API twins added for #13: the MSP tenant connected end to end through the API (follow
//! the consent URL in the simulator, then staff SSO on by API) and disconnected; a contact
//! group's members, paged, and `group_ids` on every listed contact.

use crate::connect::href_of;
use crate::helpers::*;
use crate::sync_helpers::*;
use reqwest::Method;
use serde_json::{Value, json};
use tenantry::domain::authority::AdminActor;
use tenantry::model::Role;
use tenantry::simulator::SimApp;

async fn token(app: &TestApp, role: Role) -> String {
    app.services()
        .create_api_token(AdminActor::system(), &format!("{role:?} script"), role)
        .await
        .expect("token")
        .0
}

async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut rb = reqwest::Client::new()
        .request(method, app.at(path))
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    rb.send().await.expect("request")
}

async fn json_of(r: reqwest::Response, status: u16) -> Value {
    let url = r.url().to_string();
    let got = r.status().as_u16();
    let text = r.text().await.expect("body");
    assert_eq!(got, status, "{url}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test]
async fn the_msp_tenant_connects_and_staff_sso_turns_on_through_the_api_alone() {
    let env = sync_env().await;
    let msp = env.tenant("Northwind IT", 5, 0, false);
    let url = env.app.url.clone();
    env.ctl
        .register_app(SimApp {
            client_id: CLIENT_ID.into(),
            client_secret: SECRET.into(),
            redirect_uris: vec![format!("{url}/connect/callback")],
            name: "Tenantry API parity".into(),
            secret_expired: false,
        })
        .expect("redirect URI registered");
    let app = &env.app;
    let admin = token(app, Role::Admin).await;
    let tech = token(app, Role::Technician).await;

    // Staff SSO needs the MSP tenant: refused before it is connected.
    let r = call(
        app,
        &admin,
        Method::PUT,
        "/api/v1/settings/sso",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(json_of(r, 409).await["code"], "conflict");
    // Connecting is admin-only, like the page.
    let r = call(
        app,
        &tech,
        Method::POST,
        "/api/v1/settings/entra/connect",
        None,
    )
    .await;
    assert_eq!(json_of(r, 403).await["code"], "forbidden");

    let r = call(
        app,
        &admin,
        Method::POST,
        "/api/v1/settings/entra/connect",
        None,
    )
    .await;
    let consent_url = json_of(r, 200).await["consent_url"]
        .as_str()
        .expect("consent_url")
        .to_string();
    assert!(
        consent_url.starts_with(&format!(
            "{}/organizations/v2.0/adminconsent?",
            env.sim.login_url()
        )),
        "{consent_url}"
    );
    // A script follows the consent: the simulator's accept link redirects to our callback.
    let page = reqwest::get(&consent_url)
        .await
        .expect("consent page")
        .text()
        .await
        .expect("html");
    let followed = reqwest::Client::new()
        .get(href_of(&page, "accept"))
        .send()
        .await
        .expect("accept");
    assert!(followed.status().is_success(), "{}", followed.status());
    let connected = app
        .services()
        .msp_tenant()
        .await
        .expect("read")
        .expect("connected");
    assert_eq!(connected.tenant_id, msp.id.to_lowercase());

    let r = call(
        app,
        &admin,
        Method::PUT,
        "/api/v1/settings/sso",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(json_of(r, 200).await["enabled"], true);
    let r = call(app, &admin, Method::GET, "/api/v1/settings/sso", None).await;
    assert_eq!(json_of(r, 200).await["enabled"], true);

    // Disconnect: 204, then 409 when there is nothing to disconnect.
    let r = call(
        app,
        &tech,
        Method::POST,
        "/api/v1/settings/entra/disconnect",
        None,
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = call(
        app,
        &admin,
        Method::POST,
        "/api/v1/settings/entra/disconnect",
        None,
    )
    .await;
    assert_eq!(r.status(), 204);
    assert!(app.services().msp_tenant().await.expect("read").is_none());
    let r = call(
        app,
        &admin,
        Method::POST,
        "/api/v1/settings/entra/disconnect",
        None,
    )
    .await;
    assert_eq!(json_of(r, 409).await["code"], "conflict");
    env.stop().await;
}

#[tokio::test]
async fn a_groups_members_are_paged_and_every_contact_carries_its_group_ids() {
    let env = sync_env().await;
    let t = env.tenant("Members Ltd", 20, 0, false);
    let (company, job) = env.connect("Members Ltd", &t.id).await;
    assert_eq!(job.state, tenantry::model::JobState::Succeeded, "{job:?}");
    let app = &env.app;
    let tech = token(app, Role::Technician).await;
    let snap = env.snapshot(company).await;

    let groups = json_of(
        call(
            app,
            &tech,
            Method::GET,
            &format!("/api/v1/companies/{company}/contact-groups?per_page=500"),
            None,
        )
        .await,
        200,
    )
    .await;
    let group = groups["items"]
        .as_array()
        .expect("items")
        .iter()
        .max_by_key(|g| g["member_count"].as_u64())
        .expect("a group")
        .clone();
    let gid = group["id"].as_u64().expect("id");
    let count = group["member_count"].as_u64().expect("count");
    assert!(count >= 2, "a group with members: {group}");
    let expected: std::collections::BTreeSet<u64> = snap
        .memberships
        .iter()
        .filter(|m| m.group_id == gid)
        .map(|m| m.contact_id)
        .collect();

    // Page by page, one member each, until the last: the same rule as every list.
    let mut seen = std::collections::BTreeSet::new();
    for page in 1..=count {
        let p = json_of(
            call(app, &tech, Method::GET, &format!("/api/v1/companies/{company}/contact-groups/{gid}/members?per_page=1&page={page}"), None).await,
            200,
        )
        .await;
        assert_eq!(p["total"].as_u64(), Some(count), "{p}");
        let items = p["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{p}");
        let c = &items[0];
        assert!(
            c["group_ids"]
                .as_array()
                .expect("group_ids")
                .iter()
                .any(|g| g.as_u64() == Some(gid)),
            "{c}"
        );
        seen.insert(c["id"].as_u64().expect("id"));
    }
    assert_eq!(seen, expected);

    // Unknown group or company: 404; bad paging: 400 naming the parameter.
    let r = call(
        app,
        &tech,
        Method::GET,
        &format!("/api/v1/companies/{company}/contact-groups/999999/members"),
        None,
    )
    .await;
    assert_eq!(json_of(r, 404).await["code"], "not_found");
    let r = call(
        app,
        &tech,
        Method::GET,
        &format!("/api/v1/companies/999999/contact-groups/{gid}/members"),
        None,
    )
    .await;
    assert_eq!(json_of(r, 404).await["code"], "not_found");
    let r = call(
        app,
        &tech,
        Method::GET,
        &format!("/api/v1/companies/{company}/contact-groups/{gid}/members?per_page=0"),
        None,
    )
    .await;
    assert!(
        json_of(r, 400).await["message"]
            .as_str()
            .unwrap_or("")
            .contains("per_page")
    );

    // `group_ids` on the company's contact list and the cross-company list agree with the
    // memberships the sync stored.
    for path in [
        format!("/api/v1/companies/{company}/contacts?per_page=500"),
        format!("/api/v1/contacts?company={company}&per_page=500"),
    ] {
        let list = json_of(call(app, &tech, Method::GET, &path, None).await, 200).await;
        let items = list["items"].as_array().expect("items");
        assert_eq!(items.len(), snap.contacts.len(), "{path}");
        for c in items {
            let id = c["id"].as_u64().expect("id");
            let got: Vec<u64> = c["group_ids"]
                .as_array()
                .expect("group_ids")
                .iter()
                .filter_map(Value::as_u64)
                .collect();
            let mut want: Vec<u64> = snap
                .memberships
                .iter()
                .filter(|m| m.contact_id == id)
                .map(|m| m.group_id)
                .collect();
            want.sort_unstable();
            assert_eq!(got, want, "{path}: contact {id}");
        }
    }
    env.stop().await;
}

#[tokio::test]
async fn a_request_is_assigned_and_noted_through_the_api_as_on_its_page() {
    use tenantry::domain::requests::Requester;
    use tenantry::model::{Actor, CompanyInput, NewRequest};
    let app = spawn_app().await;
    let s = app.services();
    let company = s
        .create_company(
            Actor::system(),
            CompanyInput::parse("Desk Ltd", "", "").expect("input"),
        )
        .await
        .expect("company")
        .id;
    let other = s
        .create_company(
            Actor::system(),
            CompanyInput::parse("Other Ltd", "", "").expect("input"),
        )
        .await
        .expect("company")
        .id;
    let who = Requester {
        company_id: company,
        contact_id: 1,
        display_name: "Ann".into(),
        audit_name: "ann@client.example".into(),
        is_portal_admin: false,
    };
    let rid = s
        .create_request(
            &who,
            NewRequest::parse("Printer offline", "Since this morning.").expect("input"),
        )
        .await
        .expect("request")
        .id;
    let tech = token(&app, Role::Technician).await;
    let users = json_of(
        call(&app, &tech, Method::GET, "/api/v1/users", None).await,
        403,
    )
    .await;
    assert_eq!(
        users["code"], "forbidden",
        "a technician lists no users; an admin does"
    );
    let admin = token(&app, Role::Admin).await;
    let users = json_of(
        call(&app, &admin, Method::GET, "/api/v1/users", None).await,
        200,
    )
    .await;
    let staff_id = users["items"][0]["id"].as_u64().expect("a staff id");

    let base = format!("/api/v1/companies/{company}/requests/{rid}");
    let r = call(
        &app,
        &tech,
        Method::PATCH,
        &base,
        Some(json!({"assignee_id": staff_id})),
    )
    .await;
    let assigned = json_of(r, 200).await;
    assert_eq!(
        assigned["assignee"]["staff_id"].as_u64(),
        Some(staff_id),
        "{assigned}"
    );
    let r = call(
        &app,
        &tech,
        Method::POST,
        &format!("{base}/notes"),
        Some(json!({"body": "Toner ordered"})),
    )
    .await;
    assert_eq!(
        r.headers().get("location").and_then(|v| v.to_str().ok()),
        Some(base.as_str())
    );
    let noted = json_of(r, 201).await;
    let notes = noted["internal_notes"].as_array().expect("notes");
    assert_eq!(notes.len(), 1, "{noted}");
    assert_eq!(notes[0]["body"], "Toner ordered");
    assert_eq!(notes[0]["author_name"], "Technician script");
    // The same request read back carries both; the page shows the note too.
    let read = json_of(call(&app, &tech, Method::GET, &base, None).await, 200).await;
    assert_eq!(read["assignee"]["staff_id"].as_u64(), Some(staff_id));
    assert_eq!(read["internal_notes"][0]["body"], "Toner ordered");

    // Unassign; an unknown staff id, an empty note, another company's path: refused.
    let r = call(
        &app,
        &tech,
        Method::PATCH,
        &base,
        Some(json!({"assignee_id": null})),
    )
    .await;
    assert!(json_of(r, 200).await["assignee"].is_null());
    let r = call(
        &app,
        &tech,
        Method::PATCH,
        &base,
        Some(json!({"assignee_id": 999999})),
    )
    .await;
    assert_eq!(json_of(r, 400).await["code"], "invalid_input");
    let r = call(
        &app,
        &tech,
        Method::POST,
        &format!("{base}/notes"),
        Some(json!({"body": "  "})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = call(
        &app,
        &tech,
        Method::POST,
        &format!("/api/v1/companies/{other}/requests/{rid}/notes"),
        Some(json!({"body": "x"})),
    )
    .await;
    assert_eq!(json_of(r, 404).await["code"], "not_found");
}
