use super::*;

#[tokio::test]
async fn admins_manage_users_and_tokens_and_read_schedules_through_the_api() {
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
