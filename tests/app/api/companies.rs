use super::*;

#[tokio::test]
async fn companies_are_created_edited_and_archived_through_the_api_with_audit_entries() {
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
