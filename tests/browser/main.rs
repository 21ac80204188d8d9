//! Browser tests: Debian's chromium driven through chromedriver (fantoccini). They run
//! where chromium is installed; without it they say so loudly, and under CI=true they fail,
//! because CI installs it (`.ci/run`).

use fantoccini::{ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tenantry::app::{App, AppOptions};
use tenantry::config::CliOverrides;

#[path = "../app/asset_merge_seed.rs"]
mod asset_merge_seed;
mod assets_merge;
mod compliance;
mod dashboard;
mod every_page;
mod journeys;
mod page_routes;
mod pages_fit;
mod paging;
mod walkthrough;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Kills chromedriver when the test ends, however it ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn browser_available() -> bool {
    let present =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        let msg = "chromium/chromedriver not installed: browser test NOT RUN (apt-get install chromium chromium-driver)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}; CI must install them");
        }
        eprintln!("\n*** {msg} ***\n");
    }
    present
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

async fn browser() -> (Driver, fantoccini::Client) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let profile = tempfile::tempdir().expect("profile dir");
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--window-size=1280,900",
                     format!("--user-data-dir={}", profile.path().display())]
        }
    }))
    .expect("caps");
    std::mem::forget(profile); // chromium owns it until the process ends; the OS temp cleaner removes it
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..150 {
        let conn = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await;
        if let Ok(c) = conn {
            return (driver, c);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not accept a session within 15 s");
}

const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "correct horse battery";

/// The appliance on a random port and a temp data dir, with `env` as TENANTRY_* overrides.
async fn start_app(env: &[(&str, String)]) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().expect("tempdir");
    let env: std::collections::BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let cli = CliOverrides {
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(dir.path().display().to_string()),
    };
    let config = tenantry::config::load(None, &env, &cli)
        .expect("config")
        .config;
    let app = App::build(
        config,
        AppOptions {
            admin_email: Some(ADMIN_EMAIL.into()),
            admin_password: Some(ADMIN_PASSWORD.into()),
            ..Default::default()
        },
    )
    .await
    .expect("app");
    (dir, app)
}

/// An appliance nobody has set up yet (its first-run page), on a random port and temp dir.
async fn start_app_without_admin() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cli = CliOverrides {
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(dir.path().display().to_string()),
    };
    let config = tenantry::config::load(None, &Default::default(), &cli)
        .expect("config")
        .config;
    let app = App::build(config, AppOptions::default())
        .await
        .expect("app");
    (dir, app)
}

const CLIENT_ID: &str = "3d3c1c7a-9a51-4d8e-8f0b-6a2b7f6c9e10";
const CLIENT_SECRET: &str = "browser-test-secret";

/// The simulator with one tenant (`spec`), and the appliance pointed at it with our app
/// registered (both redirect URIs: consent and sign-in).
async fn start_with_simulator(
    spec: tenantry::simulator::TenantSpec,
) -> (
    tenantry::simulator::Simulator,
    tenantry::simulator::TenantInfo,
    tempfile::TempDir,
    App,
) {
    use tenantry::simulator::{SimApp, SimOptions, Simulator};
    let sim = Simulator::start(SimOptions::default())
        .await
        .expect("simulator");
    let tenant = sim.control().create_tenant(spec).expect("tenant");
    let (dir, app) = start_app(&[
        ("TENANTRY_MICROSOFT_LOGIN_URL", sim.login_url()),
        ("TENANTRY_MICROSOFT_GRAPH_URL", sim.graph_url()),
        ("TENANTRY_MICROSOFT_CLIENT_ID", CLIENT_ID.into()),
        ("TENANTRY_MICROSOFT_CLIENT_SECRET", CLIENT_SECRET.into()),
    ])
    .await;
    sim.control()
        .register_app(SimApp {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uris: vec![
                format!("{}/connect/callback", app.url),
                format!("{}/auth/callback", app.url),
            ],
            name: "Tenantry".into(),
            secret_expired: false,
        })
        .expect("register");
    (sim, tenant, dir, app)
}

/// Wait for an element, then click it.
async fn click(c: &fantoccini::Client, at: Locator<'_>) {
    let what = format!("{at:?}");
    c.wait()
        .for_element(at)
        .await
        .unwrap_or_else(|e| panic!("{what} not found: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {what}: {e}"));
}

/// Wait for a field, then type into it.
async fn fill(c: &fantoccini::Client, at: Locator<'_>, text: &str) {
    let what = format!("{at:?}");
    c.wait()
        .for_element(at)
        .await
        .unwrap_or_else(|e| panic!("{what} not found: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {what}: {e}"));
}

