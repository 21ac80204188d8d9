//! Shared steps: collect evidence for a company and wait; read the simulator's truth through
//! raw HTTP (its Graph and token endpoints), independent of the appliance's Graph client.

use crate::helpers::client;
use crate::sync_helpers::*;
use serde_json::Value;
use tenantry::model::{Actor, EvidenceSnapshot, Job, JobState, Trigger};

/// Queue a manual collection and wait for the job to end.
pub async fn collect(env: &SyncEnv, company: u64) -> Job {
    let q = env
        .services()
        .queue_evidence_collection(Actor::system(), company, Trigger::Manual)
        .await
        .expect("collection queued");
    assert!(q.created);
    env.wait_job(q.job.id).await
}

/// A consent given before RoleManagement.Read.Directory was asked for: Graph answers the
/// role assignments with 403 `Authorization_RequestDenied`.
pub fn deny_role_assignments(env: &SyncEnv, tid: &str) {
    env.ctl
        .set_faults(
            tid,
            vec![tenantry::simulator::Fault {
                kind: tenantry::simulator::FaultKind::Error {
                    status: 403,
                    code: "Authorization_RequestDenied".into(),
                    message: "Insufficient privileges to complete the operation.".into(),
                    retry_after: None,
                },
                endpoint: Some("roleManagement/directory/roleAssignments".into()),
                nth: 1,
                times: 0,
                seen: 0,
            }],
        )
        .expect("fault");
}

/// Collect and return the stored snapshot (the company's latest).
pub async fn collect_ok(env: &SyncEnv, company: u64) -> EvidenceSnapshot {
    let job = collect(env, company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    latest(env, company).await.expect("a snapshot")
}

pub async fn latest(env: &SyncEnv, company: u64) -> Option<EvidenceSnapshot> {
    let page = env
        .services()
        .evidence_snapshots(company, Default::default())
        .await
        .expect("snapshots");
    let first = page.items.first()?;
    Some(
        env.services()
            .evidence_snapshot(company, first.id)
            .await
            .expect("snapshot"),
    )
}

/// An app-only token for `tid`, straight from the simulator's token endpoint.
pub async fn token(env: &SyncEnv, tid: &str) -> String {
    let url = format!("{}/{tid}/oauth2/v2.0/token", env.sim.login_url());
    let v: Value = client()
        .post(url)
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    v["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// Every item of a Graph collection, following next links, with the raw page bodies.
pub async fn graph_all(env: &SyncEnv, tid: &str, path: &str) -> (Vec<Value>, Vec<Vec<u8>>) {
    let token = token(env, tid).await;
    let mut url = format!("{}/v1.0/{path}", env.sim.graph_url());
    let (mut items, mut bodies) = (Vec::new(), Vec::new());
    loop {
        let r = client()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("graph");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        let body = r.bytes().await.expect("body").to_vec();
        let v: Value = serde_json::from_slice(&body).expect("json");
        items.extend(v["value"].as_array().cloned().unwrap_or_default());
        bodies.push(body);
        match v["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => return (items, bodies),
        }
    }
}
