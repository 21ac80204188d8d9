//! Licence-aware collection: a tenant without Entra ID P1 or Intune gets *not licensed* gaps
//! (never failures), with Graph's answers in the audit log; its administrators' registration
//! comes from their authentication methods; a lapsed P1 still reads CA but is not evidence.

use super::helpers::*;
use crate::helpers::client;
use crate::sync_helpers::*;
use serde_json::Value;
use std::collections::BTreeMap;
use tenantry::model::{Collected, JobState, RegistrationSource};
use tenantry::simulator::{TenantPatch, TenantSpec};

#[tokio::test]
async fn a_tenant_without_p1_or_intune_is_not_licensed_and_audited_with_graph_s_body() {
    let env = sync_env().await;
    let t = env
        .ctl
        .create_tenant(TenantSpec {
            name: "Fabrikam Evidence".into(),
            users: 40,
            devices: 10,
            intune: false,
            p1: false,
            ..Default::default()
        })
        .expect("tenant");
    env.ctl.grant_consent(&t.id, CLIENT_ID).expect("consent");
    let (company, _) = env.connect("Fabrikam Evidence", &t.id).await;
    let job = collect(&env, company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    // The collection succeeded with the tenant's licence states as (neutral) warnings, in
    // the same vocabulary as identity sync's.
    let kinds: Vec<tenantry::model::WarningKind> = job.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(
        kinds,
        [
            tenantry::model::WarningKind::P1NotLicensed,
            tenantry::model::WarningKind::IntuneNotLicensed
        ],
        "{:?}",
        job.warnings
    );
    assert!(job.warnings.iter().all(|w| w.is_licence()));
    let snap = latest(&env, company).await.expect("a snapshot");

    let lic = snap.licences.value().expect("licences");
    assert!(!lic.entra_p1 && !lic.intune, "{lic:?}");
    // Security defaults are on in a tenant without P1: evidence of MFA without CA.
    assert_eq!(snap.security_defaults, Collected::Collected { value: true });
    for (what, gap) in [
        ("CA", serde_json::to_value(&snap.ca_policies).expect("json")),
        (
            "registration",
            serde_json::to_value(&snap.registration).expect("json"),
        ),
        (
            "compliance",
            serde_json::to_value(&snap.compliance_policies).expect("json"),
        ),
        (
            "devices",
            serde_json::to_value(&snap.devices).expect("json"),
        ),
    ] {
        assert_eq!(gap["state"], "not_licensed", "{what}: {gap}");
    }
    match &snap.registration {
        Collected::NotLicensed { graph_code, .. } => assert_eq!(
            graph_code.as_deref(),
            Some("Authentication_RequestFromNonPremiumTenantOrB2CTenant")
        ),
        other => panic!("registration: {other:?}"),
    }

    // Each refused read is in the audit log with Graph's status, request-id and body.
    let rows = env.audit(company, "sync.evidence.read").await;
    let report = rows
        .iter()
        .find(|e| e.details["source"] == "reports/authenticationMethods/userRegistrationDetails")
        .expect("the report's refusal is audited");
    assert_eq!(report.outcome, tenantry::model::Outcome::Failure);
    assert_eq!(report.details["status"], 403);
    assert!(report.details["request_id"].is_string());
    assert!(
        report.details["body"]
            .as_str()
            .is_some_and(|b| b.contains("Authentication_RequestFromNonPremiumTenantOrB2CTenant")),
        "{}",
        report.details
    );
    assert!(
        rows.iter().any(
            |e| e.details["source"] == "deviceManagement/deviceCompliancePolicies"
                && e.details["status"] == 400
        ),
        "Intune's 400 is audited"
    );

    // Without the report, administrators' registration comes from their methods ($batch).
    assert_eq!(
        snap.registration_source,
        Some(RegistrationSource::PerUserMethods)
    );
    let admins = snap.admins.value().expect("admins");
    assert!(!admins.is_empty());
    let tok = token(&env, &t.id).await;
    let mut want = BTreeMap::new();
    for a in admins {
        let v: Value = client()
            .get(format!(
                "{}/v1.0/users/{}/authentication/methods",
                env.sim.graph_url(),
                a.user.object_id
            ))
            .bearer_auth(&tok)
            .send()
            .await
            .expect("methods")
            .json()
            .await
            .expect("json");
        let strong = v["value"].as_array().expect("value").iter().any(|m| {
            !matches!(
                m["@odata.type"].as_str(),
                Some("#microsoft.graph.passwordAuthenticationMethod")
                    | Some("#microsoft.graph.emailAuthenticationMethod")
            )
        });
        want.insert(a.user.object_id.clone(), Some(strong));
    }
    let got: BTreeMap<String, Option<bool>> = admins
        .iter()
        .map(|a| (a.user.object_id.clone(), a.mfa_registered))
        .collect();
    assert_eq!(got, want);
    let counts = env.counts(&t.id);
    assert!(
        counts.get("$batch").copied().unwrap_or(0) >= 1,
        "{counts:?}"
    );
    env.stop().await;
}

#[tokio::test]
async fn a_lapsed_p1_reads_conditional_access_but_it_is_not_counted() {
    let env = sync_env().await;
    let t = env.tenant("Lapsed Evidence", 20, 5, true);
    let (company, _) = env.connect("Lapsed Evidence", &t.id).await;
    env.ctl
        .update_tenant(
            &t.id,
            TenantPatch {
                p1_lapsed: Some(true),
                ..Default::default()
            },
        )
        .expect("lapse");
    let snap = collect_ok(&env, company).await;
    assert!(!snap.licences.value().expect("licences").entra_p1);
    assert!(
        snap.payloads
            .iter()
            .any(|p| p.source == "identity/conditionalAccess/policies" && p.http_status == 200),
        "CA answered 200 and was hashed"
    );
    assert!(
        matches!(
            &snap.ca_policies,
            Collected::NotLicensed {
                graph_code: None,
                ..
            }
        ),
        "{:?}",
        snap.ca_policies
    );
    assert!(matches!(
        &snap.registration,
        Collected::NotLicensed {
            graph_code: Some(_),
            ..
        }
    ));
    env.stop().await;
}

#[tokio::test]
async fn a_permission_missing_from_the_consent_says_grant_it_and_consent_again() {
    let env = sync_env().await;
    let t = env.tenant("Consent Evidence", 20, 5, true);
    let (company, _) = env.connect("Consent Evidence", &t.id).await;
    deny_role_assignments(&env, &t.id);
    let snap = collect_ok(&env, company).await;
    match &snap.admins {
        Collected::MissingPermission {
            permission,
            graph_code,
        } => {
            assert_eq!(permission, "RoleManagement.Read.Directory");
            assert_eq!(graph_code.as_deref(), Some("Authorization_RequestDenied"));
        }
        other => panic!("admins: {other:?}"),
    }
    // The rest was collected, and the company is told what to grant.
    assert!(snap.ca_policies.value().is_some() && snap.registration.value().is_some());
    let a = env
        .services()
        .compliance(company, None)
        .await
        .expect("compliance")
        .expect("assessed");
    assert!(
        a.permission_problems
            .iter()
            .any(|p| p.contains("RoleManagement.Read.Directory")),
        "{:?}",
        a.permission_problems
    );
    let admins_control = a
        .controls
        .iter()
        .find(|c| c.id == "admins_mfa_registered")
        .expect("control 4");
    assert_eq!(
        admins_control.status,
        tenantry::model::ControlStatus::NotCollected,
        "never a failed control"
    );
    let rows = env.audit(company, "sync.evidence.read").await;
    assert!(rows.iter().any(|e| {
        e.details["source"] == "roleManagement/directory/roleAssignments"
            && e.summary
                .contains("grant RoleManagement.Read.Directory and consent again")
    }));
    env.stop().await;
}

#[tokio::test]
async fn without_the_sku_list_licences_are_read_from_graph_s_answers() {
    let env = sync_env().await;
    let t = env.tenant("Skuless Evidence", 20, 5, true);
    let (company, _) = env.connect("Skuless Evidence", &t.id).await;
    env.ctl
        .set_faults(
            &t.id,
            vec![tenantry::simulator::Fault {
                kind: tenantry::simulator::FaultKind::Error {
                    status: 403,
                    code: "Authorization_RequestDenied".into(),
                    message: "Insufficient privileges to complete the operation.".into(),
                    retry_after: None,
                },
                endpoint: Some("subscribedSkus".into()),
                nth: 1,
                times: 0,
                seen: 0,
            }],
        )
        .expect("fault");
    let snap = collect_ok(&env, company).await;
    let lic = snap.licences.value().expect("licences decided anyway");
    assert_eq!(lic.source, "graph_answers");
    assert!(
        lic.entra_p1 && lic.intune,
        "CA, the report and Intune answered: {lic:?}"
    );
    assert!(snap.ca_policies.value().is_some() && snap.devices.value().is_some());
    let rows = env.audit(company, "sync.evidence.read").await;
    assert!(rows.iter().any(|e| e.details["source"] == "subscribedSkus"
        && e.details["status"] == 403
        && e.summary.contains("grant Organization.Read.All")));
    env.stop().await;
}
