//! `tenantry demo` as a user meets it: the printed admin can "Sign in with Microsoft" (they
//! are a user of the sample MSP tenant) and the printed portal user can sign in to Contoso
//! Dental's portal, both through the simulator's real redirects.

use crate::helpers::*;
use crate::sso_helpers::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[tokio::test]
async fn demo_has_staff_and_portal_sign_in_with_microsoft_on() {
    let listen = format!("127.0.0.1:{}", free_port());
    let demo = tenantry::demo::start(listen).await.expect("demo starts");
    let i = demo.info.clone();
    assert!(
        !i.portal_url.is_empty() && !i.portal_user.is_empty(),
        "{i:?}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let browser = TestApp {
        app: None,
        url: i.url.clone(),
        config: test_config(dir.path(), &[]),
        dir,
        client: client(),
    };
    let r = staff_sign_in(&browser, &i.admin_email).await;
    assert_eq!(r.status(), 303, "the demo admin signs in with Microsoft");
    assert!(
        browser
            .get_text("/companies")
            .await
            .contains("Contoso Dental")
    );

    let slug = i.portal_url.rsplit('/').next().expect("slug").to_string();
    let portal_user = second_browser(&browser);
    let r = portal_sign_in(&portal_user, &slug, &i.portal_user).await;
    assert_eq!(r.status(), 303, "the printed portal user signs in");
    let home = portal_user.get_text(&format!("/portal/{slug}")).await;
    assert!(home.contains("My devices"), "portal home");
    demo.stop().await;
}
