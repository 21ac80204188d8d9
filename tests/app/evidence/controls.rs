//! Control statuses over collected evidence, each expected value worked out here from the
//! simulator's own objects (control API and raw Graph answers) with the rules the issue
//! states, not from the appliance's evaluation code; drift after a policy changes through the
//! control API; security defaults carrying a tenant without P1.

use super::helpers::*;
use crate::sync_helpers::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tenantry::model::{ControlStatus, DriftKind};
use tenantry::simulator::{Kind, TenantSpec};

fn has(v: &Value, want: &str) -> bool {
    v.as_array().is_some_and(|a| {
        a.iter()
            .any(|x| x.as_str().is_some_and(|s| s.eq_ignore_ascii_case(want)))
    })
}

fn len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

/// Platform family of an Intune OS name or a compliance policy type.
fn family(s: &str) -> String {
    let l = s.to_ascii_lowercase();
    ["windows", "ios", "macos", "android"]
        .into_iter()
        .find(|f| l.starts_with(f))
        .unwrap_or(&l)
        .to_string()
}

fn status(a: &tenantry::model::Assessment, id: &str) -> ControlStatus {
    a.controls
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("control {id}"))
        .status
}

fn pass_if(ok: bool) -> ControlStatus {
    if ok {
        ControlStatus::Pass
    } else {
        ControlStatus::Fail
    }
}

