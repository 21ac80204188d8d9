//! The JSON API over real HTTP: bearer-token auth, companies end to end with their audit
//! entries, every kind of bad input getting a JSON 4xx with a stable `code`, admin-only
//! endpoints, and the cross-company lists, audit, jobs, users, tokens and schedules.

use crate::helpers::*;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use tenantry::model::{Actor, Role, Trigger};

/// A request with a bearer token.
async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Response {
    let mut rb = app.client.request(method, app.at(path)).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    rb.send().await.expect("request")
}

/// Assert the status and the JSON error `code`, and return the body.
async fn expect_error(r: Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "status of {}", r.url());
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("application/json"), "JSON error, got {ct:?}");
    let v: Value = r.json().await.expect("JSON body");
    assert_eq!(v["code"], code, "code in {v}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a human message in {v}"
    );
    v
}

async fn ok_json(r: Response, status: u16) -> Value {
    let url = r.url().to_string();
    let got = r.status().as_u16();
    let text = r.text().await.expect("body");
    assert_eq!(got, status, "status of {url}: {text}");
    serde_json::from_str(&text).expect("JSON body")
}

async fn technician_token(app: &TestApp) -> String {
    app.services()
        .create_api_token(Actor::system(), "tech", Role::Technician)
        .await
        .expect("token")
        .0
}

async fn create_company(app: &TestApp, token: &str, name: &str) -> u64 {
    let r = call(
        app,
        token,
        Method::POST,
        "/api/v1/companies",
        Some(json!({"name": name})),
    )
    .await;
    ok_json(r, 201).await["id"].as_u64().expect("id")
}

