use super::*;

#[tokio::test]
async fn the_audit_api_filters_pages_and_exports_csv() {
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
        "id,time,actor,kind,company,outcome,summary,details"
    );
    assert_eq!(lines.len(), 3, "{body}");
    // Newest first, as the page and the JSON list.
    assert!(lines[1].contains("company.archive") && lines[2].contains("company.create"));
    // The CSV needs a token too.
    let r = app
        .client
        .get(app.at("/api/v1/audit.csv"))
        .send()
        .await
        .expect("get");
    expect_error(r, 401, "unauthorized").await;
}
