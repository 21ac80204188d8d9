//! What the Compliance pages and API refuse: forms without the session's CSRF token, and
//! collections for archived or unconnected companies (as identity sync refuses them).

use super::*;

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused_and_queue_nothing() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 5, 2, true);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    env.app.login().await;
    let jobs_before = env
        .services()
        .jobs(Some(company), 1, 50)
        .await
        .expect("jobs")
        .total;
    for (path, form) in [
        (format!("/companies/{company}/evidence/collect"), vec![]),
        ("/compliance/collect".to_string(), vec![]),
        (
            format!("/companies/{company}/compliance/settings"),
            vec![
                ("framework_soc2", "on"),
                ("mfa_registration_pct", "50"),
                ("device_compliance_pct", "50"),
            ],
        ),
    ] {
        let r = env.app.post_raw(&path, &form).await;
        assert_eq!(r.status(), 403, "{path} without a token");
        let mut with_wrong = form.clone();
        with_wrong.push(("csrf", "not-the-token"));
        let r = env.app.post_raw(&path, &with_wrong).await;
        assert_eq!(r.status(), 403, "{path} with a wrong token");
    }
    let jobs_after = env
        .services()
        .jobs(Some(company), 1, 50)
        .await
        .expect("jobs")
        .total;
    assert_eq!(jobs_before, jobs_after, "nothing queued");
    assert_eq!(
        env.services()
            .evidence_settings(company)
            .await
            .expect("settings"),
        tenantry::model::EvidenceSettings::default(),
        "nothing saved"
    );
    env.stop().await;
}

#[tokio::test]
async fn archived_and_unconnected_companies_are_refused_collection_on_the_page_and_the_api() {
    let env = sync_env().await;
    let t = env.tenant("Tailspin Toys", 5, 2, true);
    let (archived, _) = env.connect("Tailspin Toys", &t.id).await;
    env.services()
        .archive_company(Actor::system(), archived)
        .await
        .expect("archived");
    let unconnected = env.company("Woodgrove Bank").await;
    env.app.login().await;
    let token = env.app.admin_token().await;
    for company in [archived, unconnected] {
        let r = env
            .app
            .get(&format!("/companies/{company}/evidence/collect"))
            .await;
        assert_eq!(r.status(), 409, "the confirmation page refuses");
        let r = env
            .app
            .post_form(
                &format!("/companies/{company}/compliance"),
                &format!("/companies/{company}/evidence/collect"),
                &[],
            )
            .await;
        assert_eq!(r.status(), 409, "the form refuses");
        let r = env
            .app
            .client
            .post(
                env.app
                    .at(&format!("/api/v1/companies/{company}/evidence/collect")),
            )
            .bearer_auth(&token)
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 409);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["code"], "conflict");
        let page = env
            .app
            .get_text(&format!("/companies/{company}/compliance"))
            .await;
        assert!(
            !page.contains(&format!("href=\"/companies/{company}/evidence/collect\"")),
            "no Collect button where it cannot work"
        );
    }
    let page = env
        .app
        .get_text(&format!("/companies/{archived}/compliance"))
        .await;
    assert!(page.contains("Archived: restore the company to collect evidence."));
    assert!(!page.contains(&format!(
        "action=\"/companies/{archived}/compliance/settings\""
    )));
    // Its settings are read-only too, on the page and through the API.
    let r = env
        .app
        .post_form(
            &format!("/companies/{archived}/compliance"),
            &format!("/companies/{archived}/compliance/settings"),
            &[
                ("framework_soc2", "on"),
                ("mfa_registration_pct", "50"),
                ("device_compliance_pct", "50"),
            ],
        )
        .await;
    assert_eq!(r.status(), 409);
    let r = env
        .app
        .client
        .put(env.app.at(&format!("/api/v1/companies/{archived}/evidence/settings")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"frameworks": ["soc2"], "thresholds": {"mfa_registration_pct": 50, "device_compliance_pct": 50}}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(r.status(), 409);
    assert_eq!(
        env.services()
            .evidence_settings(archived)
            .await
            .expect("settings"),
        tenantry::model::EvidenceSettings::default(),
        "nothing saved for the archived company"
    );
    let jobs = env
        .services()
        .jobs(Some(archived), 1, 50)
        .await
        .expect("jobs");
    assert!(
        jobs.items.iter().all(|j| j.kind.0 != "evidence_sync"),
        "no collection queued for the archived company"
    );
    env.stop().await;
}
