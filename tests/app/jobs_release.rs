//! Workers and jobs that are done reading (`JobContext::reading_done`): the worker moves on
//! while the job's store work ends beside it, and a job claimed ahead for a busy worker goes
//! back to the queue.

use crate::helpers::wait_for_job as wait_for;
use crate::helpers::*;
use tenantry::domain::jobs::RunResult;
use tenantry::jobs::Registry;
use tenantry::model::{Job, JobState};
use tokio::sync::watch;

fn done() -> RunResult {
    RunResult::Succeeded {
        counts: Default::default(),
        summary: "done".into(),
    }
}

/// A job kind that ends once `gate` opens; a reader first says it is done reading.
fn register_gated(r: &mut Registry, kind: &str, gate: watch::Receiver<bool>, reader: bool) {
    r.register(kind, move |ctx| {
        let mut gate = gate.clone();
        async move {
            if reader {
                ctx.reading_done();
            }
            let _ = gate.wait_for(|open| *open).await;
            done()
        }
    });
}

/// An app with one worker, running `r` and an `other` kind that ends at once.
async fn one_worker(mut r: Registry) -> TestApp {
    r.register("other", |_ctx| async { done() });
    spawn_app_with(
        |c| {
            c.jobs.workers = 1;
            c.jobs.shutdown_grace_seconds = 0;
        },
        r,
    )
    .await
}

async fn state_of(app: &TestApp, job: &Job) -> JobState {
    app.services().job(job.id).await.expect("job").state
}

async fn succeeds(app: &TestApp, job: &Job) -> Job {
    wait_for(app, job.id, "succeeded", |j| j.state == JobState::Succeeded).await
}

/// A job that says it is done with remote requests lets its worker start the next job while
/// it finishes; its company still runs one job at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_done_reading_frees_its_worker_and_still_holds_its_company() {
    let (finish, finishing) = watch::channel(false);
    let mut r = Registry::default();
    // Its store work, here held open until the test lets it end.
    register_gated(&mut r, "reader", finishing, true);
    let app = one_worker(r).await;
    let enqueue = |kind: &'static str, company: u64| enqueue_manual(app.services(), kind, company);
    let reader = enqueue("reader", 1).await;
    wait_for(&app, reader.id, "running", |j| j.state == JobState::Running).await;
    let same_company = enqueue("other", 1).await;
    let other_company = enqueue("other", 2).await;
    // The one worker ran it while the reader is still running.
    succeeds(&app, &other_company).await;
    assert_eq!(
        state_of(&app, &reader).await,
        JobState::Running,
        "the reader has not ended"
    );
    assert_eq!(
        state_of(&app, &same_company).await,
        JobState::Queued,
        "company 1 has its reader running"
    );
    finish.send(true).expect("finish");
    let reader = succeeds(&app, &reader).await;
    let ran = succeeds(&app, &same_company).await;
    assert!(
        ran.started_at >= reader.finished_at,
        "started after the reader ended: {:?} vs {:?}",
        ran.started_at,
        reader.finished_at
    );
}

/// A job claimed for a worker by the outcome of a job finishing beside it waits at most a
/// moment for that worker: while the worker's own job runs on, it goes back to the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_claimed_ahead_for_a_busy_worker_goes_back_to_the_queue() {
    let (go, going) = watch::channel(false);
    let (finish, finishing) = watch::channel(false);
    let mut r = Registry::default();
    // The reader ends once its worker runs the long job, so its outcome's commit claims the
    // next job for a worker that is busy.
    register_gated(&mut r, "reader", going, true);
    register_gated(&mut r, "long", finishing, false);
    let app = one_worker(r).await;
    let enqueue = |kind: &'static str, company: u64| enqueue_manual(app.services(), kind, company);
    // The reader releases its worker, which takes the long job; the third is queued when the
    // reader ends, so the reader's outcome claims it for the busy worker.
    let reader = enqueue("reader", 1).await;
    let long = enqueue("long", 2).await;
    let ahead = enqueue("other", 3).await;
    wait_for(&app, long.id, "running", |j| j.state == JobState::Running).await;
    go.send(true).expect("go");
    succeeds(&app, &reader).await;
    let given_back = wait_for(&app, ahead.id, "given back", |j| {
        j.state == JobState::Queued && j.progress.contains("given back")
    })
    .await;
    assert_eq!(
        given_back.attempts, 0,
        "a claim given back is not an attempt"
    );
    assert_eq!(
        state_of(&app, &long).await,
        JobState::Running,
        "the long job runs on"
    );
    finish.send(true).expect("finish");
    succeeds(&app, &ahead).await;
    succeeds(&app, &long).await;
}
