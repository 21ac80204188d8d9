//! Single-user lookups: `user()` and `user_group_ids()`, against the fake (exact wire shapes,
//! errors) and against the product's simulator (real paging over 999-item pages, nesting).

use serde_json::{Map, Value, json};
use tenantry::graph::directory::DirectoryUser;
use tenantry::graph::{ClientSecret, Credential, GraphClient, GraphErrorKind};
use tenantry::simulator::{Kind, SimApp, SimOptions, Simulator, TenantSpec};

use crate::fake::{CLIENT_ID, Canned, Fake, SECRET, TENANT, fast_retry};

const USER_ID: &str = "6e7b768e-07e2-4810-8459-485f84f8f204";
const USER_PATH: &str = "/v1.0/users/6e7b768e-07e2-4810-8459-485f84f8f204?$select=id,displayName,userPrincipalName,mail,userType,accountEnabled";
const GROUPS_PATH: &str = "/v1.0/users/6e7b768e-07e2-4810-8459-485f84f8f204/transitiveMemberOf/microsoft.graph.group?$select=id&$top=999";

#[tokio::test]
async fn user_reads_the_selected_fields() {
    let fake = Fake::start().await;
    fake.script(
        USER_PATH,
        vec![Canned::ok(
            json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,displayName,userPrincipalName,mail,userType,accountEnabled)/$entity",
                "id": USER_ID, "displayName": "Adele Vance",
                "userPrincipalName": "AdeleV@contoso.example", "mail": null,
                "userType": "Member", "accountEnabled": false
            })
            .to_string(),
        )],
    );
    let u = fake.client().user(TENANT, USER_ID).await.expect("user");
    assert_eq!(
        u,
        DirectoryUser {
            id: USER_ID.into(),
            display_name: Some("Adele Vance".into()),
            user_principal_name: Some("AdeleV@contoso.example".into()),
            mail: None,
            user_type: Some("Member".into()),
            account_enabled: Some(false),
        }
    );
    assert_eq!(fake.hits(USER_PATH).len(), 1);
}

#[tokio::test]
async fn an_unknown_user_is_a_404_with_graphs_code() {
    let fake = Fake::start().await;
    let body = json!({"error": {
        "code": "Request_ResourceNotFound",
        "message": format!("Resource '{USER_ID}' does not exist or one of its queried reference-property objects are not present."),
        "innerError": {"date": "2026-03-02T10:17:06", "request-id": "r", "client-request-id": "c"}
    }});
    fake.script(USER_PATH, vec![Canned::json(404, body.to_string())]);
    fake.script(GROUPS_PATH, vec![Canned::json(404, body.to_string())]);
    let client = fake.client();
    let err = client.user(TENANT, USER_ID).await.expect_err("404");
    assert_eq!(err.kind, GraphErrorKind::Http);
    assert_eq!(err.status, Some(404));
    assert!(err.has_code("Request_ResourceNotFound"));
    let err = client
        .user_group_ids(TENANT, USER_ID)
        .await
        .expect_err("404");
    assert_eq!(err.status, Some(404));
    // Not retried: one request each.
    assert_eq!(fake.hits(USER_PATH).len(), 1);
    assert_eq!(fake.hits(GROUPS_PATH).len(), 1);
}

#[tokio::test]
async fn ids_that_are_not_guids_never_reach_graph() {
    let fake = Fake::start().await;
    let client = fake.client();
    for bad in ["adele@contoso.example", "../organization", ""] {
        let e = client.user(TENANT, bad).await.expect_err("refused");
        assert_eq!(e.kind, GraphErrorKind::Decode, "{bad}");
        let e = client
            .user_group_ids(TENANT, bad)
            .await
            .expect_err("refused");
        assert_eq!(e.kind, GraphErrorKind::Decode, "{bad}");
    }
    assert_eq!(fake.token_requests(), 0);
}

