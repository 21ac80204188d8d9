//! A seeded tenant: every fact in the snapshot equals what the simulator's own objects say.

use super::helpers::*;
use crate::helpers::client;
use crate::sync_helpers::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use tenantry::model::{Collected, RegistrationSource};
use tenantry::simulator::Kind;

/// Microsoft's 14 privileged role templates (the "Require MFA for admins" CA template),
/// spelled out here so the test does not borrow the code's list.
const PRIVILEGED: [&str; 14] = [
    "62e90394-69f5-4237-9190-012177145e10",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "b0f54661-2d74-4c50-afa3-1ec803f12efe",
    "158c047a-c907-4556-b7ef-446551a6b5f7",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
    "29232cdf-9323-42fd-ade2-1d097af3e4de",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    "966707d0-3269-4727-9be2-8c3a10f19b9d",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    "fe930be7-5e62-47db-91af-98c3a49a38b1",
];

fn strs(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_seeded_tenant_s_facts_match_the_simulator() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Evidence", 70, 30, true);
    let (company, job) = env.connect("Contoso Evidence", &t.id).await;
    assert_eq!(
        job.state,
        tenantry::model::JobState::Succeeded,
        "{:?}",
        job.error
    );
    let snap = collect_ok(&env, company).await;
    let truth = truth(&env.ctl, &t.id);

    // Licences from subscribedSkus: P1 + Intune (Business Premium), no P2.
    let lic = snap.licences.value().expect("licences");
    assert!(lic.entra_p1 && lic.intune && !lic.entra_p2, "{lic:?}");
    assert_eq!(lic.source, "subscribed_skus");
    assert_eq!(
        snap.security_defaults,
        Collected::Collected { value: false }
    );

    // Conditional Access: every policy, its state, exclusions and grant controls.
    let policies = env
        .ctl
        .list_objects(&t.id, Kind::Policy, 0, 1000)
        .expect("policies");
    let ca = snap.ca_policies.value().expect("CA collected");
    assert_eq!(
        ca.iter().map(|p| p.id.clone()).collect::<BTreeSet<_>>(),
        policies.iter().map(|p| s(p, "id")).collect::<BTreeSet<_>>()
    );
    for p in &policies {
        let got = ca.iter().find(|c| c.id == s(p, "id")).expect("policy");
        assert_eq!(got.state, s(p, "state"));
        assert_eq!(got.display_name, s(p, "displayName"));
        let users = &p["conditions"]["users"];
        assert_eq!(
            got.include_users.iter().cloned().collect::<BTreeSet<_>>(),
            strs(&users["includeUsers"])
        );
        let excluded: BTreeSet<String> = got
            .exclude_users
            .iter()
            .map(|u| u.object_id.clone())
            .collect();
        assert_eq!(
            excluded,
            strs(&users["excludeUsers"])
                .into_iter()
                .map(|x| x.to_lowercase())
                .collect()
        );
        for u in &got.exclude_users {
            if let Some(tu) = truth.users.get(&u.object_id) {
                assert_eq!(
                    u.upn,
                    s(tu, "userPrincipalName"),
                    "excluded users are named"
                );
                assert!(u.contact_id.is_some(), "and linked to their contact");
            }
        }
        assert_eq!(
            got.include_roles
                .iter()
                .map(|r| r.template_id.clone())
                .collect::<BTreeSet<_>>(),
            strs(&users["includeRoles"])
        );
        assert_eq!(
            got.built_in_controls
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>(),
            strs(&p["grantControls"]["builtInControls"])
        );
        assert_eq!(
            got.client_app_types
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>(),
            strs(&p["conditions"]["clientAppTypes"])
        );
    }

    // Administrators: holders of a privileged role, from the raw role assignments.
    let (assignments, _) = graph_all(
        &env,
        &t.id,
        "roleManagement/directory/roleAssignments?$expand=principal",
    )
    .await;
    let mut want_admins: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in &assignments {
        let role = a["roleDefinitionId"].as_str().expect("role").to_string();
        if PRIVILEGED.contains(&role.as_str()) {
            want_admins
                .entry(a["principalId"].as_str().expect("principal").to_lowercase())
                .or_default()
                .insert(role);
        }
    }
    assert!(!want_admins.is_empty());
    let admins = snap.admins.value().expect("admins");
    let got_admins: BTreeMap<String, BTreeSet<String>> = admins
        .iter()
        .map(|a| {
            (
                a.user.object_id.clone(),
                a.roles.iter().map(|r| r.template_id.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(got_admins, want_admins);

    // Registration: the raw report joined with the simulator's users.
    let (rows, _) = graph_all(
        &env,
        &t.id,
        "reports/authenticationMethods/userRegistrationDetails",
    )
    .await;
    let (mut members, mut registered, mut guests, mut guests_registered) = (0u64, 0u64, 0u64, 0u64);
    let (mut unregistered, mut not_capable) = (BTreeSet::new(), BTreeSet::new());
    for r in &rows {
        let id = r["id"].as_str().expect("id").to_lowercase();
        let reg = r["isMfaRegistered"].as_bool().unwrap_or(false);
        if let Some(a) = admins.iter().find(|a| a.user.object_id == id) {
            assert_eq!(a.mfa_registered, Some(reg), "admin {id}");
        }
        let enabled = truth
            .users
            .get(&id)
            .is_none_or(|u| u["accountEnabled"].as_bool() != Some(false));
        if !enabled {
            continue;
        }
        if r["userType"].as_str() == Some("guest") {
            guests += 1;
            guests_registered += u64::from(reg);
        } else {
            members += 1;
            if reg {
                registered += 1;
                if r["isMfaCapable"].as_bool() == Some(false) {
                    not_capable.insert(id);
                }
            } else {
                unregistered.insert(id);
            }
        }
    }
    let reg = snap.registration.value().expect("registration");
    assert_eq!(snap.registration_source, Some(RegistrationSource::Report));
    assert_eq!(
        (
            reg.members_total,
            reg.members_registered,
            reg.guests_total,
            reg.guests_registered
        ),
        (members, registered, guests, guests_registered)
    );
    assert_eq!(
        reg.members_unregistered
            .iter()
            .map(|u| u.object_id.clone())
            .collect::<BTreeSet<_>>(),
        unregistered
    );
    assert_eq!(
        reg.members_registered_not_capable
            .iter()
            .map(|u| u.object_id.clone())
            .collect::<BTreeSet<_>>(),
        not_capable
    );

    // Devices: the simulator's managed devices, as identity sync stored them.
    let dev = snap.devices.value().expect("devices");
    let devices: Vec<&serde_json::Map<String, Value>> = truth.devices.values().collect();
    assert_eq!(dev.managed_total, devices.len() as u64);
    let state = |want: &str| {
        devices
            .iter()
            .filter(|d| s(d, "complianceState") == want)
            .count() as u64
    };
    assert_eq!(dev.compliant, state("compliant"));
    assert_eq!(dev.non_compliant.len() as u64, state("noncompliant"));
    assert_eq!(dev.in_grace.len() as u64, state("inGracePeriod"));
    let names = |pick: &dyn Fn(&serde_json::Map<String, Value>) -> bool| -> BTreeSet<String> {
        devices
            .iter()
            .filter(|d| pick(d))
            .map(|d| s(d, "deviceName"))
            .collect()
    };
    assert_eq!(
        dev.non_compliant
            .iter()
            .map(|d| d.hostname.clone())
            .collect::<BTreeSet<_>>(),
        names(&|d| s(d, "complianceState") == "noncompliant")
    );
    assert_eq!(
        dev.not_encrypted
            .iter()
            .map(|d| d.hostname.clone())
            .collect::<BTreeSet<_>>(),
        names(&|d| d["isEncrypted"].as_bool() == Some(false))
    );
    assert_eq!(
        dev.encrypted,
        devices
            .iter()
            .filter(|d| d["isEncrypted"].as_bool() == Some(true))
            .count() as u64
    );
    let mut platforms: BTreeMap<String, u64> = BTreeMap::new();
    for d in &devices {
        let os = match s(d, "operatingSystem").as_str() {
            "Windows" => "windows".to_string(),
            other => other.to_string(),
        };
        let os = if os == "Android" {
            "android".to_string()
        } else {
            os
        };
        *platforms.entry(os).or_default() += 1;
    }
    assert_eq!(dev.platforms, platforms);

    // Compliance policies with their per-policy overview counts.
    let (cps, _) = graph_all(&env, &t.id, "deviceManagement/deviceCompliancePolicies").await;
    let got = snap
        .compliance_policies
        .value()
        .expect("compliance policies");
    assert_eq!(got.len(), cps.len());
    for p in &cps {
        let id = p["id"].as_str().expect("id");
        let token = token(&env, &t.id).await;
        let o: Value = client()
            .get(format!(
                "{}/v1.0/deviceManagement/deviceCompliancePolicies/{id}/deviceStatusOverview",
                env.sim.graph_url()
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("overview")
            .json()
            .await
            .expect("json");
        let g = got.iter().find(|c| c.id == id).expect("policy");
        assert_eq!(g.compliant, o["successCount"].as_u64());
        assert_eq!(g.non_compliant, o["failedCount"].as_u64());
    }

    // Hashes: subscribedSkus' hash is the SHA-256 of the body Microsoft sends.
    let (_, bodies) = graph_all(&env, &t.id, "subscribedSkus").await;
    let mut h = Sha256::new();
    for b in &bodies {
        h.update(b);
    }
    let skus = snap
        .payloads
        .iter()
        .find(|p| p.source == "subscribedSkus")
        .expect("hash");
    assert_eq!(skus.sha256, hex::encode(h.finalize()));
    assert_eq!(skus.http_status, 200);
    assert!(skus.request_id.is_some());
    for source in [
        "identity/conditionalAccess/policies",
        "reports/authenticationMethods/userRegistrationDetails",
        "roleManagement/directory/roleAssignments",
        "policies/identitySecurityDefaultsEnforcementPolicy",
        "deviceManagement/deviceCompliancePolicies",
    ] {
        assert!(
            snap.payloads.iter().any(|p| p.source == source),
            "{source} hashed"
        );
    }
    env.stop().await;
}

#[tokio::test]
async fn an_excluded_group_names_its_members_through_nested_groups() {
    let env = sync_env().await;
    let t = env.tenant("Groups Evidence", 30, 0, true);
    let users: Vec<String> = truth(&env.ctl, &t.id)
        .users
        .keys()
        .take(3)
        .cloned()
        .collect();
    let obj_of = |v: Value| match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let outer = s(
        &env.ctl
            .create_object(
                &t.id,
                Kind::Group,
                obj_of(serde_json::json!({"displayName": "Break glass"})),
            )
            .expect("group"),
        "id",
    );
    let inner = s(
        &env.ctl
            .create_object(
                &t.id,
                Kind::Group,
                obj_of(serde_json::json!({"displayName": "Break glass (nested)"})),
            )
            .expect("group"),
        "id",
    );
    env.ctl
        .add_member(&t.id, &outer, &users[0])
        .expect("member");
    env.ctl
        .add_member(&t.id, &inner, &users[1])
        .expect("member");
    env.ctl.add_member(&t.id, &outer, &inner).expect("nested");
    let policies = env
        .ctl
        .list_objects(&t.id, Kind::Policy, 0, 100)
        .expect("policies");
    let ca001 = policies
        .iter()
        .find(|p| s(p, "displayName").starts_with("CA001"))
        .expect("CA001");
    let mut conditions = ca001["conditions"].clone();
    conditions["users"]["excludeGroups"] = serde_json::json!([outer]);
    env.ctl
        .update_object(
            &t.id,
            Kind::Policy,
            &s(ca001, "id"),
            obj_of(serde_json::json!({"conditions": conditions})),
        )
        .expect("policy");
    // Identity sync learns the groups, their members and the nesting; evidence reads them.
    let (company, _) = env.connect("Groups Evidence", &t.id).await;
    let snap = collect_ok(&env, company).await;
    let ca = snap.ca_policies.value().expect("CA");
    let got = ca.iter().find(|p| p.id == s(ca001, "id")).expect("CA001");
    assert_eq!(got.exclude_groups.len(), 1);
    let g = &got.exclude_groups[0];
    assert_eq!(g.display_name, "Break glass");
    let members: BTreeSet<String> = g.members.iter().map(|m| m.object_id.clone()).collect();
    assert_eq!(
        members,
        [users[0].clone(), users[1].clone()]
            .into_iter()
            .collect::<BTreeSet<_>>(),
        "direct and nested members, nobody else"
    );
    assert!(
        g.members
            .iter()
            .all(|m| m.contact_id.is_some() && !m.upn.is_empty())
    );
    env.stop().await;
}