#[tokio::test]
async fn every_control_s_status_follows_from_the_simulator_s_objects() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Controls", 80, 40, true);
    let (company, _) = env.connect("Contoso Controls", &t.id).await;
    let snap = collect_ok(&env, company).await;
    let a = env
        .services()
        .compliance(company, None)
        .await
        .expect("compliance")
        .expect("assessed");
    assert_eq!(a.snapshot_id, snap.id);
    let truth = truth(&env.ctl, &t.id);
    let policies = env
        .ctl
        .list_objects(&t.id, Kind::Policy, 0, 1000)
        .expect("policies");

    // A policy counts for "MFA for all users" when enforced, for all users and all apps, for
    // modern clients, with no risk/action/platform narrowing, requiring MFA (built in or a
    // strength satisfying mfa) without an OR alternative.
    let plain = |p: &Value| {
        let c = &p["conditions"];
        p["state"] == "enabled"
            && has(&c["applications"]["includeApplications"], "All")
            && len(&c["userRiskLevels"]) == 0
            && len(&c["signInRiskLevels"]) == 0
            && len(&c["applications"]["includeUserActions"]) == 0
            && c["platforms"].is_null()
            && c["locations"].is_null()
    };
    let requires_mfa = |p: &Value| {
        let g = &p["grantControls"];
        let builtin = has(&g["builtInControls"], "mfa");
        let strength = g["authenticationStrength"]["requirementsSatisfied"] == "mfa";
        let others = g["builtInControls"]
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c != "mfa"));
        (builtin || strength) && !(g["operator"] == "OR" && others)
    };
    let modern = |p: &Value| {
        let apps = &p["conditions"]["clientAppTypes"];
        len(apps) == 0
            || has(apps, "all")
            || (has(apps, "browser") && has(apps, "mobileAppsAndDesktopClients"))
    };
    let mfa_for_all: Vec<&serde_json::Map<String, Value>> = policies
        .iter()
        .filter(|p| {
            let v = Value::Object((*p).clone());
            plain(&v)
                && modern(&v)
                && requires_mfa(&v)
                && has(&v["conditions"]["users"]["includeUsers"], "All")
        })
        .collect();
    // Excluded from every counting policy (the simulator excludes users by name only).
    let excluded: BTreeSet<String> = mfa_for_all
        .iter()
        .map(|p| {
            p["conditions"]["users"]["excludeUsers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_lowercase))
                        .collect::<BTreeSet<_>>()
                })
                .unwrap_or_default()
        })
        .reduce(|a, b| a.intersection(&b).cloned().collect())
        .unwrap_or_default();
    assert_eq!(
        status(&a, "mfa_all_users"),
        pass_if(!mfa_for_all.is_empty() && excluded.len() <= 2),
        "{:?}",
        a.controls[0]
    );

    // Administrators: every holder of a privileged role must be covered and not excluded.
    let (assignments, _) = graph_all(
        &env,
        &t.id,
        "roleManagement/directory/roleAssignments?$expand=principal",
    )
    .await;
    let admins: BTreeSet<String> = assignments
        .iter()
        .map(|x| x["principalId"].as_str().expect("id").to_lowercase())
        .collect();
    // An administrator excluded by name from every such policy counts against the
    // break-glass allowance (two emergency access accounts are expected; a third is a finding).
    let excluded_admins = admins
        .iter()
        .filter(|id| {
            mfa_for_all
                .iter()
                .all(|p| has(&p["conditions"]["users"]["excludeUsers"], id))
        })
        .count();
    let admins_covered = !mfa_for_all.is_empty() && excluded_admins <= 2;
    assert_eq!(status(&a, "mfa_admins"), pass_if(admins_covered));

    // Legacy authentication: an enforced block for `other` and `exchangeActiveSync` clients,
    // all users, all apps.
    let legacy_blocked = policies.iter().any(|p| {
        let v = Value::Object(p.clone());
        plain(&v)
            && has(&v["grantControls"]["builtInControls"], "block")
            && has(&v["conditions"]["clientAppTypes"], "other")
            && has(&v["conditions"]["clientAppTypes"], "exchangeActiveSync")
            && has(&v["conditions"]["users"]["includeUsers"], "All")
    });
    assert_eq!(status(&a, "legacy_auth_blocked"), pass_if(legacy_blocked));

    // Compliant device required by an enforced policy for all users and apps.
    let device_required = policies.iter().any(|p| {
        let v = Value::Object(p.clone());
        plain(&v)
            && (has(&v["grantControls"]["builtInControls"], "compliantDevice")
                || has(&v["grantControls"]["builtInControls"], "domainJoinedDevice"))
            && has(&v["conditions"]["users"]["includeUsers"], "All")
    });
    assert_eq!(
        status(&a, "ca_requires_compliant_device"),
        pass_if(device_required)
    );

    // Registration, from the raw report and the simulator's users.
    let (rows, _) = graph_all(
        &env,
        &t.id,
        "reports/authenticationMethods/userRegistrationDetails",
    )
    .await;
    let row_of: BTreeMap<String, &Value> = rows
        .iter()
        .map(|r| (r["id"].as_str().expect("id").to_lowercase(), r))
        .collect();
    let admins_registered = admins
        .iter()
        .all(|id| row_of.get(id).is_some_and(|r| r["isMfaRegistered"] == true));
    assert_eq!(
        status(&a, "admins_mfa_registered"),
        pass_if(admins_registered)
    );
    let members: Vec<&&Value> = row_of
        .iter()
        .filter(|(id, r)| {
            r["userType"] == "member"
                && truth
                    .users
                    .get(*id)
                    .is_none_or(|u| u["accountEnabled"] != false)
        })
        .map(|(_, r)| r)
        .collect();
    let registered = members
        .iter()
        .filter(|r| r["isMfaRegistered"] == true)
        .count();
    let coverage = registered as f64 * 100.0 / members.len() as f64;
    let c = a
        .controls
        .iter()
        .find(|c| c.id == "mfa_registration_coverage")
        .expect("control 5");
    assert!(
        c.percent.is_some_and(|p| (p - coverage).abs() < 0.01),
        "{:?} vs {coverage}",
        c.percent
    );
    assert_eq!(c.status, pass_if(coverage >= 95.0));

    // Devices, from the simulator's managed devices and compliance policies.
    let devices: Vec<&serde_json::Map<String, Value>> = truth.devices.values().collect();
    let compliant = devices
        .iter()
        .filter(|d| d["complianceState"] == "compliant")
        .count();
    let pct = compliant as f64 * 100.0 / devices.len() as f64;
    let c = a
        .controls
        .iter()
        .find(|c| c.id == "device_compliance")
        .expect("control 6");
    assert!(
        c.percent.is_some_and(|p| (p - pct).abs() < 0.01),
        "{:?} vs {pct}",
        c.percent
    );
    assert_eq!(c.status, pass_if(pct >= 90.0));
    let (cps, _) = graph_all(&env, &t.id, "deviceManagement/deviceCompliancePolicies").await;
    let covered: BTreeSet<String> = cps
        .iter()
        .map(|p| {
            family(
                p["@odata.type"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches("#microsoft.graph."),
            )
        })
        .collect();
    let present: BTreeSet<String> = devices
        .iter()
        .map(|d| family(&s(d, "operatingSystem")))
        .collect();
    assert_eq!(
        status(&a, "compliance_policy_per_platform"),
        pass_if(present.is_subset(&covered))
    );
    let unencrypted = devices.iter().any(|d| d["isEncrypted"] == false);
    assert_eq!(status(&a, "device_encryption"), pass_if(!unencrypted));

    // The first snapshot has nothing to compare with.
    assert_eq!(status(&a, "policy_drift"), ControlStatus::Manual);

    // The stored summary agrees with the assessment, and the overview shows the company.
    let list = env
        .services()
        .evidence_snapshots(company, Default::default())
        .await
        .expect("list");
    let summary = &list.items[0];
    for c in &a.controls {
        assert_eq!(summary.statuses.get(&c.id), Some(&c.status), "{}", c.id);
    }
    let overview = env
        .services()
        .compliance_overview()
        .await
        .expect("overview");
    let row = overview
        .iter()
        .find(|r| r.company_id == company)
        .expect("row");
    assert_eq!(row.statuses, summary.statuses);
    assert_eq!(
        row.failing as usize,
        summary
            .statuses
            .values()
            .filter(|s| **s == ControlStatus::Fail)
            .count()
    );
    // A framework filter keeps only that framework's controls and score.
    let soc2 = env
        .services()
        .compliance(company, Some("soc2"))
        .await
        .expect("soc2")
        .expect("assessed");
    assert!(soc2.scores.iter().all(|s| s.framework == "soc2"));
    assert!(
        soc2.controls
            .iter()
            .all(|c| c.frameworks.iter().any(|f| f.framework == "soc2"))
    );
    assert!(matches!(
        env.services().compliance(company, Some("nope")).await,
        Err(tenantry::domain::DomainError::Validation(_))
    ));
    env.stop().await;
}

