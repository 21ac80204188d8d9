//! Overload: past `server.max_in_flight` a request waits `server.overload_wait_ms` for a turn,
//! then gets 503 with `Retry-After` (the API: JSON code `overloaded`; a browser: a short page),
//! while health checks and static files are still served. The one turn is held by a request
//! the appliance cannot finish yet: Level's group listing, which the simulator answers late.

use crate::helpers::*;
use crate::support::eventually;
use serde_json::{Value, json};
use tenantry::simulator::{Fault, FaultKind, SimOptions, Simulator};

const KEY: &str = "lvl-live-key-0503";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_bound_a_request_gets_503_with_retry_after_and_probes_still_answer() {
    let sim = Simulator::start(SimOptions::default()).await.expect("sim");
    let ctl = sim.control();
    ctl.levelio_set_api_key(KEY);
    ctl.levelio_generate(&["Contoso Dental".into()], 2);
    let level_url = format!("{}/v2", sim.levelio_url());
    let app = spawn_app_with(
        move |c| {
            c.level.api_url = level_url;
            c.server.max_in_flight = 1;
            c.server.overload_wait_ms = 50;
        },
        Default::default(),
    )
    .await;
    app.login().await;
    let token = app.admin_token().await;
    let put = app
        .client
        .put(app.at("/api/v1/settings/level"))
        .bearer_auth(&token)
        .json(&json!({"api_key": KEY}))
        .send()
        .await
        .expect("connect Level");
    assert_eq!(put.status(), 200, "one request at a time is served");

    // Level answers its group listing five seconds late (a margin for a loaded machine): the
    // request asking for it holds the appliance's one turn until then.
    ctl.levelio_set_faults(vec![Fault {
        kind: FaultKind::Slow { delay_ms: 5_000 },
        endpoint: Some("groups".into()),
        nth: 1,
        times: 1,
        seen: 0,
    }]);
    let held = {
        let request = app
            .client
            .get(app.at("/api/v1/settings/level/groups"))
            .bearer_auth(&token);
        tokio::spawn(async move { request.send().await })
    };
    eventually("the held request reached Level", || {
        let seen = ctl.levelio_counts().get("groups").copied().unwrap_or(0);
        async move { (seen >= 1).then_some(()) }
    })
    .await;

    // The API: 503, Retry-After, the stable code and the request id to quote.
    let r = app
        .client
        .get(app.at("/api/v1/companies"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("API request");
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1"),
        "Retry-After in whole seconds, at least the wait"
    );
    let id = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body: Value = r.json().await.expect("a JSON error");
    assert_eq!(body["code"], "overloaded", "{body}");
    assert_eq!(body["request_id"], id.as_str(), "{body}");

    // A browser: a short page that says so, with the same header and the usual CSP.
    let r = app.get("/companies").await;
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert!(r.headers().contains_key("content-security-policy"));
    let page = r.text().await.expect("page");
    assert!(page.contains("busy with other requests"), "{page}");

    // Probes and static files are never held back.
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(app.get("/static/app.css").await.status(), 200);

    // The held request finishes normally and gives its turn back.
    let held = held.await.expect("join").expect("held request");
    assert_eq!(held.status(), 200);
    let groups: Value = held.json().await.expect("json");
    assert!(groups["error"].is_null(), "{groups}");
    assert_eq!(app.get("/companies").await.status(), 200);
}
