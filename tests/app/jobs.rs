//! The durable job queue end to end: restart recovery, one active job per company and
//! kind, retries with exponential backoff.

use crate::helpers::*;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tenantry::domain::jobs::RunResult;
use tenantry::jobs::Registry;
use tenantry::model::{Job, JobState, Trigger};

async fn wait_for(app: &TestApp, id: u64, what: &str, pred: impl Fn(&Job) -> bool) -> Job {
    for _ in 0..400 {
        let j = app.services().job(id).await.expect("job");
        if pred(&j) {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "job {id} never became {what}: {:?}",
        app.services().job(id).await
    );
}

fn succeed_registry(runs: Arc<Mutex<Vec<u64>>>) -> Registry {
    let mut r = Registry::default();
    r.register("test", move |ctx| {
        let runs = runs.clone();
        async move {
            runs.lock().expect("lock").push(ctx.job.id);
            RunResult::Succeeded {
                counts: [("items".to_string(), 3u64)].into(),
                summary: "done".into(),
            }
        }
    });
    r
}

#[tokio::test]
async fn queued_and_running_jobs_complete_after_a_restart() {
    // First life: one worker whose job never finishes, and a zero grace period at stop.
    let mut hang = Registry::default();
    hang.register("test", |_ctx| async {
        std::future::pending::<()>().await;
        RunResult::Abort("unreachable".into())
    });
    let app = spawn_app_with(
        |c| {
            c.jobs.workers = 1;
            c.jobs.shutdown_grace_seconds = 0;
        },
        hang,
    )
    .await;
    let running = app
        .services()
        .enqueue("test", Some(1), Trigger::Manual, json!(null))
        .await
        .expect("enqueue")
        .job;
    wait_for(&app, running.id, "running", |j| {
        j.state == JobState::Running
    })
    .await;
    let queued = app
        .services()
        .enqueue("test", Some(2), Trigger::Manual, json!(null))
        .await
        .expect("enqueue")
        .job;
    assert_eq!(
        app.services().job(queued.id).await.expect("job").state,
        JobState::Queued
    );

    // Second life: both complete.
    let runs = Arc::new(Mutex::new(Vec::new()));
    let app = app.restart(succeed_registry(runs.clone())).await;
    for id in [running.id, queued.id] {
        let j = wait_for(&app, id, "succeeded", |j| j.state == JobState::Succeeded).await;
        assert_eq!(j.counts.get("items"), Some(&3));
        assert_eq!(
            j.attempts, 1,
            "an attempt interrupted by shutdown does not count"
        );
    }
    let mut ran = runs.lock().expect("lock").clone();
    ran.sort();
    assert_eq!(
        ran,
        vec![running.id, queued.id],
        "each job ran exactly once after the restart"
    );
}

#[tokio::test]
async fn a_job_left_running_by_a_crash_is_requeued_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(dir.path(), &[]);
    // Simulate a crash: a job claimed (running) by a process that then died.
    let crashed_id = {
        let services = tenantry::demo::offline_services(&config, None)
            .await
            .expect("open");
        let job = services
            .enqueue("test", Some(7), Trigger::Schedule, json!(null))
            .await
            .expect("enqueue")
            .job;
        let claimed = services.claim_job().await.expect("claim").expect("job");
        assert_eq!(claimed.id, job.id);
        assert_eq!(
            services.job(job.id).await.expect("job").state,
            JobState::Running
        );
        job.id
    };
    let runs = Arc::new(Mutex::new(Vec::new()));
    let app = start_in(dir, config, succeed_registry(runs.clone())).await;
    wait_for(&app, crashed_id, "succeeded", |j| {
        j.state == JobState::Succeeded
    })
    .await;
    let audit = app
        .services()
        .audit_page(Default::default(), 1, 50)
        .await
        .expect("audit");
    assert!(
        audit.items.iter().any(|e| e.kind == "job.recover"),
        "recovery is audited"
    );
}

