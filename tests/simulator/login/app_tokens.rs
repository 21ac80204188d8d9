use super::*;

#[tokio::test]
async fn client_credentials_issue_tokens_and_refuse_bad_clients_with_entra_errors() {
    let env = env(3, 0, true).await;
    let tid = env.tid().to_string();
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_i64().is_some_and(|e| e > 300));
    assert!(v.get("refresh_token").is_none());
    // Wrong secret.
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", "nope"),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_aad(&v, "invalid_client", 7000215);
    // Unknown app.
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", "99999999-0000-0000-0000-000000000000"),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "unauthorized_client", 700016);
    // Unknown tenant.
    let (s, v) = token_request(
        &env,
        "0badc0de-0000-4000-8000-000000000000",
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_tenant", 90002);
    // Wrong scope.
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "User.Read"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_scope", 70011);
    // /common is refused for client credentials.
    let (s, v) = token_request(
        &env,
        "common",
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "invalid_request", 9001023);
    // The tenant's verified domain works as the path segment.
    let domain = env.tenant.domain.clone();
    let (s, _) = token_request(
        &env,
        &domain,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(counts(&env).get("token:client_credentials"), Some(&2));
}

#[tokio::test]
async fn admin_consent_approve_and_deny() {
    let env = env(3, 0, true).await;
    let other = env
        .ctl
        .create_tenant(TenantSpec {
            name: "New Client".into(),
            users: 4,
            ..Default::default()
        })
        .expect("tenant");
    let cc = [
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
        ("grant_type", "client_credentials"),
        ("scope", GRAPH_SCOPE),
    ];
    let (s, v) = token_request(&env, &other.id, &cc).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "unauthorized_client", 700016);
    let page = |seg: String| {
        let http = env.http.clone();
        let login = env.login();
        async move {
            http.get(format!("{login}/{seg}/v2.0/adminconsent"))
                .query(&[
                    ("client_id", CLIENT_ID),
                    ("scope", GRAPH_SCOPE),
                    ("redirect_uri", REDIRECT),
                    ("state", "c0nn3ct"),
                ])
                .send()
                .await
                .expect("consent page")
                .text()
                .await
                .expect("html")
        }
    };
    // Deny.
    let html = page(other.id.clone()).await;
    let loc = follow_link(&env, &html, "cancel").await;
    assert!(loc.starts_with(REDIRECT));
    let q = query_of(&loc);
    assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(q.get("error_subcode").map(String::as_str), Some("cancel"));
    assert_eq!(q.get("state").map(String::as_str), Some("c0nn3ct"));
    assert!(
        q.get("error_description")
            .is_some_and(|d| d.starts_with("AADSTS65004"))
    );
    assert_eq!(
        token_request(&env, &other.id, &cc).await.0,
        StatusCode::BAD_REQUEST
    );
    // Approve.
    let html = page(other.id.clone()).await;
    let q = query_of(&follow_link(&env, &html, "accept").await);
    assert_eq!(q.get("admin_consent").map(String::as_str), Some("True"));
    assert_eq!(q.get("tenant"), Some(&other.id));
    assert_eq!(q.get("state").map(String::as_str), Some("c0nn3ct"));
    assert!(!q.contains_key("error"));
    assert_eq!(token_request(&env, &other.id, &cc).await.0, StatusCode::OK);
    // organizations: one Accept per tenant.
    let html = page("organizations".into()).await;
    assert!(html.contains(&format!("accept-{}", other.id)));
    // Unregistered redirect URI: error page, no redirect.
    let r = env
        .http
        .get(format!("{}/{}/v2.0/adminconsent", env.login(), other.id))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", "https://evil.example/cb"),
        ])
        .send()
        .await
        .expect("consent");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn consent_revoked_refuses_tokens_and_graph() {
    let env = env(3, 0, true).await;
    let token = app_token(&env).await;
    env.ctl
        .revoke_consent(env.tid(), CLIENT_ID)
        .expect("revoke");
    let r = get(&env, &format!("{}/organization", env.graph()), &token, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "Authorization_RequestDenied");
    let tid = env.tid().to_string();
    let (s, v) = token_request(
        &env,
        &tid,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad(&v, "unauthorized_client", 700016);
}

#[tokio::test]
async fn discovery_documents_and_key_rotation() {
    let env = env(2, 0, true).await;
    let d: Value = env
        .http
        .get(format!(
            "{}/organizations/v2.0/.well-known/openid-configuration",
            env.login()
        ))
        .send()
        .await
        .expect("d")
        .json()
        .await
        .expect("j");
    assert_eq!(d["issuer"], format!("{}/{{tenantid}}/v2.0", env.login()));
    assert!(d.get("code_challenge_methods_supported").is_none());
    let d: Value = env
        .http
        .get(format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            env.login(),
            env.tenant.domain
        ))
        .send()
        .await
        .expect("d")
        .json()
        .await
        .expect("j");
    assert_eq!(d["issuer"], format!("{}/{}/v2.0", env.login(), env.tid()));
    let r = env
        .http
        .get(format!(
            "{}/nosuch.example/v2.0/.well-known/openid-configuration",
            env.login()
        ))
        .send()
        .await
        .expect("d");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let jwks_url = d["jwks_uri"].as_str().expect("jwks_uri").to_string();
    let kids = |v: Value| {
        v["keys"]
            .as_array()
            .map(|k| {
                k.iter()
                    .filter_map(|x| x["kid"].as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let before = kids(
        env.http
            .get(&jwks_url)
            .send()
            .await
            .expect("j")
            .json()
            .await
            .expect("j"),
    );
    assert_eq!(before.len(), 1);
    env.ctl.rotate_keys();
    let after = kids(
        env.http
            .get(&jwks_url)
            .send()
            .await
            .expect("j")
            .json()
            .await
            .expect("j"),
    );
    assert_eq!(after.len(), 2);
    assert!(
        after.contains(&before[0]),
        "the previous key stays published during roll-over"
    );
    // New id_tokens are signed with the new key.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = authorize(&env, challenge.as_str(), REDIRECT, &admin_upn(&env)).await;
    let (_, v) = redeem(&env, &code, verifier.secret(), REDIRECT).await;
    let header = v["id_token"]
        .as_str()
        .and_then(|t| t.split('.').next())
        .expect("jwt");
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(header["kid"].as_str(), Some(after[0].as_str()));
    assert_ne!(after[0], before[0]);
}
