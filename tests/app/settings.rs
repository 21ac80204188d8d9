//! Settings → Integrations, Users and API tokens: who may see them, staff accounts made
//! through the forms, tokens shown once that work against the API until revoked, and the
//! schedules' next run times.

use crate::helpers::*;
use chrono::{DateTime, TimeZone, Utc};
use std::sync::Arc;
use tenantry::app::{App, AppOptions};
use tenantry::clock::ManualClock;
use tenantry::config::ValidatedSchedule;
use tenantry::domain::staff::NewStaff;

const TECH_EMAIL: &str = "tech@example.com";
const TECH_PASSWORD: &str = "technician password 1";

/// An app whose clock stands still at `at` (schedules, audit times), with the usual admin.
pub async fn spawn_app_at(at: DateTime<Utc>, env: &[(&str, &str)]) -> (TestApp, ManualClock) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(dir.path(), env);
    let clock = ManualClock::new(at);
    let app = App::build(
        config.clone(),
        AppOptions {
            clock: Some(Arc::new(clock.clone())),
            registry: Some(tenantry::app::default_registry()),
            admin_email: Some(ADMIN_EMAIL.into()),
            admin_password: Some(ADMIN_PASSWORD.into()),
            ..Default::default()
        },
    )
    .await
    .expect("app starts");
    let url = app.url.clone();
    (
        TestApp {
            app: Some(app),
            url,
            dir,
            config,
            client: client(),
        },
        clock,
    )
}

async fn add_technician(app: &TestApp) -> u64 {
    let new =
        NewStaff::parse(TECH_EMAIL, "Tess Tech", "technician", Some(TECH_PASSWORD)).expect("valid");
    app.services()
        .create_staff(tenantry::domain::authority::AdminActor::system(), new)
        .await
        .expect("created")
        .id
}

fn id_from_location(loc: &str, prefix: &str) -> u64 {
    loc.strip_prefix(prefix)
        .and_then(|r| r.split(['?', '/']).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {loc:?}"))
}

#[tokio::test]
async fn a_technician_is_refused_on_every_settings_page_and_form_but_sees_the_rest() {
    let app = spawn_app().await;
    let tech_id = add_technician(&app).await;
    let (_, token) = app
        .services()
        .create_api_token(
            tenantry::domain::authority::AdminActor::system(),
            "ci",
            tenantry::model::Role::Admin,
        )
        .await
        .expect("token");
    let r = app.login_as(TECH_EMAIL, TECH_PASSWORD).await;
    assert_eq!(r.status(), 303);

    for path in [
        "/settings/users".to_string(),
        format!("/settings/users/{tech_id}"),
        "/settings/tokens".to_string(),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status(), 403, "GET {path}");
        let body = r.text().await.expect("body");
        assert!(body.contains("Only admins"), "GET {path}: {body}");
    }
    // Every settings form, with a valid CSRF token, is refused too and changes nothing.
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/settings/users".into(),
            vec![
                ("email", "sneaky@example.com"),
                ("display_name", "Sneaky"),
                ("role", "admin"),
                ("password", "a long enough password"),
            ],
        ),
        (
            format!("/settings/users/{tech_id}"),
            vec![("role", "admin"), ("status", "enabled")],
        ),
        (
            format!("/settings/users/{tech_id}/password"),
            vec![("password", "a long enough password")],
        ),
        (
            "/settings/tokens".into(),
            vec![("name", "sneaky"), ("role", "admin")],
        ),
        (format!("/settings/tokens/{}/revoke", token.id), vec![]),
    ];
    for (path, form) in &posts {
        let r = app.post_form("/companies", path, form).await;
        assert_eq!(r.status(), 403, "POST {path}");
        assert!(r.text().await.expect("body").contains("Only admins"));
    }
    let users = app.services().staff_users().await.expect("users");
    assert_eq!(users.len(), 2, "no account was created");
    assert!(
        users
            .iter()
            .all(|u| u.email.as_str() != TECH_EMAIL || u.role.as_str() == "technician")
    );
    let tokens = app.services().api_tokens().await.expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert!(!tokens[0].revoked);

    // The rest of the appliance is open to technicians.
    for path in [
        "/companies",
        "/audit",
        "/jobs",
        "/settings/integrations",
        "/contacts",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "GET {path}");
    }
    // Their settings tabs do not offer the admin-only pages.
    let page = app.get_text("/settings/integrations").await;
    assert!(!page.contains("href=\"/settings/users\" class="));
    assert!(!page.contains("href=\"/settings/tokens\" class="));
}

