use super::*;

#[tokio::test]
async fn auth_code_pkce_round_trip_verifies_against_jwks() {
    let env = env(30, 0, true).await;
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let issuer = IssuerUrl::new(format!("{}/{}/v2.0", env.login(), env.tid())).expect("issuer");
    let md = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        md,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).expect("redirect"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    // Without login_hint: the account picker lists the tenant's users as plain links.
    let picker = env.http.get(url.clone()).send().await.expect("picker");
    assert_eq!(picker.status(), StatusCode::OK);
    let html = picker.text().await.expect("html");
    assert!(
        html.contains("class=\"account\"") && html.contains(&admin_upn(&env)),
        "{html}"
    );
    // The picker link for the admin is the authorize URL + login_hint.
    let r = env
        .http
        .get(format!("{url}&login_hint={}", admin_upn(&env)))
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::FOUND);
    let q = query_of(&location(&r));
    assert_eq!(q.get("state"), Some(csrf.secret()));
    let code = q.get("code").expect("code").clone();
    let tok = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange");
    let idt = openidconnect::TokenResponse::id_token(&tok).expect("id_token");
    let claims = idt
        .claims(&client.id_token_verifier(), &nonce)
        .expect("id_token verifies");
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str().to_string()),
        Some(admin_upn(&env))
    );
    assert_eq!(
        claims.email().map(|e| e.as_str().to_string()),
        Some(admin_upn(&env))
    );
    // Entra claims beyond the standard set.
    let payload = idt
        .to_string()
        .split('.')
        .nth(1)
        .map(str::to_string)
        .expect("payload");
    let raw: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("b64"),
    )
    .expect("json");
    let admin = env
        .ctl
        .list_objects(env.tid(), tenantry::simulator::Kind::User, 0, 1)
        .expect("users");
    assert_eq!(raw["oid"], admin[0]["id"]);
    assert_eq!(raw["tid"], env.tid());
    assert_eq!(raw["ver"], "2.0");
    assert_eq!(raw["iss"], format!("{}/{}/v2.0", env.login(), env.tid()));
    assert_eq!(raw["aud"], CLIENT_ID);
    for c in ["sub", "name", "nonce", "iat", "nbf", "exp"] {
        assert!(raw.get(c).is_some(), "missing claim {c}: {raw}");
    }
}

#[tokio::test]
async fn wrong_verifier_reused_code_and_wrong_redirect_are_refused() {
    let env = env(5, 0, true).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let upn = admin_upn(&env);
    // Wrong verifier.
    let code = authorize(&env, challenge.as_str(), REDIRECT, &upn).await;
    let (s, v) = redeem(
        &env,
        &code,
        "not-the-verifier-0123456789-0123456789-xyz",
        REDIRECT,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_grant", 501481);
    // Wrong redirect URI at redemption.
    let (s, v) = redeem(&env, &code, verifier.secret(), "http://127.0.0.1:9/other").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_grant", 500112);
    // Correct, then reused.
    let (s, v) = redeem(&env, &code, verifier.secret(), REDIRECT).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["id_token"].is_string() && v["access_token"].is_string());
    let (s, v) = redeem(&env, &code, verifier.secret(), REDIRECT).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_grant", 54005);
    // Unknown code.
    let (s, v) = redeem(&env, "1.bogus", verifier.secret(), REDIRECT).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_grant", 70008);
    // Unregistered redirect URI at /authorize: Microsoft's error page, no redirect.
    let r = env
        .http
        .get(format!(
            "{}/{}/oauth2/v2.0/authorize",
            env.login(),
            env.tid()
        ))
        .query(&[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", "https://evil.example/cb"),
            ("code_challenge", "x"),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.expect("body").contains("AADSTS50011"));
    // Missing PKCE: error redirect.
    let r = env
        .http
        .get(format!(
            "{}/{}/oauth2/v2.0/authorize",
            env.login(),
            env.tid()
        ))
        .query(&[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
            ("login_hint", &upn),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        query_of(&location(&r)).get("error").map(String::as_str),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn organizations_authority_form_post_and_id_token_faults() {
    let env = env(8, 0, true).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let r = env
        .http
        .get(format!(
            "{}/organizations/oauth2/v2.0/authorize",
            env.login()
        ))
        .query(&[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("response_mode", "form_post"),
            ("scope", "openid profile"),
            ("state", "fp"),
            ("nonce", "n"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("login_hint", &admin_upn(&env)),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("html");
    assert!(html.contains("method=\"POST\"") && html.contains(&format!("action=\"{REDIRECT}\"")));
    let code = html
        .split("name=\"code\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("code")
        .to_string();
    let (s, v) = token_request(
        &env,
        "organizations",
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.secret()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let payload = v["id_token"]
        .as_str()
        .and_then(|t| t.split('.').nth(1))
        .expect("jwt");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(
        claims["iss"],
        format!("{}/{}/v2.0", env.login(), env.tid()),
        "concrete issuer even via organizations"
    );
    assert!(
        claims.get("email").is_none(),
        "no email claim without the email scope"
    );

    // id_token fault knob: unknown kid is rejected by a standard verifier.
    env.ctl
        .set_login_settings(tenantry::simulator::LoginSettings {
            token_lifetime_secs: 3599,
            id_token_fault: Some(tenantry::simulator::IdTokenFault::UnknownKid),
        });
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let issuer = IssuerUrl::new(format!("{}/{}/v2.0", env.login(), env.tid())).expect("issuer");
    let md = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        md,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).expect("redirect"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let r = env
        .http
        .get(format!("{url}&login_hint={}", admin_upn(&env)))
        .send()
        .await
        .expect("authorize");
    let code = query_of(&location(&r)).get("code").cloned().expect("code");
    let tok = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("ep")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token");
    let idt = openidconnect::TokenResponse::id_token(&tok).expect("id_token");
    assert!(
        idt.claims(&client.id_token_verifier(), &nonce).is_err(),
        "a token signed with an unpublished key must not verify"
    );
}
