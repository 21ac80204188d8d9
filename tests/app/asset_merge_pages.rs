//! A company whose Intune and Level.io records overlap (tests/app/asset_merge_seed.rs), through
//! the pages and the API: the Sources column and filter, the gap reports with their counts, the
//! warranty badges, an asset's provenance, the Review tab's Merge and Keep apart (CSRF forms,
//! flash message, audited) and Unmerge behind its confirmation page. The API twins are in
//! asset_merge_api.rs.

use crate::asset_merge_seed::{Seeded, seed};
use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

pub(crate) struct Estate {
    pub app: TestApp,
    pub token: String,
    pub c: u64,
    pub s: Seeded,
}

pub(crate) async fn estate() -> Estate {
    let app = spawn_app().await;
    app.login().await;
    let token = app.admin_token().await;
    let c = app
        .services()
        .create_company(
            tenantry::model::Actor::system(),
            tenantry::model::CompanyInput::parse("Contoso Dental", "contoso.example", "")
                .expect("input"),
        )
        .await
        .expect("company")
        .id;
    let s = seed(app.services(), c).await;
    Estate { app, token, c, s }
}

impl Estate {
    pub async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .app
            .client
            .request(method, self.app.at(&format!("/api/v1{path}")))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn ok(&self, path: &str) -> Value {
        let (s, v) = self.api(Method::GET, path, None).await;
        assert_eq!(s, 200, "{path}: {v}");
        v
    }
}

