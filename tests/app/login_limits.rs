//! Password sign-in under pressure: attempts are limited before the hash runs, hashes run in
//! a bounded number of slots, and behind a trusted proxy each forwarded client has its own
//! limits, so strangers cannot lock a user out.

use crate::helpers::*;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tenantry::jobs::Registry;

const WRONG: &str = "wrong password!!";

/// An app with two hashing slots, optionally behind a reverse proxy on 127.0.0.1.
async fn app_with(behind_proxy: bool) -> TestApp {
    spawn_app_with(
        |c| {
            c.server.password_hash_concurrency = 2;
            if behind_proxy {
                c.server.trusted_proxies = vec!["127.0.0.1".into()];
            }
        },
        Registry::default(),
    )
    .await
}

/// A browser of its own (cookies, no redirects); behind the proxy, at `forwarded_for`.
fn browser(forwarded_for: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(addr) = forwarded_for {
        headers.insert(
            "x-forwarded-for",
            reqwest::header::HeaderValue::from_str(addr).expect("header"),
        );
    }
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

/// The sign-in form as a browser fills it: the page (and its form cookie), then the post.
async fn sign_in(
    app: &TestApp,
    b: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let page = b
        .get(app.at("/login"))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("page");
    let token = csrf_in(&page);
    b.post(app.at("/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .expect("POST")
}

/// Open the sign-in page once, so concurrent attempts share one form cookie.
async fn open_form(app: &TestApp, b: &reqwest::Client) {
    let r = b.get(app.at("/login")).send().await.expect("GET");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn fifty_concurrent_wrong_passwords_for_one_account_hash_at_most_five_in_at_most_two_slots() {
    let app = app_with(false).await;
    let passwords = &app.services().passwords;
    let before = passwords.stats();
    let b = browser(None);
    open_form(&app, &b).await;
    let answers: Vec<reqwest::Response> = (0..50)
        .map(|_| sign_in(&app, &b, ADMIN_EMAIL, WRONG))
        .collect::<FuturesUnordered<_>>()
        .collect()
        .await;
    let after = passwords.stats();
    let hashed = after.started - before.started;
    let wrong = answers.iter().filter(|r| r.status() == 401).count();
    let limited: Vec<&reqwest::Response> = answers.iter().filter(|r| r.status() == 429).collect();
    assert!(hashed <= 5, "{hashed} passwords were hashed");
    assert_eq!(
        wrong as u64, hashed,
        "every hashed attempt was answered 401"
    );
    assert_eq!(wrong + limited.len(), 50, "the rest were refused with 429");
    assert!(
        limited
            .iter()
            .all(|r| r.headers().contains_key("retry-after"))
    );
    assert!(
        after.max_running <= 2,
        "{} hashes ran at once with two slots",
        after.max_running
    );
    assert_eq!(after.running, 0);
    let r = sign_in(&app, &b, ADMIN_EMAIL, WRONG).await;
    assert_eq!(r.status(), 429);
    let page = r.text().await.expect("page");
    assert!(
        page.contains("Too many sign-in attempts") && page.contains("name=\"password\""),
        "the sign-in page says why and when: {page}"
    );
}

#[tokio::test]
async fn a_correct_password_sent_during_a_burst_of_wrong_ones_is_refused_once_five_are_charged() {
    let app = app_with(false).await;
    let before = app.services().passwords.stats().started;
    let b = browser(None);
    open_form(&app, &b).await;
    let mut burst: FuturesUnordered<_> = (0..20)
        .map(|_| sign_in(&app, &b, ADMIN_EMAIL, WRONG))
        .collect();
    // The first 429 means the five charges are taken (wrong guesses may still be hashing).
    loop {
        let r = burst.next().await.expect("the burst has a refusal");
        if r.status() == 429 {
            break;
        }
        assert_eq!(r.status(), 401);
    }
    let right = sign_in(&app, &b, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(right.status(), 429, "the right password waits too");
    assert!(right.headers().contains_key("retry-after"));
    while let Some(r) = burst.next().await {
        assert!(matches!(r.status().as_u16(), 401 | 429), "{}", r.status());
    }
    assert_eq!(
        b.get(app.at("/companies"))
            .send()
            .await
            .expect("GET")
            .status(),
        303,
        "not signed in"
    );
    assert!(app.services().passwords.stats().started - before <= 5);
}

#[tokio::test]
async fn behind_a_trusted_proxy_twenty_failures_from_one_client_do_not_lock_out_another() {
    let app = app_with(true).await;
    let stranger = browser(Some("203.0.113.10"));
    for i in 0..20 {
        let r = sign_in(&app, &stranger, &format!("nobody{i}@example.com"), WRONG).await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let r = sign_in(&app, &stranger, "nobody99@example.com", WRONG).await;
    assert_eq!(r.status(), 429, "that client has had its twenty");
    let colleague = browser(Some("198.51.100.20"));
    let r = sign_in(&app, &colleague, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        r.status(),
        303,
        "another client behind the same proxy signs in"
    );
    let audit = app
        .services()
        .audit_page(Default::default(), 1, 100)
        .await
        .expect("audit");
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.kind == "staff.sign_in" && e.actor.contains("203.0.113.10")),
        "the audit log names the forwarded client"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_five_wrong_passwords_from_one_client_do_not_stop_the_right_one_from_another()
 {
    let app = app_with(true).await;
    let stranger = browser(Some("203.0.113.11"));
    for _ in 0..5 {
        assert_eq!(
            sign_in(&app, &stranger, ADMIN_EMAIL, WRONG).await.status(),
            401
        );
    }
    assert_eq!(
        sign_in(&app, &stranger, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        429
    );
    let owner = browser(Some("198.51.100.21"));
    let r = sign_in(&app, &owner, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn without_a_trusted_proxy_forwarded_headers_do_not_pick_the_client() {
    let app = app_with(false).await;
    for i in 0..5 {
        let b = browser(Some(&format!("203.0.113.{i}")));
        assert_eq!(sign_in(&app, &b, ADMIN_EMAIL, WRONG).await.status(), 401);
    }
    let b = browser(Some("203.0.113.99"));
    assert_eq!(
        sign_in(&app, &b, ADMIN_EMAIL, WRONG).await.status(),
        429,
        "one client (the peer) whatever the header says"
    );
}

#[tokio::test]
async fn guessing_from_many_addresses_slows_an_account_but_not_a_client_that_signed_in_before() {
    let app = app_with(true).await;
    let usual = "192.0.2.50";
    let r = sign_in(&app, &browser(Some(usual)), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 303);
    for i in 0..10 {
        let guesser = browser(Some(&format!("198.51.100.{i}")));
        assert_eq!(
            sign_in(&app, &guesser, ADMIN_EMAIL, WRONG).await.status(),
            401
        );
    }
    let newcomer = browser(Some("198.51.100.200"));
    let r = sign_in(&app, &newcomer, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        r.status(),
        429,
        "the account is throttled for new addresses"
    );
    let wait: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("retry-after");
    assert!(wait <= 31, "a throttle, not a lockout: {wait} s");
    let r = sign_in(&app, &browser(Some(usual)), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 303, "the usual address still gets in");
}

#[tokio::test]
async fn behind_a_trusted_proxy_only_from_this_machine_means_the_forwarded_client() {
    let app = app_with(true).await;
    app.services()
        .update_staff_sso(
            tenantry::domain::authority::AdminActor::system(),
            tenantry::domain::sso::StaffSso {
                local_login_loopback_only: true,
                ..Default::default()
            },
        )
        .await
        .expect("saved");
    let outside = browser(Some("203.0.113.12"));
    let r = sign_in(&app, &outside, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 403, "a client the proxy reports from outside");
    let tunnel = browser(None);
    let r = sign_in(&app, &tunnel, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        r.status(),
        303,
        "straight to the loopback port: break-glass"
    );
}
