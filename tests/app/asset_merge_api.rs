//! The API twins of the Review tab and of Unmerge on the seeded estate: the review queue paged
//! by key, Keep apart, Merge by two asset ids, Unmerge, and their refusals (stable codes), and an
//! archived company's read-only answer.

use crate::asset_merge_pages::{estate, ids};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn the_api_twins_review_merge_keep_apart_and_unmerge() {
    let e = estate().await;
    let (c, s) = (e.c, &e.s);
    let q = e.ok(&format!("/companies/{c}/assets/review")).await;
    assert_eq!(q["total"], 1);
    let p = &q["items"][0];
    assert_eq!(
        (
            &p["key"],
            &p["reason"],
            &p["intune_asset_id"],
            &p["level_asset_id"]
        ),
        (
            &json!(s.key),
            &json!("serial_shared_by_many"),
            &json!(s.review_intune),
            &json!(s.review_level)
        ),
        "{p}"
    );
    assert_eq!(
        p["reason_text"],
        "The serial number is reported by more than one device"
    );
    // Paging: by key, bounded.
    for bad in ["per_page=0", "per_page=201", "per_page=x", "cursor=no-bar"] {
        let (st, v) = e
            .api(
                Method::GET,
                &format!("/companies/{c}/assets/review?{bad}"),
                None,
            )
            .await;
        assert_eq!(
            (st, v["code"].as_str()),
            (400, Some("invalid_input")),
            "{bad}: {v}"
        );
    }
    let after = e
        .ok(&format!(
            "/companies/{c}/assets/review?per_page=1&cursor={}",
            urlenc(&s.key)
        ))
        .await;
    assert_eq!(
        after["items"].as_array().map(Vec::len),
        Some(0),
        "nothing after the last pair"
    );

    // Keep apart: 204, gone from the queue, and only once.
    let body = json!({"intune_id": "intune-vdi", "level_id": "lvl-vdi-00"});
    let (st, v) = e
        .api(
            Method::POST,
            &format!("/companies/{c}/assets/keep-apart"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    assert_eq!(
        e.ok(&format!("/companies/{c}/assets/review")).await["total"],
        0
    );
    let (st, v) = e
        .api(
            Method::POST,
            &format!("/companies/{c}/assets/keep-apart"),
            Some(body),
        )
        .await;
    assert_eq!((st, v["code"].as_str()), (404, Some("not_found")), "{v}");

    // Merge two assets by id: the older one keeps both records, the other is absorbed.
    let (st, m) = e
        .api(
            Method::POST,
            &format!("/companies/{c}/assets/merge"),
            Some(json!({"asset_ids": [s.server, s.no_agent]})),
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let (kept, gone) = (s.server.min(s.no_agent), s.server.max(s.no_agent));
    assert_eq!(
        (m["asset_id"].as_u64(), m["absorbed_asset_id"].as_u64()),
        (Some(kept), Some(gone))
    );
    let merged = ids(&e.ok(&format!("/companies/{c}/assets?sources=merged")).await);
    assert!(
        merged.contains(&kept) && !merged.contains(&gone),
        "{merged:?}"
    );
    let all = e.ok(&format!("/assets?company={c}&per_page=50")).await;
    let absorbed = all["items"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == gone))
        .expect("the absorbed asset is kept");
    assert_eq!(
        (&absorbed["merge_state"], &absorbed["absorbed_into"]),
        (&json!("inactive"), &json!(kept))
    );
    // Merging the merged asset again is refused: it holds both records.
    let (st, v) = e
        .api(
            Method::POST,
            &format!("/companies/{c}/assets/merge"),
            Some(json!({"asset_ids": [kept, s.merged]})),
        )
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (400, Some("invalid_input")),
        "{v}"
    );
    // An absorbed (inactive) asset cannot be merged.
    let (st, v) = e
        .api(
            Method::POST,
            &format!("/companies/{c}/assets/merge"),
            Some(json!({"asset_ids": [gone, s.review_level]})),
        )
        .await;
    assert_eq!((st, v["code"].as_str()), (409, Some("conflict")), "{v}");

    // Unmerge: the asset keeps Intune, a new asset takes Level; unmerging it again is refused.
    let (st, u) = e
        .api(
            Method::POST,
            &format!("/companies/{c}/assets/{kept}/unmerge"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["intune_asset_id"].as_u64(), Some(kept));
    let split = u["level_asset_id"].as_u64().expect("level asset");
    assert!(
        ids(&e
            .ok(&format!("/companies/{c}/assets?sources=level_only"))
            .await)
        .contains(&split)
    );
    let (st, v) = e
        .api(
            Method::POST,
            &format!("/companies/{c}/assets/{kept}/unmerge"),
            None,
        )
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (400, Some("invalid_input")),
        "{v}"
    );

    // An archived company is read-only: every decision is a 409.
    let (st, _) = e
        .api(Method::POST, &format!("/companies/{c}/archive"), None)
        .await;
    assert_eq!(st, 200);
    let (st, v) = e
        .api(
            Method::POST,
            &format!("/companies/{c}/assets/{}/unmerge", s.merged),
            None,
        )
        .await;
    assert_eq!((st, v["code"].as_str()), (409, Some("conflict")), "{v}");
    // …and its pages offer no decision: no Unmerge button, no review forms.
    let html = e
        .app
        .get_text(&format!("/companies/{c}/assets/{}", s.merged))
        .await;
    assert!(
        !html.contains("/unmerge\""),
        "no Unmerge on an archived company's asset"
    );
    let r = e
        .app
        .get(&format!("/companies/{c}/assets/{}/unmerge", s.merged))
        .await;
    assert_eq!(r.status(), 409);
}

fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
