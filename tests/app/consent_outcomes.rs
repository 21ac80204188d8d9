//! Where the consent callback lands when nothing was connected: never a bare status page,
//! always what happened and the way back to where the consent started.

use crate::connect::{
    app_with_sim, cancel_consent, create_company, href_of, page_text, press_sync,
};
use crate::helpers::*;
use crate::sso_helpers::second_browser;
use tenantry::simulator::{ConsentError, TenantPatch, TenantSpec};

#[tokio::test]
async fn a_refused_consent_says_why_and_leads_back_to_the_company_even_without_a_session() {
    let (app, sim) = app_with_sim().await;
    let tenant = sim
        .control()
        .create_tenant(TenantSpec {
            name: "Lucerne Publishing".into(),
            users: 4,
            ..Default::default()
        })
        .expect("tenant");
    // The person who approves is not an administrator of that tenant.
    sim.control()
        .update_tenant(
            &tenant.id,
            TenantPatch {
                consent_error: Some(ConsentError {
                    error: "consent_required".into(),
                    aadsts: 90094,
                    description: "Admin consent is required for the permissions requested by this application.".into(),
                }),
                ..Default::default()
            },
        )
        .expect("patch");
    app.login().await;
    let id = create_company(&app, "Lucerne Publishing", &tenant.domain).await;
    let r = press_sync(&app, id).await;
    let page = page_text(&app, location(&r)).await;
    let accept = app
        .client
        .get(href_of(&page, "accept"))
        .send()
        .await
        .expect("accept");
    // Microsoft's redirect back arrives in a browser without our session (a script, or
    // another browser): the page still says what happened and where to go.
    let elsewhere = second_browser(&app);
    let back = elsewhere
        .client
        .get(location(&accept))
        .send()
        .await
        .expect("callback");
    assert_eq!(back.status(), 409);
    let body = back.text().await.expect("body");
    assert!(body.contains("<h1>Not connected</h1>"), "{body}");
    assert!(
        body.contains("needs an administrator") && body.contains("Nothing was connected"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "href=\"/companies/{id}\">Back to Lucerne Publishing</a>"
        )),
        "{body}"
    );
    assert!(
        !body.contains("<header class=\"top\">") && !body.contains("name=\"csrf\""),
        "no staff navigation or form without a staff session: {body}"
    );
    assert!(
        app.services()
            .company(id)
            .await
            .expect("company")
            .tenant
            .is_none()
    );
}

#[tokio::test]
async fn cancelling_the_msp_consent_leads_back_to_the_entra_settings() {
    let (app, sim) = app_with_sim().await;
    sim.control()
        .create_tenant(TenantSpec {
            name: "Northwind IT".into(),
            users: 3,
            ..Default::default()
        })
        .expect("tenant");
    app.login().await;
    let r = app
        .post_form(
            "/settings/integrations/entra",
            "/settings/integrations/entra/connect",
            &[],
        )
        .await;
    let back = cancel_consent(&app, &location(&r)).await;
    assert_eq!(back.status(), 200);
    let body = back.text().await.expect("body");
    assert!(
        body.contains("Consent was cancelled at Microsoft; nothing was connected."),
        "{body}"
    );
    assert!(
        body.contains("<header class=\"top\">") && body.contains(ADMIN_EMAIL),
        "the navigation stays: {body}"
    );
    assert!(
        body.contains(
            "href=\"/settings/integrations/entra\">Back to Settings → Integrations → Microsoft Entra ID</a>"
        ),
        "{body}"
    );
    assert!(
        body.contains("action=\"/settings/integrations/entra/connect\""),
        "an admin can try again from here: {body}"
    );
    assert!(app.services().msp_tenant().await.expect("msp").is_none());
}
