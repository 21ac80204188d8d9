//! Staff "Sign in with Microsoft" against the simulator, through real redirects: the happy
//! path, and every refusal the issue lists, each with a clear message and an audit entry.

use crate::helpers::*;
use crate::sso_helpers::*;
use tenantry::domain::sso::StaffSso;
use tenantry::model::Outcome;
use tenantry::simulator::IdTokenFault;

async fn add_staff(env: &SsoEnv, email: &str) {
    let new = tenantry::domain::staff::NewStaff::parse(email, "Tech One", "technician", None)
        .expect("staff input");
    env.env
        .services()
        .create_staff(tenantry::domain::authority::AdminActor::system(), new)
        .await
        .expect("staff created");
}

#[tokio::test]
async fn staff_sign_in_links_by_directory_email_then_by_object_id() {
    let env = sso_env().await;
    let user = env.user(&env.msp.id, 1);
    let email = upn(&user).to_lowercase();
    add_staff(&env, &email).await;
    let app = env.app();

    let login = app.get_text("/login").await;
    assert!(login.contains("Sign in with Microsoft"), "button shown");

    let r = staff_sign_in(app, &email).await;
    assert_eq!(r.status(), 303, "signed in");
    assert_eq!(location(&r), "/companies");
    let page = app.get_text("/companies").await;
    assert!(page.contains(&email), "signed in as the linked account");

    let oid = user["id"].as_str().expect("id").to_string();
    let staff = env
        .env
        .services()
        .staff_users()
        .await
        .expect("staff")
        .into_iter()
        .find(|u| u.email.as_str() == email)
        .expect("staff user");
    assert_eq!(staff.entra_object_id.as_deref(), Some(oid.as_str()));
    let links = env.audit("staff.sso_link").await;
    assert_eq!(links.len(), 1, "linked once");
    assert!(
        env.audit("staff.sign_in")
            .await
            .iter()
            .any(|e| e.outcome == Outcome::Success && e.summary.contains("(Microsoft)")),
        "sign-in audited"
    );

    // Sign out, rename the account: the next sign-in still finds it, by object id.
    let renamed = tenantry::model::Email::parse("renamed@example.com").expect("email");
    let mut u = staff.clone();
    u.email = renamed.clone();
    env.env
        .services()
        .store_handle()
        .write(move |w| w.put_staff(&u))
        .await
        .expect("renamed");
    let app2 = second_browser(app);
    let r = staff_sign_in(&app2, &email).await;
    assert_eq!(r.status(), 303, "matched by object id");
    assert!(
        app2.get_text("/companies")
            .await
            .contains("renamed@example.com")
    );
    assert_eq!(env.audit("staff.sso_link").await.len(), 1, "no second link");
}

#[tokio::test]
async fn unknown_staff_is_refused_and_audited() {
    let env = sso_env().await;
    let user = env.user(&env.msp.id, 2);
    let r = staff_sign_in(env.app(), &upn(&user)).await;
    assert_eq!(r.status(), 403);
    let body = r.text().await.expect("body");
    assert!(body.contains("has no Tenantry staff account"), "{body}");
    let refused = env.audit("staff.sign_in").await;
    let e = refused
        .iter()
        .find(|e| e.outcome == Outcome::Failure)
        .expect("refusal audited");
    assert_eq!(e.details["code"], "unknown_staff");
    assert!(
        env.app().get("/companies").await.status() == 303,
        "not signed in"
    );
}

