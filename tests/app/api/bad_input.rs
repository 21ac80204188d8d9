use super::*;

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
        // The same rules on every list endpoint (these once clamped).
        ("/api/v1/companies?page=0", "page"),
        ("/api/v1/companies/1/contacts?per_page=501", "per_page"),
        ("/api/v1/companies/1/contact-groups?per_page=0", "per_page"),
        ("/api/v1/companies/1/assets?dir=sideways", "dir"),
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
