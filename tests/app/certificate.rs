//! Certificate credentials end to end: an app registration with a certificate and no secret
//! (pasted on the Entra settings page, or configured as files) connects a tenant and syncs it
//! through the simulator, whose token endpoint checks the signed client assertion.

use crate::helpers::*;
use crate::sync_helpers::{NEVER, builtin_registry, wait_job};
use tenantry::model::{Actor, AuditFilter, CompanyInput, JobState, Trigger};
use tenantry::simulator::{SimControl, Simulator, TenantSpec};

const CLIENT_ID: &str = "7b6f3c2a-1d4e-4f5a-9b8c-2e3d4f5a6b7c";
const CERT: &str = include_str!("../fixtures/certs/test-only-cert.pem");
const KEY: &str = include_str!("../fixtures/certs/test-only-key.pem");
const OTHER_KEY: &str = include_str!("../fixtures/certs/test-only-other-key.pem");
/// `openssl x509 -fingerprint -sha1` of the fixture certificate.
const THUMBPRINT: &str = "8367F828B44B05A221D250AFAED16ACDA292C090";

/// A simulator whose app has only the certificate (no secret) registered.
async fn certificate_only_sim() -> (Simulator, SimControl) {
    let (sim, ctl) = crate::support::sim::simulator(
        5,
        crate::support::sim::TestRegistration {
            client_id: CLIENT_ID,
            secret: "",
            redirect_uris: vec!["http://127.0.0.1:9/connect/callback".into()],
            name: "Tenantry certificate tests",
        },
    )
    .await;
    ctl.add_app_certificate(CLIENT_ID, CERT)
        .expect("certificate uploaded");
    (sim, ctl)
}

/// Connect a consented 12-user tenant to a new company and wait for the initial sync.
async fn connect_and_sync(app: &TestApp, ctl: &SimControl) -> (String, tenantry::model::Job) {
    let t = ctl
        .create_tenant(TenantSpec {
            name: "Certified Tenant".into(),
            users: 12,
            ..Default::default()
        })
        .expect("tenant");
    ctl.grant_consent(&t.id, CLIENT_ID).expect("consent");
    let s = app.services();
    let company = s
        .create_company(
            Actor::system(),
            CompanyInput::parse("Certified Co", "", "").expect("input"),
        )
        .await
        .expect("company")
        .id;
    let job = s
        .connect_company_tenant(Actor::system(), company, &t.id, Some(Trigger::Consent))
        .await
        .expect("connects")
        .expect("initial sync queued");
    let job = wait_job(s, job.id).await;
    let contacts = s
        .store_handle()
        .read(move |r| r.contacts_of(company))
        .await
        .expect("contacts");
    assert_eq!(contacts.len(), 12, "every user synced");
    (t.id, job)
}

#[tokio::test]
async fn a_certificate_pasted_in_settings_connects_and_syncs_without_a_secret() {
    let (sim, ctl) = certificate_only_sim().await;
    let (login, graph) = (sim.login_url(), sim.graph_url());
    let mut app = spawn_app_with(
        move |c| {
            c.microsoft.login_url = login;
            c.microsoft.graph_url = graph;
            c.microsoft.client_id = CLIENT_ID.into();
            c.schedule.identity = NEVER.into();
            c.schedule.evidence = NEVER.into();
        },
        builtin_registry(),
    )
    .await;
    app.login().await;
    let page = "/settings/integrations/entra";
    let before = app.get_text(page).await;
    assert!(before.contains("Recommended"), "certificate offered first");
    assert!(before.contains("no certificate or secret yet"));

    // A key that is not the certificate's is refused and nothing is stored.
    let r = app
        .post_form(
            page,
            "/settings/integrations/entra/certificate",
            &[("certificate_pem", CERT), ("private_key_pem", OTHER_KEY)],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(
        html.contains("does not belong to the certificate"),
        "{html}"
    );

    let r = app
        .post_form(
            page,
            "/settings/integrations/entra/certificate",
            &[("certificate_pem", CERT), ("private_key_pem", KEY)],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("entra_certificate_saved"));
    let after = app.get_text(page).await;
    assert!(after.contains(THUMBPRINT), "thumbprint shown");
    assert!(after.contains("2036-11-23"), "expiry shown");
    assert!(after.contains("signs in with a certificate"));
    let key_line = KEY.lines().nth(1).expect("key body");
    assert!(!after.contains(key_line), "the key is never shown again");

    let (tid, job) = connect_and_sync(&app, &ctl).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let counts = ctl.request_counts(&tid).expect("counts");
    assert!(
        counts.get("token:client_credentials").copied().unwrap_or(0) >= 1,
        "{counts:?}"
    );

    // The API reports the credential, never the key.
    let token = app.admin_token().await;
    let v: serde_json::Value = app
        .client
        .get(app.at("/api/v1/settings/entra"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json");
    assert_eq!(v["credential"], "certificate", "{v}");
    assert_eq!(v["certificate"]["thumbprint"], THUMBPRINT, "{v}");
    assert_eq!(v["has_secret"], false);
    assert!(!v.to_string().contains("PRIVATE"), "{v}");

    // Set and removal are audited.
    let events = app
        .services()
        .audit_page(
            AuditFilter {
                kind: Some("settings.entra_certificate".into()),
                ..Default::default()
            },
            1,
            50,
        )
        .await
        .expect("audit")
        .items;
    assert!(
        events
            .iter()
            .any(|e| e.summary.contains(THUMBPRINT) && e.summary.contains("set")),
        "{events:?}"
    );
    let r = app
        .post_form(page, "/settings/integrations/entra/certificate/remove", &[])
        .await;
    assert_eq!(r.status(), 303);
    let gone = app.get_text(page).await;
    assert!(!gone.contains(THUMBPRINT));
    let events = app
        .services()
        .audit_page(
            AuditFilter {
                kind: Some("settings.entra_certificate".into()),
                ..Default::default()
            },
            1,
            50,
        )
        .await
        .expect("audit")
        .items;
    assert!(
        events.iter().any(|e| e.summary.contains("removed")),
        "{events:?}"
    );
    app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn certificate_files_in_the_config_are_preferred_over_the_secret() {
    let (sim, ctl) = certificate_only_sim().await;
    let (login, graph) = (sim.login_url(), sim.graph_url());
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs");
    let mut app = spawn_app_with(
        move |c| {
            c.microsoft.login_url = login;
            c.microsoft.graph_url = graph;
            c.microsoft.client_id = CLIENT_ID.into();
            // The simulator's app has no secret: only the certificate can work.
            c.microsoft.client_secret = "a-secret-the-simulator-does-not-know".into();
            c.microsoft.certificate_file = format!("{fixtures}/test-only-cert.pem");
            c.microsoft.private_key_file = format!("{fixtures}/test-only-key.pem");
            c.schedule.identity = NEVER.into();
            c.schedule.evidence = NEVER.into();
        },
        builtin_registry(),
    )
    .await;
    let view = app.services().entra_app().await.expect("view");
    assert_eq!(view.credential, "certificate");
    let cert = view.certificate.expect("certificate");
    assert_eq!(cert.thumbprint, THUMBPRINT);
    assert_eq!(cert.source, "config");
    let (_, job) = connect_and_sync(&app, &ctl).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    app.stop().await;
    sim.stop().await;
}
