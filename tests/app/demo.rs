//! `tenantry demo` as a user meets it: the printed admin can "Sign in with Microsoft" (they
//! are a user of the sample MSP tenant) and the printed portal user can sign in to Contoso
//! Dental's portal, both through the simulator's real redirects; its temporary data directory
//! is the user's alone.

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

#[cfg(unix)]
#[tokio::test]
async fn the_demo_data_directory_and_key_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let listen = format!("127.0.0.1:{}", free_port());
    let demo = tenantry::demo::start(listen).await.expect("demo starts");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    let data = demo.data_dir().to_path_buf();
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(mode(&data.join("secret.key")), 0o600, "the appliance key");
    demo.stop().await;
    assert!(!data.exists(), "removed when the demo stops");
}
