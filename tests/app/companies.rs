use crate::helpers::*;

#[tokio::test]
async fn create_archive_restore_with_audit_entries() {
    let app = spawn_app().await;
    app.login().await;
    let r = app
        .post_form(
            "/companies/new",
            "/companies",
            &[
                ("name", "Contoso Ltd"),
                ("domain", "contoso.com"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let detail = location(&r);
    let id: u64 = detail
        .trim_start_matches("/companies/")
        .split('?')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("id");
    assert!(app.get_text("/companies").await.contains("Contoso Ltd"));

    // Archive needs a confirmation page, then a POST.
    let confirm = app.get_text(&format!("/companies/{id}/archive")).await;
    assert!(confirm.contains("Archive Contoso Ltd?"));
    let r = app
        .post_form(
            &format!("/companies/{id}/archive"),
            &format!("/companies/{id}/archive"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    let active = app.get_text("/companies").await;
    assert!(
        !active.contains("Contoso Ltd"),
        "archived companies are listed apart"
    );
    assert!(
        app.get_text("/companies?tab=archived")
            .await
            .contains("Contoso Ltd")
    );
    // Read-only while archived.
    let r = app
        .post_form(
            &format!("/companies/{id}"),
            &format!("/companies/{id}/edit"),
            &[("name", "Renamed")],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.expect("body").contains("restore it first"));

    let r = app
        .post_form(
            &format!("/companies/{id}/restore"),
            &format!("/companies/{id}/restore"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(app.get_text("/companies").await.contains("Contoso Ltd"));

    let audit = app.get_text(&format!("/companies/{id}")).await;
    for s in [
        "Created company Contoso Ltd",
        "Archived company Contoso Ltd",
        "Restored company Contoso Ltd",
    ] {
        assert!(audit.contains(s), "company page shows {s:?}");
    }
}

#[tokio::test]
async fn bad_company_input_is_refused_with_a_reason() {
    let app = spawn_app().await;
    app.login().await;
    let r = app
        .post_form(
            "/companies/new",
            "/companies",
            &[("name", "  "), ("domain", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("body").contains("name: is required"));
    let r = app
        .post_form(
            "/companies/new",
            "/companies",
            &[("name", "A"), ("domain", "not a domain")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(app.get("/companies/999999").await.status(), 404);
    assert_eq!(app.get("/companies/not-a-number").await.status(), 404);
}

#[tokio::test]
async fn oversized_forms_get_a_clear_413_and_store_nothing() {
    let app = spawn_app().await;
    app.login().await;
    let token = csrf_in(&app.get_text("/companies/new").await);
    let huge = "x".repeat(1024 * 1024);
    let r = app
        .client
        .post(app.at("/companies"))
        .form(&[("csrf", token.as_str()), ("name", huge.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 413);
    assert!(r.text().await.expect("body").contains("too large"));
    assert!(
        app.get_text("/companies")
            .await
            .contains("No companies yet"),
        "nothing was stored"
    );
}