/// Fill in and submit the sign-in form the browser is looking at.
async fn sign_in(c: &fantoccini::Client) {
    fill(c, Locator::Css("input[name=email]"), ADMIN_EMAIL).await;
    fill(c, Locator::Css("input[name=password]"), ADMIN_PASSWORD).await;
    click(c, Locator::Css("button[type=submit]")).await;
    // Wait for the signed-in page: a `goto` issued while the form's answer is still on its
    // way races it, and the late redirect wins.
    c.wait()
        .for_element(Locator::XPath("//button[normalize-space()='Sign out']"))
        .await
        .expect("signed in");
}

#[tokio::test]
async fn staff_signs_in_creates_a_company_and_sees_it_listed() {
    if !browser_available() {
        return;
    }
    let (_dir, app) = start_app(&[]).await;
    let (_driver, c) = browser().await;

    c.goto(&format!("{}/companies", app.url))
        .await
        .expect("goto");
    // Redirected to sign in.
    c.wait()
        .for_element(Locator::Css("input[name=email]"))
        .await
        .expect("login form");
    assert!(
        c.current_url()
            .await
            .expect("url")
            .path()
            .starts_with("/login")
    );
    sign_in(&c).await;

    click(&c, Locator::LinkText("New company")).await;
    fill(&c, Locator::Css("input[name=name]"), "Fabrikam Inc").await;
    fill(&c, Locator::Css("input[name=domain]"), "fabrikam.com").await;
    click(&c, Locator::Css("main button[type=submit]")).await;

    let notice = c
        .wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    assert_eq!(notice.text().await.expect("text"), "Company created.");
    c.goto(&format!("{}/companies", app.url))
        .await
        .expect("goto");
    let link = c
        .wait()
        .for_element(Locator::LinkText("Fabrikam Inc"))
        .await
        .expect("listed");
    assert!(
        link.attr("href")
            .await
            .expect("href")
            .is_some_and(|h| h.starts_with("/companies/"))
    );
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.len() > 1000, "a real screenshot");
    if let Ok(dir) = std::env::var("TENANTRY_SCREENSHOT_DIR") {
        let _ = std::fs::write(std::path::Path::new(&dir).join("companies.png"), png);
    }
    c.close().await.expect("close");
    app.stop().await;
}

