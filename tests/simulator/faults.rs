//! Fault knobs: throttling (with Retry-After honoured and provable from the log), 503,
//! malformed page, slow page.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tenantry::simulator::{Fault, FaultKind};

use crate::common::*;

fn fault(kind: FaultKind, endpoint: &str, nth: u64, times: u32) -> Fault {
    Fault {
        kind,
        endpoint: Some(endpoint.into()),
        nth,
        times,
        seen: 0,
    }
}

/// A minimal well-behaved client: retries 429/503 after Retry-After (seconds, fractional).
async fn get_with_retry(env: &Env, url: &str, token: &str) -> Resp {
    loop {
        let r = get(env, url, token, &[]).await;
        if r.status != StatusCode::TOO_MANY_REQUESTS && r.status != StatusCode::SERVICE_UNAVAILABLE
        {
            return r;
        }
        let secs: f64 = r
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.1);
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    }
}

#[tokio::test]
async fn throttle_on_nth_call_with_fractional_and_integer_retry_after() {
    let env = env(30, 0, true).await;
    env.ctl
        .update_tenant(
            env.tid(),
            tenantry::simulator::TenantPatch {
                delta_page_size: Some(10),
                ..Default::default()
            },
        )
        .expect("patch");
    let token = app_token(&env).await;
    env.ctl
        .add_fault(
            env.tid(),
            fault(
                FaultKind::Throttle {
                    retry_after: Some("0.35".into()),
                },
                "users/delta",
                2,
                1,
            ),
        )
        .expect("fault");
    env.ctl
        .add_fault(
            env.tid(),
            fault(
                FaultKind::Throttle {
                    retry_after: Some("1".into()),
                },
                "organization",
                1,
                1,
            ),
        )
        .expect("fault");
    let first = get(&env, &format!("{}/users/delta", env.graph()), &token, &[]).await;
    assert_eq!(first.status, StatusCode::OK);
    let next = first.json()["@odata.nextLink"]
        .as_str()
        .expect("next")
        .to_string();
    let raw = get(&env, &next, &token, &[]).await;
    assert_eq!(raw.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(raw.header("retry-after").as_deref(), Some("0.35"));
    let e = raw.json();
    assert_eq!(e["error"]["code"], "TooManyRequests");
    assert_eq!(e["error"]["innerError"]["status"], "429");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let ok = get_with_retry(&env, &next, &token).await;
    assert_eq!(ok.status, StatusCode::OK);
    let org = get_with_retry(&env, &format!("{}/organization", env.graph()), &token).await;
    assert_eq!(org.status, StatusCode::OK);
    // The log proves the retries waited at least Retry-After.
    let log = env.ctl.request_log(env.tid()).expect("log");
    for (i, entry) in log.iter().enumerate().filter(|(_, e)| e.status == 429) {
        let wait: f64 = entry
            .retry_after
            .as_deref()
            .and_then(|r| r.parse().ok())
            .expect("retry_after logged");
        let retry = log[i + 1..]
            .iter()
            .find(|e| e.endpoint == entry.endpoint)
            .expect("a retry");
        assert!(
            retry.at_ms - entry.at_ms >= (wait * 1000.0) as i64,
            "{entry:?} then {retry:?}"
        );
        assert_eq!(entry.fault.as_deref(), Some("throttle"));
    }
    assert_eq!(log.iter().filter(|e| e.status == 429).count(), 2);
    assert_eq!(counts(&env).get("users/delta?skiptoken"), Some(&2));
}

#[tokio::test]
async fn throttle_without_retry_after_and_503() {
    let env = env(5, 0, true).await;
    let token = app_token(&env).await;
    env.ctl
        .set_faults(
            env.tid(),
            vec![
                fault(
                    FaultKind::Throttle { retry_after: None },
                    "identity/conditionalAccess/policies",
                    1,
                    1,
                ),
                fault(
                    FaultKind::Unavailable {
                        retry_after: Some("2".into()),
                    },
                    "organization",
                    1,
                    1,
                ),
                fault(
                    FaultKind::Unavailable { retry_after: None },
                    "organization",
                    2,
                    1,
                ),
            ],
        )
        .expect("faults");
    let r = get(
        &env,
        &format!("{}/identity/conditionalAccess/policies", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.header("retry-after").is_none(),
        "CA never sends Retry-After"
    );
    let r = get(&env, &format!("{}/organization", env.graph()), &token, &[]).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.header("retry-after").as_deref(), Some("2"));
    let r = get(&env, &format!("{}/organization", env.graph()), &token, &[]).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.header("retry-after").is_none());
    let r = get(&env, &format!("{}/organization", env.graph()), &token, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_and_slow_pages() {
    let env = env(5, 5, true).await;
    let token = app_token(&env).await;
    env.ctl
        .add_fault(
            env.tid(),
            fault(
                FaultKind::Malformed,
                "deviceManagement/managedDevices",
                1,
                1,
            ),
        )
        .expect("fault");
    env.ctl
        .add_fault(
            env.tid(),
            fault(FaultKind::Slow { delay_ms: 400 }, "organization", 1, 0),
        )
        .expect("fault");
    let r = get(
        &env,
        &format!("{}/deviceManagement/managedDevices", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        serde_json::from_str::<serde_json::Value>(&r.text).is_err(),
        "body must be invalid JSON"
    );
    let r = get(
        &env,
        &format!("{}/deviceManagement/managedDevices", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.json()["value"].as_array().map(Vec::len), Some(5));
    for _ in 0..2 {
        let t = Instant::now();
        let r = get(&env, &format!("{}/organization", env.graph()), &token, &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            t.elapsed() >= Duration::from_millis(400),
            "times = 0 keeps every call slow"
        );
    }
    let log = env.ctl.request_log(env.tid()).expect("log");
    assert_eq!(
        log.iter()
            .filter(|e| e.fault.as_deref() == Some("slow"))
            .count(),
        2
    );
}

#[tokio::test]
async fn control_api_over_http() {
    let env = env(5, 0, true).await;
    let (s, v) = control(
        &env,
        reqwest::Method::POST,
        "tenants",
        Some(serde_json::json!({"name": "Via HTTP", "users": 12, "intune": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let tid = v["id"].as_str().expect("id").to_string();
    let (s, user) = control(
        &env,
        reqwest::Method::POST,
        &format!("tenants/{tid}/users"),
        Some(serde_json::json!({"displayName": "Ana", "userPrincipalName": "ana@viahttp.example"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{user}");
    let uid = user["id"].as_str().expect("id");
    let (s, v) = control(
        &env,
        reqwest::Method::PATCH,
        &format!("tenants/{tid}/users/{uid}"),
        Some(serde_json::json!({"jobTitle": "Chef"})),
    )
    .await;
    assert_eq!((s, v["jobTitle"].as_str()), (StatusCode::OK, Some("Chef")));
    let (s, _) = control(
        &env,
        reqwest::Method::PATCH,
        &format!("tenants/{tid}/users/{uid}"),
        Some(serde_json::json!({"jobTitel": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "unknown properties are refused");
    let (s, v) = control(
        &env,
        reqwest::Method::GET,
        &format!("tenants/{tid}/users?top=100"),
        None,
    )
    .await;
    assert_eq!((s, v.as_array().map(Vec::len)), (StatusCode::OK, Some(13)));
    let (s, _) = control(&env, reqwest::Method::PUT, &format!("tenants/{tid}/faults"), Some(serde_json::json!([{"kind": "throttle", "retry_after": "2.128", "endpoint": "users/delta", "nth": 3}]))).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = control(
        &env,
        reqwest::Method::GET,
        &format!("tenants/{tid}/requests"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(v.is_object());
    let (s, _) = control(
        &env,
        reqwest::Method::GET,
        "tenants/0badc0de-0000-4000-8000-000000000000",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn natural_rate_limits_when_enforced() {
    let env = env(5, 0, true).await;
    let token = app_token(&env).await;
    env.ctl
        .update_tenant(
            env.tid(),
            tenantry::simulator::TenantPatch {
                enforce_rate_limits: Some(true),
                ..Default::default()
            },
        )
        .expect("patch");
    let ca = format!("{}/identity/conditionalAccess/policies", env.graph());
    assert_eq!(get(&env, &ca, &token, &[]).await.status, StatusCode::OK);
    let r = get(&env, &ca, &token, &[]).await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "CA allows 1 request/s per tenant"
    );
    assert!(r.header("retry-after").is_none());
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(get(&env, &ca, &token, &[]).await.status, StatusCode::OK);
    let reports = format!(
        "{}/reports/authenticationMethods/userRegistrationDetails",
        env.graph()
    );
    for _ in 0..5 {
        assert_eq!(
            get(&env, &reports, &token, &[]).await.status,
            StatusCode::OK
        );
    }
    let r = get(&env, &reports, &token, &[]).await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "reports allow 5 requests/10 s"
    );
    let wait: f64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(wait > 0.0 && wait <= 10.0);
    let log = env.ctl.request_log(env.tid()).expect("log");
    assert_eq!(
        log.iter()
            .filter(|e| e.fault.as_deref() == Some("rate_limit"))
            .count(),
        2
    );
}

#[tokio::test]
async fn custom_errors_expired_secret_and_consent_error() {
    let env = env(3, 3, true).await;
    let token = app_token(&env).await;
    env.ctl
        .add_fault(
            env.tid(),
            fault(
                FaultKind::Error {
                    status: 403,
                    code: "UnknownError".into(),
                    message: "{\"ErrorCode\":\"Forbidden\",\"Message\":\"{}\"}".into(),
                    retry_after: None,
                },
                "deviceManagement/managedDevices",
                1,
                1,
            ),
        )
        .expect("fault");
    let r = get(
        &env,
        &format!("{}/deviceManagement/managedDevices", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "UnknownError");
    // Consent error instead of a grant.
    env.ctl
        .update_tenant(
            env.tid(),
            tenantry::simulator::TenantPatch {
                consent_error: Some(tenantry::simulator::ConsentError {
                    error: "consent_required".into(),
                    aadsts: 90094,
                    description: "Admin consent is required.".into(),
                }),
                ..Default::default()
            },
        )
        .expect("patch");
    let html = env
        .http
        .get(format!("{}/{}/v2.0/adminconsent", env.login(), env.tid()))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
        ])
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let href = html
        .split("id=\"accept\"")
        .nth(1)
        .and_then(|r| r.split("href=\"").nth(1))
        .and_then(|r| r.split('"').next())
        .expect("href")
        .replace("&amp;", "&");
    let r = env.http.get(href).send().await.expect("accept");
    let q = query_of(
        r.headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    );
    assert_eq!(q.get("error").map(String::as_str), Some("consent_required"));
    assert_eq!(
        q.get("admin_consent").map(String::as_str),
        Some("True"),
        "Microsoft's doc example: check error first"
    );
    assert!(
        q.get("error_description")
            .is_some_and(|d| d.starts_with("AADSTS90094"))
    );
    // Expired secret.
    env.ctl
        .register_app(tenantry::simulator::SimApp {
            client_id: CLIENT_ID.into(),
            client_secret: SECRET.into(),
            redirect_uris: vec![REDIRECT.into()],
            name: "x".into(),
            secret_expired: true,
        })
        .expect("app");
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
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error_codes"][0], 7000222);
}
