//! Requests API parity with the PSA's forms: a token reads and sets the assignee and adds
//! internal notes, each change audited under the token; the portal user never sees a note
//! written through the API.

use crate::helpers::*;
use crate::portal_requests::{portal_company, portal_sign_in};
use serde_json::{Value, json};

async fn api(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = app
        .client
        .request(method, app.at(&format!("/api/v1{path}")))
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {text}")),
    )
}

#[tokio::test]
async fn a_token_assigns_a_request_and_keeps_internal_notes_the_portal_never_shows() {
    use reqwest::Method;
    let app = spawn_app().await;
    let (company, slug) = portal_company(&app, "Alpha Dental").await;
    let ann = portal_sign_in(&app, company, &slug, 10, "Ann", false).await;
    let id = ann.raise("Printer offline", "Error 79 again.").await;
    let token = app.admin_token().await;
    let me = app
        .services()
        .staff_users()
        .await
        .expect("staff")
        .into_iter()
        .next()
        .expect("the admin");
    let path = format!("/companies/{company}/requests/{id}");

    // Unassigned, no notes, to begin with.
    let (status, v) = api(&app, &token, Method::GET, &path, None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["assignee"], Value::Null, "{v}");
    assert_eq!(v["internal_notes"], json!([]), "{v}");

    // Assign and change the status in one PATCH.
    let (status, v) = api(
        &app,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"assignee_id": me.id, "status": "in_progress"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["assignee"]["staff_id"], json!(me.id), "{v}");
    assert_eq!(v["status"], "in_progress", "{v}");
    // The list carries the assignee too.
    let (_, list) = api(
        &app,
        &token,
        Method::GET,
        &format!("/companies/{company}/requests"),
        None,
    )
    .await;
    let row = list["items"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["id"] == json!(id)))
        .cloned()
        .unwrap_or_else(|| panic!("request {id} listed: {list}"));
    assert_eq!(row["assignee"]["staff_id"], json!(me.id), "{row}");

    // An unknown staff id is refused and changes nothing (not even the status beside it).
    let (status, v) = api(
        &app,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"assignee_id": 999_999, "status": "resolved"})),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_input")),
        "{v}"
    );
    let (_, v) = api(&app, &token, Method::GET, &path, None).await;
    assert_eq!(
        v["status"], "in_progress",
        "the refused PATCH wrote nothing: {v}"
    );
    // An empty PATCH says what it needs.
    let (status, v) = api(&app, &token, Method::PATCH, &path, Some(json!({}))).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_input")),
        "{v}"
    );

    // A note, signed with the token's name; the request's activity time does not move.
    let (_, v) = api(&app, &token, Method::GET, &path, None).await;
    let before = v["updated_at"].clone();
    assert!(before.is_string(), "{v}");
    let secret = "Customer owes us for the last two call-outs";
    let r = app
        .client
        .post(app.at(&format!("/api/v1{path}/notes")))
        .bearer_auth(&token)
        .json(&json!({"body": secret}))
        .send()
        .await
        .expect("note");
    assert_eq!(r.status(), 201);
    assert_eq!(location(&r), format!("/api/v1{path}"));
    let v: Value = r.json().await.expect("json");
    let notes = v["internal_notes"].as_array().cloned().unwrap_or_default();
    assert_eq!(notes.len(), 1, "{v}");
    assert_eq!(notes[0]["body"], secret);
    assert_eq!(notes[0]["author_name"], "test", "the token's name");
    assert_eq!(
        v["updated_at"], before,
        "a note is not customer-visible activity"
    );
    let (status, v) = api(
        &app,
        &token,
        Method::POST,
        &format!("{path}/notes"),
        Some(json!({"body": "  "})),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_input")),
        "{v}"
    );

    // Unassign with null.
    let (status, v) = api(
        &app,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"assignee_id": null})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["assignee"], Value::Null, "{v}");
    assert_eq!(v["status"], "in_progress", "status left as it was");

    // Each change is in the audit log under the token.
    let (_, audit) = api(
        &app,
        &token,
        Method::GET,
        &format!("/audit?company={company}&per_page=100"),
        None,
    )
    .await;
    let events = audit["items"].as_array().cloned().unwrap_or_default();
    for kind in ["request.assign", "request.status", "request.note"] {
        assert!(
            events
                .iter()
                .any(|e| e["kind"] == kind
                    && e["actor"].as_str().is_some_and(|a| a.contains("test"))),
            "{kind} by the token in {audit}"
        );
    }

    // The employee reads the request, the list and the home page: never the note.
    let thread = ann.text(&ann.p(&format!("/requests/{id}"))).await;
    assert!(
        thread.contains("Printer offline"),
        "the employee sees the request"
    );
    for page in [
        ann.p(&format!("/requests/{id}")),
        ann.p("/requests"),
        ann.p(""),
    ] {
        let seen = ann.text(&page).await;
        assert!(!seen.contains(secret), "{page} shows the internal note");
    }
}
