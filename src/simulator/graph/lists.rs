//! Plain (non-delta) collections: managed devices, compliance policies, CA policies, the MFA
//! registration report, and the organization singleton-collection.
//!
//! Licence gates answer with the errors Microsoft is observed to return
//! (docs/microsoft.md#licences): Intune paths 400 "Request not applicable to target tenant.",
//! CA and the report 403 for tenants without Entra ID P1.

use serde_json::{Map, Value, json};

use super::errors::GraphError;
use super::filter;
use super::paging::{self, PageToken};
use super::{Ctx, GraphResult};
use crate::simulator::collection::Kind;
use crate::simulator::generator;
use crate::simulator::state::{SimState, Tenant};

/// Every property of the CSDL `managedDevice` (v1.0) is selectable, as on Graph.
pub const DEVICE_PROPS: &[&str] = &[
    "id",
    "activationLockBypassCode",
    "androidSecurityPatchLevel",
    "azureADDeviceId",
    "azureADRegistered",
    "complianceGracePeriodExpirationDateTime",
    "complianceState",
    "configurationManagerClientEnabledFeatures",
    "deviceActionResults",
    "deviceCategoryDisplayName",
    "deviceEnrollmentType",
    "deviceHealthAttestationState",
    "deviceName",
    "deviceRegistrationState",
    "easActivated",
    "easActivationDateTime",
    "easDeviceId",
    "emailAddress",
    "enrolledDateTime",
    "enrollmentProfileName",
    "ethernetMacAddress",
    "exchangeAccessState",
    "exchangeAccessStateReason",
    "exchangeLastSuccessfulSyncDateTime",
    "freeStorageSpaceInBytes",
    "iccid",
    "imei",
    "isEncrypted",
    "isSupervised",
    "jailBroken",
    "lastSyncDateTime",
    "managedDeviceName",
    "managedDeviceOwnerType",
    "managementAgent",
    "managementCertificateExpirationDate",
    "managementState",
    "manufacturer",
    "meid",
    "model",
    "notes",
    "operatingSystem",
    "osVersion",
    "partnerReportedThreatState",
    "phoneNumber",
    "physicalMemoryInBytes",
    "remoteAssistanceSessionErrorDetails",
    "remoteAssistanceSessionUrl",
    "requireUserEnrollmentApproval",
    "serialNumber",
    "subscriberCarrier",
    "totalStorageSpaceInBytes",
    "udid",
    "userDisplayName",
    "userId",
    "userPrincipalName",
    "wiFiMacAddress",
];
pub const POLICY_PROPS: &[&str] = &[
    "id",
    "templateId",
    "displayName",
    "description",
    "createdDateTime",
    "modifiedDateTime",
    "state",
    "sessionControls",
    "conditions",
    "grantControls",
];
pub const REGISTRATION_PROPS: &[&str] = &[
    "id",
    "userPrincipalName",
    "userDisplayName",
    "userType",
    "isAdmin",
    "isMfaCapable",
    "isMfaRegistered",
    "isPasswordlessCapable",
    "isSsprCapable",
    "isSsprEnabled",
    "isSsprRegistered",
    "isSystemPreferredAuthenticationMethodEnabled",
    "methodsRegistered",
    "systemPreferredAuthenticationMethods",
    "userPreferredMethodForSecondaryAuthentication",
    "lastUpdatedDateTime",
];
const COMPLIANCE_PROPS: &[&str] = &[
    "id",
    "displayName",
    "description",
    "createdDateTime",
    "lastModifiedDateTime",
    "version",
];

pub(crate) fn tenant<'a>(st: &'a SimState, ctx: &Ctx) -> Result<&'a Tenant, GraphError> {
    st.tenants
        .get(&ctx.tenant_id)
        .ok_or_else(|| GraphError::new(404, "Request_ResourceNotFound", "Tenant not found."))
}

pub(crate) fn intune_gate(t: &Tenant) -> Result<(), GraphError> {
    if t.intune {
        Ok(())
    } else {
        Err(GraphError::bad_request(
            "Request not applicable to target tenant.",
        ))
    }
}

/// How one list endpoint pages.
struct ListSpec {
    /// Path after /v1.0/ (also the token's collection key).
    path: &'static str,
    allowed: &'static [&'static str],
    type_name: &'static str,
    select_code: &'static str,
    default_top: usize,
    max_top: usize,
    /// Honours `$filter` (see `filter.rs`); lists without it refuse the option.
    filterable: bool,
}

