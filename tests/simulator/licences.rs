//! Licence evidence: subscribed SKUs, security defaults and a lapsed P1 agree with the tenant's
//! licence flags as the control API reports them (docs/microsoft.md#licences).

use reqwest::StatusCode;
use serde_json::Value;
use tenantry::simulator::TenantSpec;

use crate::common::*;
use crate::evidence::{INTUNE, P1, P2, get_ok, plans, spec, tenant_with};

#[tokio::test]
async fn subscribed_skus_carry_exactly_the_service_plans_the_tenant_is_licensed_for() {
    let env = env(5, 0, true).await;
    let g = env.graph();
    for (i, (intune, p1, p2, lapsed)) in [
        (false, false, false, false),
        (true, false, false, false),
        (false, true, false, false),
        (true, true, false, false),
        (true, true, true, false),
        (true, true, false, true),
    ]
    .into_iter()
    .enumerate()
    {
        let (tid, token) =
            tenant_with(&env, spec(&format!("Sku {i}"), intune, p1, p2, lapsed)).await;
        let info = env.ctl.tenant(&tid).expect("info");
        let skus = get_ok(&env, &format!("{g}/subscribedSkus"), &token).await;
        let plans = plans(&skus);
        let p1_status = if info.p1_lapsed {
            "Suspended"
        } else {
            "Enabled"
        };
        assert_eq!(
            plans.get(INTUNE).map(String::as_str),
            info.intune.then_some("Enabled"),
            "{i}"
        );
        assert_eq!(
            plans.get(P1).map(String::as_str),
            (info.p1 || info.p2).then_some(if info.p2 { "Enabled" } else { p1_status }),
            "{i}"
        );
        assert_eq!(
            plans.get(P2).map(String::as_str),
            info.p2.then_some("Enabled"),
            "{i}"
        );
        let org = get_ok(&env, &format!("{g}/organization"), &token).await;
        for ap in org["value"][0]["assignedPlans"]
            .as_array()
            .expect("assignedPlans")
        {
            let id = ap["servicePlanId"].as_str().expect("servicePlanId");
            if [P1, P2, INTUNE].contains(&id) {
                assert_eq!(
                    Some(&ap["capabilityStatus"]),
                    plans.get(id).map(|s| Value::from(s.as_str())).as_ref(),
                    "{i}: organization agrees on {id}"
                );
            }
        }
        for sku in skus["value"].as_array().expect("value") {
            let units = &sku["prepaidUnits"];
            let seats =
                units["enabled"].as_i64().unwrap_or(0) + units["suspended"].as_i64().unwrap_or(0);
            assert!(sku["consumedUnits"].as_i64().unwrap_or(0) <= seats, "{sku}");
            assert!(
                sku["skuId"]
                    .as_str()
                    .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok())
            );
        }
    }
}

#[tokio::test]
async fn security_defaults_are_on_without_p1_off_with_it_and_follow_the_spec_when_given() {
    let env = env(5, 0, true).await;
    let url = format!(
        "{}/policies/identitySecurityDefaultsEnforcementPolicy",
        env.graph()
    );
    for (name, p1, flag, want) in [
        ("Free", false, None, true),
        ("Premium", true, None, false),
        ("Premium with defaults", true, Some(true), true),
        ("Free without defaults", false, Some(false), false),
    ] {
        let (_, token) = tenant_with(
            &env,
            TenantSpec {
                security_defaults: flag,
                ..spec(name, false, p1, false, false)
            },
        )
        .await;
        let v = get_ok(&env, &url, &token).await;
        assert_eq!(v["isEnabled"], Value::Bool(want), "{name}");
    }
}

#[tokio::test]
async fn a_lapsed_p1_still_reads_conditional_access_but_the_registration_report_is_refused() {
    let env = env(5, 0, true).await;
    let (_, token) = tenant_with(&env, spec("Lapsed", true, true, false, true)).await;
    let g = env.graph();
    get_ok(
        &env,
        &format!("{g}/identity/conditionalAccess/policies"),
        &token,
    )
    .await;
    let r = get(
        &env,
        &format!("{g}/reports/authenticationMethods/userRegistrationDetails"),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let e = &r.json()["error"];
    assert_eq!(
        e["code"],
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    );
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(
        e["innerError"]["request-id"].as_str(),
        r.header("request-id").as_deref()
    );
    assert!(e["innerError"]["date"].as_str().is_some());
    let skus = get_ok(&env, &format!("{g}/subscribedSkus"), &token).await;
    assert_eq!(plans(&skus).get(P1).map(String::as_str), Some("Suspended"));
}

#[tokio::test]
async fn a_p1_that_lapses_at_runtime_shuts_the_report_and_reopens_when_renewed() {
    let env = env(20, 0, true).await;
    let token = app_token(&env).await;
    let report = format!(
        "{}/reports/authenticationMethods/userRegistrationDetails",
        env.graph()
    );
    let ca = format!("{}/identity/conditionalAccess/policies", env.graph());
    let lapse = |v: bool| tenantry::simulator::TenantPatch {
        p1_lapsed: Some(v),
        ..Default::default()
    };
    env.ctl
        .update_tenant(env.tid(), lapse(true))
        .expect("lapse");
    assert_eq!(
        get(&env, &report, &token, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(get(&env, &ca, &token, &[]).await.status, StatusCode::OK);
    env.ctl
        .update_tenant(env.tid(), lapse(false))
        .expect("renew");
    assert_eq!(get(&env, &report, &token, &[]).await.status, StatusCode::OK);
}
