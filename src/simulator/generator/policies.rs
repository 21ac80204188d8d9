//! Conditional Access policies.

use chrono::Duration;
use serde_json::{Map, Value, json};

use super::people::obj;
use super::{SALT_POLICY, SALT_USER, TenantGen, guid, h, ts};

/// Number of CA policies for a tenant: 3–8, seeded.
pub fn policy_count(seed: u64) -> usize {
    3 + (h(seed, SALT_POLICY, 999) % 6) as usize
}

/// Conditional Access policy `p` (0..8). The first three cover all three states; CA004 requires
/// MFA only through `authenticationStrength` (the detection trap in
/// docs/microsoft.md#evidence-reads) and targets the Global Administrator role only. CA006 is
/// risk-based (userRiskLevels) only in P2 tenants, since only P2 can create such policies.
pub fn policy(g: &TenantGen, p: usize) -> Map<String, Value> {
    let id = guid(g.seed, SALT_POLICY, p as u64);
    let x = h(g.seed, SALT_POLICY, p as u64);
    let admin = guid(g.seed, SALT_USER, 0);
    let created = if p % 3 == 1 {
        Value::Null
    } else {
        Value::from(ts(g.anchor - Duration::days((x % 700) as i64 + 30)))
    };
    let modified = if created.is_null() {
        Value::Null
    } else {
        Value::from(ts(g.anchor - Duration::days((x % 29) as i64)))
    };
    let (name, state, apps, client_apps, controls, strength, session, op) = match p {
        0 => (
            "CA001 - Require MFA for all users",
            "enabled",
            "All",
            json!(["all"]),
            json!(["mfa"]),
            Value::Null,
            Value::Null,
            "OR",
        ),
        1 => (
            "CA002 - Block legacy authentication",
            "enabledForReportingButNotEnforced",
            "All",
            json!(["exchangeActiveSync", "other"]),
            json!(["block"]),
            Value::Null,
            Value::Null,
            "OR",
        ),
        2 => (
            "CA003 - Require compliant device",
            "disabled",
            "Office365",
            json!(["all"]),
            json!(["compliantDevice", "domainJoinedDevice"]),
            Value::Null,
            Value::Null,
            "OR",
        ),
        3 => (
            "CA004 - Phishing-resistant MFA for admins",
            "enabled",
            "MicrosoftAdminPortals",
            json!(["all"]),
            json!([]),
            json!({
            "id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA",
            "description": "Include two-factor authentication methods that are phishing-resistant",
            "policyType": "builtIn", "requirementsSatisfied": "mfa",
            "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
            "createdDateTime": "2021-12-01T08:00:00Z", "modifiedDateTime": "2021-12-01T08:00:00Z"}),
            Value::Null,
            "OR",
        ),
        4 => (
            "CA005 - Sign-in frequency for guests",
            "enabled",
            "All",
            json!(["browser", "mobileAppsAndDesktopClients"]),
            json!(["mfa"]),
            Value::Null,
            json!({
            "applicationEnforcedRestrictions": null, "cloudAppSecurity": null, "persistentBrowser": null,
            "disableResilienceDefaults": null,
            "signInFrequency": {"value": 4, "type": "hours", "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased", "isEnabled": true}}),
            "OR",
        ),
        5 if !g.p2 => (
            "CA006 - Require MFA for Azure management",
            "enabledForReportingButNotEnforced",
            "797f4846-ba00-4fd7-ba43-dac1f8f63013",
            json!(["all"]),
            json!(["mfa"]),
            Value::Null,
            Value::Null,
            "OR",
        ),
        5 => (
            "CA006 - High user risk requires password change",
            "enabledForReportingButNotEnforced",
            "All",
            json!(["all"]),
            json!(["mfa", "passwordChange"]),
            Value::Null,
            Value::Null,
            "AND",
        ),
        6 => (
            "CA007 - Approved apps on mobile",
            "disabled",
            "Office365",
            json!(["mobileAppsAndDesktopClients"]),
            json!(["approvedApplication", "compliantApplication"]),
            Value::Null,
            Value::Null,
            "OR",
        ),
        _ => (
            "CA008 - Block access from unknown platforms",
            "enabled",
            "All",
            json!(["all"]),
            json!(["block"]),
            Value::Null,
            Value::Null,
            "OR",
        ),
    };
    let strength_ctx = format!(
        "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('{id}')/grantControls/authenticationStrength/$entity"
    );
    obj(json!({
        "id": id, "templateId": null, "displayName": name, "description": null,
        "createdDateTime": created, "modifiedDateTime": modified, "state": state,
        "sessionControls": session,
        "conditions": {
            "clientAppTypes": client_apps, "signInRiskLevels": [],
            "userRiskLevels": if p == 5 && g.p2 { json!(["high"]) } else { json!([]) },
            "servicePrincipalRiskLevels": [],
            "platforms": if p == 7 { json!({"includePlatforms": ["all"], "excludePlatforms": ["android", "iOS", "windows", "macOS"]}) } else { Value::Null },
            "locations": null, "devices": null,
            "applications": {"includeApplications": [apps], "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": [], "applicationFilter": null},
            "users": {
                "includeUsers": match p {
                    4 => json!(["GuestsOrExternalUsers"]),
                    // Role-targeted: Graph returns an empty includeUsers, not "All".
                    3 => json!([]),
                    _ => json!(["All"]),
                },
                "excludeUsers": if p == 3 { json!([]) } else { json!([admin]) },
                "includeGroups": [], "excludeGroups": [],
                "includeRoles": if p == 3 { json!(["62e90394-69f5-4237-9190-012177145e10"]) } else { json!([]) },
                "excludeRoles": [], "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null,
            },
        },
        "grantControls": {
            "operator": op, "builtInControls": controls, "customAuthenticationFactors": [], "termsOfUse": [],
            "authenticationStrength@odata.context": strength_ctx, "authenticationStrength": strength,
        },
    }))
}
