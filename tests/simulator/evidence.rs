//! The evidence endpoints (role assignments, authentication methods, the registration report,
//! CA samples, compliance overviews, `$filter`) tell the truth: the data agrees with itself and
//! with the control API's view of the tenant (docs/microsoft.md#evidence-reads). Shapes are
//! checked against the CSDL in `schema.rs`; licences in `licences.rs`, which shares the helpers
//! here.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::Value;
use tenantry::simulator::{Kind, TenantSpec};

use crate::common::*;

const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
pub(crate) const P1: &str = "41781fb2-bc02-4b7c-bd55-b576c07bb09d";
pub(crate) const P2: &str = "eec0eb4f-6444-4f95-aba0-50c24d67f998";
pub(crate) const INTUNE: &str = "c1ec4a95-1f05-45b3-a911-aa3fa01094f5";

/// Creates and consents another tenant in `env`; returns its id and an app token for it.
pub(crate) async fn tenant_with(env: &Env, spec: TenantSpec) -> (String, String) {
    let t = env.ctl.create_tenant(spec).expect("tenant");
    env.ctl.grant_consent(&t.id, CLIENT_ID).expect("consent");
    let (s, v) = token_request(
        env,
        &t.id,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    (t.id, v["access_token"].as_str().expect("token").to_string())
}

pub(crate) fn spec(name: &str, intune: bool, p1: bool, p2: bool, p1_lapsed: bool) -> TenantSpec {
    TenantSpec {
        name: name.into(),
        users: 80,
        devices: 40,
        intune,
        p1,
        p2,
        p1_lapsed,
        ..Default::default()
    }
}

pub(crate) async fn get_ok(env: &Env, url: &str, token: &str) -> Value {
    let r = get(env, url, token, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text);
    r.json()
}

/// Service plan id -> capabilityStatus of the SKUs carrying it ("Enabled" wins).
pub(crate) fn plans(skus: &Value) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for sku in skus["value"].as_array().expect("value") {
        let status = sku["capabilityStatus"]
            .as_str()
            .expect("status")
            .to_string();
        for p in sku["servicePlans"].as_array().expect("plans") {
            let id = p["servicePlanId"].as_str().expect("id").to_string();
            let e = out.entry(id).or_insert_with(|| status.clone());
            if status == "Enabled" {
                *e = status.clone();
            }
        }
    }
    out
}

#[tokio::test]
async fn role_assignments_expand_to_the_directory_users_and_decide_is_admin_in_the_report() {
    let env = env(150, 0, true).await;
    let token = app_token(&env).await;
    let g = env.graph();
    let v = get_ok(
        &env,
        &format!("{g}/roleManagement/directory/roleAssignments?$expand=principal"),
        &token,
    )
    .await;
    let assignments = v["value"].as_array().expect("value");
    assert!((2..=4).contains(&assignments.len()), "{v}");
    let users: BTreeMap<String, Value> = env
        .ctl
        .list_objects(env.tid(), Kind::User, 0, 1000)
        .expect("users")
        .into_iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap_or_default().to_string(),
                Value::Object(u),
            )
        })
        .collect();
    let mut admins = BTreeSet::new();
    for a in assignments {
        assert_eq!(a["directoryScopeId"], "/");
        let pid = a["principalId"].as_str().expect("principalId");
        let user = users.get(pid).expect("principal is a directory user");
        for (k, val) in user.as_object().expect("user") {
            assert_eq!(&a["principal"][k], val, "principal.{k}");
        }
        assert_eq!(a["principal"]["@odata.type"], "#microsoft.graph.user");
        admins.insert(pid.to_string());
    }
    let global: Vec<&str> = assignments
        .iter()
        .filter(|a| a["roleDefinitionId"] == GLOBAL_ADMIN)
        .filter_map(|a| a["principal"]["userPrincipalName"].as_str())
        .collect();
    assert!(
        global.contains(&format!("admin@{}", env.tenant.domain).as_str()),
        "{global:?}"
    );
    let report = list_all(
        &env,
        &format!("{g}/reports/authenticationMethods/userRegistrationDetails"),
        &token,
    )
    .await;
    let flagged: BTreeSet<String> = report
        .iter()
        .filter(|r| r["isAdmin"] == Value::Bool(true))
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(flagged, admins);
    let bad = get(&env, &format!("{g}/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '{GLOBAL_ADMIN}'"), &token, &[]).await;
    assert_eq!(
        bad.status,
        StatusCode::BAD_REQUEST,
        "an unsupported $filter is refused, not ignored"
    );
}