#[tokio::test]
async fn missing_malformed_wrong_and_revoked_tokens_get_401_json() {
    let app = spawn_app().await;
    let url = app.at("/api/v1/companies");
    let check = |r: Response| async move {
        assert!(
            r.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Bearer")),
            "www-authenticate header on {:?}",
            r.headers()
        );
        expect_error(r, 401, "unauthorized").await;
    };
    // Missing.
    check(app.client.get(&url).send().await.expect("get")).await;
    // Malformed headers.
    for h in [
        "Basic YWRtaW46cGFzcw==",
        "Bearer",
        "Bearer    ",
        "tnt_abc",
        "bearer",
    ] {
        let r = app
            .client
            .get(&url)
            .header("authorization", h)
            .send()
            .await
            .expect("get");
        check(r).await;
    }
    // Wrong tokens (with and without the prefix).
    for t in ["tnt_notarealtokenatall", "not-even-a-prefix"] {
        check(call(&app, t, Method::GET, "/api/v1/companies", None).await).await;
    }
    // A token works until it is revoked.
    let admin = app.admin_token().await;
    let created = ok_json(
        call(
            &app,
            &admin,
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "script"})),
        )
        .await,
        201,
    )
    .await;
    let plain = created["token"].as_str().expect("plain token").to_string();
    let id = created["id"].as_u64().expect("id");
    ok_json(
        call(&app, &plain, Method::GET, "/api/v1/companies", None).await,
        200,
    )
    .await;
    let revoked = ok_json(
        call(
            &app,
            &admin,
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(revoked["revoked"], true);
    check(call(&app, &plain, Method::GET, "/api/v1/companies", None).await).await;
    // Revoking twice is a conflict, not a 500.
    expect_error(
        call(
            &app,
            &admin,
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            None,
        )
        .await,
        409,
        "conflict",
    )
    .await;
}

#[tokio::test]
async fn companies_via_api_with_audit_entries() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = call(
        &app,
        &t,
        Method::POST,
        "/api/v1/companies",
        Some(json!({"name": "Fabrikam", "domain": "Fabrikam.com"})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let loc = location(&r);
    let c = ok_json(r, 201).await;
    let id = c["id"].as_u64().expect("id");
    assert_eq!(loc, format!("/api/v1/companies/{id}"));
    assert_eq!(c["domain"], "fabrikam.com");
    assert_eq!(c["status"], "active");

    let got = ok_json(call(&app, &t, Method::GET, &loc, None).await, 200).await;
    assert_eq!(got["name"], "Fabrikam");

    let patched = ok_json(
        call(&app, &t, Method::PATCH, &loc, Some(json!({"notes": "VIP"}))).await,
        200,
    )
    .await;
    assert_eq!(patched["notes"], "VIP");
    assert_eq!(
        patched["name"], "Fabrikam",
        "PATCH keeps what it does not name"
    );

    let other = create_company(&app, &t, "Northwind").await;

    let archived = ok_json(
        call(&app, &t, Method::POST, &format!("{loc}/archive"), None).await,
        200,
    )
    .await;
    assert_eq!(archived["status"], "archived");
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let list = |status: &'static str| {
        let t = t.clone();
        let app = &app;
        async move {
            ok_json(
                call(
                    app,
                    &t,
                    Method::GET,
                    &format!("/api/v1/companies?status={status}"),
                    None,
                )
                .await,
                200,
            )
            .await
        }
    };
    let active = list("active").await;
    assert_eq!(names(&active), vec!["Northwind"]);
    assert_eq!(active["total"], 1);
    assert_eq!(names(&list("archived").await), vec!["Fabrikam"]);
    assert_eq!(list("all").await["total"], 2);
    // Paging parameters work next to the status filter.
    let page2 = list("all&per_page=1&page=2&sort=name").await;
    assert_eq!(page2["total"], 2);
    assert_eq!(page2["per_page"], 1);
    assert_eq!(names(&page2), vec!["Northwind"]);
    expect_error(
        call(&app, &t, Method::GET, "/api/v1/companies?status=gone", None).await,
        400,
        "invalid_input",
    )
    .await;
    // Archived companies are read-only.
    expect_error(
        call(&app, &t, Method::PATCH, &loc, Some(json!({"name": "X"}))).await,
        409,
        "conflict",
    )
    .await;

    let restored = ok_json(
        call(&app, &t, Method::POST, &format!("{loc}/restore"), None).await,
        200,
    )
    .await;
    assert_eq!(restored["status"], "active");
    assert_eq!(list("active").await["total"], 2);

    let audit = ok_json(
        call(
            &app,
            &t,
            Method::GET,
            &format!("/api/v1/audit?company={id}"),
            None,
        )
        .await,
        200,
    )
    .await;
    let kinds: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or(""))
        .collect();
    for k in [
        "company.create",
        "company.update",
        "company.archive",
        "company.restore",
    ] {
        assert!(kinds.contains(&k), "audit has {k}: {kinds:?}");
    }
    assert_eq!(audit["total"], 4, "only this company's events: {kinds:?}");
    assert!(
        audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["company_id"] == id && e["actor"] == "api:test"),
        "events name the company and the token: {audit}"
    );
    let theirs = ok_json(
        call(
            &app,
            &t,
            Method::GET,
            &format!("/api/v1/audit?company={other}"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(theirs["total"], 1);
}

#[tokio::test]
async fn bad_input_gets_clear_json_4xx() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let id = create_company(&app, &t, "Contoso").await;
    let raw = |method: Method, path: &str, body: Vec<u8>| {
        app.client
            .request(method, app.at(path))
            .bearer_auth(&t)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    // Malformed JSON, unknown field, wrong type, missing field.
    let v = expect_error(
        raw(Method::POST, "/api/v1/companies", b"{\"name\": ".to_vec())
            .await
            .expect("post"),
        400,
        "invalid_input",
    )
    .await;
    assert!(v["message"].as_str().unwrap_or("").contains("JSON"), "{v}");
    let v = expect_error(
        call(
            &app,
            &t,
            Method::POST,
            "/api/v1/companies",
            Some(json!({"name": "A", "colour": "red"})),
        )
        .await,
        400,
        "invalid_input",
    )
    .await;
    assert!(
        v["message"].as_str().unwrap_or("").contains("colour"),
        "{v}"
    );
    expect_error(
        call(
            &app,
            &t,
            Method::POST,
            "/api/v1/companies",
            Some(json!({"name": 42})),
        )
        .await,
        400,
        "invalid_input",
    )
    .await;
    expect_error(
        call(
            &app,
            &t,
            Method::PATCH,
            &format!("/api/v1/companies/{id}"),
            Some(json!({"name": ["x"]})),
        )
        .await,
        400,
        "invalid_input",
    )
    .await;
    expect_error(
        call(&app, &t, Method::POST, "/api/v1/companies", Some(json!({}))).await,
        400,
        "invalid_input",
    )
    .await;
    // Validation in the domain (blank name, bad domain) is a 400 too.
    let v = expect_error(
        call(
            &app,
            &t,
            Method::POST,
            "/api/v1/companies",
            Some(json!({"name": "B", "domain": "not a domain"})),
        )
        .await,
        400,
        "invalid_input",
    )
    .await;
    assert!(
        v["message"].as_str().unwrap_or("").contains("domain"),
        "{v}"
    );
    // A JSON body without the JSON content type.
    let r = app
        .client
        .post(app.at("/api/v1/companies"))
        .bearer_auth(&t)
        .header("content-type", "text/plain")
        .body("{\"name\": \"C\"}")
        .send()
        .await
        .expect("post");
    expect_error(r, 400, "invalid_input").await;

    // Oversized body (limit 256 KiB by default): ~1 MiB.
    let big = format!(
        "{{\"name\": \"big\", \"notes\": \"{}\"}}",
        "x".repeat(1024 * 1024)
    );
    let r = raw(Method::POST, "/api/v1/companies", big.clone().into_bytes())
        .await
        .expect("post");
    expect_error(r, 413, "payload_too_large").await;
    let r = raw(
        Method::PATCH,
        &format!("/api/v1/companies/{id}"),
        big.into_bytes(),
    )
    .await
    .expect("patch");
    expect_error(r, 413, "payload_too_large").await;

    // Unknown and malformed ids, unknown endpoints.
    for (m, p) in [
        (Method::GET, "/api/v1/companies/999999".to_string()),
        (Method::POST, "/api/v1/companies/999999/archive".into()),
        (Method::POST, "/api/v1/companies/999999/restore".into()),
        (Method::GET, "/api/v1/companies/999999/contacts".into()),
        (
            Method::GET,
            "/api/v1/companies/999999/contact-groups".into(),
        ),
        (Method::GET, "/api/v1/companies/999999/assets".into()),
        (Method::GET, "/api/v1/companies/abc".into()),
        (Method::GET, "/api/v1/companies/-1".into()),
        (
            Method::GET,
            "/api/v1/companies/99999999999999999999999".into(),
        ),
        (Method::GET, "/api/v1/jobs/999999".into()),
        (Method::GET, "/api/v1/jobs/xyz".into()),
        (Method::GET, "/api/v1/contacts?company=999999".into()),
        (Method::GET, "/api/v1/assets?company=999999".into()),
        (Method::GET, "/api/v1/jobs?company=999999".into()),
        (Method::GET, "/api/v1/audit?company=999999".into()),
        (Method::GET, "/api/v1/users/999999".into()),
        (Method::DELETE, "/api/v1/tokens/999999".into()),
        (Method::GET, "/api/v1/nothing-here".into()),
        (Method::GET, "/api/v2/companies".into()),
        (Method::DELETE, "/api/v1/companies".into()),
    ] {
        let r = call(&app, &t, m.clone(), &p, None).await;
        assert_eq!(r.status(), 404, "{m} {p}");
        expect_error(r, 404, "not_found").await;
    }
    let r = call(
        &app,
        &t,
        Method::PATCH,
        "/api/v1/companies/999999",
        Some(json!({"name": "Ghost"})),
    )
    .await;
    expect_error(r, 404, "not_found").await;

    // Bad query values name the parameter.
    for (p, param) in [
        ("/api/v1/contacts?company=abc", "company"),
        ("/api/v1/contacts?per_page=501", "per_page"),
        ("/api/v1/assets?page=0", "page"),
        ("/api/v1/assets?dir=up", "dir"),
        ("/api/v1/jobs?page=x", "page"),
        ("/api/v1/jobs?per_page=-5", "per_page"),
        ("/api/v1/jobs?page=18446744073709551615", "page"),
        ("/api/v1/audit?page=18446744073709551615", "page"),
        ("/api/v1/contacts?page=18446744073709551616", "page"),
    ] {
        let v = expect_error(
            call(&app, &t, Method::GET, p, None).await,
            400,
            "invalid_input",
        )
        .await;
        assert!(
            v["message"].as_str().unwrap_or("").starts_with(param),
            "{p}: {v}"
        );
    }

    // Technician tokens cannot reach admin endpoints.
    let tech = technician_token(&app).await;
    for (m, p, body) in [
        (Method::GET, "/api/v1/users", None),
        (
            Method::POST,
            "/api/v1/users",
            Some(json!({"email": "x@example.com", "role": "admin"})),
        ),
        (Method::GET, "/api/v1/users/1", None),
        (
            Method::PATCH,
            "/api/v1/users/1",
            Some(json!({"disabled": true})),
        ),
        (
            Method::POST,
            "/api/v1/users/1/password",
            Some(json!({"password": "a new long password"})),
        ),
        (Method::GET, "/api/v1/tokens", None),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "mine", "role": "admin"})),
        ),
        (Method::DELETE, "/api/v1/tokens/1", None),
    ] {
        let r = call(&app, &tech, m.clone(), p, body).await;
        assert_eq!(r.status(), 403, "{m} {p}");
        expect_error(r, 403, "forbidden").await;
    }
    // ... but can work with companies and read schedules.
    ok_json(
        call(&app, &tech, Method::GET, "/api/v1/companies", None).await,
        200,
    )
    .await;
    ok_json(
        call(&app, &tech, Method::GET, "/api/v1/schedules", None).await,
        200,
    )
    .await;
    // Nothing above broke the admin account or the server.
    let users = ok_json(
        call(&app, &t, Method::GET, "/api/v1/users", None).await,
        200,
    )
    .await;
    assert_eq!(users["items"][0]["disabled"], false);
}

