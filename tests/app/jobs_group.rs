//! Group commit of job outcomes (#11): outcomes that finish together share one write
//! transaction with their workers' next claims, each keeps its records, no company gets two
//! jobs at once, and a crash before the commit runs the jobs again.

use crate::helpers::wait_for_job as wait_for;
use crate::helpers::*;
use serde_json::json;
use std::sync::{Arc, Mutex};
use tenantry::domain::jobs::{OutcomeRecords, RunResult};
use tenantry::jobs::Registry;
use tenantry::model::{Actor, Job, JobState, NewAuditEvent};

/// A success that leaves a report (meta `test.report.<job>`) and an audit entry behind.
fn success_with_records(job: &Job, at: chrono::DateTime<chrono::Utc>) -> RunResult {
    let mut event = NewAuditEvent::new(at, Actor::system(), "test.report", "reported")
        .details(json!({"job_id": job.id}));
    event.company_id = job.company_id;
    RunResult::SucceededWith {
        counts: [("items".to_string(), job.id)].into(),
        summary: format!("job {} reported", job.id),
        records: OutcomeRecords {
            meta: vec![(format!("test.report.{}", job.id), json!({"job": job.id}))],
            audit: vec![event],
        },
    }
}

/// How many audit entries of `kind` name each job id.
async fn reports_by_job(s: &tenantry::domain::Services, kind: &str) -> Vec<u64> {
    let page = s
        .audit_page(Default::default(), 1, 500)
        .await
        .expect("audit");
    let mut ids: Vec<u64> = page
        .items
        .iter()
        .filter(|e| e.kind == kind)
        .filter_map(|e| e.details.get("job_id").and_then(|v| v.as_u64()))
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn outcomes_commit_together_with_their_records_and_claims_and_a_crash_reruns_the_claims() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(dir.path(), &[]);
    let (done, claimed, waiting) = {
        let services = tenantry::demo::offline_services(&config, None)
            .await
            .expect("open");
        let enqueue = |kind: &'static str, company: u64| enqueue_manual(&services, kind, company);
        let a = enqueue("test", 1).await;
        let b = enqueue("test", 2).await;
        // Company 1 twice more (other kinds), then company 3: the oldest due jobs.
        let other1 = enqueue("other", 1).await;
        let third1 = enqueue("third", 1).await;
        let c3 = enqueue("test", 3).await;
        let ra = services.claim_job().await.expect("claim").expect("a");
        let rb = services.claim_job().await.expect("claim").expect("b");
        assert_eq!((ra.id, rb.id), (a.id, b.id));
        let now = services.now();
        let group = vec![
            (ra.clone(), success_with_records(&ra, now), true),
            (rb.clone(), success_with_records(&rb, now), true),
        ];
        let results = services.complete_and_claim_group(group).await;
        let results: Vec<_> = results.into_iter().map(|r| r.expect("recorded")).collect();
        assert_eq!(results.len(), 2);
        assert!(results.iter().all(|(d, _)| d.state == JobState::Succeeded));
        let next: Vec<u64> = results
            .iter()
            .map(|(_, n)| n.as_ref().expect("each worker gets a job").id)
            .collect();
        // The first claim takes company 1's next job (free once `a` is recorded); the second
        // sees that claim in the same transaction and skips company 1's third job.
        assert_eq!(next, vec![other1.id, c3.id]);
        assert_eq!(
            services.job(third1.id).await.expect("job").state,
            JobState::Queued
        );
        for j in [&ra, &rb] {
            let stored = services.job(j.id).await.expect("job");
            assert_eq!(stored.counts.get("items"), Some(&j.id));
            let report: Option<serde_json::Value> = services
                .store_handle()
                .read({
                    let key = format!("test.report.{}", j.id);
                    move |r| r.meta(&key)
                })
                .await
                .expect("meta");
            assert_eq!(report, Some(json!({"job": j.id})));
        }
        assert_eq!(
            reports_by_job(&services, "test.report").await,
            vec![a.id, b.id]
        );
        // The process "dies" here: both claims committed, neither job ran.
        ((a.id, b.id), (other1.id, c3.id), third1.id)
    };
    let runs = Arc::new(Mutex::new(Vec::new()));
    let mut registry = Registry::default();
    for kind in ["test", "other", "third"] {
        let runs = runs.clone();
        registry.register(kind, move |ctx| {
            let runs = runs.clone();
            async move {
                runs.lock().expect("lock").push(ctx.job.id);
                RunResult::Succeeded {
                    counts: Default::default(),
                    summary: "ran".into(),
                }
            }
        });
    }
    let app = start_in(dir, config, registry).await;
    for id in [claimed.0, claimed.1, waiting] {
        let j = wait_for(&app, id, "succeeded", |j| j.state == JobState::Succeeded).await;
        assert_eq!(
            j.attempts, 1,
            "an attempt cut short by a crash is not counted"
        );
    }
    let mut ran = runs.lock().expect("lock").clone();
    ran.sort_unstable();
    assert_eq!(
        ran,
        vec![claimed.0, waiting, claimed.1],
        "each claimed job ran once after the crash, the recorded ones not again"
    );
    for id in [done.0, done.1] {
        let j = app.services().job(id).await.expect("job");
        assert_eq!((j.state, j.attempts), (JobState::Succeeded, 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_jobs_finishing_at_once_all_complete_with_their_records() {
    const WORKERS: usize = 6;
    const KINDS: [&str; 4] = ["burst_a", "burst_b", "burst_c", "burst_d"];
    const JOBS: u64 = (WORKERS * KINDS.len()) as u64;
    // Each wave of WORKERS jobs ends at the same moment, so their outcomes reach the
    // committer together.
    let wave = Arc::new(tokio::sync::Barrier::new(WORKERS));
    let running: Arc<Mutex<Vec<u64>>> = Arc::default();
    let overlap = Arc::new(Mutex::new(false));
    let mut registry = Registry::default();
    for kind in KINDS {
        let (wave, running, overlap) = (wave.clone(), running.clone(), overlap.clone());
        registry.register(kind, move |ctx| {
            let (wave, running, overlap) = (wave.clone(), running.clone(), overlap.clone());
            async move {
                let company = ctx.job.company_id.unwrap_or_default();
                {
                    let mut r = running.lock().expect("lock");
                    if r.contains(&company) {
                        *overlap.lock().expect("lock") = true;
                    }
                    r.push(company);
                }
                wave.wait().await;
                running.lock().expect("lock").retain(|c| *c != company);
                success_with_records(&ctx.job, ctx.services.now())
            }
        });
    }
    let (groups0, outcomes0) = tenantry::jobs::group_commit_stats();
    let app = spawn_app_with(
        |c| {
            c.jobs.workers = WORKERS as u32;
            c.jobs.shutdown_grace_seconds = 0;
        },
        registry,
    )
    .await;
    // Every company has one job of each kind; queued kind by kind, so each wave's oldest due
    // jobs belong to different companies, and each wave's claims must spread over them.
    let mut ids = Vec::new();
    for kind in KINDS {
        for company in 0..WORKERS as u64 {
            let job = enqueue_manual(app.services(), kind, 100 + company).await;
            ids.push(job.id);
        }
    }
    for id in &ids {
        let j = wait_for(&app, *id, "succeeded", |j| j.state == JobState::Succeeded).await;
        assert_eq!(j.attempts, 1);
        assert_eq!(j.counts.get("items"), Some(id));
        assert!(j.finished_at.is_some());
    }
    assert!(
        !*overlap.lock().expect("lock"),
        "a company ran two jobs at once"
    );
    let mut want = ids.clone();
    want.sort_unstable();
    assert_eq!(
        reports_by_job(app.services(), "test.report").await,
        want,
        "one audit entry per job, none lost or doubled"
    );
    let (groups1, outcomes1) = tenantry::jobs::group_commit_stats();
    let (groups, outcomes) = (groups1 - groups0, outcomes1 - outcomes0);
    assert!(
        outcomes >= JOBS,
        "{outcomes} outcomes through the committer"
    );
    assert!(
        groups < outcomes,
        "outcomes finishing together shared commits: {outcomes} in {groups}"
    );
}
