//! The Jobs page: recent runs newest first, and a job's detail page that refreshes itself
//! while the job is active and shows its progress, counts, error and parameters.

use crate::helpers::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use tenantry::domain::jobs::RunResult;
use tenantry::jobs::Registry;
use tenantry::model::{JobState, Trigger};

async fn wait_for(app: &TestApp, id: u64, state: JobState) {
    eventually(&format!("job {id} reaches {state:?}"), || async {
        (app.services().job(id).await.expect("job").state == state).then_some(())
    })
    .await
}

#[tokio::test]
async fn jobs_are_listed_and_a_running_job_page_refreshes_until_done() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let mut registry = Registry::default();
    let g = gate.clone();
    registry.register("test_kind", move |ctx| {
        let g = g.clone();
        async move {
            ctx.progress("users: page 2 of 3").await;
            g.notified().await;
            RunResult::Succeeded {
                counts: BTreeMap::from([("created".to_string(), 3), ("updated".to_string(), 2)]),
                summary: "synced 5 users".into(),
            }
        }
    });
    let app = spawn_app_with(|_| {}, registry).await;
    app.login().await;
    let company = app
        .services()
        .create_company(
            tenantry::model::Actor::system(),
            tenantry::model::CompanyInput::parse("Contoso", "", "").expect("input"),
        )
        .await
        .expect("company");

    let job = app
        .services()
        .enqueue(
            tenantry::model::Actor::system(),
            "test_kind",
            None,
            Trigger::Manual,
            json!(null),
        )
        .await
        .expect("queued")
        .job;
    wait_for(&app, job.id, JobState::Running).await;
    // Running is recorded at the claim, the progress line a moment later by the handler.
    eventually("the job's progress line is recorded", || async {
        let j = app.services().job(job.id).await.expect("job");
        j.progress.contains("page 2 of 3").then_some(())
    })
    .await;
    // A job nobody handles fails at once, with its error shown.
    let failing = app
        .services()
        .enqueue(
            tenantry::model::Actor::system(),
            "unknown_kind",
            Some(company.id),
            Trigger::Api,
            json!({"full": true}),
        )
        .await
        .expect("queued")
        .job;
    wait_for(&app, failing.id, JobState::Failed).await;

    let list = app.get_text("/jobs").await;
    assert!(
        list.contains(&format!("href=\"/jobs/{}\"", job.id)),
        "{list}"
    );
    assert!(list.contains("<code>test_kind</code>"));
    assert!(list.contains("class=\"badge running\""));
    // A finished job shows its verdict, in the words every page uses.
    assert!(
        list.contains("<span class=\"badge failure\">Failed</span>"),
        "{list}"
    );
    assert!(list.contains(&format!("href=\"/companies/{}\">Contoso</a>", company.id)));
    assert!(list.contains("no handler for job kind"));
    assert!(
        list.find(&format!("href=\"/jobs/{}\"", failing.id))
            < list.find(&format!("href=\"/jobs/{}\"", job.id)),
        "newest first"
    );

    let page = app.get_text(&format!("/jobs/{}", job.id)).await;
    assert!(
        page.contains("<meta http-equiv=\"refresh\" content=\"5\">"),
        "{page}"
    );
    assert!(page.contains("users: page 2 of 3"));
    // A running job has a progress bar (no script) on its page and on the list, and the
    // list refreshes while something on it runs.
    assert!(page.contains("<progress"), "{page}");
    let running = app.get_text("/jobs").await;
    assert!(running.contains("<progress"), "{running}");
    assert!(
        running.contains("<meta http-equiv=\"refresh\" content=\"5\">"),
        "{running}"
    );
    assert!(page.contains("manual"));
    assert!(page.contains("1 of 5"), "attempts: {page}");

    let page = app.get_text(&format!("/jobs/{}", failing.id)).await;
    assert!(!page.contains("http-equiv=\"refresh\""));
    assert!(page.contains("no handler for job kind"));
    assert!(
        page.contains("&#34;full&#34;: true") || page.contains("&quot;full&quot;: true"),
        "{page}"
    );

    gate.notify_one();
    wait_for(&app, job.id, JobState::Succeeded).await;
    let page = app.get_text(&format!("/jobs/{}", job.id)).await;
    assert!(!page.contains("http-equiv=\"refresh\""), "done: no refresh");
    assert!(
        page.contains("<span class=\"badge success\">Succeeded</span>"),
        "{page}"
    );
    assert!(page.contains("synced 5 users"));
    assert!(
        page.contains("<dt>created</dt><dd>3</dd>") && page.contains("<dt>updated</dt><dd>2</dd>")
    );
    let list = app.get_text("/jobs").await;
    assert!(list.contains("created: 3; updated: 2"));
    assert!(
        !list.contains("http-equiv=\"refresh\""),
        "nothing runs: no refresh"
    );
    assert!(!list.contains("<progress"), "{list}");

    assert_eq!(app.get("/jobs/999999").await.status(), 404);
    assert_eq!(app.get("/jobs/abc").await.status(), 404);
    assert_eq!(app.get("/jobs?page=zero").await.status(), 400);
}