/// Generic pager over positions `0..end`; `get(pos)` returns the object at a position if live.
fn list(
    t: &Tenant,
    ctx: &Ctx,
    spec: &ListSpec,
    end: u64,
    get: &dyn Fn(u64) -> Option<Map<String, Value>>,
) -> GraphResult {
    let q = &ctx.query;
    let tok = match q.get("$skiptoken") {
        Some(s) => paging::decode(s)
            .filter(|k| k.t == t.id() && k.c == spec.path && k.m == 2)
            .ok_or_else(|| {
                GraphError::bad_request("The specified page token value has expired or is invalid.")
            })?,
        None => {
            for bad in ["$orderby", "$count", "$search", "$expand", "$skip"] {
                if q.has(bad) {
                    return Err(GraphError::bad_request(&format!(
                        "The query option '{bad}' is not supported by the simulator on {}.",
                        spec.path
                    )));
                }
            }
            let f = match q.get("$filter") {
                Some(_) if !spec.filterable => {
                    return Err(GraphError::bad_request(&format!(
                        "The query option '$filter' is not supported by the simulator on {}.",
                        spec.path
                    )));
                }
                Some(raw) => {
                    filter::parse(raw, spec.allowed)?;
                    Some(raw.to_string())
                }
                None => None,
            };
            let s = paging::parse_select(q, spec.allowed, spec.type_name, spec.select_code)?;
            let n = paging::parse_top(q, spec.default_top, spec.max_top)?;
            PageToken {
                t: t.id().into(),
                c: spec.path.into(),
                e: 0,
                m: 2,
                since: 0,
                upto: 0,
                pos: 0,
                after: None,
                moff: 0,
                s,
                n,
                iat: 0,
                z: false,
                f,
            }
        }
    };
    let clauses = match &tok.f {
        Some(raw) => filter::parse(raw, spec.allowed)?,
        None => Vec::new(),
    };
    let mut items = Vec::new();
    let mut pos = tok.pos;
    while items.len() < tok.n && pos < end {
        if let Some(o) = get(pos).filter(|o| filter::matches(o, &clauses)) {
            items.push(Value::Object(match &tok.s {
                Some(sel) => paging::project(&o, sel),
                None => o,
            }));
        }
        pos += 1;
    }
    let mut body = Map::new();
    let ctx_sel = tok
        .s
        .as_ref()
        .map(|s| format!("({})", s.join(",")))
        .unwrap_or_default();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#{}{}",
            ctx.graph_url, spec.path, ctx_sel
        )),
    );
    if pos < end {
        let next = PageToken { pos, ..tok };
        body.insert(
            "@odata.nextLink".into(),
            json!(format!(
                "{}/v1.0/{}?$skiptoken={}",
                ctx.graph_url,
                spec.path,
                paging::encode(&next)
            )),
        );
    }
    body.insert("value".into(), Value::Array(items));
    Ok(Value::Object(body))
}

pub fn managed_devices(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    intune_gate(t)?;
    let spec = ListSpec {
        path: "deviceManagement/managedDevices",
        allowed: DEVICE_PROPS,
        type_name: "microsoft.graph.managedDevice",
        select_code: "BadRequest",
        default_top: 1000,
        max_top: 1000,
        filterable: false,
    };
    let c = &t.devices;
    list(t, ctx, &spec, c.end(), &|p| c.at(&t.tg, p).map(|(_, o)| o))
}

pub fn compliance_policies(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    intune_gate(t)?;
    let spec = ListSpec {
        path: "deviceManagement/deviceCompliancePolicies",
        allowed: COMPLIANCE_PROPS,
        type_name: "microsoft.graph.deviceCompliancePolicy",
        select_code: "BadRequest",
        default_top: 100,
        max_top: 1000,
        filterable: false,
    };
    let all = generator::compliance_policies(&t.tg);
    list(t, ctx, &spec, all.len() as u64, &|p| {
        all.get(p as usize).cloned()
    })
}

pub fn ca_policies(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    if !t.p1 {
        let msg = if t.settings.ca_unlicensed_code
            == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
        {
            "Tenant is not a B2C tenant and doesn't have premium license"
        } else {
            "Conditional Access requires a Microsoft Entra ID P1 license."
        };
        return Err(GraphError::new(403, &t.settings.ca_unlicensed_code, msg));
    }
    let spec = ListSpec {
        path: "identity/conditionalAccess/policies",
        allowed: POLICY_PROPS,
        type_name: "microsoft.graph.conditionalAccessPolicy",
        select_code: "BadRequest",
        default_top: 100,
        max_top: 999,
        filterable: true,
    };
    let c = &t.policies;
    list(t, ctx, &spec, c.end(), &|p| c.at(&t.tg, p).map(|(_, o)| o))
}

