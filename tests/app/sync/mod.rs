//! Identity sync end to end against the in-process Microsoft simulator: the appliance connects
//! a tenant, syncs users/groups (delta) and Intune devices (full list), and what it stores is
//! compared field by field with the simulator's truth. Counters and the request log of the
//! simulator prove *how* it synced (delta only, Retry-After honoured).

use crate::helpers::eventually;
use crate::sync_helpers::*;
use chrono::{Duration as CDuration, Utc};
use serde_json::json;
use std::collections::BTreeSet;
use tenantry::domain::DomainError;
use tenantry::model::{Actor, JobState, Outcome, SyncState, Trigger};
use tenantry::simulator::{Fault, FaultKind, Kind, TenantPatch};
use tenantry::store::StoreError;

mod archive_and_guests;
mod delta;
mod devices;
mod failures;
mod initial;
mod requested_by;

fn count(c: &std::collections::BTreeMap<String, u64>, k: &str) -> u64 {
    c.get(k).copied().unwrap_or(0)
}

fn job_counts(job: &tenantry::model::Job, what: &str) -> (u64, u64, u64) {
    (
        count(&job.counts, &format!("{what}_created")),
        count(&job.counts, &format!("{what}_updated")),
        count(&job.counts, &format!("{what}_deactivated")),
    )
}

async fn age_delta_links(env: &SyncEnv, company: u64, days: i64) {
    let at = Utc::now() - CDuration::days(days);
    env.services()
        .store_handle()
        .write(move |w| {
            for coll in ["users", "groups"] {
                let mut s: SyncState = w.sync_state(company, coll)?.expect("state");
                assert!(s.delta_link.is_some());
                s.delta_saved_at = Some(at);
                w.put_sync_state(company, coll, &s)?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .expect("aged");
}

/// GET a Graph path as the app (fresh client-credentials token); returns the JSON body.
async fn graph_get(env: &SyncEnv, tid: &str, path: &str) -> serde_json::Value {
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/{tid}/oauth2/v2.0/token", env.sim.login_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let access = token["access_token"].as_str().expect("access token");
    http.get(format!("{}/v1.0/{path}", env.sim.graph_url()))
        .bearer_auth(access)
        .send()
        .await
        .expect("graph")
        .json()
        .await
        .expect("graph json")
}

fn s_id(o: &serde_json::Map<String, serde_json::Value>) -> String {
    s(o, "id")
}
