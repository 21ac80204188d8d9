use super::*;

#[tokio::test]
async fn contacts_assets_and_jobs_list_across_companies() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let a = create_company(&app, &t, "Alpha").await;
    let b = create_company(&app, &t, "Beta").await;
    let now = chrono::Utc::now();
    app.services()
        .store_handle()
        .write(move |w| {
            for (company, name) in [(a, "Zed"), (a, "Amy"), (b, "Bob")] {
                let id = w.next_id("contact")?;
                w.put_contact(&tenantry::model::Contact {
                    id,
                    company_id: company,
                    display_name: name.into(),
                    email: format!("{}@example.com", name.to_lowercase()),
                    department: String::new(),
                    job_title: String::new(),
                    upn: String::new(),
                    account_enabled: true,
                    active: true,
                    is_guest: false,
                    entra_object_id: None,
                    created_at: now,
                    updated_at: now,
                })?;
            }
            for (company, host) in [(a, "pc-1"), (b, "pc-2")] {
                let id = w.next_id("asset")?;
                w.put_asset(&tenantry::model::Asset {
                    id,
                    company_id: company,
                    hostname: host.into(),
                    os: "Windows".into(),
                    os_version: "11".into(),
                    serial_number: format!("SN-{host}"),
                    compliance_state: String::new(),
                    last_check_in: None,
                    primary_user_contact_id: None,
                    active: true,
                    sources: vec![],
                    updated_at: now,
                    merge: Default::default(),
                })?;
            }
            Ok::<_, tenantry::store::StoreError>(())
        })
        .await
        .expect("seed");

    let get = |p: String| {
        let t = t.clone();
        let app = &app;
        async move { ok_json(call(app, &t, Method::GET, &p, None).await, 200).await }
    };
    let field = |v: &Value, f: &str| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c[f].as_str().unwrap_or("").to_string())
            .collect()
    };
    let all = get("/api/v1/contacts".into()).await;
    assert_eq!(all["total"], 3);
    assert_eq!(field(&all, "display_name"), vec!["Amy", "Bob", "Zed"]);
    let desc = get("/api/v1/contacts?dir=desc&per_page=2".into()).await;
    assert_eq!(field(&desc, "display_name"), vec!["Zed", "Bob"]);
    assert_eq!(desc["total"], 3);
    let only_a = get(format!("/api/v1/contacts?company={a}")).await;
    assert_eq!(field(&only_a, "display_name"), vec!["Amy", "Zed"]);
    let search = get("/api/v1/contacts?q=BOB".into()).await;
    assert_eq!(field(&search, "display_name"), vec!["Bob"]);
    let assets = get("/api/v1/assets".into()).await;
    assert_eq!(field(&assets, "hostname"), vec!["pc-1", "pc-2"]);
    let assets_b = get(format!("/api/v1/assets?company={b}&sort=serial")).await;
    assert_eq!(field(&assets_b, "hostname"), vec!["pc-2"]);
    // Keyset paging: a full page names the next one's start; the last page does not.
    let first = get("/api/v1/contacts?per_page=2&sort=email".into()).await;
    assert_eq!(field(&first, "display_name"), vec!["Amy", "Bob"]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a full page has a cursor");
    let next = get(format!(
        "/api/v1/contacts?per_page=2&sort=email&cursor={cursor}"
    ))
    .await;
    assert_eq!(field(&next, "display_name"), vec!["Zed"]);
    assert_eq!(next["total"], 3);
    assert!(next.get("next_cursor").is_none(), "{next}");
    let bad = call(
        &app,
        &t,
        Method::GET,
        "/api/v1/contacts?cursor=%21%21",
        None,
    )
    .await;
    let v = expect_error(bad, 400, "invalid_input").await;
    assert!(
        v["message"].as_str().unwrap_or("").starts_with("cursor"),
        "{v}"
    );
    // An empty filter value (as an HTML form sends it) means no filter.
    assert_eq!(get("/api/v1/assets?company=".into()).await["total"], 2);

    // Jobs: the list (newest first, filtered by company) and one job.
    let j1 = app
        .services()
        .enqueue(
            tenantry::model::Actor::system(),
            "api_test",
            Some(a),
            Trigger::Api,
            json!(null),
        )
        .await
        .expect("enqueue")
        .job;
    let j2 = app
        .services()
        .enqueue(
            tenantry::model::Actor::system(),
            "api_test",
            Some(b),
            Trigger::Api,
            json!(null),
        )
        .await
        .expect("enqueue")
        .job;
    let jobs = get("/api/v1/jobs".into()).await;
    assert_eq!(jobs["total"], 2);
    let ids: Vec<u64> = jobs["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|j| j["id"].as_u64())
        .collect();
    assert_eq!(ids, vec![j2.id, j1.id]);
    let jobs_a = get(format!("/api/v1/jobs?company={a}&per_page=10")).await;
    assert_eq!(jobs_a["total"], 1);
    assert_eq!(jobs_a["items"][0]["id"], j1.id);
    assert_eq!(jobs_a["per_page"], 10);
    let one = get(format!("/api/v1/jobs/{}", j1.id)).await;
    assert_eq!(one["kind"], "api_test");
    assert_eq!(one["company_id"], a);
    assert_eq!(one["trigger"], "api");
}
