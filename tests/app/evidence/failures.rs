//! Pacing and failures: Microsoft's per-tenant limits are never exceeded, a passing 503 is
//! retried into a complete snapshot, a lasting one fails the job cleanly with an audit row and
//! leaves the previous snapshot current; archived and unconnected companies are refused.

use super::helpers::*;
use crate::sync_helpers::*;
use tenantry::domain::DomainError;
use tenantry::model::{Actor, JobState, Trigger};
use tenantry::simulator::{Fault, FaultKind, TenantPatch};

fn unavailable(endpoint: &str, times: u32) -> Fault {
    Fault {
        kind: FaultKind::Unavailable { retry_after: None },
        endpoint: Some(endpoint.into()),
        nth: 1,
        times,
        seen: 0,
    }
}

#[tokio::test]
async fn collections_back_to_back_stay_under_microsoft_s_limits() {
    let env = sync_env().await;
    // Enough users for a report of several pages.
    let t = env.tenant("Paced Evidence", 250, 5, true);
    let (company, _) = env.connect("Paced Evidence", &t.id).await;
    env.ctl
        .update_tenant(
            &t.id,
            TenantPatch {
                enforce_rate_limits: Some(true),
                ..Default::default()
            },
        )
        .expect("limits on");
    env.ctl.reset_requests(&t.id).expect("reset");
    // Three collections of a two-page report: six report requests, three CA reads.
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(collect_ok(&env, company).await.id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let log = env.ctl.request_log(&t.id).expect("log");
    let violations = log
        .iter()
        .filter(|e| e.fault.as_deref() == Some("rate_limit"))
        .count();
    assert_eq!(violations, 0, "{log:#?}");
    let reports = log
        .iter()
        .filter(|e| e.endpoint.starts_with("reports/"))
        .count();
    assert!(
        reports > 5,
        "the test must exceed one report window: {reports}"
    );
    env.stop().await;
}

#[tokio::test]
async fn a_passing_503_is_retried_into_a_complete_snapshot() {
    let env = sync_env().await;
    let t = env.tenant("Retry Evidence", 20, 5, true);
    let (company, _) = env.connect("Retry Evidence", &t.id).await;
    env.ctl
        .set_faults(
            &t.id,
            vec![unavailable("identity/conditionalAccess/policies", 1)],
        )
        .expect("fault");
    let snap = collect_ok(&env, company).await;
    assert!(snap.ca_policies.value().is_some_and(|p| !p.is_empty()));
    assert!(snap.registration.value().is_some());
    env.stop().await;
}

#[tokio::test]
async fn a_lasting_503_fails_the_job_cleanly_and_keeps_the_previous_snapshot() {
    let env = sync_env_with(|c| c.jobs.max_attempts = 1).await;
    let t = env.tenant("Down Evidence", 20, 5, true);
    let (company, _) = env.connect("Down Evidence", &t.id).await;
    let before = collect_ok(&env, company).await;
    env.ctl
        .set_faults(
            &t.id,
            vec![unavailable("roleManagement/directory/roleAssignments", 0)],
        )
        .expect("fault");
    let job = collect(&env, company).await;
    assert_eq!(job.state, JobState::Failed);
    assert!(
        job.error.as_deref().is_some_and(|e| e.contains("503")),
        "{:?}",
        job.error
    );
    let after = latest(&env, company).await.expect("snapshot");
    assert_eq!(after.id, before.id, "no half snapshot became current");
    let page = env
        .services()
        .evidence_snapshots(company, Default::default())
        .await
        .expect("list");
    assert_eq!(page.total, 1);
    let rows = env.audit(company, "sync.evidence").await;
    let failed = rows.last().expect("audit");
    assert_eq!(failed.outcome, tenantry::model::Outcome::Failure);
    assert_eq!(failed.details["status"], 503);
    assert!(failed.details["request_id"].is_string());
    env.stop().await;
}

#[tokio::test]
async fn archived_and_unconnected_companies_are_refused() {
    let env = sync_env().await;
    let loose = env.company("Not Connected").await;
    let refused = env
        .services()
        .queue_evidence_collection(Actor::system(), loose, Trigger::Manual)
        .await;
    assert!(matches!(refused, Err(DomainError::Conflict(m)) if m.contains("not connected")));
    let t = env.tenant("Archived Evidence", 5, 0, true);
    let (company, _) = env.connect("Archived Evidence", &t.id).await;
    env.services()
        .archive_company(Actor::system(), company)
        .await
        .expect("archived");
    let refused = env
        .services()
        .queue_evidence_collection(Actor::system(), company, Trigger::Manual)
        .await;
    assert!(matches!(refused, Err(DomainError::Conflict(m)) if m.contains("archived")));
    assert_eq!(
        env.services()
            .queue_evidence_collection_all(Actor::system(), Trigger::Manual)
            .await
            .expect("all"),
        0
    );
    // The evidence schedule queues one evidence_sync per connected, active company only.
    let live = env.tenant("Live Evidence", 5, 0, true);
    let (live_company, _) = env.connect("Live Evidence", &live.id).await;
    let schedule = tenantry::app::schedules(
        &tenantry::config::ValidatedSchedule::from_config(&tenantry::config::Config::default())
            .expect("schedules"),
    )
    .into_iter()
    .find(|s| s.name == "evidence")
    .expect("evidence schedule");
    let slot = env.services().now();
    assert_eq!(
        env.services()
            .fire_schedule(&schedule, slot)
            .await
            .expect("fired"),
        1
    );
    let jobs = env.services().jobs(None, 1, 50).await.expect("jobs");
    let queued: Vec<_> = jobs
        .items
        .iter()
        .filter(|j| j.kind.as_str() == "evidence_sync")
        .collect();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].company_id, Some(live_company));
    assert_eq!(queued[0].trigger, Trigger::Schedule);
    env.wait_job(queued[0].id).await;
    env.stop().await;
}