#[tokio::test]
async fn settings_redirects_to_integrations() {
    let app = spawn_app().await;
    app.login().await;
    let r = app.get("/settings").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/settings/integrations");
}

#[tokio::test]
async fn an_admin_adds_a_technician_through_the_form_who_can_then_sign_in() {
    let app = spawn_app().await;
    app.login().await;
    // Refused input is re-shown with the reason, and the password is not echoed.
    let r = app
        .post_form(
            "/settings/users",
            "/settings/users",
            &[
                ("email", "not-an-email"),
                ("display_name", "Tess"),
                ("role", "technician"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.expect("body");
    assert!(body.contains("class=\"error\""), "{body}");
    assert!(body.contains("not-an-email"));

    let r = app
        .post_form(
            "/settings/users",
            "/settings/users",
            &[
                ("email", TECH_EMAIL),
                ("display_name", "Tess Tech"),
                ("role", "technician"),
                ("password", TECH_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let loc = location(&r);
    let id = id_from_location(&loc, "/settings/users/");
    let page = app.get_text(&loc).await;
    assert!(page.contains("Staff account created."));
    assert!(page.contains(TECH_EMAIL));

    // The same e-mail twice is refused with a message.
    let r = app
        .post_form(
            "/settings/users",
            "/settings/users",
            &[
                ("email", TECH_EMAIL),
                ("display_name", ""),
                ("role", "technician"),
                ("password", TECH_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("body").contains("already exists"));

    let list = app.get_text("/settings/users").await;
    assert!(list.contains(TECH_EMAIL) && list.contains("technician") && list.contains("Never"));

    let audit = app
        .services()
        .audit_page(
            tenantry::model::AuditFilter {
                kind: Some("staff.create".into()),
                ..Default::default()
            },
            1,
            10,
        )
        .await
        .expect("audit");
    let by_admin: Vec<_> = audit
        .items
        .iter()
        .filter(|e| e.actor == format!("staff:{ADMIN_EMAIL}"))
        .collect();
    assert_eq!(by_admin.len(), 1, "{:?}", audit.items);
    assert!(by_admin[0].summary.contains(TECH_EMAIL));

    // The new technician signs in (another browser) and is a technician.
    let tech = TestApp {
        app: None,
        url: app.url.clone(),
        dir: tempfile::tempdir().expect("dir"),
        config: app.config.clone(),
        client: client(),
    };
    let r = tech.login_as(TECH_EMAIL, TECH_PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(tech.get("/companies").await.status(), 200);
    assert_eq!(tech.get("/settings/users").await.status(), 403);

    // Disabling them ends their session; enabling restores access.
    let r = app
        .post_form(
            &format!("/settings/users/{id}"),
            &format!("/settings/users/{id}"),
            &[("role", "technician"), ("status", "disabled")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(tech.get("/companies").await.status(), 303, "signed out");
    assert_eq!(tech.login_as(TECH_EMAIL, TECH_PASSWORD).await.status(), 401);
    let r = app
        .post_form(
            &format!("/settings/users/{id}"),
            &format!("/settings/users/{id}"),
            &[("role", "admin"), ("status", "enabled")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        app.get_text(&location(&r))
            .await
            .contains("Staff account saved.")
    );
    // A new password from the admin works, and the old one no longer does.
    let r = app
        .post_form(
            &format!("/settings/users/{id}"),
            &format!("/settings/users/{id}/password"),
            &[("password", "a brand new password")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).ends_with("notice=password_reset"));
    assert_eq!(tech.login_as(TECH_EMAIL, TECH_PASSWORD).await.status(), 401);
    let r = tech.login_as(TECH_EMAIL, "a brand new password").await;
    assert_eq!(r.status(), 303);
    assert_eq!(tech.get("/settings/users").await.status(), 200, "now admin");
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_disabled() {
    let app = spawn_app().await;
    app.login().await;
    let me = app
        .services()
        .staff_users()
        .await
        .expect("users")
        .into_iter()
        .find(|u| u.email.as_str() == ADMIN_EMAIL)
        .expect("admin");
    let path = format!("/settings/users/{}", me.id);
    for (role, status) in [("technician", "enabled"), ("admin", "disabled")] {
        let r = app
            .post_form(&path, &path, &[("role", role), ("status", status)])
            .await;
        assert_eq!(r.status(), 409);
        let body = r.text().await.expect("body");
        assert!(body.contains("last enabled admin"), "{body}");
    }
    // Still an admin.
    assert_eq!(app.get("/settings/users").await.status(), 200);
    // A bad value is a 400, not a 500.
    let r = app
        .post_form(&path, &path, &[("role", "root"), ("status", "enabled")])
        .await;
    assert_eq!(r.status(), 400);
    let r = app.get("/settings/users/999999").await;
    assert_eq!(r.status(), 404);
}

/// The token between `<pre class="secret" id="token">` and `</pre>`.
fn shown_token(page: &str) -> String {
    let start = "id=\"token\">";
    let i = page.find(start).expect("token shown") + start.len();
    page[i..i + page[i..].find('<').expect("end")].to_string()
}

#[tokio::test]
async fn a_token_is_shown_once_works_on_the_api_and_stops_when_revoked() {
    let app = spawn_app().await;
    app.login().await;
    let r = app
        .post_form(
            "/settings/tokens",
            "/settings/tokens",
            &[("name", ""), ("role", "admin")],
        )
        .await;
    assert_eq!(r.status(), 422, "a name is required");

    let r = app
        .post_form(
            "/settings/tokens",
            "/settings/tokens",
            &[("name", "PSA automation"), ("role", "admin")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let page = r.text().await.expect("body");
    let token = shown_token(&page);
    assert!(token.starts_with("tnt_"), "{token}");
    assert!(page.contains("only time it is shown"));
    assert!(
        page.contains(&format!(
            "curl -H &quot;Authorization: Bearer {token}&quot; {}/api/v1/companies",
            app.url
        )) || page.contains(&format!(
            "curl -H &#34;Authorization: Bearer {token}&#34; {}/api/v1/companies",
            app.url
        )) || page.contains(&format!(
            "curl -H \"Authorization: Bearer {token}\" {}/api/v1/companies",
            app.url
        )),
        "{page}"
    );

    // Listed by name and prefix, never in full.
    let list = app.get_text("/settings/tokens").await;
    assert!(list.contains("PSA automation"));
    assert!(list.contains(&token[..10]));
    assert!(!list.contains(&token));

    let api = client();
    let call = || {
        api.get(app.at("/api/v1/companies"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(call().await.expect("api").status(), 200);
    let list = app.get_text("/settings/tokens").await;
    assert!(!list.contains(">Never<"), "last used is shown");

    let id = app.services().api_tokens().await.expect("tokens")[0].id;
    let r = app
        .post_form(
            "/settings/tokens",
            &format!("/settings/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/settings/tokens?notice=token_revoked");
    let list = app.get_text(&location(&r)).await;
    assert!(list.contains("API token revoked.") && list.contains("Revoked"));
    assert_eq!(call().await.expect("api").status(), 401);
    // Revoking twice is a clear conflict.
    let r = app
        .post_form(
            "/settings/tokens",
            &format!("/settings/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn integrations_show_each_schedules_next_run_time() {
    let at = Utc
        .with_ymd_and_hms(2026, 3, 1, 1, 30, 0)
        .single()
        .expect("time");
    let (app, clock) = spawn_app_at(at, &[]).await;
    app.login().await;
    let page = app.get_text("/settings/integrations").await;
    let schedules =
        tenantry::app::schedules(&ValidatedSchedule::from_config(&app.config).expect("schedules"));
    let next = |name: &str| {
        schedules
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.next_after(at))
            .expect("next")
    };
    assert_eq!(next("identity").to_rfc3339(), "2026-03-01T04:00:00+00:00");
    assert_eq!(next("evidence").to_rfc3339(), "2026-03-01T06:15:00+00:00");
    for name in ["identity", "evidence"] {
        let t = next(name);
        assert!(
            page.contains(&format!("datetime=\"{}\"", t.to_rfc3339())),
            "{name}: {page}"
        );
        assert!(page.contains(&t.format("%Y-%m-%d %H:%M:%S UTC").to_string()));
    }
    assert!(page.contains("0 0 */4 * * *") && page.contains("0 15 */6 * * *"));
    assert!(page.contains("Microsoft Entra ID") && page.contains("Not connected"));
    assert!(page.contains("https://login.microsoftonline.com"));
    assert!(page.contains("https://graph.microsoft.com"));
    assert!(page.contains("<summary>Effective configuration</summary>"));
    // Both job kinds have a handler in this build: both schedules run.
    let row = |page: &str, name: &str| {
        let from = page.find(&format!("id=\"schedule-{name}\"")).expect("row");
        page[from..from + page[from..].find("</tr>").expect("row end")].to_string()
    };
    assert!(!row(&page, "evidence").contains("Not started"), "{page}");
    assert!(!row(&page, "identity").contains("Not started"), "{page}");
    let entra = app.get_text("/settings/integrations/entra").await;
    assert!(!entra.contains("not in this version yet"), "{entra}");
    assert!(entra.contains("2026-03-01 06:15 UTC"), "{entra}");

    // Before any firing the page says so; after one, it shows when.
    assert!(
        page.contains("Not yet (counting from 2026-03-01 01:30:00 UTC)"),
        "{page}"
    );
    let identity = schedules
        .iter()
        .find(|s| s.name == "identity")
        .expect("identity");
    app.services()
        .fire_schedule(identity, at)
        .await
        .expect("fired");
    let page = app.get_text("/settings/integrations").await;
    let row = &page[page.find("id=\"schedule-identity\"").expect("row")..];
    assert!(
        row.contains("<td data-label=\"Last fired\">2026-03-01 01:30:00 UTC</td>"),
        "{row}"
    );

    // Time moves on: the next slot follows.
    clock.set(at + chrono::Duration::hours(3));
    let page = app.get_text("/settings/integrations").await;
    assert!(
        page.contains("datetime=\"2026-03-01T08:00:00+00:00\""),
        "{page}"
    );
}

#[tokio::test]
async fn schedules_follow_their_time_zone() {
    let at = Utc
        .with_ymd_and_hms(2026, 1, 10, 22, 30, 0)
        .single()
        .expect("time");
    let (app, _clock) = spawn_app_at(at, &[("TENANTRY_SCHEDULE_TIMEZONE", "Europe/Berlin")]).await;
    app.login().await;
    let page = app.get_text("/settings/integrations").await;
    // 00:00 in Berlin (UTC+1 in winter) is 23:00 UTC.
    assert!(page.contains("Europe/Berlin"), "{page}");
    assert!(
        page.contains("datetime=\"2026-01-10T23:00:00+00:00\""),
        "{page}"
    );
    assert!(page.contains("2026-01-11 00:00 CET"), "{page}");
}