#[tokio::test]
async fn a_policy_changed_in_the_tenant_shows_as_drift_with_its_fields() {
    let env = sync_env().await;
    let t = env.tenant("Drift Controls", 20, 5, true);
    let (company, _) = env.connect("Drift Controls", &t.id).await;
    collect_ok(&env, company).await;
    let policies = env
        .ctl
        .list_objects(&t.id, Kind::Policy, 0, 100)
        .expect("policies");
    let legacy = policies
        .iter()
        .find(|p| s(p, "displayName").starts_with("CA002"))
        .expect("CA002");
    let id = s(legacy, "id");
    let mut conditions = legacy["conditions"].clone();
    let extra = truth(&env.ctl, &t.id)
        .users
        .keys()
        .find(|u| !has(&conditions["users"]["excludeUsers"], u))
        .cloned()
        .expect("a user to exclude");
    conditions["users"]["excludeUsers"]
        .as_array_mut()
        .expect("array")
        .push(Value::from(extra.clone()));
    env.ctl
        .update_object(
            &t.id,
            Kind::Policy,
            &id,
            obj(serde_json::json!({"state": "enabled", "conditions": conditions})),
        )
        .expect("policy changed");
    let second = collect_ok(&env, company).await;
    let a = env
        .services()
        .compliance(company, None)
        .await
        .expect("compliance")
        .expect("assessed");
    assert_eq!(a.snapshot_id, second.id);
    let drift = a
        .controls
        .iter()
        .find(|c| c.id == "policy_drift")
        .expect("control 10");
    let change = drift
        .drift
        .iter()
        .find(|d| d.id == id)
        .expect("CA002 drifted");
    assert_eq!(change.kind, DriftKind::Changed);
    assert_eq!(change.object, "conditional_access_policy");
    let state = change
        .fields
        .iter()
        .find(|f| f.field == "state")
        .expect("state changed");
    assert_eq!(
        (state.before.as_str(), state.after.as_str()),
        ("enabledForReportingButNotEnforced", "enabled")
    );
    let excluded = change
        .fields
        .iter()
        .find(|f| f.field == "conditions.users.excludeUsers")
        .expect("exclusions changed");
    let upn = s(&truth(&env.ctl, &t.id).users[&extra], "userPrincipalName");
    assert!(
        excluded.after.contains(&upn) || excluded.after.contains(&extra),
        "{excluded:?}"
    );
    assert!(
        drift.drift.iter().all(|d| d.id == id),
        "only CA002 changed: {:?}",
        drift.drift
    );
    // The history marks the drift on the second point.
    let history = env
        .services()
        .compliance_history(company, 10)
        .await
        .expect("history");
    assert_eq!(
        history.iter().map(|h| h.drift).collect::<Vec<_>>(),
        vec![false, true]
    );
    env.stop().await;
}

#[tokio::test]
async fn security_defaults_carry_the_mfa_controls_of_a_tenant_without_p1() {
    let env = sync_env().await;
    let t = env
        .ctl
        .create_tenant(TenantSpec {
            name: "Fabrikam Controls".into(),
            users: 30,
            devices: 5,
            intune: false,
            p1: false,
            ..Default::default()
        })
        .expect("tenant");
    env.ctl.grant_consent(&t.id, CLIENT_ID).expect("consent");
    assert!(
        env.ctl.tenant(&t.id).expect("tenant").security_defaults,
        "on without P1"
    );
    let (company, _) = env.connect("Fabrikam Controls", &t.id).await;
    collect_ok(&env, company).await;
    let a = env
        .services()
        .compliance(company, None)
        .await
        .expect("compliance")
        .expect("assessed");
    for id in ["mfa_all_users", "mfa_admins", "legacy_auth_blocked"] {
        assert_eq!(
            status(&a, id),
            ControlStatus::Pass,
            "{id} passes through security defaults"
        );
    }
    for id in [
        "mfa_registration_coverage",
        "device_compliance",
        "compliance_policy_per_platform",
        "device_encryption",
    ] {
        assert_eq!(status(&a, id), ControlStatus::NotLicensed, "{id}");
    }
    assert!(
        a.controls
            .iter()
            .all(|c| c.status != ControlStatus::Fail || c.id == "admins_mfa_registered"),
        "licence gaps never fail: {:?}",
        a.controls
            .iter()
            .map(|c| (&c.id, c.status))
            .collect::<Vec<_>>()
    );
    env.stop().await;
}
