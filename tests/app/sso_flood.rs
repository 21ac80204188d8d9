//! Floods an anonymous client can send at "Sign in with Microsoft": thousands of starts, and
//! thousands of bogus callbacks. Neither may cost anyone else their sign-in, grow memory, or
//! bloat the audit log.

use crate::helpers::*;
use crate::sso_helpers::*;
use futures_util::StreamExt;
use std::net::IpAddr;
use tenantry::model::{AuditEvent, AuditFilter, Outcome};

/// A browser on the same appliance whose connections come from `from` (any 127.x address
/// reaches the loopback listener, and the appliance sees it as the client address).
fn browser_from(app: &TestApp, from: &str) -> TestApp {
    let ip: IpAddr = from.parse().expect("address");
    TestApp {
        app: None,
        url: app.url.clone(),
        dir: tempfile::tempdir().expect("tempdir"),
        config: app.config.clone(),
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(ip)
            .build()
            .expect("client"),
    }
}

/// POST the same form `n` times, `parallel` at once; the statuses in no particular order.
async fn flood(browser: &TestApp, path: &str, form: Vec<(&str, String)>, n: usize) -> Vec<u16> {
    let url = browser.at(path);
    futures_util::stream::iter(0..n)
        .map(|_| {
            let (client, url, form) = (browser.client.clone(), url.clone(), form.clone());
            async move {
                client
                    .post(url)
                    .form(&form)
                    .send()
                    .await
                    .expect("POST")
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(32)
        .collect()
        .await
}

#[tokio::test]
async fn twelve_thousand_sign_in_starts_from_one_client_leave_a_sign_in_under_way_and_other_clients_unharmed()
 {
    let env = sso_env().await;
    let user = env.user(&env.msp.id, 1);
    let email = upn(&user).to_lowercase();
    let new = tenantry::domain::staff::NewStaff::parse(&email, "Tech", "technician", None)
        .expect("input");
    env.env
        .services()
        .create_staff(tenantry::domain::authority::AdminActor::system(), new)
        .await
        .expect("staff");
    // Alice starts signing in, from the same address the flood will come from.
    let alice = env.app();
    let to_microsoft = start_staff(alice).await;

    // One reused form cookie and token, 12,000 starts.
    let flooder = second_browser(alice);
    let csrf = csrf_in(&flooder.get_text("/login").await);
    let form = vec![("next", "/companies".to_string()), ("csrf", csrf.clone())];
    let started_at = std::time::Instant::now();
    let statuses = flood(&flooder, "/auth/microsoft", form.clone(), 12_000).await;
    let took = started_at.elapsed();
    let started = statuses.iter().filter(|s| **s == 303).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    eprintln!("12,000 starts in {took:?}: {started} started, {limited} refused with 429");
    assert_eq!(started + limited, 12_000, "only 303 or 429");
    // The burst (20), plus one every 3 s of the flood's own duration.
    let allowed = 20 + took.as_secs() as usize / 3 + 1;
    assert!(started <= allowed, "{started} started, at most {allowed}");

    // Refused starts say why on the sign-in page, and when to come back.
    let r = flooder
        .client
        .post(flooder.at("/auth/microsoft"))
        .form(&form)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=3).contains(&retry), "{retry}");
    let page = r.text().await.expect("body");
    assert!(page.contains("Too many sign-ins were started"), "{page}");
    assert!(
        page.contains("Sign in with Microsoft"),
        "on the sign-in page"
    );

    // Another client can start meanwhile: the flood spent only the flooder's own budget.
    let bob = browser_from(alice, "127.0.0.2");
    start_staff(&bob).await;

    // Alice's sign-in, started before the flood, completes.
    let AtMicrosoft::Callback(cb) = at_microsoft(&to_microsoft, &email).await else {
        panic!("no callback");
    };
    let r = alice.client.get(cb).send().await.expect("callback");
    assert_eq!(r.status(), 303, "Alice signs in");
    assert!(alice.get_text("/companies").await.contains(&email));
}

#[tokio::test]
async fn portal_sign_in_starts_beyond_the_per_client_limit_get_429_on_the_portal_sign_in_page() {
    let env = sso_env().await;
    let t = env.env.tenant("Contoso Dental", 4, 0, false);
    let (company, _) = env.env.connect("Contoso Dental", &t.id).await;
    let s = env.env.services();
    let slug = s.portal_settings(company).await.expect("settings").slug;
    s.update_portal_settings(
        tenantry::domain::authority::AdminActor::system(),
        company,
        tenantry::domain::portal::PortalInput {
            slug: slug.clone(),
            sso_enabled: true,
            allowed_group_ids: Vec::new(),
            admin_group_id: None,
        },
    )
    .await
    .expect("portal on");
    let app = env.app();
    let page = format!("/portal/{slug}");
    let csrf = csrf_in(&app.get_text(&page).await);
    // Start until refused (a slow machine may earn a token back meanwhile).
    let mut started = 0;
    let r = loop {
        let r = app
            .client
            .post(app.at(&format!("{page}/signin")))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .expect("POST");
        if r.status() != 303 || started == 200 {
            break r;
        }
        started += 1;
    };
    assert!(started >= 20, "the burst of 20 starts first, got {started}");
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let body = r.text().await.expect("body");
    assert!(body.contains("Too many sign-ins were started"), "{body}");
    assert!(body.contains("Contoso Dental"), "the portal's sign-in page");
}

#[tokio::test]
async fn three_thousand_bogus_callbacks_add_a_couple_of_audit_entries_whose_counts_add_up() {
    let at = chrono::Utc::now();
    let (app, clock) = crate::settings::spawn_app_at(at, &[]).await;
    let n = 3_000;
    let url = app.at("/auth/callback?code=x&state=y");
    let started_at = std::time::Instant::now();
    let statuses: Vec<u16> = futures_util::stream::iter(0..n)
        .map(|_| {
            let (client, url) = (app.client.clone(), url.clone());
            async move { client.get(url).send().await.expect("GET").status().as_u16() }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 403), "all refused");
    eprintln!("{n} bogus callbacks in {:?}", started_at.elapsed());

    let first = refused_sign_ins(&app).await;
    assert_eq!(first.len(), 1, "the first refusal of the minute, in full");
    assert_eq!(first[0].details["code"], "invalid_state");
    assert_eq!(first[0].actor, "anonymous:127.0.0.1");

    // The minute ends; the periodic flush writes the rest as one summary.
    clock.advance(chrono::Duration::seconds(61));
    app.services()
        .flush_refusal_summaries()
        .await
        .expect("flushed");
    let all = refused_sign_ins(&app).await;
    assert!(all.len() <= 2, "{} entries", all.len());
    let counted: u64 = all
        .iter()
        .map(|e| e.details["count"].as_u64().unwrap_or(1))
        .sum();
    assert_eq!(counted, n, "every refusal is accounted for");
    let summary = &all[0];
    assert!(
        summary.summary.starts_with(&format!(
            "{} more refused sign-ins from 127.0.0.1 between ",
            n - 1
        )),
        "{}",
        summary.summary
    );
    assert_eq!(summary.details["code"], "invalid_state");
}

/// Refused staff sign-ins in the audit log, newest first.
async fn refused_sign_ins(app: &TestApp) -> Vec<AuditEvent> {
    app.services()
        .audit_page(
            AuditFilter {
                kind: Some("staff.sign_in".into()),
                outcome: Some(Outcome::Failure),
                ..Default::default()
            },
            1,
            100,
        )
        .await
        .expect("audit")
        .items
}

#[tokio::test]
async fn refusals_counted_but_not_yet_summarised_are_written_at_shutdown() {
    let (app, _clock) = crate::settings::spawn_app_at(chrono::Utc::now(), &[]).await;
    for _ in 0..5 {
        let r = app.get("/auth/callback?code=x&state=y").await;
        assert_eq!(r.status(), 403);
    }
    let app = app.restart(tenantry::jobs::Registry::default()).await;
    let all = refused_sign_ins(&app).await;
    assert_eq!(all.len(), 2, "the first in full, then the summary");
    assert_eq!(all[0].details["count"], 4);
    assert!(
        all[0]
            .summary
            .starts_with("4 more refused sign-ins from 127.0.0.1")
    );
}
