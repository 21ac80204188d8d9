//! The README's "What to click first", followed word for word against `tenantry demo`: a new
//! company for `woodgrove.example` connected by the simulated admin consent, and the same
//! consent cancelled. The walkthrough at 1366 px like a laptop and again at 390 px like a
//! phone (every page on the way measured: nothing scrolls sideways); the simulator's pages
//! also at 390 px.

use super::{browser, browser_available, click, fill, free_port};
use fantoccini::{Client, Locator};
use std::time::Duration;
use tenantry::demo::Demo;

/// The README's example client (`tenantry demo` seeds its tenant, connected to nothing).
const NAME: &str = "Woodgrove Bank";
const DOMAIN: &str = "woodgrove.example";

pub(super) async fn demo() -> Demo {
    tenantry::demo::start(format!("127.0.0.1:{}", free_port()))
        .await
        .expect("demo starts")
}

/// Save a screenshot when TENANTRY_SCREENSHOT_DIR is set (to look at, not to compare).
pub(super) async fn shot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("TENANTRY_SCREENSHOT_DIR") {
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png);
    }
}

/// Click the button with this visible label.
pub(super) async fn press(c: &Client, label: &str) {
    let xpath = format!("//button[normalize-space()='{label}']");
    click(c, Locator::XPath(&xpath)).await;
}

/// The body text of the page once `at` is on it.
pub(super) async fn text_once(c: &Client, at: Locator<'_>) -> String {
    let what = format!("{at:?}");
    c.wait()
        .for_element(at)
        .await
        .unwrap_or_else(|e| panic!("{what} not found: {e}"));
    c.find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text")
}

/// "sign in with the printed login"
pub(super) async fn sign_in(c: &Client, demo: &Demo) {
    c.goto(&demo.info.url).await.expect("goto");
    fill(c, Locator::Css("input[name=email]"), &demo.info.admin_email).await;
    fill(
        c,
        Locator::Css("input[name=password]"),
        &demo.info.admin_password,
    )
    .await;
    press(c, "Sign in").await;
    // Wait for the signed-in page: a `goto` issued while the form's answer is still on its
    // way races it, and the late redirect to the sign-in page wins (CI saw it, stop 22).
    c.wait()
        .for_element(Locator::XPath("//button[normalize-space()='Sign out']"))
        .await
        .expect("signed in");
}

/// "PSA → Companies → New company", name and domain, "Create company"; returns the
/// company page's path.
async fn new_company(c: &Client, name: &str, domain: &str) -> String {
    click(c, Locator::XPath("//summary[normalize-space()='PSA']")).await;
    click(c, Locator::LinkText("Companies")).await;
    click(c, Locator::LinkText("New company")).await;
    fill(c, Locator::Css("input[name=name]"), name).await;
    fill(c, Locator::Css("input[name=domain]"), domain).await;
    press(c, "Create company").await;
    let notice = c
        .wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    assert_eq!(notice.text().await.expect("text"), "Company created.");
    c.current_url().await.expect("url").path().to_string()
}

/// The page fits a `width` px wide window: nothing to scroll sideways.
pub(super) async fn fits(c: &Client, width: u32, what: &str) {
    c.set_window_size(width, 844).await.expect("resize");
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .expect("measure");
    let (scroll, inner) = (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0));
    assert!(
        inner > 0 && inner <= u64::from(width),
        "the window is {inner} px wide, not {width}"
    );
    assert!(
        scroll <= inner,
        "{what} scrolls sideways at {width} px ({scroll} > {inner})"
    );
}

/// The simulated Microsoft page the browser is on says it is simulated, has a viewport tag,
/// and fits a phone; back to `width` after.
async fn check_simulated_page(c: &Client, name: &str, width: u32) {
    let banner = c
        .wait()
        .for_element(Locator::Css("p.sim"))
        .await
        .expect("the simulated-page banner");
    assert_eq!(
        banner.text().await.expect("text"),
        "Simulated Microsoft sign-in — no real account is used"
    );
    let viewport = c
        .find(Locator::Css("meta[name=viewport]"))
        .await
        .expect("a viewport tag")
        .attr("content")
        .await
        .expect("content");
    assert_eq!(
        viewport.as_deref(),
        Some("width=device-width, initial-scale=1")
    );
    fits(c, 390, name).await;
    shot(c, &format!("{name}-390")).await;
    c.set_window_size(width, 900).await.expect("resize");
    shot(c, name).await;
}