pub(crate) fn ids(v: &Value) -> Vec<u64> {
    v["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["id"].as_u64()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn lists_show_sources_gaps_and_warranties_and_an_asset_its_provenance() {
    let e = estate().await;
    let (c, s) = (e.c, &e.s);
    let gaps = e.ok(&format!("/companies/{c}/assets/gaps")).await;
    assert_eq!(
        (
            &gaps["no_agent"],
            &gaps["unmanaged"],
            &gaps["review"],
            &gaps["merged"]
        ),
        (&json!(2), &json!(2), &json!(1), &json!(1)),
        "{gaps}"
    );
    // Each gap list is the asset list filtered, and holds exactly what it counts.
    for (filter, want) in [
        ("no_agent", vec![s.review_intune, s.no_agent]),
        ("level_only", vec![s.review_level, s.server]),
        ("intune_only", vec![s.review_intune, s.no_agent]),
        ("merged", vec![s.merged]),
        ("needs_review", vec![s.review_intune, s.review_level]),
    ] {
        let mut got = ids(&e
            .ok(&format!("/companies/{c}/assets?sources={filter}"))
            .await);
        got.sort_unstable();
        let mut want = want;
        want.sort_unstable();
        assert_eq!(got, want, "{filter}");
    }

    // The overview counts the gaps; the Assets tab badges the review count.
    let overview = e.app.get_text(&format!("/companies/{c}")).await;
    assert!(
        overview.contains("2 computers without a Level agent"),
        "overview"
    );
    assert!(overview.contains("2 not managed by Intune"), "overview");
    assert!(overview.contains("1 pair to decide"), "overview");
    assert!(
        overview.contains(r#"title="Asset pairs to review">1</span>"#),
        "tab badge"
    );

    // The unmanaged report: Level rows only, the filter kept, the export carrying it.
    let page = e
        .app
        .get_text(&format!("/companies/{c}?tab=assets&sources=level_only"))
        .await;
    assert!(page.contains(r#"<td data-label="Sources"><span class="badge neutral">Level</span>"#));
    assert!(
        !page.contains(">Intune + Level</span>"),
        "only Level-only rows"
    );
    assert!(
        page.contains(r#"<option value="level_only" selected>"#),
        "the filter stays chosen"
    );
    assert!(
        page.contains("/assets.csv?sources=level_only"),
        "the export carries it"
    );
    assert!(page.contains("In Level, not in Intune"), "the sub-tab");
    // The expired server warranty is badged, dated by the service clock.
    assert!(page.contains(r#"2020-01-31</span> <span class="badge failure">Expired</span>"#));
    let csv = e
        .app
        .get_text(&format!("/companies/{c}/assets.csv?sources=level_only"))
        .await;
    let mut lines = csv.lines();
    assert!(
        lines.next().unwrap_or("").ends_with("Sources,Warranty end"),
        "{csv}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows.iter()
            .any(|r| r.contains("CON-SRV-01") && r.ends_with("Level,2020-01-31")),
        "{csv}"
    );
    // A bad or conflicting filter is refused with the reason, not ignored.
    let r = e
        .app
        .get(&format!(
            "/companies/{c}?tab=assets&sources=merged&compliance=compliant"
        ))
        .await;
    assert_eq!(r.status(), 400);

    // The merged asset: the API's sources carry their fields; the page shows provenance.
    let listed = e.ok(&format!("/companies/{c}/assets?sources=merged")).await;
    let a = &listed["items"][0];
    assert_eq!(
        (&a["merge_state"], &a["merged_by"]),
        (&json!("merged"), &json!("serial")),
        "{a}"
    );
    assert_eq!(a["warranty_end"], "2031-06-30");
    let sources = a["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 2, "{a}");
    for src in sources {
        assert!(
            src["fields"].as_object().is_some_and(|f| !f.is_empty()),
            "each source gave fields: {src}"
        );
    }
    let intune = sources
        .iter()
        .find(|x| x["source"] == "intune")
        .expect("intune");
    assert_eq!(intune["fields"]["compliance_state"]["value"], "compliant");
    let lvl = sources
        .iter()
        .find(|x| x["source"] == "levelio")
        .expect("level");
    assert_eq!(lvl["fields"]["role"]["value"], "workstation");

    let html = e
        .app
        .get_text(&format!("/companies/{c}/assets/{}", s.merged))
        .await;
    assert!(html.contains(r#"<table class="provenance">"#));
    assert!(html.contains(r#"<td data-label="Field">Compliance</td>"#));
    assert!(html.contains(r#"<td data-label="Source">Microsoft Intune</td>"#));
    assert!(html.contains(r#"<td data-label="Source">Level.io</td>"#));
    assert!(html.contains("Yes, by serial number"));
    assert!(html.contains("<code>intune-0001</code>") && html.contains("<code>lvl-0001</code>"));
    assert!(html.contains(&format!("/companies/{c}/assets/{}/unmerge", s.merged)));
    // A single-source asset offers no Unmerge, and its confirmation says why not.
    let single = e
        .app
        .get_text(&format!("/companies/{c}/assets/{}", s.server))
        .await;
    assert!(
        !single.contains("/unmerge\""),
        "no Unmerge on a Level-only asset"
    );
    let r = e
        .app
        .get(&format!("/companies/{c}/assets/{}/unmerge", s.server))
        .await;
    assert_eq!(r.status(), 409);
    // An asset in a review pair points at the queue.
    let pending = e
        .app
        .get_text(&format!("/companies/{c}/assets/{}", s.review_level))
        .await;
    assert!(
        pending.contains("Needs review")
            && pending.contains(&format!("/companies/{c}/assets/review"))
    );
}

#[tokio::test]
async fn review_keep_apart_merge_and_unmerge_from_the_pages() {
    let e = estate().await;
    let (c, s) = (e.c, &e.s);
    let review_url = format!("/companies/{c}/assets/review");
    let page = e.app.get_text(&review_url).await;
    assert!(page.contains("The serial number is reported by more than one device"));
    assert!(page.contains(&format!("value=\"{}\"", s.key)));
    assert!(page.contains("CON-VDI-HOST") && page.contains("CON-VDI-00"));

    // A form without the session's CSRF token does nothing; a pair that is not one is refused.
    let merge = format!("/companies/{c}/assets/merge");
    let r = e.app.post_raw(&merge, &[("pair", &s.key)]).await;
    assert_eq!(r.status(), 403, "no CSRF token");
    let r = e
        .app
        .post_form(&review_url, &merge, &[("pair", "nonsense")])
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        e.ok(&format!("/companies/{c}/assets/review")).await["total"],
        1
    );

    // Merge from the page: to the merged asset, with the notice; the queue is empty.
    let r = e
        .app
        .post_form(&review_url, &merge, &[("pair", &s.key)])
        .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    let kept = s.review_intune.min(s.review_level);
    assert_eq!(
        to,
        format!("/companies/{c}/assets/{kept}?notice=assets_merged")
    );
    let html = e.app.get_text(&to).await;
    assert!(html.contains("Assets merged."), "notice");
    assert!(html.contains("merged by hand"), "how it merged");
    assert!(html.contains("<code>intune-vdi</code>") && html.contains("<code>lvl-vdi-00</code>"));
    assert!(
        html.contains("Merged by hand</span>"),
        "the remembered decision is shown"
    );
    let after = e.app.get_text(&review_url).await;
    assert!(after.contains("Nothing needs review"), "empty state");
    // The absorbed asset says where it went.
    let gone = e
        .app
        .get_text(&format!(
            "/companies/{c}/assets/{}",
            s.review_intune.max(s.review_level)
        ))
        .await;
    assert!(
        gone.contains("data-absorbed") && gone.contains(&format!("/companies/{c}/assets/{kept}\""))
    );
    let audit = e.ok(&format!("/audit?company={c}&per_page=50")).await;
    assert!(
        audit.to_string().contains("asset.merge"),
        "audited: {audit}"
    );

    // Unmerge: the page asks first; the form splits the asset and remembers the pair.
    let confirm_url = format!("/companies/{c}/assets/{kept}/unmerge");
    let confirm = e.app.get_text(&confirm_url).await;
    assert!(confirm.contains("data-confirm-page") && confirm.contains("Unmerge CON-VDI-HOST?"));
    let r = e.app.post_raw(&confirm_url, &[]).await;
    assert_eq!(r.status(), 403, "no CSRF token");
    let r = e.app.post_form(&confirm_url, &confirm_url, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("/companies/{c}/assets/{kept}?notice=asset_unmerged")
    );
    let html = e.app.get_text(&location(&r)).await;
    assert!(
        html.contains("Asset unmerged") && html.contains("Kept apart</span>"),
        "notice and decision"
    );
    let level_only = ids(&e
        .ok(&format!("/companies/{c}/assets?sources=level_only"))
        .await);
    assert_eq!(
        level_only.len(),
        2,
        "the Level record is an asset again: {level_only:?}"
    );

    // Keep apart from the page, on a pair opened again.
    reopen(&e).await;
    let r = e
        .app
        .post_form(
            &review_url,
            &format!("/companies/{c}/assets/keep-apart"),
            &[("pair", &s.key)],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("{review_url}?notice=assets_kept_apart")
    );
    let html = e.app.get_text(&location(&r)).await;
    assert!(html.contains("Kept apart.") && html.contains("Nothing needs review"));
    let audit = e
        .ok(&format!("/audit?company={c}&per_page=50"))
        .await
        .to_string();
    assert!(
        audit.contains("asset.keep_apart") && audit.contains("asset.unmerge"),
        "{audit}"
    );
}

/// Open the seeded pair again (as a later sync would) between the current holders of its records.
async fn reopen(e: &Estate) {
    let (c, key) = (e.c, e.s.key.clone());
    let now = e.app.services().now();
    e.app
        .services()
        .store_handle()
        .write(move |w| {
            let (i, l) = key.split_once('|').expect("key");
            w.put_review_item(&tenantry::model::OpenReview {
                company_id: c,
                intune_id: i.into(),
                level_id: l.into(),
                reason: tenantry::model::ReviewReason::SerialSharedByMany,
                intune_asset: w.asset_id_by_device(c, i)?,
                level_asset: w.asset_id_by_level_device(c, l)?,
                intune_hostname: "CON-VDI-HOST".into(),
                intune_serial: "VMW-5566".into(),
                level_hostname: "CON-VDI-00".into(),
                level_serial: "VMW-5566".into(),
                since: now,
            })
        })
        .await
        .expect("reopen");
}

/// The demo's own first sync (not a seeded estate): what the Level phase wrote shows on the
/// pages and agrees with the API's counts.
#[tokio::test]
async fn the_demo_merge_shows_on_the_pages() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let demo = tenantry::demo::start(format!("127.0.0.1:{port}"))
        .await
        .expect("demo starts");
    let i = demo.info.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp {
        app: None,
        url: i.url.clone(),
        config: test_config(dir.path(), &[]),
        dir,
        client: client(),
    };
    let r = app.login_as(&i.admin_email, &i.admin_password).await;
    assert_eq!(r.status(), 303, "the demo admin signs in");
    // The demo's own estate: nothing seeded (`c` and `s` unused; the company is looked up).
    let e = Estate {
        app,
        token: i.api_token.clone(),
        c: 0,
        s: Seeded::default(),
    };
    let companies = e.ok("/companies?per_page=100").await;
    let c = companies["items"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == "Contoso Dental"))
        .and_then(|x| x["id"].as_u64())
        .expect("Contoso Dental");
    let gaps = e.ok(&format!("/companies/{c}/assets/gaps")).await;
    for (k, filter) in [
        ("no_agent", "no_agent"),
        ("unmanaged", "level_only"),
        ("merged", "merged"),
    ] {
        let n = gaps[k].as_u64().unwrap_or(0);
        assert!(n > 0, "the demo has some {k}: {gaps}");
        let listed = e
            .ok(&format!(
                "/companies/{c}/assets?sources={filter}&per_page=1"
            ))
            .await;
        assert_eq!(listed["total"].as_u64(), Some(n), "{k}");
    }
    let queue = e.ok(&format!("/companies/{c}/assets/review")).await;
    let review = e
        .app
        .get_text(&format!("/companies/{c}/assets/review"))
        .await;
    let pairs = queue["items"].as_array().cloned().unwrap_or_default();
    assert!(!pairs.is_empty(), "the VM-serial collision is in review");
    for p in &pairs {
        assert!(
            review.contains(p["reason_text"].as_str().unwrap_or("?")),
            "{p}"
        );
    }
    let merged = e
        .ok(&format!(
            "/companies/{c}/assets?sources=merged&per_page=500"
        ))
        .await;
    let expired = e
        .app
        .get_text(&format!(
            "/companies/{c}?tab=assets&sources=merged&per_page=200"
        ))
        .await
        .contains(r#"<span class="badge failure">Expired</span>"#)
        || e.app
            .get_text(&format!(
                "/companies/{c}?tab=assets&sources=level_only&per_page=200"
            ))
            .await
            .contains(r#"<span class="badge failure">Expired</span>"#);
    assert!(expired, "the demo's expired warranty is badged");
    let first = merged["items"][0]["id"].as_u64().expect("a merged asset");
    let html = e
        .app
        .get_text(&format!("/companies/{c}/assets/{first}"))
        .await;
    assert!(html.contains(r#"<table class="provenance">"#) && html.contains("Level.io</td>"));
    demo.stop().await;
}