#[tokio::test]
async fn a_users_authentication_methods_match_the_methods_the_report_says_they_registered() {
    let env = env(60, 0, true).await;
    let token = app_token(&env).await;
    let g = env.graph();
    let report = list_all(
        &env,
        &format!("{g}/reports/authenticationMethods/userRegistrationDetails"),
        &token,
    )
    .await;
    let to_type = |m: &str| match m {
        "microsoftAuthenticatorPush" => "microsoftAuthenticatorAuthenticationMethod",
        "mobilePhone" => "phoneAuthenticationMethod",
        "fido2" => "fido2AuthenticationMethod",
        "softwareOneTimePasscode" => "softwareOathAuthenticationMethod",
        "email" => "emailAuthenticationMethod",
        other => panic!("unmapped method {other}"),
    };
    for row in report.iter().take(25) {
        let id = row["id"].as_str().expect("id");
        let v = get_ok(
            &env,
            &format!("{g}/users/{id}/authentication/methods"),
            &token,
        )
        .await;
        let got: BTreeSet<String> = v["value"]
            .as_array()
            .expect("value")
            .iter()
            .filter_map(|m| m["@odata.type"].as_str())
            .map(|t| t.trim_start_matches("#microsoft.graph.").to_string())
            .collect();
        let mut want: BTreeSet<String> = row["methodsRegistered"]
            .as_array()
            .expect("methods")
            .iter()
            .filter_map(Value::as_str)
            .map(|m| to_type(m).to_string())
            .collect();
        want.insert("passwordAuthenticationMethod".into());
        assert_eq!(got, want, "{id}");
    }
    let missing = get(
        &env,
        &format!("{g}/users/00000000-0000-0000-0000-000000000000/authentication/methods"),
        &token,
        &[],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_registration_report_never_calls_a_user_sspr_capable_without_sspr_enabled() {
    let env = env(300, 0, true).await;
    let token = app_token(&env).await;
    let report = list_all(
        &env,
        &format!(
            "{}/reports/authenticationMethods/userRegistrationDetails",
            env.graph()
        ),
        &token,
    )
    .await;
    let t = |r: &Value, k: &str| r[k] == Value::Bool(true);
    assert!(
        report
            .iter()
            .all(|r| !t(r, "isSsprCapable") || t(r, "isSsprEnabled"))
    );
    assert!(
        report
            .iter()
            .all(|r| !t(r, "isSsprCapable") || t(r, "isSsprRegistered"))
    );
    assert!(
        report
            .iter()
            .any(|r| t(r, "isSsprRegistered") && !t(r, "isSsprCapable")),
        "some users are registered but not capable"
    );
}

#[tokio::test]
async fn the_admin_mfa_policy_targets_roles_and_risk_policies_exist_only_with_p2() {
    let env = env(5, 0, true).await;
    for p2 in [false, true] {
        let info = env
            .ctl
            .create_tenant(TenantSpec {
                policies: Some(8),
                ..spec(&format!("Risk {p2}"), true, true, p2, false)
            })
            .expect("tenant");
        let policies = env
            .ctl
            .list_objects(&info.id, Kind::Policy, 0, 100)
            .expect("policies");
        let admin = policies
            .iter()
            .find(|p| p["grantControls"]["authenticationStrength"].is_object())
            .expect("phishing-resistant policy");
        assert_eq!(
            admin["conditions"]["users"]["includeUsers"],
            serde_json::json!([])
        );
        assert_eq!(
            admin["conditions"]["users"]["includeRoles"],
            serde_json::json!([GLOBAL_ADMIN])
        );
        let risky = policies.iter().any(|p| {
            let c = &p["conditions"];
            ["userRiskLevels", "signInRiskLevels"]
                .iter()
                .any(|k| c[*k].as_array().is_some_and(|a| !a.is_empty()))
        });
        assert_eq!(risky, p2, "risk-based policies need P2");
    }
}

#[tokio::test]
async fn a_compliance_policys_status_overview_counts_the_devices_of_its_platform() {
    let env = env(20, 120, true).await;
    let token = app_token(&env).await;
    let g = env.graph();
    let devices = env
        .ctl
        .list_objects(env.tid(), Kind::Device, 0, 1000)
        .expect("devices");
    let policies = list_all(
        &env,
        &format!("{g}/deviceManagement/deviceCompliancePolicies"),
        &token,
    )
    .await;
    for p in &policies {
        let os = match p["@odata.type"].as_str().expect("type") {
            "#microsoft.graph.windows10CompliancePolicy" => "Windows",
            "#microsoft.graph.iosCompliancePolicy" => "iOS",
            "#microsoft.graph.androidCompliancePolicy" => "Android",
            _ => "macOS",
        };
        let mine: Vec<_> = devices
            .iter()
            .filter(|d| d["operatingSystem"] == os)
            .collect();
        let count = |s: &[&str]| {
            mine.iter()
                .filter(|d| s.iter().any(|x| d["complianceState"] == *x))
                .count() as i64
        };
        let id = p["id"].as_str().expect("id");
        let o = get_ok(
            &env,
            &format!("{g}/deviceManagement/deviceCompliancePolicies/{id}/deviceStatusOverview"),
            &token,
        )
        .await;
        assert_eq!(o["successCount"], count(&["compliant"]), "{os}");
        assert_eq!(o["failedCount"], count(&["noncompliant"]), "{os}");
        assert_eq!(o["errorCount"], count(&["error", "conflict"]), "{os}");
        let total: i64 = [
            "successCount",
            "failedCount",
            "errorCount",
            "pendingCount",
            "notApplicableCount",
        ]
        .iter()
        .map(|k| o[*k].as_i64().unwrap_or(0))
        .sum();
        assert_eq!(total, mine.len() as i64, "{os}");
    }
    let r = get(
        &env,
        &format!("{g}/deviceManagement/deviceCompliancePolicies/nope/deviceStatusOverview"),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn filters_on_the_ca_list_and_the_report_are_honoured_or_refused_never_ignored() {
    let env = env(250, 0, true).await;
    without_rate_limits(&env);
    let token = app_token(&env).await;
    let g = env.graph();
    let report = format!("{g}/reports/authenticationMethods/userRegistrationDetails");
    let all = list_all(&env, &report, &token).await;
    let admins = list_all(
        &env,
        &format!("{report}?$filter=isAdmin eq true&$top=1"),
        &token,
    )
    .await;
    let want: Vec<&Value> = all
        .iter()
        .filter(|r| r["isAdmin"] == Value::Bool(true))
        .collect();
    assert_eq!(
        admins.iter().collect::<Vec<_>>(),
        want,
        "the filter holds across pages"
    );
    let ca = format!("{g}/identity/conditionalAccess/policies");
    let enabled = list_all(&env, &format!("{ca}?$filter=state eq 'enabled'"), &token).await;
    assert!(!enabled.is_empty() && enabled.iter().all(|p| p["state"] == "enabled"));
    for url in [
        format!("{report}?$filter=methodsRegistered/any(m:m eq 'fido2')"),
        format!("{ca}?$filter=startswith(displayName,'CA')"),
        format!("{ca}?$orderby=displayName"),
        format!("{g}/deviceManagement/managedDevices?$filter=complianceState eq 'compliant'"),
    ] {
        let r = get(&env, &url, &token, &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text);
    }
}

#[tokio::test]
async fn mfa_capability_follows_the_methods_the_authentication_policy_allows() {
    let env = env(5, 0, true).await;
    let g = env.graph();
    let config_of = |m: &str| match m {
        "microsoftAuthenticatorPush" => "MicrosoftAuthenticator",
        "mobilePhone" => "Sms",
        "fido2" => "Fido2",
        "softwareOneTimePasscode" => "SoftwareOath",
        _ => "Email",
    };
    let mut registered_not_capable = 0;
    for seed in 1..=6u64 {
        let (_, token) = tenant_with(
            &env,
            TenantSpec {
                seed: Some(seed),
                ..spec(&format!("Methods {seed}"), false, true, false, false)
            },
        )
        .await;
        let policy = get_ok(
            &env,
            &format!("{g}/policies/authenticationMethodsPolicy"),
            &token,
        )
        .await;
        let enabled: BTreeSet<String> = policy["authenticationMethodConfigurations"]
            .as_array()
            .expect("configurations")
            .iter()
            .filter(|c| c["state"] == "enabled")
            .filter_map(|c| c["id"].as_str().map(str::to_string))
            .collect();
        let report = list_all(
            &env,
            &format!("{g}/reports/authenticationMethods/userRegistrationDetails"),
            &token,
        )
        .await;
        for r in &report {
            let methods: Vec<&str> = r["methodsRegistered"]
                .as_array()
                .expect("methods")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let allowed = methods
                .iter()
                .any(|m| *m != "email" && enabled.contains(config_of(m)));
            let registered = r["isMfaRegistered"] == Value::Bool(true);
            assert_eq!(r["isMfaCapable"], Value::Bool(registered && allowed), "{r}");
            let passwordless =
                registered && methods.contains(&"fido2") && enabled.contains("Fido2");
            assert_eq!(r["isPasswordlessCapable"], Value::Bool(passwordless), "{r}");
            if registered && !allowed {
                registered_not_capable += 1;
            }
        }
    }
    assert!(
        registered_not_capable > 0,
        "some tenant has users registered but not MFA capable"
    );
}
