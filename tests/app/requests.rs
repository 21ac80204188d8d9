//! Support requests, staff side: PSA → Requests, the company tab, the thread with reply and
//! status forms, and the JSON API, including cross-company ids answering 404. Requests are
//! raised through the domain as a portal user would (the portal's HTTP side is in
//! `portal_requests.rs`).

use crate::helpers::*;
use serde_json::{Value, json};
use tenantry::domain::requests::Requester;
use tenantry::model::{Actor, CompanyInput, NewRequest, RequestStatus};

async fn company(app: &TestApp, name: &str) -> u64 {
    app.services()
        .create_company(
            Actor::system(),
            CompanyInput::parse(name, "", "").expect("input"),
        )
        .await
        .expect("company")
        .id
}

fn requester(company_id: u64, contact_id: u64, name: &str) -> Requester {
    Requester {
        company_id,
        contact_id,
        display_name: name.into(),
        audit_name: format!("{}@client.example", name.to_lowercase()),
        is_portal_admin: false,
    }
}

/// Raise a request as a portal user would; returns its id.
async fn raise(app: &TestApp, who: &Requester, subject: &str) -> u64 {
    app.services()
        .create_request(
            who,
            NewRequest::parse(subject, "It stopped working this morning.").expect("input"),
        )
        .await
        .expect("request")
        .id
}

/// Two companies, each with a request: (a, a's request, b, b's request).
async fn two_companies(app: &TestApp) -> (u64, u64, u64, u64) {
    let a = company(app, "Alpha Dental").await;
    let b = company(app, "Beta Legal").await;
    let ra = raise(app, &requester(a, 1, "Ann"), "Printer offline").await;
    let rb = raise(app, &requester(b, 2, "Bea"), "VPN drops").await;
    (a, ra, b, rb)
}

