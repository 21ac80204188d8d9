//! Settings → Integrations → Level.io over real HTTP against the simulator: connect with a
//! sealed key shown only by its last four characters, Test connection (good and rejected
//! key), the group tree with mappings and name suggestions, the company mapping API,
//! disconnect keeping the mapping, and the audit rows for each.

use serde_json::{Value, json};
use tenantry::simulator::{SimOptions, Simulator};

use crate::helpers::*;

const KEY: &str = "lvl-live-key-7f2c";

struct Setup {
    app: TestApp,
    sim: Simulator,
    token: String,
}

async fn setup() -> Setup {
    let sim = Simulator::start(SimOptions::default()).await.expect("sim");
    let ctl = sim.control();
    ctl.levelio_set_api_key(KEY);
    ctl.levelio_generate(&["Contoso Dental".into(), "Fabrikam Bakery".into()], 12);
    let url = format!("{}/v2", sim.levelio_url());
    let app = spawn_app_with(move |c| c.level.api_url = url, Default::default()).await;
    let token = app.admin_token().await;
    Setup { app, sim, token }
}

async fn call(s: &Setup, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut rb = s
        .app
        .client
        .request(method, s.app.at(path))
        .bearer_auth(&s.token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn audit(s: &Setup) -> Vec<Value> {
    let (_, v) = call(
        s,
        reqwest::Method::GET,
        "/api/v1/audit?kind=settings&per_page=100",
        None,
    )
    .await;
    v["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn connect_test_map_and_disconnect_through_the_api() {
    use reqwest::Method;
    let s = setup().await;
    let (st, v) = call(&s, Method::GET, "/api/v1/settings/level", None).await;
    assert_eq!(st, 200);
    assert_eq!(v["connected"], false);
    assert_eq!(v["source"], "none");
    // Test without a key: a clear 409.
    let (st, v) = call(&s, Method::POST, "/api/v1/settings/level/test", None).await;
    assert_eq!(st, 409, "{v}");
    // A wrong key connects but its test fails, audited with Level's status and body.
    let (st, v) = call(
        &s,
        Method::PUT,
        "/api/v1/settings/level",
        Some(json!({"api_key": "nope-0000"})),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["key_last4"], "0000");
    let (st, t) = call(&s, Method::POST, "/api/v1/settings/level/test", None).await;
    assert_eq!(st, 200);
    assert_eq!(t["ok"], false);
    assert!(
        t["message"]
            .as_str()
            .unwrap_or_default()
            .contains("rejected"),
        "{t}"
    );
    let failed = audit(&s).await;
    let row = failed
        .iter()
        .find(|e| e["kind"] == "settings.level_test")
        .expect("test audited");
    assert_eq!(row["outcome"], "failure");
    assert_eq!(row["details"]["status"], 401);
    assert!(
        row["details"]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("Access denied")
    );
    // The right key: sealed, never returned, test reports what it can read.
    let (st, v) = call(
        &s,
        Method::PUT,
        "/api/v1/settings/level",
        Some(
            json!({"api_key": KEY, "warranty_field": "Warranty Expiry", "date_order": "day_first"}),
        ),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["connected"], true);
    assert_eq!(v["key_last4"], "7f2c");
    assert_eq!(v["date_order"], "day_first");
    assert!(!v.to_string().contains(KEY), "key never returned");
    let (_, t) = call(&s, Method::POST, "/api/v1/settings/level/test", None).await;
    assert_eq!(t["ok"], true, "{t}");
    assert_eq!(t["groups"], 8);
    assert_eq!(t["devices"], 24);
    assert_eq!(t["custom_fields"], 2);
    // The tree: roots first, children indented, a name suggestion for the client's root.
    let contoso = s
        .app
        .services()
        .create_company(
            tenantry::model::Actor::system(),
            tenantry::model::CompanyInput::parse("Contoso Dental", "", "").expect("input"),
        )
        .await
        .expect("company")
        .id;
    let (st, g) = call(&s, Method::GET, "/api/v1/settings/level/groups", None).await;
    assert_eq!(st, 200);
    assert!(g["error"].is_null(), "{g}");
    let groups = g["groups"].as_array().cloned().expect("groups");
    assert_eq!(groups.len(), 8);
    let root = groups
        .iter()
        .find(|x| x["name"] == "Contoso Dental")
        .expect("root");
    assert_eq!(root["depth"], 0);
    assert_eq!(root["suggested_company_id"], contoso);
    assert!(groups.iter().all(|x| x["effective_company_id"].is_null()));
    let remote = groups
        .iter()
        .find(|x| x["path"] == "Contoso Dental / Workstations / Remote")
        .expect("nested path");
    assert_eq!(remote["depth"], 2);
    // Map the root: the whole subtree follows.
    let root_id = root["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/companies/{contoso}/level-groups");
    let (st, m) = call(
        &s,
        Method::PUT,
        &path,
        Some(json!({"group_ids": [root_id]})),
    )
    .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["group_ids"], json!([root_id]));
    let (_, g) = call(&s, Method::GET, "/api/v1/settings/level/groups", None).await;
    let covered = g["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter(|x| x["effective_company_id"] == contoso)
        .count();
    assert_eq!(covered, 4, "root and its three descendants");
    // An unknown group id is refused with a stable code.
    let (st, e) = call(&s, Method::PUT, &path, Some(json!({"group_ids": ["nope"]}))).await;
    assert_eq!(st, 400, "{e}");
    // Disconnect forgets the key, keeps the mapping; audited.
    let (st, v) = call(&s, Method::DELETE, "/api/v1/settings/level", None).await;
    assert_eq!(st, 200);
    assert_eq!(v["connected"], false);
    let (_, m) = call(&s, Method::GET, &path, None).await;
    assert_eq!(m["group_ids"], json!([root_id]));
    let (_, g) = call(&s, Method::GET, "/api/v1/settings/level/groups", None).await;
    assert!(
        g["error"]
            .as_str()
            .is_some_and(|e| e.contains("not connected"))
    );
    assert_eq!(
        g["groups"].as_array().map(Vec::len),
        Some(8),
        "last known tree"
    );
    let kinds: Vec<String> = audit(&s)
        .await
        .iter()
        .filter_map(|e| e["summary"].as_str().map(str::to_string))
        .collect();
    assert!(
        kinds.iter().any(|k| k.contains("Level.io disconnected")),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|k| k.contains("mapped to Contoso Dental")),
        "{kinds:?}"
    );
    assert!(kinds.iter().all(|k| !k.contains(KEY)), "key never audited");
    s.sim.stop().await;
}

#[tokio::test]
async fn the_settings_pages_connect_test_and_map_a_group_with_csrf() {
    let s = setup().await;
    s.app.login().await;
    let page = "/settings/integrations/level";
    let html = s.app.get_text(page).await;
    assert!(html.contains("Not connected"));
    // No CSRF token: refused.
    let r = s.app.post_raw(page, &[("api_key", KEY)]).await;
    assert_eq!(r.status(), 403);
    let r = s
        .app
        .post_form(
            page,
            page,
            &[
                ("api_key", KEY),
                ("warranty_field", "Warranty Expiry"),
                ("date_order", "month_first"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let html = s.app.get_text(page).await;
    assert!(html.contains("Connected") && html.contains("…7f2c"));
    assert!(!html.contains(KEY), "the key is never shown again");
    let r = s
        .app
        .post_form(page, "/settings/integrations/level/test", &[])
        .await;
    assert_eq!(r.status(), 303);
    let html = s.app.get_text(page).await;
    assert!(
        html.contains("The key can read 8 groups, 24 devices"),
        "{html}"
    );
    // Map the Fabrikam root from the tree page.
    let fabrikam = s
        .app
        .services()
        .create_company(
            tenantry::model::Actor::system(),
            tenantry::model::CompanyInput::parse("Fabrikam Bakery", "", "").expect("input"),
        )
        .await
        .expect("company")
        .id;
    let groups_page = "/settings/integrations/level/groups";
    let html = s.app.get_text(groups_page).await;
    assert!(html.contains("Suggested: Fabrikam Bakery"));
    assert!(html.contains("8 groups, 8 not covered"));
    let tree = s.app.services().level_groups().await.expect("tree");
    let root = tree
        .rows
        .iter()
        .find(|r| r.name == "Fabrikam Bakery")
        .expect("root");
    let company = fabrikam.to_string();
    let r = s
        .app
        .post_form(
            groups_page,
            groups_page,
            &[("group_id", &root.id), ("company_id", &company)],
        )
        .await;
    assert_eq!(r.status(), 303);
    let html = s.app.get_text(groups_page).await;
    assert!(html.contains("8 groups, 4 not covered"), "{html}");
    assert!(html.contains("via parent: Fabrikam Bakery"));
    let r = s
        .app
        .post_form(page, "/settings/integrations/level/disconnect", &[])
        .await;
    assert_eq!(r.status(), 303);
    assert!(s.app.get_text(page).await.contains("Not connected"));
    s.sim.stop().await;
}
