//! Sync selected companies (page with confirmation, and the API), and the contacts and assets
//! CSV exports: streamed page by page, formula-safe, named for what they hold.

use crate::helpers::csrf_in;
use crate::sync_helpers::*;
use tenantry::model::{Actor, Contact};

#[tokio::test]
async fn sync_selected_confirms_then_queues_and_skips_archived_and_unconnected_companies() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 3, 2, true);
    let (ok, _) = env.connect("Contoso Dental", &t.id).await;
    let t2 = env.tenant("Old Client", 2, 0, false);
    let (archived, _) = env.connect("Old Client", &t2.id).await;
    env.services()
        .archive_company(Actor::system(), archived)
        .await
        .expect("archive");
    let unconnected = env.company("Never Connected Ltd").await;
    env.app.login().await;

    let list = env.app.get_text("/companies").await;
    assert!(list.contains("action=\"/companies/sync-selected\""));
    assert!(
        list.contains(&format!("name=\"id\" value=\"{ok}\"")),
        "a checkbox per company"
    );

    let confirm_path = format!("/companies/sync-selected?id={ok}&id={archived}&id={unconnected}");
    let confirm = env.app.get_text(&confirm_path).await;
    assert!(confirm.contains("data-confirm-page"), "a confirmation page");
    assert!(
        confirm.contains("Sync 1 of 3 selected companies"),
        "{confirm}"
    );
    assert!(confirm.contains("Archived: restore it first."));
    assert!(confirm.contains("Not connected to Microsoft 365."));
    // Nothing is queued by looking.
    assert!(
        env.services()
            .active_sync_job(ok)
            .await
            .expect("job")
            .is_none()
    );

    let token = csrf_in(&confirm);
    let r = env
        .app
        .client
        .post(env.app.at("/companies/sync-selected"))
        .form(&[
            ("csrf", token.as_str()),
            ("ids", &format!("{ok},{archived},{unconnected}")),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let done = r.text().await.expect("body");
    assert!(
        done.contains("Syncs queued") && done.contains("1 of 3"),
        "{done}"
    );
    let job = env
        .services()
        .active_sync_job(ok)
        .await
        .expect("job")
        .expect("queued");
    assert!(done.contains(&format!("/jobs/{}", job.id)));
    assert!(
        job.requested_by
            .as_ref()
            .is_some_and(|r| r.actor.0.starts_with("staff:")),
        "the staff member asked: {:?}",
        job.requested_by
    );
    env.wait_job(job.id).await;
    // Without the CSRF token: refused.
    let r = env
        .app
        .post_raw("/companies/sync-selected", &[("ids", &ok.to_string())])
        .await;
    assert_eq!(r.status(), 403);

    // The API twin.
    let t = env.app.admin_token().await;
    let r = env
        .app
        .client
        .post(env.app.at("/api/v1/companies/sync"))
        .bearer_auth(&t)
        .json(&serde_json::json!({ "ids": [ok, archived] }))
        .send()
        .await
        .expect("api");
    assert_eq!(r.status(), 202);
    let v: serde_json::Value = r.json().await.expect("json");
    let lines = v["companies"].as_array().expect("lines");
    assert_eq!(lines[0]["company_id"], ok);
    assert_eq!(lines[0]["outcome"], "queued", "{v}");
    assert_eq!(lines[1]["outcome"], "skipped");
    assert!(
        lines[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Archived"))
    );
    let r = env
        .app
        .client
        .post(env.app.at("/api/v1/companies/sync"))
        .bearer_auth(&t)
        .json(&serde_json::json!({ "ids": [] }))
        .send()
        .await
        .expect("api");
    assert_eq!(r.status(), 400);
}

fn csv_lines(body: &str) -> Vec<&str> {
    body.split("\r\n").filter(|l| !l.is_empty()).collect()
}

#[tokio::test]
async fn contacts_and_assets_export_as_streamed_formula_safe_csv() {
    let env = sync_env().await;
    // More contacts than one page, so the export crosses a page boundary.
    let t = env.tenant("Contoso Dental", 520, 6, true);
    let (a, _) = env.connect("Contoso Dental", &t.id).await;
    let t2 = env.tenant("Fabrikam Bakery", 3, 0, false);
    let (b, _) = env.connect("Fabrikam Bakery", &t2.id).await;
    let now = env.services().now();
    env.services()
        .store_handle()
        .write(move |w| {
            w.put_contact(&Contact {
                id: 999_999,
                company_id: b,
                display_name: "=HYPERLINK(\"http://evil.example\",\"Click\")".into(),
                email: "mallory@fabrikam.example".into(),
                department: "+1 (555) 0100".into(),
                job_title: "@boss".into(),
                upn: "mallory@fabrikam.example".into(),
                account_enabled: true,
                active: true,
                is_guest: false,
                entra_object_id: None,
                created_at: now,
                updated_at: now,
            })
        })
        .await
        .expect("contact");
    let snap_a = snapshot(env.services(), a).await;
    env.app.login().await;

    let r = env.app.get(&format!("/companies/{a}/contacts.csv")).await;
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"]
        .to_str()
        .expect("ct")
        .to_string();
    assert!(ct.starts_with("text/csv"), "{ct}");
    let cd = r.headers()["content-disposition"]
        .to_str()
        .expect("cd")
        .to_string();
    assert!(
        cd.starts_with("attachment; filename=\"contoso-dental-contacts-") && cd.ends_with(".csv\""),
        "{cd}"
    );
    let body = r.text().await.expect("body");
    let lines = csv_lines(&body);
    assert!(lines[0].starts_with("Company,Name,E-mail"));
    assert_eq!(
        lines.len(),
        snap_a.contacts.len() + 1,
        "every contact once, past one page"
    );
    for c in snap_a.contacts.iter().take(50) {
        assert!(body.contains(&c.upn), "{} exported", c.upn);
    }

    let all = env.app.get_text("/contacts.csv").await;
    let all_lines = csv_lines(&all);
    assert_eq!(
        all_lines.len(),
        snap_a.contacts.len() + 3 + 1 + 1,
        "both companies"
    );
    let evil = all_lines
        .iter()
        .find(|l| l.contains("mallory@"))
        .expect("mallory exported");
    assert!(
        evil.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\""),
        "formula kept as text: {evil}"
    );
    assert!(evil.contains(",'+1 (555) 0100,'@boss,"), "{evil}");
    // Each row names its own company, across companies too (read with the page).
    assert!(evil.starts_with("Fabrikam Bakery,"), "{evil}");
    let contoso = all_lines
        .iter()
        .skip(1)
        .filter(|l| l.starts_with("Contoso Dental,"));
    assert_eq!(
        contoso.count(),
        snap_a.contacts.len(),
        "Contoso's rows named"
    );

    let assets = env
        .app
        .get_text(&format!("/companies/{a}/assets.csv"))
        .await;
    let asset_lines = csv_lines(&assets);
    assert_eq!(asset_lines.len(), snap_a.assets.len() + 1);
    assert!(asset_lines[0].starts_with("Company,Hostname,OS"));
    assert!(
        !assets.contains("inGracePeriod") && !assets.contains("noncompliant"),
        "compliance in words"
    );

    // The pages link their exports.
    let tab = env
        .app
        .get_text(&format!("/companies/{a}?tab=assets"))
        .await;
    assert!(tab.contains(&format!("href=\"/companies/{a}/assets.csv\"")));

    // The API twins, and a 404 for an unknown company before any CSV is sent.
    let t = env.app.admin_token().await;
    let get = |path: String| {
        let (app, t) = (&env.app, t.clone());
        async move {
            app.client
                .get(app.at(&path))
                .bearer_auth(&t)
                .send()
                .await
                .expect("api")
        }
    };
    let r = get(format!("/api/v1/assets.csv?company={a}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        csv_lines(&r.text().await.expect("body")).len(),
        snap_a.assets.len() + 1
    );
    let r = get("/api/v1/contacts.csv?company=424242".to_string()).await;
    assert_eq!(r.status(), 404);
    // Signed-out browsers get no export.
    let anon = reqwest::Client::new()
        .get(env.app.at("/contacts.csv"))
        .send()
        .await
        .expect("anon");
    // (Sent to the sign-in page.)
    let ct = anon.headers()["content-type"]
        .to_str()
        .expect("ct")
        .to_string();
    assert!(!ct.starts_with("text/csv"), "{ct}");
    assert!(!anon.text().await.expect("body").contains("mallory@"));
}
