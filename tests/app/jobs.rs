//! The durable job queue end to end: restart recovery, one active job per company and
//! kind, retries with exponential backoff.

use crate::helpers::wait_for_job as wait_for;
use crate::helpers::*;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tenantry::domain::jobs::RunResult;
use tenantry::jobs::Registry;
use tenantry::model::{JobState, Trigger};

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
    let running = enqueue_manual(app.services(), "test", 1).await;
    wait_for(&app, running.id, "running", |j| {
        j.state == JobState::Running
    })
    .await;
    let queued = enqueue_manual(app.services(), "test", 2).await;
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
            .enqueue(
                tenantry::model::Actor::system(),
                "test",
                Some(7),
                Trigger::Schedule,
                json!(null),
            )
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
        .enqueue(
            tenantry::model::Actor::system(),
            "test",
            Some(1),
            Trigger::Manual,
            json!(null),
        )
        .await
        .expect("enqueue");
    let b = app
        .services()
        .enqueue(
            tenantry::model::Actor::system(),
            "test",
            Some(1),
            Trigger::CompanyButton,
            json!(null),
        )
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
        .enqueue(
            tenantry::model::Actor::system(),
            "test",
            Some(1),
            Trigger::Api,
            json!(null),
        )
        .await
        .expect("enqueue");
    assert_eq!(c.job.id, a.job.id, "still one while it runs");
    let other = app
        .services()
        .enqueue(
            tenantry::model::Actor::system(),
            "test",
            Some(2),
            Trigger::Manual,
            json!(null),
        )
        .await
        .expect("enqueue");
    assert!(other.created, "another company gets its own job");
    let other_kind = app
        .services()
        .enqueue(
            tenantry::model::Actor::system(),
            "other",
            Some(1),
            Trigger::Manual,
            json!(null),
        )
        .await
        .expect("enqueue");
    assert!(other_kind.created, "another kind gets its own job");
}