#[tokio::test]
async fn audit_filters_paging_and_csv() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let a = create_company(&app, &t, "Alpha").await;
    let b = create_company(&app, &t, "Beta").await;
    for id in [a, b] {
        call(
            &app,
            &t,
            Method::POST,
            &format!("/api/v1/companies/{id}/archive"),
            None,
        )
        .await;
    }
    // A failed sign-in is a failure event without a company.
    app.login_as(ADMIN_EMAIL, "wrong password!").await;

    let get = |q: String| {
        let t = t.clone();
        let app = &app;
        async move {
            ok_json(
                call(app, &t, Method::GET, &format!("/api/v1/audit{q}"), None).await,
                200,
            )
            .await
        }
    };
    let kinds = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["kind"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let all = get(String::new()).await;
    assert_eq!(all["page"], 1);
    assert_eq!(all["per_page"], 50);
    let total = all["total"].as_u64().expect("total");
    assert!(total >= 5, "{all}");

    let company = get("?kind=company".into()).await;
    assert_eq!(company["total"], 4);
    assert!(kinds(&company).iter().all(|k| k.starts_with("company.")));
    let archives = get(format!("?kind=company.archive&company={b}")).await;
    assert_eq!(kinds(&archives), vec!["company.archive"]);
    // A prefix matches whole dotted segments only.
    assert_eq!(get("?kind=comp".into()).await["total"], 0);

    let failures = get("?outcome=failure".into()).await;
    assert!(failures["total"].as_u64() >= Some(1));
    assert!(
        failures["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["outcome"] == "failure")
    );
    assert!(kinds(&failures).contains(&"staff.sign_in".to_string()));
    assert_eq!(
        get("?outcome=success".into()).await["total"]
            .as_u64()
            .unwrap_or(0)
            + failures["total"].as_u64().unwrap_or(0),
        total
    );

    // Time range: everything happened today (UTC).
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().expect("tomorrow");
    assert_eq!(
        get(format!("?from={today}&to={today}")).await["total"],
        total
    );
    assert_eq!(get(format!("?from={tomorrow}")).await["total"], 0);
    assert_eq!(get(format!("?to={today}T00:00:00Z")).await["total"], 0);
    assert_eq!(
        get("?from=2000-01-01T00:00:00%2B02:00&to=2999-01-01".into()).await["total"],
        total
    );

    // Paging.
    let p1 = get("?per_page=2".into()).await;
    let p2 = get("?per_page=2&page=2".into()).await;
    assert_eq!(p1["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(p2["page"], 2);
    assert_ne!(p1["items"][0]["id"], p2["items"][0]["id"]);
    assert_eq!(get("?per_page=500".into()).await["per_page"], 500);

    // Bad values name the parameter.
    for (q, param) in [
        ("company=abc", "company"),
        ("company=-1", "company"),
        ("kind=company..x.", "kind"),
        ("kind=a%20b", "kind"),
        ("outcome=maybe", "outcome"),
        ("from=yesterday", "from"),
        ("to=2026-13-45", "to"),
        ("from=2026-02-01&to=2026-01-01", "from"),
        ("page=0", "page"),
        ("page=lots", "page"),
        ("per_page=501", "per_page"),
        ("per_page=0", "per_page"),
    ] {
        for path in ["/api/v1/audit", "/api/v1/audit.csv"] {
            if path.ends_with("csv") && q.contains("page") {
                continue;
            }
            let v = expect_error(
                call(&app, &t, Method::GET, &format!("{path}?{q}"), None).await,
                400,
                "invalid_input",
            )
            .await;
            assert!(
                v["message"].as_str().unwrap_or("").starts_with(param),
                "{path}?{q}: {v}"
            );
        }
    }

    // CSV: the whole filtered log with a header row.
    let r = call(
        &app,
        &t,
        Method::GET,
        &format!("/api/v1/audit.csv?company={a}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("text/csv"), "{ct}");
    let body = r.text().await.expect("csv");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "id,time,actor,kind,company_id,outcome,summary,details"
    );
    assert_eq!(lines.len(), 3, "{body}");
    assert!(lines[1].contains("company.create") && lines[2].contains("company.archive"));
    // The CSV needs a token too.
    let r = app
        .client
        .get(app.at("/api/v1/audit.csv"))
        .send()
        .await
        .expect("get");
    expect_error(r, 401, "unauthorized").await;
}

#[tokio::test]
async fn cross_company_contacts_and_assets_and_jobs() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let a = create_company(&app, &t, "Alpha").await;
    let b = create_company(&app, &t, "Beta").await;
    let now = chrono::Utc::now();
    app.services()
        .store
        .write(move |w| {
            for (company, name) in [(a, "Zed"), (a, "Amy"), (b, "Bob")] {
                let id = w.next_id("contact")?;
                w.put_contact(&tenantry::model::Contact {
                    id,
                    company_id: company,
                    display_name: name.into(),
                    email: format!("{}@example.com", name.to_lowercase()),
                    department: String::new(),
                    job_title: String::new(),
                    upn: String::new(),
                    account_enabled: true,
                    active: true,
                    is_guest: false,
                    entra_object_id: None,
                    created_at: now,
                    updated_at: now,
                })?;
            }
            for (company, host) in [(a, "pc-1"), (b, "pc-2")] {
                let id = w.next_id("asset")?;
                w.put_asset(&tenantry::model::Asset {
                    id,
                    company_id: company,
                    hostname: host.into(),
                    os: "Windows".into(),
                    os_version: "11".into(),
                    serial_number: format!("SN-{host}"),
                    compliance_state: String::new(),
                    last_check_in: None,
                    primary_user_contact_id: None,
                    active: true,
                    sources: vec![],
                    updated_at: now,
                })?;
            }
            Ok::<_, tenantry::store::StoreError>(())
        })
        .await
        .expect("seed");

    let get = |p: String| {
        let t = t.clone();
        let app = &app;
        async move { ok_json(call(app, &t, Method::GET, &p, None).await, 200).await }
    };
    let field = |v: &Value, f: &str| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c[f].as_str().unwrap_or("").to_string())
            .collect()
    };
    let all = get("/api/v1/contacts".into()).await;
    assert_eq!(all["total"], 3);
    assert_eq!(field(&all, "display_name"), vec!["Amy", "Bob", "Zed"]);
    let desc = get("/api/v1/contacts?dir=desc&per_page=2".into()).await;
    assert_eq!(field(&desc, "display_name"), vec!["Zed", "Bob"]);
    assert_eq!(desc["total"], 3);
    let only_a = get(format!("/api/v1/contacts?company={a}")).await;
    assert_eq!(field(&only_a, "display_name"), vec!["Amy", "Zed"]);
    let search = get("/api/v1/contacts?q=BOB".into()).await;
    assert_eq!(field(&search, "display_name"), vec!["Bob"]);
    let assets = get("/api/v1/assets".into()).await;
    assert_eq!(field(&assets, "hostname"), vec!["pc-1", "pc-2"]);
    let assets_b = get(format!("/api/v1/assets?company={b}&sort=serial")).await;
    assert_eq!(field(&assets_b, "hostname"), vec!["pc-2"]);
    // An empty filter value (as an HTML form sends it) means no filter.
    assert_eq!(get("/api/v1/assets?company=".into()).await["total"], 2);

    // Jobs: the list (newest first, filtered by company) and one job.
    let j1 = app
        .services()
        .enqueue("api_test", Some(a), Trigger::Api, json!(null))
        .await
        .expect("enqueue")
        .job;
    let j2 = app
        .services()
        .enqueue("api_test", Some(b), Trigger::Api, json!(null))
        .await
        .expect("enqueue")
        .job;
    let jobs = get("/api/v1/jobs".into()).await;
    assert_eq!(jobs["total"], 2);
    let ids: Vec<u64> = jobs["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|j| j["id"].as_u64())
        .collect();
    assert_eq!(ids, vec![j2.id, j1.id]);
    let jobs_a = get(format!("/api/v1/jobs?company={a}&per_page=10")).await;
    assert_eq!(jobs_a["total"], 1);
    assert_eq!(jobs_a["items"][0]["id"], j1.id);
    assert_eq!(jobs_a["per_page"], 10);
    let one = get(format!("/api/v1/jobs/{}", j1.id)).await;
    assert_eq!(one["kind"], "api_test");
    assert_eq!(one["company_id"], a);
    assert_eq!(one["trigger"], "api");
}

#[tokio::test]
async fn users_tokens_and_schedules() {
    let app = spawn_app().await;
    let t = app.admin_token().await;

    let users = ok_json(
        call(&app, &t, Method::GET, "/api/v1/users", None).await,
        200,
    )
    .await;
    assert_eq!(users["total"], 1);
    assert_eq!(users["items"][0]["email"], ADMIN_EMAIL);
    assert_eq!(users["items"][0]["role"], "admin");
    assert!(!users.to_string().contains("argon2"), "no hash: {users}");
    assert!(users["items"][0].get("password_hash").is_none());

    // Create (without and with a password).
    let r = call(
        &app,
        &t,
        Method::POST,
        "/api/v1/users",
        Some(json!({"email": "Tech@Example.com", "display_name": "Tess", "role": "technician"})),
    )
    .await;
    let loc = location(&r);
    let tess = ok_json(r, 201).await;
    let tess_id = tess["id"].as_u64().expect("id");
    assert_eq!(loc, format!("/api/v1/users/{tess_id}"));
    assert_eq!(tess["email"], "tech@example.com");
    assert_eq!(tess["role"], "technician");
    assert_eq!(tess["has_password"], false);
    let pw = "a perfectly long password";
    let ann = ok_json(
        call(
            &app,
            &t,
            Method::POST,
            "/api/v1/users",
            Some(json!({"email": "ann@example.com", "role": "admin", "password": pw})),
        )
        .await,
        201,
    )
    .await;
    assert!(!ann.to_string().contains("argon2"));
    assert_eq!(app.login_as("ann@example.com", pw).await.status(), 303);

    // Refusals: duplicate, bad role, short password, bad e-mail, unknown field.
    for (body, status, code) in [
        (
            json!({"email": "ann@example.com", "role": "admin"}),
            409,
            "conflict",
        ),
        (
            json!({"email": "x@example.com", "role": "root"}),
            400,
            "invalid_input",
        ),
        (
            json!({"email": "x@example.com", "role": "admin", "password": "short"}),
            400,
            "invalid_input",
        ),
        (
            json!({"email": "nope", "role": "admin"}),
            400,
            "invalid_input",
        ),
        (
            json!({"email": "x@example.com", "role": "admin", "admin": true}),
            400,
            "invalid_input",
        ),
        (json!({"email": "x@example.com"}), 400, "invalid_input"),
    ] {
        expect_error(
            call(&app, &t, Method::POST, "/api/v1/users", Some(body)).await,
            status,
            code,
        )
        .await;
    }

    // PATCH role and disabled.
    let p = format!("/api/v1/users/{tess_id}");
    let up = ok_json(
        call(&app, &t, Method::PATCH, &p, Some(json!({"role": "admin"}))).await,
        200,
    )
    .await;
    assert_eq!(up["role"], "admin");
    assert_eq!(up["disabled"], false);
    let up = ok_json(
        call(&app, &t, Method::PATCH, &p, Some(json!({"disabled": true}))).await,
        200,
    )
    .await;
    assert_eq!(up["role"], "admin", "unchanged fields stay");
    assert_eq!(up["disabled"], true);
    for body in [
        json!({}),
        json!({"role": "owner"}),
        json!({"disabled": "yes"}),
    ] {
        expect_error(
            call(&app, &t, Method::PATCH, &p, Some(body)).await,
            400,
            "invalid_input",
        )
        .await;
    }
    // The last enabled admin cannot be disabled away.
    let ann_id = ann["id"].as_u64().expect("id");
    ok_json(
        call(
            &app,
            &t,
            Method::PATCH,
            &format!("/api/v1/users/{ann_id}"),
            Some(json!({"role": "technician"})),
        )
        .await,
        200,
    )
    .await;
    expect_error(
        call(
            &app,
            &t,
            Method::PATCH,
            "/api/v1/users/1",
            Some(json!({"disabled": true})),
        )
        .await,
        409,
        "conflict",
    )
    .await;

    // Password reset: the new one works, the old one does not.
    let new_pw = "another perfectly long one";
    let pp = format!("/api/v1/users/{ann_id}/password");
    expect_error(
        call(
            &app,
            &t,
            Method::POST,
            &pp,
            Some(json!({"password": "short"})),
        )
        .await,
        400,
        "invalid_input",
    )
    .await;
    let reset = ok_json(
        call(
            &app,
            &t,
            Method::POST,
            &pp,
            Some(json!({"password": new_pw})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(reset["has_password"], true);
    assert!(!reset.to_string().contains("argon2"));
    let c2 = client();
    let login = |email: &'static str, pw: &'static str| {
        let c2 = c2.clone();
        let app = &app;
        async move {
            let page = c2
                .get(app.at("/login"))
                .send()
                .await
                .expect("get")
                .text()
                .await
                .expect("body");
            c2.post(app.at("/login"))
                .form(&[
                    ("email", email),
                    ("password", pw),
                    ("csrf", &csrf_in(&page)),
                ])
                .send()
                .await
                .expect("post")
                .status()
        }
    };
    assert_ne!(
        login("ann@example.com", "a perfectly long password").await,
        303
    );
    assert_eq!(
        login("ann@example.com", "another perfectly long one").await,
        303
    );

    // Tokens: list (no secrets), create (the plain token once), use, revoke.
    let created = call(
        &app,
        &t,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({"name": "ci", "role": "admin"})),
    )
    .await;
    let created = ok_json(created, 201).await;
    let plain = created["token"].as_str().expect("token").to_string();
    assert!(plain.starts_with("tnt_"));
    assert_eq!(created["role"], "admin");
    assert!(plain.starts_with(created["prefix"].as_str().expect("prefix")));
    ok_json(
        call(&app, &plain, Method::GET, "/api/v1/users", None).await,
        200,
    )
    .await;
    let list = ok_json(
        call(&app, &t, Method::GET, "/api/v1/tokens", None).await,
        200,
    )
    .await;
    assert_eq!(list["total"], 2);
    assert!(
        !list.to_string().contains(&plain),
        "the plain token is shown once"
    );
    let tech = ok_json(
        call(
            &app,
            &t,
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "ro"})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(tech["role"], "technician", "technician is the default");
    for body in [
        json!({"name": ""}),
        json!({"name": "x", "role": "god"}),
        json!({"label": "x"}),
    ] {
        expect_error(
            call(&app, &t, Method::POST, "/api/v1/tokens", Some(body)).await,
            400,
            "invalid_input",
        )
        .await;
    }
    let id = created["id"].as_u64().expect("id");
    ok_json(
        call(
            &app,
            &t,
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            None,
        )
        .await,
        200,
    )
    .await;
    expect_error(
        call(&app, &plain, Method::GET, "/api/v1/users", None).await,
        401,
        "unauthorized",
    )
    .await;

    // Schedules: both defaults, with their next run.
    let s = ok_json(
        call(&app, &t, Method::GET, "/api/v1/schedules", None).await,
        200,
    )
    .await;
    let items = s["items"].as_array().expect("items");
    let by_name = |n: &str| items.iter().find(|i| i["name"] == n).cloned().expect(n);
    let identity = by_name("identity");
    assert_eq!(identity["cron"], "0 0 */4 * * *");
    assert_eq!(identity["timezone"], "UTC");
    let next: chrono::DateTime<chrono::Utc> = identity["next_run"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("next_run");
    assert!(next > chrono::Utc::now());
    assert_eq!(next.format("%M:%S").to_string(), "00:00");
    assert_eq!(by_name("evidence")["cron"], "0 15 */6 * * *");
    assert!(identity.get("last_fired").is_some());

    // Every change above is in the audit log under the token's name.
    let audit = ok_json(
        call(
            &app,
            &t,
            Method::GET,
            "/api/v1/audit?kind=staff&per_page=500",
            None,
        )
        .await,
        200,
    )
    .await;
    let kinds: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["actor"] == "api:test")
        .map(|e| e["kind"].as_str().unwrap_or(""))
        .collect();
    for k in ["staff.create", "staff.update", "staff.reset_password"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
}
