//! An archived company's page keeps Sync With M365 and Disconnect in view but disabled, with
//! the reason and a Restore link; the Disconnect confirmation refuses with the same reason; a
//! restore brings the working buttons back.

use crate::sync_helpers::*;

#[tokio::test]
async fn an_archived_company_shows_its_actions_disabled_with_the_reason_until_restored() {
    let env = sync_env().await;
    let t = env.tenant("Adatum", 3, 0, false);
    let (id, _) = env.connect("Adatum", &t.id).await;
    let app = &env.app;
    app.login().await;
    let page = format!("/companies/{id}");
    let live = app.get_text(&page).await;
    assert!(live.contains(&format!("action=\"/companies/{id}/sync\"")));
    assert!(live.contains(&format!("href=\"/companies/{id}/disconnect\"")));
    assert!(!live.contains("disabled"));

    let r = app
        .post_form(&format!("{page}/archive"), &format!("{page}/archive"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let archived = app.get_text(&page).await;
    assert!(
        archived.contains(
            "<button type=\"button\" disabled aria-describedby=\"archived-why\">Sync With M365</button>"
        ),
        "Sync disabled, pointing at its reason"
    );
    assert!(archived.contains(
        "<button type=\"button\" class=\"secondary\" disabled aria-describedby=\"archived-why\">Disconnect</button>"
    ));
    assert!(archived.contains(&format!(
        "<p id=\"archived-why\" class=\"why-disabled\">This company is archived, so it cannot be synced or disconnected. <a href=\"/companies/{id}/restore\">Restore it</a> first.</p>"
    )));
    assert!(
        !archived.contains(&format!("action=\"/companies/{id}/sync\"")),
        "no working sync form"
    );
    assert!(!archived.contains(&format!("href=\"/companies/{id}/disconnect\"")));
    // An old link to the confirmation gets the reason, inside the staff pages.
    let r = app.get(&format!("{page}/disconnect")).await;
    assert_eq!(r.status(), 409);
    let body = r.text().await.expect("body");
    assert!(body.contains("Adatum is archived: restore it first to disconnect it."));
    assert!(
        body.contains("Sign out"),
        "the error page keeps the navigation"
    );

    // A stale form (CSRF token from a page that still works) and an API client are refused
    // the same way, and the tenant stays connected.
    let r = app
        .post_form("/companies", &format!("{page}/disconnect"), &[])
        .await;
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("Adatum is archived: restore it first to disconnect it.")
    );
    let token = app.admin_token().await;
    let r = app
        .client
        .post(app.at(&format!("/api/v1/companies/{id}/disconnect")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 409);
    let company = app.services().company(id).await.expect("company");
    assert!(
        company.tenant.as_ref().is_some_and(|t| t.connected),
        "still connected after both refusals"
    );

    let r = app
        .post_form(&format!("{page}/restore"), &format!("{page}/restore"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let restored = app.get_text(&page).await;
    assert!(restored.contains(&format!("action=\"/companies/{id}/sync\"")));
    assert!(restored.contains(&format!("href=\"/companies/{id}/disconnect\"")));
    assert!(!restored.contains("archived-why"));
    assert_eq!(app.get(&format!("{page}/disconnect")).await.status(), 200);
    env.stop().await;
}
