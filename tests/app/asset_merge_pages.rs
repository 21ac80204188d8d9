//! The demo's Contoso Dental, whose Intune and Level.io estates overlap, through the pages and
//! the API: the Sources column and filter, the gap reports with their counts, the warranty
//! badges, an asset's provenance, the Review tab's Merge and Keep apart (CSRF forms, audited),
//! Unmerge behind its confirmation page, and the API twins of each.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Demo {
    demo: tenantry::demo::Demo,
    web: TestApp,
    token: String,
    contoso: u64,
}

async fn demo() -> Demo {
    let demo = tenantry::demo::start(format!("127.0.0.1:{}", free_port()))
        .await
        .expect("demo starts");
    let i = demo.info.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let web = TestApp {
        app: None,
        url: i.url.clone(),
        config: test_config(dir.path(), &[]),
        dir,
        client: client(),
    };
    let r = web.login_as(&i.admin_email, &i.admin_password).await;
    assert_eq!(r.status(), 303, "the demo admin signs in");
    let contoso = demo
        .app
        .services
        .companies(
            tenantry::domain::companies::CompanyFilter::All,
            tenantry::model::ListQuery::new(None, Some(100), None, None, None),
        )
        .await
        .expect("companies")
        .items
        .into_iter()
        .find(|c| c.name.contains("Contoso"))
        .expect("Contoso")
        .id;
    Demo {
        token: i.api_token.clone(),
        demo,
        web,
        contoso,
    }
}

impl Demo {
    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .web
            .client
            .request(method, self.web.at(&format!("/api/v1{path}")))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, path: &str) -> Value {
        let (s, v) = self.api(Method::GET, path, None).await;
        assert_eq!(s, 200, "{path}: {v}");
        v
    }
}

