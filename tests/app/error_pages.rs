//! Error pages: a signed-in staff member keeps the navigation bar, so an error is never a
//! dead end; visitors who are not signed in get the plain page.

use crate::helpers::*;

#[tokio::test]
async fn a_signed_in_staff_member_keeps_the_navigation_and_visitors_get_the_plain_page() {
    let app = spawn_app().await;
    // Signed out: the plain error page (an unknown path loads no session).
    let r = app.get("/no-such-page").await;
    assert_eq!(r.status(), 404);
    let body = r.text().await.expect("body");
    assert!(!body.contains("<header class=\"top\">"), "{body}");
    app.login().await;
    let r = app.get("/companies/999999").await;
    assert_eq!(r.status(), 404);
    let body = r.text().await.expect("body");
    assert!(
        body.contains("That company does not exist.")
            && body.contains("<header class=\"top\">")
            && body.contains(ADMIN_EMAIL)
            && body.contains("action=\"/logout\""),
        "{body}"
    );
}