#[tokio::test]
async fn user_group_ids_follows_every_page_and_keeps_only_groups() {
    let fake = Fake::start().await;
    let page2 = "/v1.0/users/6e7b768e-07e2-4810-8459-485f84f8f204/transitiveMemberOf/microsoft.graph.group?$skiptoken=p2";
    let page3 = "/v1.0/users/6e7b768e-07e2-4810-8459-485f84f8f204/transitiveMemberOf/microsoft.graph.group?$skiptoken=p3";
    let g = |id: &str| json!({"@odata.type": "#microsoft.graph.group", "id": id});
    fake.script(
        GROUPS_PATH,
        vec![Canned::ok(
            json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups(id)",
                "@odata.nextLink": fake.url(page2),
                "value": [g("11111111-1111-4111-8111-111111111111"), g("AAAAAAAA-2222-4222-8222-222222222222")]
            })
            .to_string(),
        )],
    );
    // An empty page with a nextLink is legal.
    fake.script(
        page2,
        vec![Canned::ok(
            json!({"@odata.nextLink": fake.url(page3), "value": []}).to_string(),
        )],
    );
    fake.script(
        page3,
        vec![Canned::ok(
            json!({"value": [
                g("33333333-3333-4333-8333-333333333333"),
                // Were the cast ignored, roles would come back too: not a group.
                {"@odata.type": "#microsoft.graph.directoryRole", "id": "44444444-4444-4444-8444-444444444444"},
                {"id": "55555555-5555-4555-8555-555555555555"}
            ]})
            .to_string(),
        )],
    );
    let ids = fake
        .client()
        .user_group_ids(TENANT, USER_ID)
        .await
        .expect("ids");
    assert_eq!(
        ids,
        [
            "11111111-1111-4111-8111-111111111111",
            "aaaaaaaa-2222-4222-8222-222222222222",
            "33333333-3333-4333-8333-333333333333",
            "55555555-5555-4555-8555-555555555555",
        ]
    );
    for p in [GROUPS_PATH, page2, page3] {
        assert_eq!(fake.hits(p).len(), 1, "{p}");
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Against the simulator: a user in 1,000 groups directly plus 2 through nesting needs two
/// pages at `$top=999`.
#[tokio::test]
async fn against_the_simulator_user_and_all_transitive_groups() {
    let sim = Simulator::start(SimOptions {
        seed: 11,
        ..Default::default()
    })
    .await
    .expect("simulator");
    let ctl = sim.control();
    ctl.register_app(SimApp {
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        redirect_uris: vec![],
        name: "graph client tests".into(),
        secret_expired: false,
    })
    .expect("app");
    let tenant = ctl
        .create_tenant(TenantSpec {
            name: "Lookup Test".into(),
            users: 5,
            ..Default::default()
        })
        .expect("tenant");
    let tid = tenant.id.as_str();
    ctl.grant_consent(tid, CLIENT_ID).expect("consent");
    let user = ctl
        .create_object(
            tid,
            Kind::User,
            obj(json!({
                "displayName": "Megan Bowen", "userPrincipalName": "meganb@lookup.example",
                "mail": "meganb@lookup.example", "userType": "Member", "accountEnabled": true
            })),
        )
        .expect("user");
    let uid = user["id"].as_str().expect("id").to_string();
    let mut want = Vec::new();
    for i in 0..1000 {
        let g = ctl
            .create_object(
                tid,
                Kind::Group,
                obj(json!({ "displayName": format!("Team {i}") })),
            )
            .expect("group");
        let gid = g["id"].as_str().expect("id").to_string();
        ctl.add_member(tid, &gid, &uid).expect("member");
        want.push(gid);
    }
    let team0 = want[0].clone();
    let mut nest = |name: &str, child: &str| {
        let g = ctl
            .create_object(tid, Kind::Group, obj(json!({ "displayName": name })))
            .expect("group");
        let gid = g["id"].as_str().expect("id").to_string();
        ctl.add_member(tid, &gid, child).expect("nest");
        want.push(gid.clone());
        gid
    };
    let parent = nest("Parent of Team 0", &team0);
    nest("Grandparent of Team 0", &parent);

    let http = tenantry::http_client::default_client().expect("http");
    let client = GraphClient::new(
        http,
        CLIENT_ID,
        Credential::ClientSecret(ClientSecret::new(SECRET)),
    )
    .with_base_urls(&sim.login_url(), &sim.graph_url())
    .with_retry_policy(fast_retry());

    let u = client.user(tid, &uid).await.expect("user");
    assert_eq!(u.id, uid);
    assert_eq!(u.display_name.as_deref(), Some("Megan Bowen"));
    assert_eq!(
        u.user_principal_name.as_deref(),
        Some("meganb@lookup.example")
    );
    assert_eq!(u.mail.as_deref(), Some("meganb@lookup.example"));
    assert_eq!(u.user_type.as_deref(), Some("Member"));
    assert_eq!(u.account_enabled, Some(true));

    let mut ids = client.user_group_ids(tid, &uid).await.expect("groups");
    assert_eq!(ids.len(), 1002, "every group once");
    ids.sort();
    want.sort();
    assert_eq!(ids, want);
    let counts = ctl.request_counts(tid).expect("counts");
    let key = "users/{id}/transitiveMemberOf/microsoft.graph.group";
    assert_eq!(counts.get(key).copied(), Some(1), "{counts:?}");
    assert_eq!(
        counts.get(&format!("{key}?skiptoken")).copied(),
        Some(1),
        "a second page"
    );

    // Unknown user: Graph's 404.
    let missing = "00000000-0000-4000-8000-000000000000";
    let err = client.user(tid, missing).await.expect_err("404");
    assert_eq!(err.status, Some(404));
    assert!(err.has_code("Request_ResourceNotFound"));
    assert!(
        err.message
            .as_deref()
            .is_some_and(|m| m.starts_with(&format!("Resource '{missing}' does not exist"))),
        "{:?}",
        err.message
    );
    let err = client.user_group_ids(tid, missing).await.expect_err("404");
    assert_eq!(err.status, Some(404));
}