fn ids(v: &Value) -> Vec<u64> {
    v["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["id"].as_u64()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_demo_lists_sources_gaps_warranties_and_provenance() {
    let d = demo().await;
    let c = d.contoso;
    let gaps = d.ok(&format!("/companies/{c}/assets/gaps")).await;
    // Each count is what its list holds.
    for (k, filter) in [
        ("no_agent", "no_agent"),
        ("unmanaged", "level_only"),
        ("merged", "merged"),
    ] {
        let listed = d
            .ok(&format!("/companies/{c}/assets?sources={filter}&per_page=1"))
            .await;
        assert_eq!(listed["total"], gaps[k], "{k}: {gaps}");
        assert!(gaps[k].as_u64().unwrap_or(0) > 0, "the demo has some {k}: {gaps}");
    }
    let review = d.ok(&format!("/companies/{c}/assets/review")).await;
    assert_eq!(review["total"], gaps["review"]);

    // The overview says the gaps, the Assets tab badges the review count.
    let overview = d.web.get_text(&format!("/companies/{c}")).await;
    assert!(overview.contains("In Intune, not in Level"), "overview");
    assert!(overview.contains("In Level, not in Intune"), "overview");
    assert!(
        overview.contains(&format!("{} not managed by Intune", gaps["unmanaged"])),
        "overview count"
    );
    // A gap report is the asset list filtered: its Sources column, its CSV with the filter.
    let page = d
        .web
        .get_text(&format!("/companies/{c}?tab=assets&sources=level_only"))
        .await;
    assert!(page.contains(r#"data-label="Sources"><span class="badge neutral">Level</span>"#));
    assert!(!page.contains("Intune + Level</span>"), "only Level-only rows");
    assert!(page.contains("<option value=\"level_only\" selected>"), "the filter stays chosen");
    assert!(page.contains("assets.csv?sources=level_only"), "the export carries it");
    let csv = d
        .web
        .get_text(&format!("/companies/{c}/assets.csv?sources=level_only"))
        .await;
    let rows = csv.lines().count() - 1;
    assert_eq!(rows as u64, gaps["unmanaged"].as_u64().unwrap_or(0), "{csv}");
    assert!(csv.lines().next().unwrap_or("").ends_with("Sources,Warranty end"));
    // Warranties: the demo has one expired.
    let all = d
        .web
        .get_text(&format!("/companies/{c}?tab=assets&sources=level_only&per_page=200"))
        .await;
    let merged_page = d
        .web
        .get_text(&format!("/companies/{c}?tab=assets&sources=merged&per_page=200"))
        .await;
    assert!(
        all.contains(">Expired</span>") || merged_page.contains(">Expired</span>"),
        "an expired warranty is badged"
    );

    // A merged asset: the API's sources carry their fields; the page shows provenance.
    let merged = d.ok(&format!("/companies/{c}/assets?sources=merged")).await;
    let a = &merged["items"][0];
    assert_eq!(a["merge_state"], "merged", "{a}");
    let sources = a["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 2, "{a}");
    for s in sources {
        assert!(
            s["fields"].as_object().is_some_and(|f| !f.is_empty()),
            "each source gave fields: {s}"
        );
    }
    let html = d
        .web
        .get_text(&format!("/companies/{c}/assets/{}", a["id"]))
        .await;
    assert!(html.contains(r#"<table class="provenance">"#));
    assert!(html.contains("Microsoft Intune") && html.contains("Level.io"));
    assert!(html.contains(&format!("/companies/{c}/assets/{}/unmerge", a["id"])));
    d.demo.stop().await;
}

#[tokio::test]
async fn review_merge_keep_apart_and_unmerge_from_the_pages_and_the_api() {
    let d = demo().await;
    let c = d.contoso;
    let review_url = format!("/companies/{c}/assets/review");
    let page = d.web.get_text(&review_url).await;
    let queue = d.ok(&format!("/companies/{c}/assets/review")).await;
    let pairs = queue["items"].as_array().cloned().unwrap_or_default();
    assert!(!pairs.is_empty(), "the demo leaves a pair to review");
    for p in &pairs {
        assert!(page.contains(p["reason_text"].as_str().unwrap_or("?")), "{p}");
        assert!(page.contains(&format!("value=\"{}\"", p["key"].as_str().unwrap_or("?"))));
    }
    // The tab's badge counts the queue.
    assert!(page.contains(&format!(
        "title=\"Asset pairs to review\">{}</span>",
        pairs.len()
    )));

    // Keep apart, from the page, on the last pair: it leaves the queue for good.
    assert!(pairs.len() >= 2, "the demo's VM-serial collision makes two pairs: {pairs:?}");
    let last = pairs[pairs.len() - 1]["key"].as_str().expect("key").to_string();
    let r = d
        .web
        .post_form(&review_url, &format!("/companies/{c}/assets/keep-apart"), &[("pair", &last)])
        .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.ends_with("/assets/review?notice=assets_kept_apart"), "{to}");
    let html = d.web.get_text(&to).await;
    assert!(html.contains("Kept apart."), "notice");
    assert!(!html.contains(&format!("value=\"{last}\"")), "the pair left the queue");
    let (i, l) = last.split_once('|').expect("key");
    let (s, v) = d
        .api(
            Method::POST,
            &format!("/companies/{c}/assets/keep-apart"),
            Some(json!({"intune_id": i, "level_id": l})),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (404, Some("not_found")), "not open any more: {v}");

    // A form without the session's CSRF token does nothing.
    let key = pairs[0]["key"].as_str().expect("key").to_string();
    let r = d
        .web
        .post_raw(&format!("/companies/{c}/assets/merge"), &[("pair", &key)])
        .await;
    assert_eq!(r.status(), 403, "no CSRF token");
    // A pair that is not one is refused with the reason.
    let r = d
        .web
        .post_form(&review_url, &format!("/companies/{c}/assets/merge"), &[("pair", "nonsense")])
        .await;
    assert_eq!(r.status(), 400);

    // Merge from the page: to the merged asset, with the notice; audited; the pair is gone.
    let r = d
        .web
        .post_form(&review_url, &format!("/companies/{c}/assets/merge"), &[("pair", &key)])
        .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.ends_with("?notice=assets_merged"), "{to}");
    let html = d.web.get_text(&to).await;
    assert!(html.contains("Assets merged."), "notice");
    assert!(html.contains("merged by hand"), "how it merged");
    let after = d.ok(&format!("/companies/{c}/assets/review")).await;
    assert!(
        after["items"]
            .as_array()
            .is_some_and(|a| a.iter().all(|p| p["key"] != key.as_str())),
        "the merged pair left the queue"
    );
    let audit = d.ok(&format!("/audit?company={c}&per_page=20")).await;
    assert!(
        audit.to_string().contains("asset.merge"),
        "the merge is audited"
    );

    // Unmerge: the page asks first, the form splits it, the API twin refuses the split one.
    let merged_id: u64 = to
        .trim_start_matches(&format!("/companies/{c}/assets/"))
        .split('?')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("asset id in the redirect");
    let confirm_url = format!("/companies/{c}/assets/{merged_id}/unmerge");
    let confirm = d.web.get_text(&confirm_url).await;
    assert!(confirm.contains("data-confirm-page") && confirm.contains("Unmerge"));
    let r = d.web.post_form(&confirm_url, &confirm_url, &[]).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).ends_with("?notice=asset_unmerged"));
    let (s, v) = d
        .api(Method::POST, &format!("/companies/{c}/assets/{merged_id}/unmerge"), None)
        .await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid_input")), "{v}");

    // The API twins: merge two assets by id, unmerge them again.
    let (intune_only, level_only) = (
        d.ok(&format!("/companies/{c}/assets?sources=intune_only&per_page=500")).await,
        d.ok(&format!("/companies/{c}/assets?sources=level_only&per_page=500")).await,
    );
    let (a, b) = (ids(&intune_only)[0], ids(&level_only)[0]);
    let (s, m) = d
        .api(
            Method::POST,
            &format!("/companies/{c}/assets/merge"),
            Some(json!({"asset_ids": [a, b]})),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    let kept = m["asset_id"].as_u64().expect("asset_id");
    assert_eq!(kept, a.min(b));
    assert_eq!(m["absorbed_asset_id"].as_u64(), Some(a.max(b)));
    // The absorbed asset says where it went.
    let gone = d
        .web
        .get_text(&format!("/companies/{c}/assets/{}", a.max(b)))
        .await;
    assert!(gone.contains("data-absorbed") && gone.contains(&format!("/companies/{c}/assets/{kept}\"")));
    let (s, u) = d
        .api(Method::POST, &format!("/companies/{c}/assets/{kept}/unmerge"), None)
        .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["intune_asset_id"].as_u64(), Some(kept), "the survivor keeps Intune");
    assert!(u["level_asset_id"].as_u64().is_some_and(|l| l != kept));
    d.demo.stop().await;
}
