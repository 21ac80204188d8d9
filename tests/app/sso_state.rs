//! The pending Microsoft sign-in travels sealed in a cookie of the browser that started it.
//! These tests hand the callback cookies the way an attacker could: someone else's, altered,
//! too old, or already used; each is refused with the sign-in page's usual message.

use crate::helpers::*;
use crate::sso_helpers::*;
use std::sync::Arc;
use tenantry::clock::ManualClock;

const COOKIE: &str = "tenantry_signin";

/// Press "Sign in with Microsoft"; returns Microsoft's URL and the sealed cookie value.
pub async fn start_with_cookie(app: &TestApp) -> (String, String) {
    let r = app
        .post_form("/login", "/auth/microsoft", &[("next", "/companies")])
        .await;
    assert_eq!(r.status(), 303, "sign-in starts");
    let set = set_cookie(&r, COOKIE).expect("the sign-in cookie is set");
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Lax"), "{set}");
    assert!(set.contains("Max-Age=600"), "{set}");
    let value = set
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .expect("value");
    (location(&r), value)
}

/// The `Set-Cookie` header for `name`, if the response sets it.
pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// Follow a callback link carrying exactly `cookie` as the sign-in cookie.
async fn callback_with(cb: &str, cookie: &str) -> reqwest::Response {
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(cb)
        .header("cookie", format!("{COOKIE}={cookie}"))
        .send()
        .await
        .expect("callback");
    let cleared = set_cookie(&r, COOKIE).unwrap_or_default();
    assert!(
        cleared.contains("Max-Age=0"),
        "the callback clears the sign-in cookie: {cleared:?}"
    );
    r
}

async fn callback_url(to: &str, login_hint: &str) -> String {
    match at_microsoft(to, login_hint).await {
        AtMicrosoft::Callback(cb) => cb,
        AtMicrosoft::Page(p) => panic!("Microsoft showed a page: {p}"),
    }
}

async fn refused_with(r: reqwest::Response, words: &str) {
    assert_eq!(r.status(), 403);
    let body = r.text().await.expect("body");
    assert!(body.contains(words), "{words:?} in {body}");
}

/// Why the last refused sign-in was refused, as the audit log says.
async fn last_reason(env: &SsoEnv) -> String {
    let e = env
        .audit("staff.sign_in")
        .await
        .into_iter()
        .find(|e| e.outcome == tenantry::model::Outcome::Failure)
        .expect("refusal audited");
    assert_eq!(e.details["code"], "invalid_state");
    e.details["reason"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn another_browsers_sealed_cookie_a_tampered_or_expired_one_and_a_replay_are_refused() {
    let t0 = chrono::Utc::now();
    let clock = ManualClock::new(t0);
    // Each refusal in a minute of its own, so each gets its own audit entry (later ones in
    // the same minute are counted into a summary).
    let minute = |n: i64| t0 + chrono::Duration::seconds(61 * n);
    let env = sso_env_clocked(Some(Arc::new(clock.clone()))).await;
    let user = env.user(&env.msp.id, 1);
    let new = tenantry::domain::staff::NewStaff::parse(&upn(&user), "Tech", "technician", None)
        .expect("input");
    env.env
        .services()
        .create_staff(tenantry::domain::authority::AdminActor::system(), new)
        .await
        .expect("staff");
    let alice = env.app();
    let mallory = second_browser(alice);
    let (to_a, cookie_a) = start_with_cookie(alice).await;
    let (to_m, cookie_m) = start_with_cookie(&mallory).await;
    let cb_a = callback_url(&to_a, &upn(&user)).await;
    let cb_m = callback_url(&to_m, &upn(&user)).await;

    // Alice's callback link with Mallory's (valid, sealed) cookie: another browser's sign-in.
    refused_with(
        callback_with(&cb_a, &cookie_m).await,
        "did not start in this browser",
    )
    .await;
    assert_eq!(last_reason(&env).await, "not_bound_to_browser");

    // Mallory's cookie with one character changed no longer opens.
    let mut bytes = cookie_m.clone().into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).expect("ascii");
    clock.set(minute(1));
    refused_with(
        callback_with(&cb_m, &tampered).await,
        "did not start in this browser",
    )
    .await;
    assert_eq!(last_reason(&env).await, "cookie_not_ours");

    // The refusals spent nothing: Alice's own cookie still completes her sign-in, once.
    let ok = callback_with(&cb_a, &cookie_a).await;
    assert_eq!(ok.status(), 303, "signed in");
    assert_eq!(location(&ok), "/companies");
    clock.set(minute(2));
    refused_with(callback_with(&cb_a, &cookie_a).await, "already used").await;
    assert_eq!(last_reason(&env).await, "replayed");

    // A sealed sign-in older than ten minutes is refused, though untouched and unused.
    clock.set(t0 + chrono::Duration::minutes(10) + chrono::Duration::seconds(1));
    refused_with(callback_with(&cb_m, &cookie_m).await, "has expired").await;
    assert_eq!(last_reason(&env).await, "expired");
}

#[tokio::test]
async fn the_sign_in_cookie_hides_the_state_nonce_and_verifier() {
    let env = sso_env().await;
    let (to, cookie) = start_with_cookie(env.app()).await;
    let url = url::Url::parse(&to).expect("authorize URL");
    let param = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.to_string())
            .unwrap_or_else(|| panic!("{k} in {to}"))
    };
    for secret in [param("state"), param("nonce")] {
        assert!(!cookie.contains(&secret), "{secret} readable in the cookie");
    }
    assert!(cookie.starts_with("v1:"), "sealed: {cookie}");
    assert!(
        !to.contains("code_verifier"),
        "only the PKCE challenge goes to Microsoft"
    );
}
