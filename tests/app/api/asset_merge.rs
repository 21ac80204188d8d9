//! `/api/v1/companies/{id}/assets/…` of the Intune + Level merge on an app without Level data:
//! every refusal has its status and stable code, and the lists answer empty pages. The same
//! endpoints on merged estates are driven in tests/app/asset_merge_pages.rs (the demo).

use super::*;

/// A company with one Intune-only and one Level-only asset written straight to the store.
async fn seeded(app: &TestApp, t: &str) -> (u64, u64, u64) {
    let company = create_company(app, t, "Alpha").await;
    let now = chrono::Utc::now();
    let ids = app
        .services()
        .store_handle()
        .write(move |w| {
            let mut ids = Vec::new();
            for (host, source) in [("pc-1", "intune"), ("srv-1", "levelio")] {
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
                    sources: vec![tenantry::model::AssetSource {
                        source: source.into(),
                        external_id: format!("{source}-{host}"),
                        last_seen: None,
                        details: json!({}),
                    }],
                    updated_at: now,
                    merge: Default::default(),
                })?;
                ids.push(id);
            }
            Ok::<_, tenantry::store::StoreError>(ids)
        })
        .await
        .expect("seed");
    (company, ids[0], ids[1])
}

#[tokio::test]
async fn review_gaps_merge_keep_apart_and_unmerge_refuse_bad_input_with_stable_codes() {
    let app = spawn_app().await;
    let t = technician_token(&app).await;
    let (c, single, _) = seeded(&app, &app.admin_token().await).await;
    let base = format!("/api/v1/companies/{c}/assets");

    // Empty queue and counts, for a technician token.
    let page = ok_json(
        call(&app, &t, Method::GET, &format!("{base}/review"), None).await,
        200,
    )
    .await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let gaps = ok_json(
        call(&app, &t, Method::GET, &format!("{base}/gaps"), None).await,
        200,
    )
    .await;
    assert_eq!(gaps["company_id"], c);
    for k in ["no_agent", "unmanaged", "review", "merged"] {
        assert!(gaps[k].is_u64(), "{k} in {gaps}");
    }

    // Unknown company → 404 on each.
    for (m, p, body) in [
        (
            Method::GET,
            "/api/v1/companies/999999/assets/review".to_string(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/companies/999999/assets/gaps".to_string(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/companies/999999/assets/keep-apart".to_string(),
            Some(json!({"intune_id": "a", "level_id": "b"})),
        ),
        (
            Method::POST,
            "/api/v1/companies/999999/assets/1/unmerge".to_string(),
            None,
        ),
    ] {
        expect_error(call(&app, &t, m, &p, body).await, 404, "not_found").await;
    }

    // Merge: exactly two ids, known fields only, two different assets.
    let merge = format!("{base}/merge");
    for body in [
        json!({"asset_ids": [single]}),
        json!({"asset_ids": [single, single]}),
        json!({"asset_ids": [1, 2, 3]}),
        json!({"asset_ids": [single, 2], "force": true}),
        json!({}),
    ] {
        let v = expect_error(
            call(&app, &t, Method::POST, &merge, Some(body.clone())).await,
            400,
            "invalid_input",
        )
        .await;
        assert!(v["message"].as_str().is_some(), "{body} → {v}");
    }
    // An asset of another company is not found here (never across companies).
    let (_, _, other_level) = seeded(&app, &app.admin_token().await).await;
    expect_error(
        call(
            &app,
            &t,
            Method::POST,
            &merge,
            Some(json!({"asset_ids": [single, other_level]})),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // Keep apart: only an open pair.
    expect_error(
        call(
            &app,
            &t,
            Method::POST,
            &format!("{base}/keep-apart"),
            Some(json!({"intune_id": "intune-pc-1", "level_id": "levelio-srv-1"})),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // Unmerge: an asset with one record has nothing to split; an unknown one is 404.
    expect_error(
        call(
            &app,
            &t,
            Method::POST,
            &format!("{base}/{single}/unmerge"),
            None,
        )
        .await,
        400,
        "invalid_input",
    )
    .await;
    expect_error(
        call(
            &app,
            &t,
            Method::POST,
            &format!("{base}/999999/unmerge"),
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // The sources filter: a bad value, or combined with another filter, names `sources`.
    for q in [
        "sources=bogus",
        "sources=merged&compliance=compliant",
        "sources=level_only&os=Windows",
    ] {
        let v = expect_error(
            call(
                &app,
                &t,
                Method::GET,
                &format!("/api/v1/companies/{c}/assets?{q}"),
                None,
            )
            .await,
            400,
            "invalid_input",
        )
        .await;
        assert!(
            v["message"].as_str().unwrap_or("").contains("sources"),
            "{q}: {v}"
        );
    }
}

#[tokio::test]
async fn an_asset_carries_merge_state_and_sources_with_their_fields() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let (c, intune, level) = seeded(&app, &t).await;
    let listed = ok_json(
        call(
            &app,
            &t,
            Method::GET,
            &format!("/api/v1/companies/{c}/assets?sources=level_only"),
            None,
        )
        .await,
        200,
    )
    .await;
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{listed}");
    let a = &items[0];
    assert_eq!(a["id"], level);
    assert_eq!(a["merge_state"], "single");
    assert!(a["merged_by"].is_null() && a["absorbed_into"].is_null());
    assert!(a["warranty_end"].is_null() && a["warranty_text"].is_null());
    assert_eq!(a["sources"][0]["source"], "levelio");
    assert!(a["sources"][0]["fields"].is_object(), "{a}");
    let intune_only = ok_json(
        call(
            &app,
            &t,
            Method::GET,
            &format!("/api/v1/companies/{c}/assets?sources=intune_only"),
            None,
        )
        .await,
        200,
    )
    .await;
    let ids: Vec<u64> = intune_only["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["id"].as_u64())
        .collect();
    assert_eq!(ids, vec![intune]);
}