#[tokio::test]
async fn staff_connects_a_tenant_with_sync_with_m365_and_sees_the_contacts() {
    use tenantry::simulator::TenantSpec;
    if !browser_available() {
        return;
    }
    let (sim, tenant, _dir, app) = start_with_simulator(TenantSpec {
        name: "Northwind Traders".into(),
        users: 25,
        intune: true,
        p1: true,
        ..Default::default()
    })
    .await;
    let company = app
        .services
        .create_company(
            tenantry::model::Actor::system(),
            tenantry::model::CompanyInput::parse("Northwind Traders", &tenant.domain, "")
                .expect("input"),
        )
        .await
        .expect("company");
    let (_driver, c) = browser().await;
    c.goto(&format!("{}/login", app.url)).await.expect("goto");
    sign_in(&c).await;
    click(&c, Locator::LinkText("Northwind Traders")).await;
    // Not connected yet: Sync With M365 goes to Microsoft's admin consent.
    click(
        &c,
        Locator::XPath("//button[normalize-space()='Sync With M365']"),
    )
    .await;
    click(&c, Locator::Id("accept")).await;
    // Back on the company page: the initial sync is queued.
    let notice = c
        .wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    let said = notice.text().await.expect("text");
    assert!(
        said == "Sync queued" || said == "Sync finished.",
        "queued, or already finished for a small tenant: {said}"
    );
    assert_eq!(
        c.current_url().await.expect("url").path(),
        format!("/companies/{}", company.id)
    );
    // The contacts arrive when the job ends (the page refreshes itself while it runs).
    let mut rows = 0;
    for _ in 0..100 {
        c.goto(&format!(
            "{}/companies/{}?tab=contacts",
            app.url, company.id
        ))
        .await
        .expect("goto");
        rows = c
            .find_all(Locator::Css("main table tbody tr td:nth-child(2)"))
            .await
            .expect("rows")
            .len();
        if rows > 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(rows >= 25, "the synced contacts are listed ({rows} rows)");
    let text = c
        .find(Locator::Css("nav.pager"))
        .await
        .expect("pager")
        .text()
        .await
        .expect("text");
    assert!(text.contains("of 25"), "{text}");
    if let Ok(dir) = std::env::var("TENANTRY_SCREENSHOT_DIR") {
        let _ = std::fs::write(
            std::path::Path::new(&dir).join("contacts.png"),
            c.screenshot().await.expect("shot"),
        );
        c.goto(&format!("{}/companies/{}", app.url, company.id))
            .await
            .expect("goto");
        let _ = std::fs::write(
            std::path::Path::new(&dir).join("company.png"),
            c.screenshot().await.expect("shot"),
        );
    }
    c.close().await.expect("close");
    app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn portal_user_signs_in_raises_a_request_and_staff_answer_it() {
    use tenantry::simulator::TenantSpec;
    if !browser_available() {
        return;
    }
    let (sim, tenant, _dir, app) = start_with_simulator(TenantSpec {
        name: "Contoso Dental".into(),
        users: 12,
        devices: 6,
        intune: true,
        p1: true,
        ..Default::default()
    })
    .await;
    sim.control()
        .grant_consent(&tenant.id, CLIENT_ID)
        .expect("consent");
    let s = &app.services;
    let actor = tenantry::model::Actor::system();
    let company = s
        .create_company(
            actor.clone(),
            tenantry::model::CompanyInput::parse("Contoso Dental", &tenant.domain, "")
                .expect("input"),
        )
        .await
        .expect("company");
    let job = s
        .connect_company_tenant(
            actor.clone(),
            company.id,
            &tenant.id,
            Some(tenantry::model::Trigger::Consent),
        )
        .await
        .expect("connect")
        .expect("initial sync queued");
    for _ in 0..300 {
        if !s.job(job.id).await.expect("job").state.is_active() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let slug = s.portal_settings(company.id).await.expect("portal").slug;
    s.update_portal_settings(
        tenantry::domain::authority::AdminActor::system(),
        company.id,
        tenantry::domain::portal::PortalInput {
            slug: slug.clone(),
            sso_enabled: true,
            allowed_group_ids: Vec::new(),
            admin_group_id: None,
        },
    )
    .await
    .expect("portal on");
    let contact = s
        .contacts(
            Some(company.id),
            tenantry::model::ListQuery::new(Some(1), Some(50), None, None, None),
        )
        .await
        .expect("contacts")
        .items
        .into_iter()
        .find(|c| c.active && c.account_enabled && !c.is_guest)
        .expect("a contact");

    let (_driver, c) = browser().await;
    // The employee: portal → Microsoft's account picker → back, signed in.
    c.goto(&format!("{}/portal/{slug}", app.url))
        .await
        .expect("goto");
    click(
        &c,
        Locator::XPath("//button[normalize-space()='Sign in with Microsoft']"),
    )
    .await;
    click(
        &c,
        Locator::Css(&format!("a.account[data-upn='{}']", contact.upn)),
    )
    .await;
    c.wait()
        .for_element(Locator::XPath(&format!(
            "//h1[normalize-space()='{}']",
            contact.display_name
        )))
        .await
        .expect("portal home with the user's name");
    click(&c, Locator::LinkText("New request")).await;
    fill(
        &c,
        Locator::Css("input[name=subject]"),
        "Outlook keeps asking for my password",
    )
    .await;
    fill(
        &c,
        Locator::Css("textarea[name=description]"),
        "Since this morning, on my laptop.",
    )
    .await;
    click(
        &c,
        Locator::XPath("//button[normalize-space()='Send request']"),
    )
    .await;
    let notice = c
        .wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    assert_eq!(
        notice.text().await.expect("text"),
        "Your request was sent to your IT provider."
    );
    let request_url = c.current_url().await.expect("url");

    // Staff (own session cookie, same browser): PSA → Requests → the request → reply.
    c.goto(&format!("{}/login", app.url)).await.expect("goto");
    sign_in(&c).await;
    c.goto(&format!("{}/requests", app.url))
        .await
        .expect("goto");
    click(
        &c,
        Locator::LinkText("Outlook keeps asking for my password"),
    )
    .await;
    c.wait()
        .for_element(Locator::Css("textarea[name=body]"))
        .await
        .expect("reply form")
        .send_keys("We reset your MFA registration; please sign in again.")
        .await
        .expect("type");
    click(
        &c,
        Locator::XPath("//button[normalize-space()='Send reply']"),
    )
    .await;
    c.wait()
        .for_element(Locator::XPath(
            "//*[contains(normalize-space(), 'We reset your MFA registration')]",
        ))
        .await
        .expect("reply shown to staff");

    // The employee sees the answer.
    c.goto(request_url.as_str()).await.expect("goto");
    let body = c
        .wait()
        .for_element(Locator::Css("main"))
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(body.contains("We reset your MFA registration"), "{body}");
    assert!(
        body.contains("Outlook keeps asking for my password"),
        "{body}"
    );
    if let Ok(dir) = std::env::var("TENANTRY_SCREENSHOT_DIR") {
        let _ = std::fs::write(
            std::path::Path::new(&dir).join("portal-request.png"),
            c.screenshot().await.expect("shot"),
        );
    }
    c.close().await.expect("close");
    app.stop().await;
    sim.stop().await;
}