#[tokio::test]
async fn one_active_job_per_company_and_kind() {
    let mut hang = Registry::default();
    hang.register("test", |_ctx| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        RunResult::Abort("unreachable".into())
    });
    let app = spawn_app_with(|c| c.jobs.shutdown_grace_seconds = 0, hang).await;
    let a = app
        .services()
        .enqueue("test", Some(1), Trigger::Manual, json!(null))
        .await
        .expect("enqueue");
    let b = app
        .services()
        .enqueue("test", Some(1), Trigger::CompanyButton, json!(null))
        .await
        .expect("enqueue");
    assert!(a.created && !b.created);
    assert_eq!(
        a.job.id, b.job.id,
        "the second request returns the existing job"
    );
    wait_for(&app, a.job.id, "running", |j| j.state == JobState::Running).await;
    let c = app
        .services()
        .enqueue("test", Some(1), Trigger::Api, json!(null))
        .await
        .expect("enqueue");
    assert_eq!(c.job.id, a.job.id, "still one while it runs");
    let other = app
        .services()
        .enqueue("test", Some(2), Trigger::Manual, json!(null))
        .await
        .expect("enqueue");
    assert!(other.created, "another company gets its own job");
    let other_kind = app
        .services()
        .enqueue("other", Some(1), Trigger::Manual, json!(null))
        .await
        .expect("enqueue");
    assert!(other_kind.created, "another kind gets its own job");
}

#[tokio::test]
async fn failures_retry_with_exponential_backoff_then_fail_for_good() {
    let attempts_at = Arc::new(Mutex::new(Vec::new()));
    let mut flaky = Registry::default();
    let seen = attempts_at.clone();
    flaky.register("test", move |_ctx| {
        let seen = seen.clone();
        async move {
            seen.lock().expect("lock").push(std::time::Instant::now());
            RunResult::Retry("Graph answered 503".into())
        }
    });
    let app = spawn_app_with(
        |c| {
            c.jobs.max_attempts = 3;
            c.jobs.backoff_seconds = 1;
        },
        flaky,
    )
    .await;
    let job = app
        .services()
        .enqueue("test", Some(1), Trigger::Manual, json!(null))
        .await
        .expect("enqueue")
        .job;
    let after_first = wait_for(&app, job.id, "requeued", |j| {
        j.attempts == 1 && j.state == JobState::Queued
    })
    .await;
    assert_eq!(after_first.error.as_deref(), Some("Graph answered 503"));
    let done = wait_for(&app, job.id, "failed", |j| j.state == JobState::Failed).await;
    assert_eq!(done.attempts, 3);
    let at = attempts_at.lock().expect("lock").clone();
    assert_eq!(at.len(), 3);
    assert!(
        at[1] - at[0] >= Duration::from_millis(950),
        "first retry waits the base delay: {:?}",
        at[1] - at[0]
    );
    assert!(
        at[2] - at[1] >= Duration::from_millis(1950),
        "second retry waits twice as long: {:?}",
        at[2] - at[1]
    );
    let audit = app
        .services()
        .audit_page(Default::default(), 1, 50)
        .await
        .expect("audit");
    let failure = audit
        .items
        .iter()
        .find(|e| e.kind == "job.test")
        .expect("failure audited");
    assert_eq!(failure.outcome.as_str(), "failure");
    assert!(failure.summary.contains("Graph answered 503"));
}

#[tokio::test]
async fn a_schedule_slot_missed_while_down_runs_once_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(dir.path(), &[]);
    {
        let services = tenantry::demo::offline_services(&config, None)
            .await
            .expect("open");
        // Last fired three days ago: 18 identity slots were missed; exactly one catch-up runs.
        let long_ago = services.now() - chrono::Duration::days(3);
        services
            .schedule_mark("identity", long_ago)
            .await
            .expect("mark");
    }
    let app = start_in(dir, config, Registry::default()).await;
    let mut fired = Vec::new();
    for _ in 0..100 {
        let audit = app
            .services()
            .audit_page(Default::default(), 1, 100)
            .await
            .expect("audit");
        fired = audit
            .items
            .into_iter()
            .filter(|e| e.kind == "schedule.identity")
            .collect();
        if !fired.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fired.len(), 1, "one catch-up run, not one per missed slot");
    let last = app
        .services()
        .schedule_last_fired("identity")
        .await
        .expect("read")
        .expect("set");
    assert!(
        app.services().now() - last < chrono::Duration::hours(4),
        "the catch-up is the latest missed slot"
    );
    // The evidence schedule had never run: it starts counting from now, nothing to catch up.
    let audit = app
        .services()
        .audit_page(Default::default(), 1, 100)
        .await
        .expect("audit");
    assert!(!audit.items.iter().any(|e| e.kind == "schedule.evidence"));
}