#[tokio::test]
async fn staff_list_filter_answer_and_resolve_a_request() {
    let app = spawn_app().await;
    let (a, ra, b, rb) = two_companies(&app).await;
    app.login().await;

    let menu = app.get_text("/companies").await;
    assert!(
        menu.contains("href=\"/requests\""),
        "PSA menu lists Requests"
    );

    let list = app.get_text("/requests").await;
    for s in [
        "Printer offline",
        "VPN drops",
        "Alpha Dental",
        "Beta Legal",
        "Ann",
    ] {
        assert!(list.contains(s), "PSA → Requests shows {s:?}");
    }
    assert!(list.contains(&format!("/companies/{a}/requests/{ra}")));

    // The company tab lists only that company's requests.
    let detail = app.get_text(&format!("/companies/{a}")).await;
    assert!(
        detail.contains(&format!("/companies/{a}/requests\"")),
        "tab"
    );
    let tab = app.get_text(&format!("/companies/{a}/requests")).await;
    assert!(tab.contains("Printer offline") && !tab.contains("VPN drops"));

    // Reply: the request then waits on the customer.
    let page = format!("/companies/{a}/requests/{ra}");
    let thread = app.get_text(&page).await;
    assert!(thread.contains("It stopped working this morning."));
    let r = app
        .post_form(
            &page,
            &format!("{page}/reply"),
            &[("body", "Turn it off and on again?"), ("status", "")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{page}?notice=request_reply_sent"));
    let thread = app.get_text(&location(&r)).await;
    assert!(thread.contains("Turn it off and on again?"));
    assert!(thread.contains("Waiting on customer"));
    assert!(thread.contains("Reply sent."));
    let stored = app.services().request(a, ra).await.expect("stored");
    assert_eq!(stored.status, RequestStatus::WaitingOnCustomer);
    assert_eq!(
        stored.replies[0].author_name, "Administrator",
        "staff sign with their name"
    );

    // Status form.
    let r = app
        .post_form(&page, &format!("{page}/status"), &[("status", "resolved")])
        .await;
    assert_eq!(r.status(), 303);
    assert!(app.get_text(&page).await.contains("Resolved"));

    // Filters: resolved shows A's only; open shows B's only.
    let resolved = app.get_text("/requests?status=resolved").await;
    assert!(resolved.contains("Printer offline") && !resolved.contains("VPN drops"));
    let open = app.get_text("/requests?status=open").await;
    assert!(!open.contains("Printer offline") && open.contains("VPN drops"));
    let searched = app.get_text("/requests?q=vpn").await;
    assert!(!searched.contains("Printer offline") && searched.contains("VPN drops"));
    assert_eq!(app.get("/requests?status=pending").await.status(), 400);

    // Audited with the company.
    let audit = app
        .get_text(&format!("/audit?company={a}&kind=request"))
        .await;
    for s in [
        "raised request",
        "Replied on request",
        "Waiting on customer → Resolved",
    ] {
        assert!(audit.contains(s), "audit shows {s:?}");
    }
    assert_eq!(
        app.services().request(b, rb).await.expect("b").status,
        RequestStatus::Open
    );
}

#[tokio::test]
async fn staff_pages_answer_404_for_a_request_under_another_company() {
    let app = spawn_app().await;
    let (a, ra, b, rb) = two_companies(&app).await;
    app.login().await;

    assert_eq!(
        app.get(&format!("/companies/{a}/requests/{rb}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/companies/{b}/requests/{ra}"))
            .await
            .status(),
        404
    );
    assert_eq!(app.get("/companies/999/requests").await.status(), 404);
    assert_eq!(
        app.get(&format!("/companies/999/requests/{ra}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/companies/{a}/requests/x"))
            .await
            .status(),
        404
    );

    let from = format!("/companies/{a}/requests/{ra}");
    let r = app
        .post_form(
            &from,
            &format!("/companies/{a}/requests/{rb}/reply"),
            &[("body", "wrong company")],
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = app
        .post_form(
            &from,
            &format!("/companies/{a}/requests/{rb}/status"),
            &[("status", "closed")],
        )
        .await;
    assert_eq!(r.status(), 404);
    let untouched = app.services().request(b, rb).await.expect("b");
    assert!(untouched.replies.is_empty());
    assert_eq!(untouched.status, RequestStatus::Open);

    // An empty reply is re-shown with the reason; no CSRF token, no change.
    let r = app
        .post_form(&from, &format!("{from}/reply"), &[("body", "  ")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("body").contains("reply: is required"));
    let r = app
        .post_raw(&format!("{from}/reply"), &[("body", "no token")])
        .await;
    assert_eq!(r.status(), 403);
    assert!(
        app.services()
            .request(a, ra)
            .await
            .expect("a")
            .replies
            .is_empty()
    );
}

#[tokio::test]
async fn staff_pages_need_a_staff_session() {
    let app = spawn_app().await;
    let (a, ra, _, _) = two_companies(&app).await;
    for path in [
        "/requests".to_string(),
        format!("/companies/{a}/requests"),
        format!("/companies/{a}/requests/{ra}"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status(), 303, "{path}");
        assert!(location(&r).starts_with("/login"), "{path}");
    }
}

async fn api(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.at(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("api");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn api_lists_reads_answers_and_patches_requests() {
    let app = spawn_app().await;
    let (a, ra, b, rb) = two_companies(&app).await;
    let t = app.admin_token().await;
    use reqwest::Method as M;

    let (s, all) = api(&app, &t, M::GET, "/api/v1/requests", None).await;
    assert_eq!(s, 200);
    assert_eq!(all["total"], 2);
    assert_eq!(all["items"][0]["reply_count"], 0);
    assert!(
        all["items"][0].get("replies").is_none(),
        "lists carry no replies"
    );

    let (_, only_b) = api(
        &app,
        &t,
        M::GET,
        &format!("/api/v1/requests?company_id={b}"),
        None,
    )
    .await;
    assert_eq!(only_b["total"], 1);
    assert_eq!(only_b["items"][0]["id"], rb);
    let (_, a_list) = api(
        &app,
        &t,
        M::GET,
        &format!("/api/v1/companies/{a}/requests"),
        None,
    )
    .await;
    assert_eq!(a_list["total"], 1);
    assert_eq!(a_list["items"][0]["subject"], "Printer offline");
    assert_eq!(a_list["items"][0]["status"], "open");

    // Reply with a status, then read it back.
    let (s, r) = api(
        &app,
        &t,
        M::POST,
        &format!("/api/v1/companies/{a}/requests/{ra}/replies"),
        Some(json!({"body": "On my way", "status": "in_progress"})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["status"], "in_progress");
    assert_eq!(r["replies"][0]["author_kind"], "staff");
    assert_eq!(r["replies"][0]["author_name"], "test");
    let (s, r) = api(
        &app,
        &t,
        M::POST,
        &format!("/api/v1/companies/{a}/requests/{ra}/replies"),
        Some(json!({"body": "Fixed, please check"})),
    )
    .await;
    assert_eq!(
        (s, r["status"].as_str()),
        (201, Some("waiting_on_customer"))
    );
    let (s, r) = api(
        &app,
        &t,
        M::GET,
        &format!("/api/v1/companies/{a}/requests/{ra}"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(r["replies"].as_array().map(Vec::len), Some(2));

    let (s, r) = api(
        &app,
        &t,
        M::PATCH,
        &format!("/api/v1/companies/{a}/requests/{ra}"),
        Some(json!({"status": "resolved"})),
    )
    .await;
    assert_eq!((s, r["status"].as_str()), (200, Some("resolved")));
    let (_, resolved) = api(&app, &t, M::GET, "/api/v1/requests?status=resolved", None).await;
    assert_eq!(resolved["total"], 1);
    assert_eq!(resolved["items"][0]["id"], ra);

    // Bad input: stable codes.
    for (method, path, body) in [
        (M::GET, "/api/v1/requests?status=pending".to_string(), None),
        (M::GET, "/api/v1/requests?company_id=x".to_string(), None),
        (
            M::PATCH,
            format!("/api/v1/companies/{a}/requests/{ra}"),
            Some(json!({"status": "done"})),
        ),
        (
            M::POST,
            format!("/api/v1/companies/{a}/requests/{ra}/replies"),
            Some(json!({"body": " "})),
        ),
    ] {
        let (s, e) = api(&app, &t, method, &path, body).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (400, Some("invalid_input")),
            "{path}: {e}"
        );
    }

    // A request id under the wrong company is 404 everywhere, and changes nothing.
    for (method, path, body) in [
        (M::GET, format!("/api/v1/companies/{a}/requests/{rb}"), None),
        (
            M::PATCH,
            format!("/api/v1/companies/{a}/requests/{rb}"),
            Some(json!({"status": "closed"})),
        ),
        (
            M::POST,
            format!("/api/v1/companies/{a}/requests/{rb}/replies"),
            Some(json!({"body": "hi"})),
        ),
        (M::GET, "/api/v1/companies/999/requests".to_string(), None),
        (M::GET, "/api/v1/requests?company_id=999".to_string(), None),
    ] {
        let (s, e) = api(&app, &t, method, &path, body).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (404, Some("not_found")),
            "{path}: {e}"
        );
    }
    let b_req = app.services().request(b, rb).await.expect("b");
    assert_eq!(b_req.status, RequestStatus::Open);
    assert!(b_req.replies.is_empty());

    let r = app
        .client
        .get(app.at("/api/v1/requests"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 401);
}
