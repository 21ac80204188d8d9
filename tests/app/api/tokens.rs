use super::*;

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
