use crate::helpers::*;

#[tokio::test]
async fn first_start_without_admin_offers_a_one_time_setup_link() {
    let app = spawn_empty_app().await;
    let link = app.app().setup_url.clone().expect("setup link printed");
    let path = link.strip_prefix(&app.url).expect("link on our url");
    let page = app.get_text(path).await;
    assert!(page.contains("Create the first admin"));
    let token = path.split("token=").nth(1).expect("token");
    // A wrong token is refused.
    let r = app
        .post_form(
            path,
            "/setup",
            &[
                ("token", "nope"),
                ("email", "boss@example.com"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .post_form(
            path,
            "/setup",
            &[
                ("token", token),
                ("email", "boss@example.com"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/companies");
    // Signed in now, and the link is spent.
    assert_eq!(app.get("/companies").await.status(), 200);
    let again = client().get(app.at(path)).send().await.expect("get");
    assert_eq!(again.status(), 303, "setup is over once an admin exists");
}

#[tokio::test]
async fn staff_sign_in_with_a_password_and_sign_out_ends_the_session() {
    let app = spawn_app().await;
    let r = app.get("/companies").await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login?next="));
    let bad = app.login_as(ADMIN_EMAIL, "wrong password!!").await;
    assert_eq!(bad.status(), 401);
    assert!(bad.text().await.expect("body").contains("not right"));
    let r = app.login_as(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 303);
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(app.get("/companies").await.status(), 200);
    let r = app.post_form("/companies", "/logout", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.get("/companies").await.status(),
        303,
        "session ended server-side"
    );
    let audit = app
        .services()
        .audit_page(Default::default(), 1, 50)
        .await
        .expect("audit");
    let kinds: Vec<_> = audit
        .items
        .iter()
        .map(|e| (e.kind.as_str(), e.outcome.as_str()))
        .collect();
    assert!(kinds.contains(&("staff.sign_in", "failure")), "{kinds:?}");
    assert!(kinds.contains(&("staff.sign_in", "success")));
    assert!(kinds.contains(&("staff.sign_out", "success")));
}

#[tokio::test]
async fn posts_without_a_valid_csrf_token_are_refused() {
    let app = spawn_app().await;
    app.login().await;
    let r = app.post_raw("/companies", &[("name", "Contoso")]).await;
    assert_eq!(r.status(), 403);
    let r = app
        .post_raw("/companies", &[("name", "Contoso"), ("csrf", "forged")])
        .await;
    assert_eq!(r.status(), 403);
    // The sign-in form too (login CSRF): no token cookie match.
    let fresh = client();
    let r = fresh
        .post(app.at("/login"))
        .form(&[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("csrf", "x"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    // A cross-site submission is refused before any handler runs.
    let token = csrf_in(&app.get_text("/companies/new").await);
    let r = app
        .client
        .post(app.at("/companies"))
        .header("origin", "https://evil.example")
        .form(&[("name", "Evil"), ("csrf", token.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    assert!(
        r.headers().contains_key("content-security-policy"),
        "the refusal carries the security headers too"
    );
    let companies = app
        .services()
        .companies(
            tenantry::domain::companies::CompanyFilter::All,
            Default::default(),
        )
        .await
        .expect("list");
    assert_eq!(companies.total, 0, "nothing was created");
}

#[tokio::test]
async fn repeated_wrong_passwords_are_rate_limited() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(
            app.login_as(ADMIN_EMAIL, "wrong password!!").await.status(),
            401
        );
    }
    let r = app.login_as(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        r.status(),
        429,
        "even the right password waits once the account is locked"
    );
    assert!(r.headers().get("retry-after").is_some());
}