pub fn registrations(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    // A lapsed P1 already shuts the report while CA policies still read
    // (docs/microsoft.md#licences).
    if !t.p1 || t.p1_lapsed {
        return Err(GraphError::new(
            403,
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            "Tenant is not a B2C tenant and doesn't have premium license",
        ));
    }
    let spec = ListSpec {
        path: "reports/authenticationMethods/userRegistrationDetails",
        allowed: REGISTRATION_PROPS,
        type_name: "microsoft.graph.userRegistrationDetails",
        select_code: "BadRequest",
        default_top: 200,
        max_top: 999,
        filterable: true,
    };
    let c = t.coll(Kind::User);
    list(t, ctx, &spec, c.end(), &|p| {
        let (id, u) = c.at(&t.tg, p)?;
        Some(registration_row(t, &id, &u))
    })
}

/// A user's registration report row: generated from the user (and, for base users, their
/// index, which decides admin roles), with the control API's overrides merged over it.
pub(crate) fn registration_row(
    t: &Tenant,
    id: &str,
    user: &Map<String, Value>,
) -> Map<String, Value> {
    let idx = generator::index_of(t.tg.seed, generator::SALT_USER, id, t.users.base_count);
    let mut row = generator::registration(&t.tg, user, idx);
    if let Some(o) = t.registrations.get(id) {
        for (k, v) in o {
            row.insert(k.clone(), v.clone());
        }
    }
    row
}

/// The tenant's organization object (also used by the control API).
pub fn organization_object(t: &Tenant) -> Map<String, Value> {
    let created = (t.tg.anchor - chrono::Duration::days(2000))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let plan = |service: &str, id: &str, status: &str| json!({ "assignedDateTime": "2024-01-02T00:00:00Z", "capabilityStatus": status, "service": service, "servicePlanId": id });
    let mut plans = vec![plan(
        "exchange",
        "9aaf7827-d63c-4b61-89c3-182f06f82e5c",
        "Enabled",
    )];
    if t.p1 {
        let status = if t.p1_lapsed { "Suspended" } else { "Enabled" };
        plans.push(plan("AADPremiumService", generator::P1_PLAN, status));
    }
    if t.p2 {
        plans.push(plan("AADPremiumService", generator::P2_PLAN, "Enabled"));
    }
    if t.intune {
        plans.push(plan("SCO", generator::INTUNE_PLAN, "Enabled"));
    }
    let caps = "Email, OfficeCommunicationsOnline";
    match json!({
        "id": t.id(), "displayName": t.tg.name, "tenantType": "AAD", "countryLetterCode": t.country,
        "createdDateTime": created,
        "verifiedDomains": [
            { "name": t.tg.domain, "isDefault": true, "isInitial": false, "type": "Managed", "capabilities": caps },
            { "name": t.tg.initial_domain, "isDefault": false, "isInitial": true, "type": "Managed", "capabilities": caps },
        ],
        "assignedPlans": plans,
        "technicalNotificationMails": [format!("admin@{}", t.tg.domain)],
    }) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub fn organization(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    Ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#organization", ctx.graph_url),
        "value": [organization_object(t)],
    }))
}

/// `GET /deviceManagement/deviceCompliancePolicyDeviceStateSummary`: counts over the tenant's
/// current devices. Returned bare (a singleton), not wrapped in `value` (Microsoft's example
/// wraps it, a singleton GET normally does not: docs/microsoft.md#evidence-reads; clients
/// should accept both).
pub fn compliance_summary(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    intune_gate(t)?;
    let mut counts: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    let c = &t.devices;
    let mut p = 0;
    while let Some(pos) = c.next_pos(p) {
        if pos >= c.end() {
            break;
        }
        p = pos + 1;
        if let Some((_, d)) = c.at(&t.tg, pos) {
            let s = d
                .get("complianceState")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string();
            *counts.entry(s).or_default() += 1;
        }
    }
    let n = |k: &str| counts.get(k).copied().unwrap_or(0);
    Ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#deviceManagement/deviceCompliancePolicyDeviceStateSummary/$entity", ctx.graph_url),
        "id": "deviceCompliancePolicyDeviceStateSummary",
        "inGracePeriodCount": n("inGracePeriod"), "configManagerCount": n("configManager"),
        "unknownDeviceCount": n("unknown"), "notApplicableDeviceCount": 0,
        "compliantDeviceCount": n("compliant"), "remediatedDeviceCount": 0,
        "nonCompliantDeviceCount": n("noncompliant"), "errorDeviceCount": n("error"),
        "conflictDeviceCount": n("conflict"),
    }))
}