#[tokio::test]
async fn replayed_or_unbound_state_is_refused() {
    let env = sso_env().await;
    let user = env.user(&env.msp.id, 1);
    add_staff(&env, &upn(&user)).await;
    let app = env.app();
    let to = start_staff(app).await;
    let AtMicrosoft::Callback(cb) = at_microsoft(&to, &upn(&user)).await else {
        panic!("no callback");
    };
    let first = app.client.get(&cb).send().await.expect("callback");
    assert_eq!(first.status(), 303, "first use signs in");
    let again = app.client.get(&cb).send().await.expect("replay");
    assert_eq!(again.status(), 403, "a state works once");
    assert!(again.text().await.expect("body").contains("already used"));

    // A callback link from someone else's sign-in (this browser never started it).
    let attacker = second_browser(app);
    let to = start_staff(&attacker).await;
    let AtMicrosoft::Callback(cb) = at_microsoft(&to, &upn(&user)).await else {
        panic!("no callback");
    };
    let victim = client();
    let r = victim.get(&cb).send().await.expect("forged");
    assert_eq!(r.status(), 403, "state not bound to this browser");
    let codes: Vec<_> = env
        .audit("staff.sign_in")
        .await
        .into_iter()
        .filter(|e| e.outcome == Outcome::Failure)
        .map(|e| e.details["code"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        codes.iter().filter(|c| *c == "invalid_state").count(),
        2,
        "{codes:?}"
    );
}

#[tokio::test]
async fn bad_id_tokens_are_refused_with_a_reason() {
    let env = sso_env().await;
    let user = env.user(&env.msp.id, 1);
    add_staff(&env, &upn(&user)).await;
    let cases = [
        (
            IdTokenFault::ForeignTenant,
            "another organisation",
            "wrong_tenant",
        ),
        (IdTokenFault::WrongNonce, "nonce mismatch", "nonce_mismatch"),
        (
            IdTokenFault::MissingNonce,
            "nonce mismatch",
            "nonce_mismatch",
        ),
        (IdTokenFault::Expired, "has expired", "id_token_expired"),
        (
            IdTokenFault::WrongAudience,
            "another application",
            "wrong_audience",
        ),
        (
            IdTokenFault::UnknownKid,
            "not signed by Microsoft",
            "bad_signature",
        ),
        (
            IdTokenFault::WrongIssuer,
            "could not be verified",
            "invalid_id_token",
        ),
    ];
    for (fault, words, code) in cases {
        env.set_fault(Some(fault));
        let r = staff_sign_in(env.app(), &upn(&user)).await;
        assert_eq!(r.status(), 403, "{fault:?} refused");
        let body = r.text().await.expect("body");
        assert!(body.contains(words), "{fault:?}: {body}");
        let last = env
            .audit("staff.sign_in")
            .await
            .into_iter()
            .find(|e| e.outcome == Outcome::Failure)
            .expect("audited");
        assert_eq!(last.details["code"], code, "{fault:?}");
        assert_eq!(
            env.app().get("/companies").await.status(),
            303,
            "{fault:?}: no session"
        );
    }
    env.set_fault(None);
    let r = staff_sign_in(env.app(), &upn(&user)).await;
    assert_eq!(r.status(), 303, "a good token still works");
}

#[tokio::test]
async fn a_user_of_another_tenant_cannot_get_a_code_for_ours() {
    let env = sso_env().await;
    let other = env.env.tenant("Elsewhere Ltd", 3, 0, false);
    let stranger = env.user(&other.id, 1);
    let to = start_staff(env.app()).await;
    match at_microsoft(&to, &upn(&stranger)).await {
        AtMicrosoft::Page(p) => assert!(p.contains("No account matches"), "{p}"),
        AtMicrosoft::Callback(cb) => panic!("a code for another tenant's user: {cb}"),
    }
}

#[tokio::test]
async fn password_sign_in_can_be_limited_to_this_machine() {
    let env = sso_env().await;
    let s = env.env.services();
    s.update_staff_sso(
        tenantry::domain::authority::AdminActor::system(),
        StaffSso {
            enabled: true,
            local_login_loopback_only: true,
            ..Default::default()
        },
    )
    .await
    .expect("saved");
    let app = env.app();
    // Through a proxy (it adds X-Forwarded-For): refused.
    let page = app.get_text("/login").await;
    let token = csrf_in(&page);
    let r = app
        .client
        .post(app.at("/login"))
        .header("x-forwarded-for", "203.0.113.7")
        .form(&[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("only allowed from this machine")
    );
    // Directly on loopback: the break-glass path works.
    let r = app.login_as(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn sso_settings_page_saves_and_refuses_a_bad_group_id() {
    let env = sso_env().await;
    let app = env.app();
    app.login().await;
    let page = app.get_text("/settings/authentication").await;
    assert!(page.contains("/auth/callback"), "redirect URI shown");
    let r = app
        .post_form(
            "/settings/authentication",
            "/settings/authentication",
            &[("enabled", "on"), ("auto_create_group_id", "not-a-guid")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("body").contains("object id"));
    let r = app
        .post_form(
            "/settings/authentication",
            "/settings/authentication",
            &[("enabled", "on"), ("match_email", "on")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let saved = env.env.services().staff_sso().await.expect("sso");
    assert!(saved.enabled && saved.match_email && !saved.local_login_loopback_only);
    assert!(!env.audit("settings.sso").await.is_empty(), "audited");
}

#[tokio::test]
async fn members_of_the_auto_create_group_become_technicians() {
    let env = sso_env().await;
    let ctl = &env.env.ctl;
    // A fresh group with exactly one member (generated groups nest, so "not a direct member"
    // would not mean "not a member").
    let mut props = serde_json::Map::new();
    props.insert(
        "displayName".into(),
        serde_json::json!("Tenantry technicians"),
    );
    props.insert("mailEnabled".into(), serde_json::json!(false));
    props.insert("securityEnabled".into(), serde_json::json!(true));
    let group = ctl
        .create_object(&env.msp.id, tenantry::simulator::Kind::Group, props)
        .expect("group created");
    let gid = group["id"].as_str().expect("id").to_string();
    let id_of =
        |u: &serde_json::Map<String, serde_json::Value>| u["id"].as_str().expect("id").to_string();
    let insider = env.user(&env.msp.id, 3);
    let outsider = env.user(&env.msp.id, 4);
    ctl.add_member(&env.msp.id, &gid, &id_of(&insider))
        .expect("added to the group");
    env.env
        .services()
        .update_staff_sso(
            tenantry::domain::authority::AdminActor::system(),
            StaffSso {
                enabled: true,
                auto_create_group_id: gid.clone(),
                ..Default::default()
            },
        )
        .await
        .expect("saved");

    let r = staff_sign_in(env.app(), &upn(&outsider)).await;
    assert_eq!(r.status(), 403, "not in the group: no account");

    let browser = second_browser(env.app());
    let r = staff_sign_in(&browser, &upn(&insider)).await;
    assert_eq!(r.status(), 303, "a member gets an account");
    let created = env
        .env
        .services()
        .staff_users()
        .await
        .expect("staff")
        .into_iter()
        .find(|u| u.entra_object_id.as_deref() == Some(id_of(&insider).as_str()))
        .expect("created");
    assert_eq!(created.role, tenantry::model::Role::Technician);
    assert!(created.password_hash.is_none(), "Microsoft sign-in only");
    assert!(
        env.audit("staff.create")
            .await
            .iter()
            .any(|e| e.summary.contains("first Microsoft sign-in"))
    );
    // Technicians cannot open settings.
    assert_eq!(browser.get("/settings/authentication").await.status(), 403);
}

#[tokio::test]
async fn sign_in_authenticates_with_the_certificate_when_there_is_no_secret() {
    let env = sso_env().await;
    let user = env.user(&env.msp.id, 1);
    add_staff(&env, &upn(&user)).await;
    let cert = include_str!("../fixtures/certs/test-only-cert.pem");
    let key = include_str!("../fixtures/certs/test-only-key.pem");
    let ctl = &env.env.ctl;
    ctl.add_app_certificate(crate::sync_helpers::CLIENT_ID, cert)
        .expect("certificate uploaded");
    // The app loses its secret: only a signed client assertion can redeem the code now.
    let mut app = ctl
        .apps()
        .into_iter()
        .find(|a| a.client_id == crate::sync_helpers::CLIENT_ID)
        .expect("app");
    app.client_secret = String::new();
    ctl.register_app(app).expect("secret removed");
    env.env
        .services()
        .set_entra_certificate(tenantry::domain::authority::AdminActor::system(), key, cert)
        .await
        .expect("certificate stored");
    let r = staff_sign_in(env.app(), &upn(&user)).await;
    assert_eq!(r.status(), 303, "signed in with a client assertion");
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_again() {
    let env = sso_env().await;
    let user = env.user(&env.msp.id, 1);
    add_staff(&env, &upn(&user)).await;
    // First sign-in: discovery and the JWKS are fetched and cached.
    assert_eq!(staff_sign_in(env.app(), &upn(&user)).await.status(), 303);
    let before = env.env.counts(&env.msp.id);
    env.env.ctl.rotate_keys();
    // Microsoft signs with a key we have never seen: the JWKS is fetched again, once.
    let browser = second_browser(env.app());
    let r = staff_sign_in(&browser, &upn(&user)).await;
    assert_eq!(r.status(), 303, "accepted after refetching the keys");
    let after = env.env.counts(&env.msp.id);
    let fetched = |m: &std::collections::BTreeMap<String, u64>| {
        m.get("openid-configuration").copied().unwrap_or(0)
    };
    assert_eq!(
        fetched(&after),
        fetched(&before) + 1,
        "{before:?} → {after:?}"
    );
}

#[tokio::test]
async fn an_unreadable_directory_refuses_the_sign_in_with_a_reason_and_an_audit_entry() {
    let env = sso_env().await;
    let user = env.user(&env.msp.id, 1);
    add_staff(&env, &upn(&user)).await;
    // The first sign-in reads the user from Graph to match the e-mail: make that fail.
    env.env
        .ctl
        .add_fault(
            &env.msp.id,
            tenantry::simulator::Fault {
                kind: tenantry::simulator::FaultKind::Error {
                    status: 403,
                    code: "Authorization_RequestDenied".into(),
                    message: "Insufficient privileges to complete the operation.".into(),
                    retry_after: None,
                },
                endpoint: Some("users/{id}".into()),
                nth: 1,
                times: 0,
                seen: 0,
            },
        )
        .expect("fault set");
    let r = staff_sign_in(env.app(), &upn(&user)).await;
    assert_eq!(r.status(), 403);
    let body = r.text().await.expect("body");
    assert!(body.contains("could not read your account"), "{body}");
    let e = env
        .audit("staff.sign_in")
        .await
        .into_iter()
        .find(|e| e.outcome == Outcome::Failure)
        .expect("audited");
    assert_eq!(e.details["code"], "sign_in_unavailable");
    assert!(
        e.summary.contains("Insufficient privileges"),
        "{}",
        e.summary
    );
}