#[tokio::test]
async fn the_readme_walkthrough_connects_woodgrove_bank_by_simulated_admin_consent() {
    readme_walkthrough(1366).await;
}

#[tokio::test]
async fn the_readme_walkthrough_works_the_same_on_a_phone() {
    readme_walkthrough(390).await;
}

/// The README's walkthrough in a window `width` px wide.
async fn readme_walkthrough(width: u32) {
    if !browser_available() {
        return;
    }
    let demo = demo().await;
    let (_driver, c) = browser().await;
    c.set_window_size(width, 900).await.expect("resize");

    sign_in(&c, &demo).await;
    // "PSA → Companies → Contoso Dental. Its Contacts and Assets tabs hold the synced users
    // and Intune devices; Sync With M365 queues a new sync ("Sync queued")."
    click(&c, Locator::XPath("//summary[normalize-space()='PSA']")).await;
    click(&c, Locator::LinkText("Companies")).await;
    click(&c, Locator::LinkText("Contoso Dental")).await;
    for tab in ["Contacts", "Assets"] {
        // The Assets tab carries the review count after its name ("Assets 2").
        let xpath =
            format!("//nav[@aria-label='Company']/a[starts-with(normalize-space(), '{tab}')]");
        click(&c, Locator::XPath(&xpath)).await;
        let pager = text_once(&c, Locator::Css("nav.pager")).await;
        assert!(!pager.contains("of 0"), "{tab}: {pager}");
        fits(&c, width, tab).await;
    }
    press(&c, "Sync With M365").await;
    let notice = text_once(&c, Locator::Css("p.notice")).await;
    assert!(
        notice.contains("Sync queued") || notice.contains("Sync finished."),
        "{notice}"
    );
    // "Open Fabrikam Bakery: it says why it has 0 devices (no Intune licence), and the Audit
    // log holds Microsoft's full answer."
    click(&c, Locator::XPath("//summary[normalize-space()='PSA']")).await;
    click(&c, Locator::LinkText("Companies")).await;
    click(&c, Locator::LinkText("Fabrikam Bakery")).await;
    // A licence state, not a failure: said in a neutral tone (not `p.error`).
    let why = text_once(
        &c,
        Locator::XPath(
            "//p[contains(@class, 'muted') and starts-with(normalize-space(), 'Devices:')]",
        ),
    )
    .await;
    assert!(why.contains("Intune"), "{why}");
    fits(&c, width, "Fabrikam Bakery").await;
    click(&c, Locator::LinkText("See the audit log")).await;
    c.wait()
        .for_element(Locator::XPath("//h1[contains(., 'Audit log')]"))
        .await
        .expect("the audit log");
    fits(&c, width, "the audit log").await;

    // "Then connect a client the way you would a real one."
    let company = new_company(&c, NAME, DOMAIN).await;
    // Not connected yet: Sync With M365 goes to the simulated admin consent.
    press(&c, "Sync With M365").await;
    check_simulated_page(&c, &format!("walkthrough-consent-{width}"), width).await;
    let page = text_once(&c, Locator::Id("accept")).await;
    assert!(page.contains(NAME) && page.contains(DOMAIN), "{page}");
    click(&c, Locator::LinkText("Accept")).await;

    // Back on the company page: queued, connected, and the page follows the first sync.
    let notice = c
        .wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    let said = notice.text().await.expect("text");
    assert!(
        said == "Sync queued" || said == "Sync finished.",
        "queued, or already finished: {said}"
    );
    assert_eq!(c.current_url().await.expect("url").path(), company);
    let facts = text_once(&c, Locator::Css("dl.facts")).await;
    assert!(
        facts.contains(&format!("Connected — {NAME}")),
        "the overview says Connected: {facts}"
    );
    // The page refreshes itself while the sync runs; the result replaces the progress.
    c.wait()
        .at_most(Duration::from_secs(90))
        .for_element(Locator::XPath(
            "//span[contains(@class,'badge') and normalize-space()='Succeeded']",
        ))
        .await
        .expect("the first sync finishes");
    shot(&c, &format!("walkthrough-company-{width}")).await;
    fits(&c, width, "the connected company").await;
    click(&c, Locator::LinkText("Contacts")).await;
    let pager = text_once(&c, Locator::Css("nav.pager")).await;
    assert!(pager.contains("of 36"), "the tenant's 36 users: {pager}");
    shot(&c, &format!("walkthrough-contacts-{width}")).await;
    fits(&c, width, "its contacts").await;

    // "Sign out and use Sign in with Microsoft (pick the printed admin ...)".
    press(&c, "Sign out").await;
    press(&c, "Sign in with Microsoft").await;
    let admin = format!("a.account[data-upn='{}']", demo.info.admin_email);
    click(&c, Locator::Css(&admin)).await;
    // Signed in as the admin (a phone hides the e-mail beside Sign out to save room).
    text_once(&c, Locator::XPath("//button[normalize-space()='Sign out']")).await;
    let who = c
        .find(Locator::Css("header.top .who"))
        .await
        .expect("who is signed in")
        .html(true)
        .await
        .expect("html");
    assert!(who.contains(&demo.info.admin_email), "signed in: {who}");

    c.close().await.expect("close");
    demo.stop().await;
}

