//! Navigation as the product page names it: PSA → Support Portal, Settings → Authentication,
//! and the Settings tabs on every settings page.

use crate::helpers::*;
use tenantry::model::{Actor, CompanyInput};

#[tokio::test]
async fn psa_support_portal_lists_every_active_company_portal_with_its_authentication_tab() {
    let app = spawn_app().await;
    let s = app.services();
    let mut ids = Vec::new();
    for name in ["Contoso Dental", "Fabrikam Bakery", "Tailspin Toys"] {
        let c = s
            .create_company(
                Actor::system(),
                CompanyInput::parse(name, "", "").expect("input"),
            )
            .await
            .expect("company");
        ids.push(c.id);
    }
    s.archive_company(Actor::system(), ids[2])
        .await
        .expect("archive");
    app.login().await;
    let nav = app.get_text("/companies").await;
    assert!(
        nav.contains("href=\"/portals\">Support Portal</a>"),
        "PSA menu entry"
    );
    assert!(
        nav.contains("href=\"/settings/authentication\">Authentication</a>"),
        "Settings menu entry"
    );
    let page = app.get_text("/portals").await;
    for (id, name) in [(ids[0], "Contoso Dental"), (ids[1], "Fabrikam Bakery")] {
        assert!(page.contains(name), "{name} listed");
        assert!(
            page.contains(&format!(
                "href=\"/companies/{id}/portal\">Authentication</a>"
            )),
            "{name}'s Authentication tab linked"
        );
    }
    assert!(
        page.contains("/portal/contoso-dental"),
        "portal address shown"
    );
    assert!(
        !page.contains("Tailspin Toys"),
        "archived companies have no open portal"
    );
}

#[tokio::test]
async fn every_settings_page_carries_the_settings_tabs() {
    let app = spawn_app().await;
    app.login().await;
    let token = app
        .post_form(
            "/settings/tokens",
            "/settings/tokens",
            &[("name", "PSA"), ("role", "technician")],
        )
        .await;
    let created = token.text().await.expect("page");
    let user_id = app
        .services()
        .staff_users()
        .await
        .expect("staff")
        .first()
        .map(|u| u.id)
        .expect("admin");
    for (path, html) in [
        (
            "/settings/integrations",
            app.get_text("/settings/integrations").await,
        ),
        (
            "/settings/integrations/entra",
            app.get_text("/settings/integrations/entra").await,
        ),
        ("/settings/users", app.get_text("/settings/users").await),
        (
            "user page",
            app.get_text(&format!("/settings/users/{user_id}")).await,
        ),
        ("/settings/tokens", app.get_text("/settings/tokens").await),
        ("token created", created),
        (
            "/settings/authentication",
            app.get_text("/settings/authentication").await,
        ),
    ] {
        assert!(
            html.contains("<nav class=\"tabs\" aria-label=\"Settings\">"),
            "{path} has the Settings tabs"
        );
    }
}
