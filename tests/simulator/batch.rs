//! `POST /v1.0/$batch` answers GET sub-requests as Graph documents: ids, per-response status
//! and body, at most 20 steps, sub-requests counted and throttled one by one.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenantry::simulator::TenantPatch;

use crate::common::*;

async fn post_batch(env: &Env, token: &str, body: Value) -> (StatusCode, Value) {
    let r = env
        .http
        .post(format!("{}/$batch", env.graph()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("batch");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_batch_answers_each_get_with_its_id_status_and_the_same_body_as_a_direct_call() {
    let env = env(30, 10, true).await;
    let token = app_token(&env).await;
    let g = env.graph();
    let users = list_all(
        &env,
        &format!("{g}/reports/authenticationMethods/userRegistrationDetails"),
        &token,
    )
    .await;
    let uid = users[3]["id"].as_str().expect("id").to_string();
    let urls = [
        format!("/users/{uid}/authentication/methods"),
        "/subscribedSkus".to_string(),
        "/roleManagement/directory/roleAssignments?$expand=principal".to_string(),
        "users/00000000-0000-0000-0000-000000000000/authentication/methods".to_string(),
    ];
    let requests: Vec<Value> = urls
        .iter()
        .enumerate()
        .map(|(i, u)| json!({"id": format!("r{i}"), "method": "GET", "url": u}))
        .collect();
    let (s, v) = post_batch(&env, &token, json!({ "requests": requests })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let responses = v["responses"].as_array().expect("responses");
    assert_eq!(responses.len(), urls.len());
    for (i, u) in urls.iter().enumerate() {
        let r = responses
            .iter()
            .find(|r| r["id"] == format!("r{i}"))
            .expect("a response for every id");
        let direct = get(
            &env,
            &format!("{g}/{}", u.trim_start_matches('/')),
            &token,
            &[],
        )
        .await;
        assert_eq!(r["status"], direct.status.as_u16(), "{u}");
        let (mut a, mut b) = (r["body"].clone(), direct.json());
        if direct.status == StatusCode::OK {
            assert_eq!(a, b, "{u}");
        } else {
            // request ids and dates differ between calls; the error itself must not.
            a["error"]["innerError"] = Value::Null;
            b["error"]["innerError"] = Value::Null;
            assert_eq!(a, b, "{u}");
        }
    }
    let counts = counts(&env);
    assert_eq!(counts.get("$batch"), Some(&1));
    assert_eq!(
        counts.get("subscribedSkus"),
        Some(&2),
        "sub-requests count like requests"
    );
}

#[tokio::test]
async fn a_batch_of_more_than_twenty_requests_is_refused_whole() {
    let env = env(5, 0, true).await;
    let token = app_token(&env).await;
    let steps = |n: usize| -> Value {
        json!({"requests": (0..n).map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/organization"})).collect::<Vec<_>>()})
    };
    let (s, v) = post_batch(&env, &token, steps(21)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["code"], "BadRequest");
    let (s, v) = post_batch(&env, &token, steps(20)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["responses"].as_array().map(Vec::len), Some(20));
    let dup = json!({"requests": [{"id": "1", "method": "GET", "url": "/organization"}, {"id": "1", "method": "GET", "url": "/subscribedSkus"}]});
    assert_eq!(
        post_batch(&env, &token, dup).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn sub_requests_are_throttled_one_by_one_inside_a_successful_batch() {
    let env = env(5, 0, true).await;
    let token = app_token(&env).await;
    env.ctl
        .update_tenant(
            env.tid(),
            TenantPatch {
                enforce_rate_limits: Some(true),
                ..Default::default()
            },
        )
        .expect("patch");
    let ca = |id: &str| json!({"id": id, "method": "GET", "url": "/identity/conditionalAccess/policies"});
    let (s, v) = post_batch(&env, &token, json!({"requests": [ca("a"), ca("b")]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let status = |id: &str| {
        v["responses"]
            .as_array()
            .and_then(|r| r.iter().find(|x| x["id"] == id))
            .map(|x| {
                (
                    x["status"].as_u64(),
                    x["headers"].get("Retry-After").is_some(),
                )
            })
    };
    assert_eq!(status("a"), Some((Some(200), false)));
    assert_eq!(
        status("b"),
        Some((Some(429), false)),
        "CA 429s carry no Retry-After"
    );
}

#[tokio::test]
async fn a_batch_refuses_writes_and_unknown_paths_per_response() {
    let env = env(5, 0, true).await;
    let token = app_token(&env).await;
    let body = json!({"requests": [
        {"id": "w", "method": "PATCH", "url": "/organization", "body": {}, "headers": {"Content-Type": "application/json"}},
        {"id": "u", "method": "GET", "url": "/me/planner/tasks"},
    ]});
    let (s, v) = post_batch(&env, &token, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let st = |id: &str| {
        v["responses"]
            .as_array()
            .and_then(|r| r.iter().find(|x| x["id"] == id))
            .and_then(|x| x["status"].as_u64())
    };
    assert_eq!(st("w"), Some(405));
    assert_eq!(st("u"), Some(400));
}
