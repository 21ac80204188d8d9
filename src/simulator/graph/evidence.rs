//! Evidence reads: licences (`subscribedSkus`), security defaults, directory role assignments
//! (with `$expand=principal`), the authentication methods policy, a user's authentication
//! methods and a compliance policy's device status overview
//! (docs/microsoft.md#evidence-reads).
//!
//! WHY everything is derived from the generator plus the tenant's licence flags: evidence
//! checks cross-reference these endpoints (admins in role assignments vs `isAdmin` in the
//! registration report, P1 SKU vs CA access), so they must never disagree.

use serde_json::{Map, Value, json};

use super::directory::{find_user, not_found, user_segment};
use super::errors::GraphError;
use super::lists::{registration_row, tenant};
use super::{Ctx, GraphResult};
use crate::simulator::generator::{self, Licences};
use crate::simulator::state::{SimState, Tenant};

fn licences(t: &Tenant) -> Licences {
    Licences {
        intune: t.intune,
        p1: t.p1,
        p2: t.p2,
        p1_lapsed: t.p1_lapsed,
    }
}

fn context(ctx: &Ctx, rest: &str) -> Value {
    json!(format!("{}/v1.0/$metadata#{rest}", ctx.graph_url))
}

/// `GET /subscribedSkus`: not paged by Graph.
pub fn subscribed_skus(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    let skus = generator::subscribed_skus(&t.tg, licences(t));
    Ok(json!({"@odata.context": context(ctx, "subscribedSkus"), "value": skus}))
}

/// `GET /policies/identitySecurityDefaultsEnforcementPolicy`.
pub fn security_defaults(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    Ok(json!({
        "@odata.context": context(ctx, "policies/identitySecurityDefaultsEnforcementPolicy/$entity"),
        "id": "00000000-0000-0000-0000-000000000005",
        "displayName": "Security Defaults",
        "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.",
        "isEnabled": t.security_defaults,
    }))
}

/// `GET /policies/authenticationMethodsPolicy`: the configurations come inline, as in
/// Microsoft's example response.
pub fn authentication_methods_policy(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        context(ctx, "policies/authenticationMethodsPolicy/$entity"),
    );
    body.extend(generator::authentication_methods_policy(&t.tg));
    Ok(Value::Object(body))
}

/// `GET /roleManagement/directory/roleAssignments[?$expand=principal]`. Assignments of deleted
/// users disappear, as Entra removes them with the user. Other query options are refused rather
/// than ignored.
pub fn role_assignments(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    let q = &ctx.query;
    let expand = match q.get("$expand") {
        None => false,
        Some(e) if e.trim() == "principal" => true,
        Some(e) => {
            return Err(GraphError::bad_request(&format!(
                "Could not find a property named '{e}' on type 'microsoft.graph.unifiedRoleAssignment'."
            )));
        }
    };
    if let Some(k) = ["$filter", "$select", "$top", "$orderby", "$search"]
        .iter()
        .find(|k| q.get(k).is_some())
    {
        return Err(GraphError::bad_request(&format!(
            "The query option '{k}' is not supported by the simulator on roleAssignments."
        )));
    }
    let mut items = Vec::new();
    for (idx, role) in generator::role_assignments(&t.tg) {
        let Some((uid, user)) = t.users.at(&t.tg, idx as u64) else {
            continue;
        };
        let mut a = json!({
            "id": generator::role_assignment_id(&t.tg, &uid, role),
            "principalId": uid, "roleDefinitionId": role, "directoryScopeId": "/",
            "appScopeId": null, "principalOrganizationId": t.id(),
        });
        if expand {
            let mut p = Map::new();
            p.insert("@odata.type".into(), json!("#microsoft.graph.user"));
            p.extend(user);
            a["principal"] = Value::Object(p);
        }
        items.push(a);
    }
    let ctx_name = if expand {
        "roleManagement/directory/roleAssignments(principal())"
    } else {
        "roleManagement/directory/roleAssignments"
    };
    Ok(json!({"@odata.context": context(ctx, ctx_name), "value": items}))
}

/// `GET /users/{id | upn}/authentication/methods`: password plus one object per method in the
/// user's registration row.
pub fn user_methods(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    let segment = user_segment(ctx);
    let (uid, user) = find_user(t, &segment).ok_or_else(|| not_found(&segment))?;
    let row = registration_row(t, &uid, &user);
    let registered: Vec<String> = row
        .get("methodsRegistered")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let methods = generator::user_methods(&t.tg, &user, &registered);
    Ok(json!({
        "@odata.context": context(ctx, &format!("users('{uid}')/authentication/methods")),
        "value": methods,
    }))
}

/// `GET /deviceManagement/deviceCompliancePolicies/{id}/deviceStatusOverview`: counts over the
/// current devices of the policy's platform (compliant = success, noncompliant = failed,
/// error/conflict = error, the rest pending).
pub fn device_status_overview(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    super::lists::intune_gate(t)?;
    let pid = ctx
        .path
        .split('/')
        .skip_while(|p| *p != "deviceCompliancePolicies")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let policies = generator::compliance_policies(&t.tg);
    let policy = policies
        .iter()
        .find(|p| p.get("id").and_then(Value::as_str) == Some(pid.as_str()))
        .ok_or_else(|| {
            // Intune wraps its own error document in `message`, as it does for its other
            // errors (docs/microsoft.md#licences).
            GraphError::new(
                404,
                "ResourceNotFound",
                "{\r\n  \"_version\": 3,\r\n  \"Message\": \"Resource not found for the segment 'deviceCompliancePolicies'.\"\r\n}",
            )
        })?;
    let os = match policy.get("@odata.type").and_then(Value::as_str) {
        Some("#microsoft.graph.windows10CompliancePolicy") => "Windows",
        Some("#microsoft.graph.iosCompliancePolicy") => "iOS",
        Some("#microsoft.graph.androidCompliancePolicy") => "Android",
        _ => "macOS",
    };
    let (mut success, mut failed, mut error, mut pending) = (0i64, 0i64, 0i64, 0i64);
    let c = &t.devices;
    let mut p = 0;
    while let Some(pos) = c.next_pos(p) {
        if pos >= c.end() {
            break;
        }
        p = pos + 1;
        let Some((_, d)) = c.at(&t.tg, pos) else {
            continue;
        };
        if d.get("operatingSystem").and_then(Value::as_str) != Some(os) {
            continue;
        }
        match d.get("complianceState").and_then(Value::as_str) {
            Some("compliant") => success += 1,
            Some("noncompliant") => failed += 1,
            Some("error" | "conflict") => error += 1,
            _ => pending += 1,
        }
    }
    let version = policy.get("version").cloned().unwrap_or(json!(1));
    Ok(json!({
        "@odata.context": context(ctx, &format!("deviceManagement/deviceCompliancePolicies('{pid}')/deviceStatusOverview/$entity")),
        "id": format!("{pid}_deviceStatusOverview"),
        "pendingCount": pending, "notApplicableCount": 0, "successCount": success,
        "errorCount": error, "failedCount": failed,
        "lastUpdateDateTime": generator::ts(t.tg.anchor),
        "configurationVersion": version,
    }))
}
