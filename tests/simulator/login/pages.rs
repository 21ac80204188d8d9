//! The login host's HTML pages as a person meets them: each says it is simulated, has a
//! viewport tag, and every error Entra shows itself (instead of redirecting) links back.

use super::*;

/// GET a login-host page; (status, html).
async fn page(env: &Env, path: &str, query: &[(&str, &str)]) -> (StatusCode, String) {
    let r = env
        .http
        .get(format!("{}/{path}", env.login()))
        .query(query)
        .send()
        .await
        .expect("page");
    (r.status(), r.text().await.expect("html"))
}

fn assert_simulated(html: &str) {
    assert!(
        html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"),
        "{html}"
    );
    assert!(
        html.contains("Simulated Microsoft sign-in — no real account is used"),
        "{html}"
    );
    assert!(html.contains("<style>"), "styled: {html}");
}

#[tokio::test]
async fn picker_and_consent_pages_say_they_are_simulated_and_offer_cancel() {
    let env = env(3, 0, false).await;
    let authorize = format!("{}/oauth2/v2.0/authorize", env.tid());
    let (s, html) = page(
        &env,
        &authorize,
        &[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("code_challenge", "x"),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_simulated(&html);
    assert!(html.contains("class=\"account\"") && html.contains("id=\"cancel\""));
    let consent = format!("{}/v2.0/adminconsent", env.tenant.domain);
    let (s, html) = page(
        &env,
        &consent,
        &[("client_id", CLIENT_ID), ("redirect_uri", REDIRECT)],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_simulated(&html);
    assert!(html.contains("id=\"accept\"") && html.contains("id=\"cancel\""));
    assert!(html.contains("For <strong>Contoso Test</strong>"), "{html}");
}

#[tokio::test]
async fn error_pages_link_back_to_the_application() {
    let env = env(3, 0, false).await;
    let app_home = "<a id=\"back\" class=\"button primary\" href=\"http://127.0.0.1:9/\">Return to Tenantry tests</a>";
    // Unknown tenant: the (registered) redirect URI's site.
    let (s, html) = page(
        &env,
        "nobody.example/v2.0/adminconsent",
        &[("client_id", CLIENT_ID), ("redirect_uri", REDIRECT)],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_simulated(&html);
    assert!(html.contains("AADSTS90002: Tenant &#39;nobody.example&#39; not found."));
    assert!(html.contains(app_home), "{html}");
    // Unregistered redirect URI: the app's registered site, never the unregistered one.
    let (s, html) = page(
        &env,
        &format!("{}/oauth2/v2.0/authorize", env.tid()),
        &[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", "https://evil.example/cb"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("AADSTS50011") && html.contains(app_home),
        "{html}"
    );
    assert!(!html.contains("href=\"https://evil.example"), "{html}");
    // Unknown app: nothing is registered, so only the address the request came with, and
    // only when it is an http(s) address.
    for (redirect, expect) in [
        (
            "https://someapp.example/cb",
            "href=\"https://someapp.example/\">Return to https://someapp.example</a>",
        ),
        ("javascript:alert(1)", "Use your browser's Back button"),
    ] {
        let (s, html) = page(
            &env,
            "organizations/v2.0/adminconsent",
            &[("client_id", "unknown-app"), ("redirect_uri", redirect)],
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(
            html.contains("AADSTS700016") && html.contains(expect),
            "{html}"
        );
        assert!(!html.contains("href=\"javascript"), "{html}");
    }
}
