//! Organization, CA policies, compliance policies, registration report, licence gates, headers.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn organization_and_policies_are_served_as_graph_serves_them() {
    let env = env(40, 20, true).await;
    let token = app_token(&env).await;
    let org = get(&env, &format!("{}/organization", env.graph()), &token, &[])
        .await
        .json();
    let orgs = org["value"].as_array().expect("value");
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["id"], env.tid());
    assert!(
        orgs[0]["verifiedDomains"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x["isInitial"] == true))
    );
    let ca = list_all(
        &env,
        &format!("{}/identity/conditionalAccess/policies", env.graph()),
        &token,
    )
    .await;
    assert!((3..=8).contains(&ca.len()));
    let states: Vec<&str> = ca.iter().filter_map(|p| p["state"].as_str()).collect();
    for s in ["enabled", "disabled", "enabledForReportingButNotEnforced"] {
        assert!(states.contains(&s), "{s} missing in {states:?}");
    }
    assert!(
        ca.iter()
            .all(|p| p["grantControls"].get("authenticationStrength").is_some())
    );
    let cp = list_all(
        &env,
        &format!("{}/deviceManagement/deviceCompliancePolicies", env.graph()),
        &token,
    )
    .await;
    assert!(cp.iter().all(|p| {
        p["@odata.type"]
            .as_str()
            .is_some_and(|t| t.ends_with("CompliancePolicy"))
    }));
    let regs = list_all(
        &env,
        &format!(
            "{}/reports/authenticationMethods/userRegistrationDetails",
            env.graph()
        ),
        &token,
    )
    .await;
    assert_eq!(regs.len(), 40);
    assert!(
        regs.iter().any(|r| r["isMfaRegistered"] == true)
            && regs.iter().any(|r| r["isMfaRegistered"] == false)
    );
    let devices = list_all(
        &env,
        &format!("{}/deviceManagement/managedDevices", env.graph()),
        &token,
    )
    .await;
    let serials: Vec<&str> = devices
        .iter()
        .filter_map(|d| d["serialNumber"].as_str())
        .collect();
    for s in ["", "To be filled by O.E.M.", "0"] {
        assert!(serials.contains(&s), "placeholder serial {s:?} missing");
    }
    for s in [
        "unknown",
        "compliant",
        "noncompliant",
        "conflict",
        "error",
        "inGracePeriod",
        "configManager",
    ] {
        assert!(
            devices.iter().any(|d| d["complianceState"] == s),
            "complianceState {s} missing"
        );
    }
    let names: Vec<&str> = devices
        .iter()
        .filter_map(|d| d["deviceName"].as_str())
        .collect();
    let unique: std::collections::BTreeSet<&&str> = names.iter().collect();
    assert!(unique.len() < names.len(), "duplicate hostnames expected");
}

#[tokio::test]
async fn unlicensed_tenants_get_the_errors_graph_sends_them() {
    let env = env(10, 10, false).await;
    let token = app_token(&env).await;
    for path in [
        "deviceManagement/managedDevices",
        "deviceManagement/deviceCompliancePolicies",
    ] {
        let r = get(&env, &format!("{}/{path}", env.graph()), &token, &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        let v = r.json();
        assert_eq!(v["error"]["code"], "BadRequest");
        assert_eq!(
            v["error"]["message"],
            "Request not applicable to target tenant."
        );
    }
    let r = get(
        &env,
        &format!(
            "{}/reports/authenticationMethods/userRegistrationDetails",
            env.graph()
        ),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json()["error"]["code"],
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    );
    let r = get(
        &env,
        &format!("{}/identity/conditionalAccess/policies", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let org = get(&env, &format!("{}/organization", env.graph()), &token, &[])
        .await
        .json();
    let plans: Vec<&str> = org["value"][0]["assignedPlans"]
        .as_array()
        .expect("plans")
        .iter()
        .filter_map(|p| p["service"].as_str())
        .collect();
    assert!(!plans.contains(&"SCO") && !plans.contains(&"AADPremiumService"));
}

#[tokio::test]
async fn error_body_and_ids_on_every_response() {
    let env = env(3, 0, true).await;
    let token = app_token(&env).await;
    let cid = "e70c5c1b-8b47-68c0-3171-3d22f5e0bd54";
    for (url, tok, status) in [
        (
            format!("{}/organization", env.graph()),
            token.as_str(),
            StatusCode::OK,
        ),
        (
            format!("{}/organization", env.graph()),
            "nonsense",
            StatusCode::UNAUTHORIZED,
        ),
        (
            format!("{}/nosuchthing", env.graph()),
            token.as_str(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = get(&env, &url, tok, &[("client-request-id", cid)]).await;
        assert_eq!(r.status, status, "{url}");
        let rid = r.header("request-id").expect("request-id");
        assert_eq!(r.header("client-request-id").as_deref(), Some(cid));
        if status != StatusCode::OK {
            let e = r.json();
            assert!(e["error"]["code"].is_string() && e["error"]["message"].is_string());
            assert_eq!(e["error"]["innerError"]["request-id"], rid.as_str());
            assert_eq!(e["error"]["innerError"]["client-request-id"], cid);
            assert!(e["error"]["innerError"]["date"].is_string());
        }
    }
    // Expired token.
    env.ctl.expire_access_tokens(Some(env.tid()));
    let r = get(&env, &format!("{}/organization", env.graph()), &token, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "InvalidAuthenticationToken");
    // Delegated (sign-in) tokens are not app tokens: Graph refuses directory reads.
    let r = env
        .http
        .get(format!("{}/organization", env.graph()))
        .send()
        .await
        .expect("anon");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let _: Value = r.json().await.expect("json");
}
