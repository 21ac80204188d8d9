//! What anyone can send without an account: `next` values that try to leave the site, forged
//! pre-session tokens, forms that are not UTF-8, ids in odd spellings; and the headers an
//! https appliance sends.

use crate::helpers::*;
use crate::sso_helpers::*;

/// `next` as it stands in the URL or form body (already percent-encoded where a raw
/// character could not appear). Only the last one is a plain local path.
const NEXT_TABLE: &[(&str, bool)] = &[
    ("//x", false),
    ("/%5Cx", false),
    ("/%09/x", false),
    ("/%5Ct/x", false),
    ("/%0a/x", false),
    ("/%0d/x", false),
    ("/%01x", false),
    ("/%0bx", false),
    ("%2F%2Fx", false),
    ("/%2F/x", false),
    ("%5C%5Cx", false),
    ("https://x", false),
    ("javascript:x", false),
    ("%20/x", false),
    ("/x", true),
];

/// The same table, tab literally: `/\t/x` must behave like `/%09/x`.
const TAB_LITERAL: &str = "/%09/x";

fn expected(passes: bool) -> &'static str {
    if passes { "/x" } else { "/companies" }
}

#[tokio::test]
async fn next_leaves_the_site_through_no_sink_of_the_password_sign_in() {
    let app = spawn_app().await;
    // Sink 1: POST /login with `next` in the form body (raw, as a browser would send it).
    for (raw, passes) in NEXT_TABLE.iter().chain([(TAB_LITERAL, false)].iter()) {
        // A fresh browser each time: a signed-in one is not shown the form.
        let browser = second_browser(&app);
        let page = browser.get_text("/login").await;
        let body = format!(
            "email={}&password={}&next={raw}&csrf={}",
            url_encode(ADMIN_EMAIL),
            url_encode(ADMIN_PASSWORD),
            csrf_in(&page)
        );
        let r = browser
            .client
            .post(browser.at("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST /login");
        assert_eq!(r.status(), 303, "next={raw}: signs in, never a 500");
        assert_eq!(location(&r), expected(*passes), "POST /login next={raw}");
    }
    // Sink 2: GET /login?next= when already signed in.
    app.login().await;
    for (raw, passes) in NEXT_TABLE {
        let r = app.get(&format!("/login?next={raw}")).await;
        assert_eq!(r.status(), 303, "GET /login?next={raw}");
        assert_eq!(location(&r), expected(*passes), "GET /login next={raw}");
    }
    // Not signed in: the form carries the checked value, never the raw one.
    let fresh = second_browser(&app);
    for (raw, passes) in NEXT_TABLE {
        let page = fresh.get_text(&format!("/login?next={raw}")).await;
        let want = format!("name=\"next\" value=\"{}\"", expected(*passes));
        assert!(page.contains(&want), "form for next={raw}: {want}");
    }
}

#[tokio::test]
async fn next_leaves_the_site_through_no_sink_of_the_microsoft_sign_in() {
    let env = sso_env().await;
    let user = env.user(&env.msp.id, 1);
    let email = upn(&user).to_lowercase();
    let new = tenantry::domain::staff::NewStaff::parse(&email, "Tech One", "technician", None)
        .expect("staff input");
    env.env
        .services()
        .create_staff(tenantry::domain::authority::AdminActor::system(), new)
        .await
        .expect("staff created");
    for (raw, passes) in NEXT_TABLE {
        // A browser per attempt: each sign-in starts from the login page.
        let browser = second_browser(env.app());
        let page = browser.get_text("/login").await;
        let r = browser
            .client
            .post(browser.at("/auth/microsoft"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("next={raw}&csrf={}", csrf_in(&page)))
            .send()
            .await
            .expect("start");
        assert_eq!(r.status(), 303, "start with next={raw}");
        let cb = match at_microsoft(&location(&r), &email).await {
            AtMicrosoft::Callback(cb) => cb,
            AtMicrosoft::Page(p) => panic!("no redirect back: {p}"),
        };
        let r = browser.client.get(cb).send().await.expect("callback");
        assert_eq!(r.status(), 303, "signed in with next={raw}");
        assert_eq!(location(&r), expected(*passes), "Microsoft sink next={raw}");
    }
}

#[tokio::test]
async fn a_pre_session_token_the_server_did_not_mint_is_refused() {
    let app = spawn_app().await;
    // An attacker who can make cookie and field agree (double submit) still needs our MAC.
    let forged = "A".repeat(43);
    let r = client()
        .post(app.at("/login"))
        .header("cookie", format!("tenantry_form={forged}"))
        .form(&[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("csrf", forged.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403, "forged double-submit token");
    // A real one works.
    assert_eq!(
        app.login_as(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(),
        303
    );
}

#[tokio::test]
async fn forms_that_are_not_utf8_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    app.login().await;
    let token = csrf_in(&app.get_text("/companies/new").await);
    let r = app
        .client
        .post(app.at("/companies"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name=Bad%FF%FEName&csrf={token}"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    assert!(
        r.text().await.expect("body").contains("not valid UTF-8"),
        "says why"
    );
    let list = app.get_text("/companies").await;
    assert!(!list.contains("Bad"), "nothing created");
    // Proper UTF-8 is fine.
    let r = app
        .client
        .post(app.at("/companies"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name=Caf%C3%A9+Ltd&csrf={token}"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    assert!(app.get_text("/companies").await.contains("Café Ltd"));
}

#[tokio::test]
async fn ids_in_paths_must_be_canonical_decimals() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let api = |method: reqwest::Method, path: &str| {
        client()
            .request(method, app.at(path))
            .bearer_auth(&token)
            .send()
    };
    for odd in ["+1", "01", "1.0", "%2B1"] {
        let r = api(reqwest::Method::DELETE, &format!("/api/v1/tokens/{odd}"))
            .await
            .expect("delete");
        assert_eq!(r.status(), 404, "DELETE /api/v1/tokens/{odd}");
    }
    let r = api(reqwest::Method::GET, "/api/v1/tokens")
        .await
        .expect("list");
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(
        body.to_string().contains("\"test\""),
        "token 1 still there: {body}"
    );
    app.login().await;
    assert_eq!(app.get("/companies/01").await.status(), 404);
    assert_eq!(app.get("/companies/+1").await.status(), 404);
}

#[tokio::test]
async fn an_https_appliance_sends_hsts_and_host_prefixed_cookies() {
    let app = spawn_app_with(
        |c| c.server.public_url = "https://tenantry.example".into(),
        Default::default(),
    )
    .await;
    // The public URL is https (a reverse proxy in front); the test talks to the listener.
    let r = client()
        .get(format!("http://127.0.0.1:{}/login", app.app().port))
        .send()
        .await
        .expect("GET /login");
    assert_eq!(
        r.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        cookie.starts_with("__Host-tenantry_form=") && cookie.contains("Secure"),
        "{cookie}"
    );
    // Plain http: neither.
    let plain = spawn_app().await;
    let r = plain.get("/login").await;
    assert!(r.headers().get("strict-transport-security").is_none());
}
