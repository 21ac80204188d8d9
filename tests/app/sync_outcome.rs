//! One verdict per sync, in the same words everywhere: a tenant without Intune syncs its users
//! and groups and reads "Succeeded with warnings", in a neutral colour with its reason, on the
//! Jobs page, the job's page, the audit log, the company page, the company list, the Entra
//! page, the API and the audit CSV; never "failed" or "problem". Also: the Jobs filters, the
//! company's sync history and the audit Kind list.

use crate::helpers::*;
use crate::sync_helpers::*;
use tenantry::model::{JobState, Outcome};

const WORDS: &str = "Succeeded with warnings";
const REASON: &str = "Intune not licensed — devices not synced";

/// The verdict's badge as every page renders it.
fn neutral_badge() -> String {
    format!("<span class=\"badge neutral\">{WORDS}</span>")
}

fn assert_neutral(page: &str, html: &str) {
    assert!(
        html.contains(&neutral_badge()),
        "{page}: no neutral verdict badge\n{html}"
    );
    assert!(html.contains(REASON), "{page}: no reason\n{html}");
    for bad in [
        "Had a problem",
        "had a problem",
        "badge failure",
        ">problem<",
        "badge failed",
    ] {
        assert!(!html.contains(bad), "{page} still says {bad:?}\n{html}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_without_intune_reads_succeeded_with_warnings_everywhere() {
    let env = sync_env().await;
    let t = env.tenant("Fabrikam", 30, 10, false);
    let (company, job) = env.connect("Fabrikam", &t.id).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(
        job.warnings,
        vec![tenantry::model::SyncWarning::intune_not_licensed()]
    );
    let app = &env.app;
    app.login().await;

    assert_neutral("jobs", &app.get_text("/jobs").await);
    assert_neutral("job", &app.get_text(&format!("/jobs/{}", job.id)).await);
    let audit = app
        .get_text(&format!("/audit?company={company}&kind=sync"))
        .await;
    assert_neutral("audit", &audit);
    let page = app.get_text(&format!("/companies/{company}")).await;
    assert_neutral("company page", &page);
    assert!(page.contains("Sync history"), "{page}");
    let list = app.get_text("/companies").await;
    assert_neutral("company list", &list);
    assert_neutral("entra", &app.get_text("/settings/integrations/entra").await);

    // The audit entries themselves are warnings, with their reason.
    let run = env.audit(company, "sync.identity").await;
    let verdicts: Vec<_> = run.iter().map(tenantry::model::Verdict::of_audit).collect();
    assert!(run.iter().all(|e| e.outcome == Outcome::Warning), "{run:?}");
    assert!(verdicts.iter().all(|v| v.reason == REASON), "{verdicts:?}");

    // The API says the same word, on the job and on the company's last sync.
    let token = app.admin_token().await;
    let api = |path: String| {
        let token = token.clone();
        async move {
            client()
                .get(app.at(&path))
                .bearer_auth(token)
                .send()
                .await
                .expect("api")
                .json::<serde_json::Value>()
                .await
                .expect("json")
        }
    };
    let j = api(format!("/api/v1/jobs/{}", job.id)).await;
    assert_eq!(j["outcome"], "succeeded_with_warnings", "{j}");
    assert_eq!(j["warnings"][0]["kind"], "intune_not_licensed", "{j}");
    assert_eq!(j["state"], "succeeded", "kept for compatibility: {j}");
    let c = api(format!("/api/v1/companies/{company}")).await;
    assert_eq!(c["last_sync"]["outcome"], "succeeded_with_warnings", "{c}");
    // And the CSV, in the page's order and with the company's name.
    let csv = app.get_text(&format!("/audit.csv?company={company}")).await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,time,actor,kind,company,outcome,summary,details")
    );
    let rows: Vec<&str> = lines.collect();
    let ids: Vec<u64> = rows
        .iter()
        .map(|l| l.split(',').next().unwrap_or("").parse().expect("id"))
        .collect();
    let mut newest_first = ids.clone();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, newest_first, "newest first, as the page");
    let sync_row = rows
        .iter()
        .find(|l| l.contains(",sync.identity,"))
        .expect("the sync's row");
    assert!(
        sync_row.contains(",Fabrikam,succeeded_with_warnings,"),
        "{sync_row}"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_filter_by_company_state_and_kind_and_a_company_lists_its_syncs() {
    let env = sync_env().await;
    let a = env.tenant("Alpine Ski", 5, 2, true);
    let b = env.tenant("Bayside Dental", 5, 2, true);
    let (alpine, first) = env.connect("Alpine Ski", &a.id).await;
    let (bayside, other) = env.connect("Bayside Dental", &b.id).await;
    let second = env.sync(alpine).await;
    assert_eq!(second.state, JobState::Succeeded, "{:?}", second.error);
    let app = &env.app;
    app.login().await;

    let page = app.get_text(&format!("/jobs?company={alpine}")).await;
    for id in [first.id, second.id] {
        assert!(page.contains(&format!("href=\"/jobs/{id}\"")), "{page}");
    }
    assert!(
        !page.contains(&format!("href=\"/jobs/{}\"", other.id)),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "<option value=\"{alpine}\" selected>Alpine Ski</option>"
        )),
        "{page}"
    );
    assert!(
        page.contains("<option value=\"failed\">failed</option>"),
        "{page}"
    );
    let none = app
        .get_text(&format!("/jobs?company={bayside}&state=failed"))
        .await;
    assert!(none.contains("No jobs match these filters."), "{none}");
    let kind = app.get_text("/jobs?kind=evidence_sync").await;
    assert!(kind.contains("No jobs match these filters."), "{kind}");
    let bad = app.get("/jobs?state=done").await;
    assert_eq!(bad.status(), 400);

    // The API takes the same filters.
    let token = app.admin_token().await;
    let list: serde_json::Value = client()
        .get(app.at(&format!(
            "/api/v1/jobs?company={alpine}&state=succeeded&kind=identity_sync"
        )))
        .bearer_auth(&token)
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json");
    let ids: Vec<u64> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|j| j["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(ids, vec![second.id, first.id], "{list}");
    assert_eq!(list["items"][0]["outcome"], "succeeded");
    let refused = client()
        .get(app.at("/api/v1/jobs?state=done"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("api");
    assert_eq!(refused.status(), 400);

    // The company's sync history: its own runs, newest first, with links to job and audit.
    let overview = app.get_text(&format!("/companies/{alpine}")).await;
    let history = &overview[overview.find("Sync history").expect("history")..];
    let at = |id: u64| history.find(&format!("href=\"/jobs/{id}\"")).expect("row");
    assert!(at(second.id) < at(first.id), "newest first: {history}");
    assert!(!history.contains(&format!("href=\"/jobs/{}\"", other.id)));
    assert!(history.contains("Identity sync"), "{history}");
    assert!(history.contains("contacts: 5 added"), "{history}");
    assert!(
        history.contains(&format!(
            "/audit?company={alpine}&#38;kind=sync&#38;from_at="
        )),
        "{history}"
    );
    assert!(
        history.contains("<span class=\"badge success\">Succeeded</span>"),
        "{history}"
    );
    env.stop().await;
}

#[tokio::test]
async fn the_audit_kind_filter_is_a_list_of_known_kinds() {
    let app = spawn_app().await;
    app.login().await;
    let page = app.get_text("/audit?kind=sync").await;
    assert!(page.contains("<select name=\"kind\">"), "{page}");
    assert!(page.contains("<option value=\"sync\" selected>"), "{page}");
    assert!(page.contains("<option value=\"staff.sign_in\">"), "{page}");
    // A kind from an older link still shows as what the page filters by.
    let odd = app.get_text("/audit?kind=test.bulk").await;
    assert!(
        odd.contains("<option value=\"test.bulk\" selected>test.bulk</option>"),
        "{odd}"
    );
}