#[tokio::test]
async fn failures_retry_with_exponential_backoff_then_fail_for_good() {
    let clock = tenantry::clock::ManualClock::new(
        chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
            .expect("time")
            .to_utc(),
    );
    let attempts = Arc::new(Mutex::new(0u32));
    let mut flaky = Registry::default();
    let seen = attempts.clone();
    flaky.register("test", move |_ctx| {
        let seen = seen.clone();
        async move {
            *seen.lock().expect("lock") += 1;
            RunResult::Retry("Graph answered 503".into())
        }
    });
    let app = spawn_app_on_clock(
        clock.clone(),
        |c| {
            c.jobs.max_attempts = 3;
            c.jobs.backoff_seconds = 60;
        },
        flaky,
    )
    .await;
    let job = enqueue_manual(app.services(), "test", 1).await;
    let run = || async { app.app().run_due_jobs().await.expect("run due jobs") };
    let state = || async { app.services().job(job.id).await.expect("job") };
    assert_eq!(run().await, 1, "the new job is due at once");
    let after_first = state().await;
    assert_eq!(
        (after_first.attempts, after_first.state),
        (1, JobState::Queued)
    );
    assert_eq!(after_first.error.as_deref(), Some("Graph answered 503"));
    // The first retry waits the base delay, the second twice as long.
    clock.advance(chrono::Duration::seconds(59));
    assert_eq!(run().await, 0, "not before the base delay");
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(run().await, 1, "at the base delay");
    clock.advance(chrono::Duration::seconds(119));
    assert_eq!(run().await, 0, "the second retry waits twice as long");
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(run().await, 1, "at twice the base delay");
    let done = state().await;
    assert_eq!((done.attempts, done.state), (3, JobState::Failed));
    clock.advance(chrono::Duration::days(1));
    assert_eq!(run().await, 0, "a failed job is never run again");
    assert_eq!(*attempts.lock().expect("lock"), 3);
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
    let fired: Vec<_> = eventually("the missed identity slot fires", || async {
        let audit = app
            .services()
            .audit_page(Default::default(), 1, 100)
            .await
            .expect("audit");
        let fired: Vec<_> = audit
            .items
            .into_iter()
            .filter(|e| e.kind == "schedule.identity")
            .collect();
        (!fired.is_empty()).then_some(fired)
    })
    .await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_runs_one_job_at_a_time_across_kinds_while_other_companies_proceed() {
    let (release, released) = tokio::sync::watch::channel(false);
    let mut r = Registry::default();
    r.register("hold", move |_ctx| {
        let mut released = released.clone();
        async move {
            let _ = released.wait_for(|r| *r).await;
            RunResult::Succeeded {
                counts: Default::default(),
                summary: "held".into(),
            }
        }
    });
    r.register("other", |_ctx| async {
        RunResult::Succeeded {
            counts: Default::default(),
            summary: "ran".into(),
        }
    });
    let app = spawn_app_with(
        |c| {
            c.jobs.workers = 4;
            c.jobs.shutdown_grace_seconds = 0;
        },
        r,
    )
    .await;
    let enqueue = |kind: &'static str, company: u64| enqueue_manual(app.services(), kind, company);
    let held = enqueue("hold", 1).await;
    wait_for(&app, held.id, "running", |j| j.state == JobState::Running).await;
    // Queued first, so the oldest due job: it would be claimed first if its company were free.
    let same_company = enqueue("other", 1).await;
    let other_company = enqueue("other", 2).await;
    wait_for(&app, other_company.id, "succeeded", |j| {
        j.state == JobState::Succeeded
    })
    .await;
    let waiting = app.services().job(same_company.id).await.expect("job");
    assert_eq!(
        waiting.state,
        JobState::Queued,
        "company 1 already has a job running"
    );
    release.send(true).expect("release");
    let held = wait_for(&app, held.id, "succeeded", |j| {
        j.state == JobState::Succeeded
    })
    .await;
    let ran = wait_for(&app, same_company.id, "succeeded", |j| {
        j.state == JobState::Succeeded
    })
    .await;
    assert!(
        ran.started_at >= held.finished_at,
        "started after the held job ended: {:?} vs {:?}",
        ran.started_at,
        held.finished_at
    );
}

#[tokio::test]
async fn an_outcome_commits_with_its_records_and_the_next_claim_which_a_restart_resumes() {
    use tenantry::domain::jobs::OutcomeRecords;
    use tenantry::model::{Actor, NewAuditEvent};
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(dir.path(), &[]);
    let (first, other_company, same_company) = {
        let services = tenantry::demo::offline_services(&config, None)
            .await
            .expect("open");
        let enqueue = |kind: &'static str, company: u64| enqueue_manual(&services, kind, company);
        // Queued in this order: company 1, company 2, company 1 again (another kind).
        let first = enqueue("test", 1).await;
        let other_company = enqueue("test", 2).await;
        let same_company = enqueue("other", 1).await;
        let claimed = services.claim_job().await.expect("claim").expect("job");
        assert_eq!(claimed.id, first.id);
        let mut event = NewAuditEvent::new(
            services.now(),
            Actor::system(),
            "test.report",
            "three items",
        );
        event.company_id = Some(1);
        let outcome = RunResult::SucceededWith {
            counts: [("items".to_string(), 3u64)].into(),
            summary: "three items".into(),
            records: OutcomeRecords {
                meta: vec![("test.report.1".into(), json!({"items": 3}))],
                audit: vec![event],
            },
        };
        // Company 2 is busy elsewhere; company 1 is free once this outcome commits.
        let (done, next) = services
            .complete_and_claim(claimed, outcome, [2u64].into(), true)
            .await
            .expect("complete");
        assert_eq!(done.state, JobState::Succeeded);
        let next = next.expect("the next job is claimed with the outcome");
        assert_eq!(
            next.id, same_company.id,
            "the oldest due job of a company that is not busy"
        );
        let stored = services.job(first.id).await.expect("job");
        assert_eq!(stored.state, JobState::Succeeded);
        assert_eq!(stored.counts.get("items"), Some(&3));
        assert_eq!(stored.progress, "three items");
        let claimed = services.job(next.id).await.expect("job");
        assert_eq!((claimed.state, claimed.attempts), (JobState::Running, 1));
        assert_eq!(
            services.job(other_company.id).await.expect("job").state,
            JobState::Queued
        );
        let report: Option<serde_json::Value> = services
            .store_handle()
            .read(|r| r.meta("test.report.1"))
            .await
            .expect("meta");
        assert_eq!(report, Some(json!({"items": 3})));
        let audit = services
            .audit_page(Default::default(), 1, 50)
            .await
            .expect("audit");
        assert!(audit.items.iter().any(|e| e.kind == "test.report"));
        // The process "dies" here, with `same_company` claimed and running.
        (first.id, other_company.id, same_company.id)
    };
    let runs = Arc::new(Mutex::new(Vec::new()));
    let mut registry = succeed_registry(runs.clone());
    registry.register("other", |_ctx| async {
        RunResult::Succeeded {
            counts: Default::default(),
            summary: "ran".into(),
        }
    });
    let app = start_in(dir, config, registry).await;
    for id in [other_company, same_company] {
        let j = wait_for(&app, id, "succeeded", |j| j.state == JobState::Succeeded).await;
        assert_eq!(
            j.attempts, 1,
            "an attempt cut short by a crash is not counted"
        );
    }
    assert_eq!(runs.lock().expect("lock").as_slice(), &[other_company]);
    assert_eq!(
        app.services().job(first).await.expect("job").state,
        JobState::Succeeded
    );
}
