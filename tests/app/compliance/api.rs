//! The compliance API's shapes and refusals, as pinned in docs/api.md.

use super::*;

#[tokio::test]
async fn collect_answers_202_with_the_job_and_compliance_has_the_pinned_shape() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 20, 6, true);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    let token = env.app.admin_token().await;
    let (status, body) = api_get(&env, &token, &format!("/companies/{company}/compliance")).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "no_evidence");
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
    assert_eq!(r.status(), 202);
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["job"]["kind"], "evidence_sync");
    assert_eq!(body["job"]["company_id"], company);
    assert_eq!(body["job"]["trigger"], "api");
    let job_id = body["job"]["id"].as_u64().expect("job id");
    assert_eq!(loc, format!("/api/v1/jobs/{job_id}"));
    env.wait_job(job_id).await;

    let (status, c) = api_get(
        &env,
        &token,
        &format!("/companies/{company}/compliance?framework=soc2"),
    )
    .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["framework"], "soc2");
    assert!(c["snapshot"]["collected_at"].is_string());
    assert!(c["snapshot"]["id"].is_u64());
    assert_eq!(c["snapshot"]["job_id"], job_id);
    assert_eq!(c["score"]["framework"], "soc2");
    let controls = c["controls"].as_array().expect("controls");
    assert!(!controls.is_empty());
    for ctl in controls {
        for key in ["id", "title", "status", "summary"] {
            assert!(ctl[key].is_string(), "{key} in {ctl}");
        }
        assert!(ctl["facts"].is_array());
        let fws = ctl["frameworks"].as_array().expect("frameworks");
        assert!(
            fws.iter()
                .any(|f| f["framework"] == "soc2" && f["control_id"].is_string()),
            "every control shown maps to SOC 2: {ctl}"
        );
    }
    let (status, e) = api_get(
        &env,
        &token,
        &format!("/companies/{company}/compliance?framework=soc3"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(e["code"], "unknown_framework");

    // Snapshots, one snapshot, the overview.
    let (status, list) = api_get(
        &env,
        &token,
        &format!("/companies/{company}/evidence?per_page=1"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["per_page"], 1);
    let sid = list["items"][0]["id"].as_u64().expect("snapshot id");
    assert_eq!(sid, c["snapshot"]["id"].as_u64().expect("id"));
    let (status, snap) = api_get(
        &env,
        &token,
        &format!("/companies/{company}/evidence/{sid}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(snap["tenant_id"], t.id.as_str());
    assert_eq!(snap["sources"].as_array().map(Vec::len), Some(7));
    assert!(snap["payloads"].as_array().is_some_and(|p| !p.is_empty()));
    let other = env.company("Other").await;
    let (status, _) = api_get(&env, &token, &format!("/companies/{other}/evidence/{sid}")).await;
    assert_eq!(status, 404, "another company's snapshot");
    let (status, o) = api_get(&env, &token, "/compliance").await;
    assert_eq!(status, 200);
    let row = o["items"]
        .as_array()
        .and_then(|i| i.iter().find(|r| r["company_id"] == company))
        .expect("the company in the overview");
    assert!(row["collected_at"].is_string());
    assert!(o["controls"].as_array().is_some_and(|c| c.len() >= 10));
    let (status, e) = api_get(
        &env,
        &token,
        &format!("/companies/{company}/compliance/export?format=pdf"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(e["code"], "unknown_format");
    env.stop().await;
}

#[tokio::test]
async fn settings_read_and_write_with_the_ui_s_rules() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 10, 4, true);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    let token = env.app.admin_token().await;
    let path = format!("/companies/{company}/evidence/settings");
    let (status, s) = api_get(&env, &token, &path).await;
    assert_eq!(status, 200);
    assert_eq!(s["frameworks"], serde_json::json!([]));
    assert_eq!(s["thresholds"]["mfa_registration_pct"], 95);
    assert_eq!(s["thresholds"]["device_compliance_pct"], 90);
    assert_eq!(s["available_frameworks"].as_array().map(Vec::len), Some(6));
    let put = |body: Value| {
        let req = env
            .app
            .client
            .put(env.app.at(&format!("/api/v1{path}")))
            .bearer_auth(&token)
            .json(&body);
        async move {
            let r = req.send().await.expect("PUT");
            let st = r.status().as_u16();
            (st, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (st, e) = put(serde_json::json!({"frameworks": ["soc9"], "thresholds": {"mfa_registration_pct": 90, "device_compliance_pct": 90}})).await;
    assert_eq!((st, e["code"].as_str()), (400, Some("unknown_framework")));
    let (st, _) = put(serde_json::json!({"frameworks": [], "thresholds": {"mfa_registration_pct": 0, "device_compliance_pct": 90}})).await;
    assert_eq!(st, 400, "a threshold of 0 is refused");
    let (st, s) = put(serde_json::json!({"frameworks": ["cyber_essentials"], "thresholds": {"mfa_registration_pct": 80, "device_compliance_pct": 70}})).await;
    assert_eq!(st, 200, "{s}");
    assert_eq!(s["frameworks"], serde_json::json!(["cyber_essentials"]));
    assert_eq!(s["thresholds"]["device_compliance_pct"], 70);
    collect(&env, company).await;
    let (_, c) = api_get(&env, &token, &format!("/companies/{company}/compliance")).await;
    let scores: Vec<&str> = c["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .filter_map(|s| s["framework"].as_str())
        .collect();
    assert_eq!(
        scores,
        ["cyber_essentials"],
        "only the chosen framework is assessed"
    );
    env.stop().await;
}

#[tokio::test]
async fn collect_for_all_queues_each_connected_active_company_once() {
    let env = sync_env().await;
    let a = env.tenant("Alpha", 5, 2, true);
    let b = env.tenant("Bravo", 5, 0, false);
    let (alpha, _) = env.connect("Alpha", &a.id).await;
    let (bravo, _) = env.connect("Bravo", &b.id).await;
    let archived = env.tenant("Charlie", 5, 0, false);
    let (charlie, _) = env.connect("Charlie", &archived.id).await;
    env.services()
        .archive_company(Actor::system(), charlie)
        .await
        .expect("archived");
    let token = env.app.admin_token().await;
    let r = env
        .app
        .client
        .post(env.app.at("/api/v1/compliance/collect"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["queued"], 2, "{body}");
    for company in [alpha, bravo] {
        let jobs = env
            .services()
            .jobs(Some(company), 1, 10)
            .await
            .expect("jobs");
        let job = jobs
            .items
            .iter()
            .find(|j| j.kind.0 == "evidence_sync")
            .expect("queued");
        env.wait_job(job.id).await;
    }
    let (_, o) = api_get(&env, &token, "/compliance").await;
    let ids: Vec<u64> = o["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|r| r["company_id"].as_u64())
        .collect();
    assert!(ids.contains(&alpha) && ids.contains(&bravo) && !ids.contains(&charlie));
    let (_, by_name) = api_get(&env, &token, "/compliance?sort=name").await;
    let names: Vec<&str> = by_name["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|r| r["company_name"].as_str())
        .collect();
    assert_eq!(names, ["Alpha", "Bravo"]);
    let (status, e) = api_get(&env, &token, "/compliance?sort=best").await;
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid_input")));
    env.stop().await;
}
