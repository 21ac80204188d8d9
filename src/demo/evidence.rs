//! The demo's compliance evidence, collected for real at start: Contoso Dental (Entra ID P1
//! and Intune) gets a realistic mix — an MFA policy with exclusions, a report-only policy, an
//! unregistered administrator, some non-compliant devices from the generator — and two
//! collections with a Conditional Access change between them, so its history chart has a line
//! and a drift mark. Fabrikam Bakery (no P1, no Intune, security defaults on) shows what a
//! tenant protected only by security defaults looks like.

use crate::domain::Services;
use crate::model::{Actor, JobState, Trigger};
use crate::simulator::{Kind, SimControl};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// A company and its simulated tenant.
pub struct DemoTenant<'a> {
    pub company_id: u64,
    pub tenant_id: &'a str,
}

/// Collect `company_id`'s evidence now and wait (bounded) for the job to end.
async fn collect(s: &Services, company_id: u64) -> anyhow::Result<()> {
    let q = s
        .queue_evidence_collection(Actor::system(), company_id, Trigger::Startup)
        .await?;
    for _ in 0..1200 {
        let j = s.job(q.job.id).await?;
        if !j.state.is_active() {
            if j.state == JobState::Failed {
                tracing::warn!(job = j.id, error = ?j.error, "demo evidence collection failed");
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tracing::warn!(job = q.job.id, "demo evidence collection still running");
    Ok(())
}

fn props(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// The generator's "CA001 - Require MFA for all users", with its conditions.
fn mfa_policy(ctl: &SimControl, tid: &str) -> anyhow::Result<Option<Map<String, Value>>> {
    Ok(ctl
        .list_objects(tid, Kind::Policy, 0, 50)?
        .into_iter()
        .find(|p| {
            p.get("displayName")
                .and_then(Value::as_str)
                .is_some_and(|n| n.starts_with("CA001"))
        }))
}

/// Add `user_id` to the MFA policy's excluded users (as an admin would for a service account).
fn exclude_from_mfa(ctl: &SimControl, tid: &str, user_id: &str) -> anyhow::Result<()> {
    let Some(p) = mfa_policy(ctl, tid)? else {
        return Ok(());
    };
    let Some(id) = p.get("id").and_then(Value::as_str).map(str::to_string) else {
        return Ok(());
    };
    let mut conditions = p.get("conditions").cloned().unwrap_or(Value::Null);
    if let Some(list) = conditions
        .pointer_mut("/users/excludeUsers")
        .and_then(Value::as_array_mut)
        && !list.iter().any(|v| v == user_id)
    {
        list.push(Value::from(user_id));
    }
    ctl.update_object(
        tid,
        Kind::Policy,
        &id,
        props(json!({ "conditions": conditions })),
    )?;
    Ok(())
}

/// Shape Contoso's tenant, collect, change a policy, collect again; collect Fabrikam once.
pub async fn collect_demo_evidence(
    s: &Services,
    ctl: &SimControl,
    healthy: DemoTenant<'_>,
    unlicensed: DemoTenant<'_>,
) -> anyhow::Result<()> {
    let users = ctl.list_objects(healthy.tenant_id, Kind::User, 0, 10)?;
    let id_of = |i: usize| {
        users
            .get(i)
            .and_then(|u| u.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    // admin@ (a Global Administrator, excluded from the MFA policy as the break-glass
    // account) never registered a strong method: a finding the auditor will ask about.
    if let Some(admin) = id_of(0) {
        ctl.set_registration(
            healthy.tenant_id,
            &admin,
            props(json!({
                "isMfaRegistered": false,
                "isMfaCapable": false,
                "isPasswordlessCapable": false,
                "methodsRegistered": [],
            })),
        )?;
    }
    collect(s, healthy.company_id).await?;
    collect(s, unlicensed.company_id).await?;
    // Between the two collections someone excludes one more account from the MFA policy:
    // the second snapshot shows it as drift, with the changed field.
    if let Some(user) = id_of(3) {
        exclude_from_mfa(ctl, healthy.tenant_id, &user)?;
    }
    collect(s, healthy.company_id).await?;
    Ok(())
}