#[tokio::test]
async fn cancelled_consent_and_microsoft_error_pages_lead_back_to_tenantry() {
    if !browser_available() {
        return;
    }
    let demo = demo().await;
    let (_driver, c) = browser().await;
    c.set_window_size(1366, 900).await.expect("resize");
    sign_in(&c, &demo).await;

    // A company: Cancel at Microsoft → a page in plain words, with the navigation, and back.
    let company = new_company(&c, NAME, DOMAIN).await;
    press(&c, "Sync With M365").await;
    click(&c, Locator::LinkText("Cancel")).await;
    let page = text_once(&c, Locator::Id("outcome")).await;
    assert!(
        page.contains("Consent was cancelled at Microsoft; nothing was connected."),
        "{page}"
    );
    assert!(
        page.contains(&demo.info.admin_email) && page.contains("Sign out"),
        "the navigation stays: {page}"
    );
    c.find(Locator::Css("header.top nav"))
        .await
        .expect("the navigation bar");
    shot(&c, "cancelled-company").await;
    click(&c, Locator::LinkText(&format!("Back to {NAME}"))).await;
    c.wait()
        .for_element(Locator::Css("dl.facts"))
        .await
        .expect("the company page");
    assert_eq!(c.current_url().await.expect("url").path(), company);

    // The MSP's own tenant: Settings → Microsoft Entra ID → Connect again → Cancel.
    click(
        &c,
        Locator::XPath("//summary[normalize-space()='Settings']"),
    )
    .await;
    click(&c, Locator::LinkText("Microsoft Entra ID")).await;
    press(&c, "Connect again").await;
    check_simulated_page(&c, "msp-consent", 1366).await;
    click(&c, Locator::LinkText("Cancel")).await;
    text_once(&c, Locator::Id("outcome")).await;
    shot(&c, "cancelled-msp").await;
    click(
        &c,
        Locator::LinkText("Back to Settings → Integrations → Microsoft Entra ID"),
    )
    .await;
    c.wait()
        .for_element(Locator::XPath(
            "//h1[normalize-space()='Microsoft Entra ID']",
        ))
        .await
        .expect("the Entra settings page");

    // A domain with no tenant: Microsoft shows the error itself, with a way back.
    new_company(&c, "Nobody Ltd", "nobody.example").await;
    press(&c, "Sync With M365").await;
    let error = c
        .wait()
        .for_element(Locator::Id("error"))
        .await
        .expect("Microsoft's error page")
        .text()
        .await
        .expect("text");
    assert!(
        error.starts_with("AADSTS90002: Tenant 'nobody.example' not found."),
        "{error}"
    );
    check_simulated_page(&c, "tenant-not-found", 1366).await;
    click(&c, Locator::LinkText("Return to Tenantry")).await;
    c.wait()
        .for_element(Locator::LinkText("New company"))
        .await
        .expect("back on Tenantry's companies");

    // "Sign out and use Sign in with Microsoft": the simulated account picker, and Cancel.
    press(&c, "Sign out").await;
    press(&c, "Sign in with Microsoft").await;
    c.wait()
        .for_element(Locator::Css("a.account"))
        .await
        .expect("the account picker");
    check_simulated_page(&c, "account-picker", 1366).await;
    click(&c, Locator::LinkText("Cancel")).await;
    let page = text_once(&c, Locator::Css("input[name=email]")).await;
    assert!(page.contains("cancelled at Microsoft"), "{page}");

    c.close().await.expect("close");
    demo.stop().await;
}
