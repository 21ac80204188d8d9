//! `POST /v1.0/$batch`: JSON batching of GET sub-requests (docs/microsoft.md#batching).
//!
//! Graph behaviour followed: at most 20 requests per batch (more is a 400 for the whole batch);
//! each request has a unique `id`, a `method` and a `url` relative to the version; each response
//! carries its request's `id`, its own `status`, `headers` and `body`; responses may come in any
//! order, and each sub-request is throttled and counted like a separate request, so a batch can
//! hold a 429 next to 200s.
//!
//! WHY GET only: the simulator serves no writes on Graph (the control API changes the world),
//! so any other method gets a per-response 405 rather than a silent success. `dependsOn` is
//! accepted and trivially honoured: sub-requests run in request order.

use std::collections::BTreeSet;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::errors::{GraphError, ReqIds};
use super::paging::Query;
use super::{Ctx, GraphResult, authenticate, delta, directory, dispatch, evidence, lists};
use crate::simulator::state::{SharedRef, SimState};

/// Most requests Graph accepts in one batch.
pub const MAX_REQUESTS: usize = 20;

type Handler = fn(&mut SimState, &Ctx) -> GraphResult;

/// (path pattern, counter key, handler): the GET routes of `configure`, literal paths before
/// `{id}` patterns so that `users/delta` is not taken for a user id.
const ROUTES: &[(&str, &str, Handler)] = &[
    ("users/delta", "users/delta", delta::users),
    ("users/delta()", "users/delta", delta::users),
    ("groups/delta", "groups/delta", delta::groups),
    ("groups/delta()", "groups/delta", delta::groups),
    (
        "deviceManagement/managedDevices",
        "deviceManagement/managedDevices",
        lists::managed_devices,
    ),
    (
        "deviceManagement/deviceCompliancePolicies",
        "deviceManagement/deviceCompliancePolicies",
        lists::compliance_policies,
    ),
    (
        "deviceManagement/deviceCompliancePolicyDeviceStateSummary",
        "deviceManagement/deviceCompliancePolicyDeviceStateSummary",
        lists::compliance_summary,
    ),
    (
        "identity/conditionalAccess/policies",
        "identity/conditionalAccess/policies",
        lists::ca_policies,
    ),
    (
        "reports/authenticationMethods/userRegistrationDetails",
        "reports/authenticationMethods/userRegistrationDetails",
        lists::registrations,
    ),
    ("organization", "organization", lists::organization),
    (
        "subscribedSkus",
        "subscribedSkus",
        evidence::subscribed_skus,
    ),
    (
        "policies/identitySecurityDefaultsEnforcementPolicy",
        "policies/identitySecurityDefaultsEnforcementPolicy",
        evidence::security_defaults,
    ),
    (
        "policies/authenticationMethodsPolicy",
        "policies/authenticationMethodsPolicy",
        evidence::authentication_methods_policy,
    ),
    (
        "roleManagement/directory/roleAssignments",
        "roleManagement/directory/roleAssignments",
        evidence::role_assignments,
    ),
    (
        "deviceManagement/deviceCompliancePolicies/{id}/deviceStatusOverview",
        "deviceManagement/deviceCompliancePolicies/{id}/deviceStatusOverview",
        evidence::device_status_overview,
    ),
    ("users/{id}", "users/{id}", directory::user),
    (
        "users/{id}/transitiveMemberOf",
        "users/{id}/transitiveMemberOf",
        directory::transitive_member_of,
    ),
    (
        "users/{id}/transitiveMemberOf/microsoft.graph.group",
        "users/{id}/transitiveMemberOf/microsoft.graph.group",
        directory::transitive_member_of,
    ),
    (
        "users/{id}/authentication/methods",
        "users/{id}/authentication/methods",
        evidence::user_methods,
    ),
];

fn route_of(path: &str) -> Option<(&'static str, Handler)> {
    let segs: Vec<&str> = path.split('/').collect();
    ROUTES.iter().find_map(|(pat, key, f)| {
        let p: Vec<&str> = pat.split('/').collect();
        let hit = p.len() == segs.len()
            && p.iter()
                .zip(&segs)
                .all(|(a, b)| *a == "{id}" && !b.is_empty() || a.eq_ignore_ascii_case(b));
        hit.then_some((*key, *f))
    })
}

/// One validated sub-request.
struct Step {
    id: String,
    method: String,
    url: String,
    prefer: String,
}

fn parse(body: &[u8]) -> Result<Vec<Step>, GraphError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| GraphError::bad_request("Unable to deserialize content."))?;
    let reqs = v
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| GraphError::bad_request("Invalid batch payload format."))?;
    if reqs.len() > MAX_REQUESTS {
        return Err(GraphError::bad_request(&format!(
            "Number of batch request steps exceeds the maximum of {MAX_REQUESTS}."
        )));
    }
    let mut seen = BTreeSet::new();
    let mut steps = Vec::new();
    for r in reqs {
        let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
        let (id, method, url) = (field("id"), field("method"), field("url"));
        if id.is_empty() || method.is_empty() || url.is_empty() {
            return Err(GraphError::bad_request(
                "Every batch request step needs an id, a method and a url.",
            ));
        }
        if !seen.insert(id.to_string()) {
            return Err(GraphError::bad_request(&format!(
                "Batch request step id '{id}' is not unique."
            )));
        }
        let prefer = r
            .get("headers")
            .and_then(Value::as_object)
            .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("prefer")))
            .and_then(|(_, v)| v.as_str())
            .unwrap_or_default()
            .to_string();
        steps.push(Step {
            id: id.into(),
            method: method.to_ascii_uppercase(),
            url: url.into(),
            prefer,
        });
    }
    Ok(steps)
}

fn entry(id: &str, status: u16, headers: &[(String, String)], body: &str) -> Value {
    let mut h = Map::new();
    h.insert("Content-Type".into(), json!("application/json"));
    for (k, v) in headers {
        h.insert(k.clone(), json!(v));
    }
    let body = serde_json::from_str::<Value>(body).unwrap_or_else(|_| json!(body));
    json!({"id": id, "status": status, "headers": h, "body": body})
}

/// `POST /v1.0/$batch`.
pub async fn batch(
    shared: web::Data<SharedRef>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let ids = ReqIds::of(&req);
    let mut delay = Duration::ZERO;
    let responses = {
        let mut st = shared.lock();
        let tenant_id = match authenticate(&st, &req) {
            Ok(t) => t,
            Err(b) => return b.1.response(&ids),
        };
        let steps = match parse(&body) {
            Ok(s) => s,
            Err(e) => {
                if let Some(t) = st.tenants.get_mut(&tenant_id) {
                    t.record("$batch", e.status, None, None, &ids.request_id);
                }
                return e.response(&ids);
            }
        };
        if let Some(t) = st.tenants.get_mut(&tenant_id) {
            t.record("$batch", 200, None, None, &ids.request_id);
        }
        let graph_url = st.graph_url.clone();
        let mut out = Vec::new();
        for s in steps {
            let sub_ids = ReqIds {
                request_id: uuid::Uuid::new_v4().to_string(),
                client_request_id: ids.client_request_id.clone(),
            };
            let rel = s.url.trim_start_matches('/');
            let (path, query) = rel.split_once('?').unwrap_or((rel, ""));
            let Some((key, f)) = route_of(path) else {
                let seg = path.split('/').next().unwrap_or_default();
                let e = GraphError::bad_request(&format!(
                    "Resource not found for the segment '{seg}'."
                ));
                out.push(entry(&s.id, 400, &[], &e.body(&sub_ids).to_string()));
                continue;
            };
            if s.method != "GET" {
                let e = GraphError::new(
                    405,
                    "Request_BadRequest",
                    "The simulator's $batch serves GET requests only.",
                );
                out.push(entry(&s.id, 405, &[], &e.body(&sub_ids).to_string()));
                continue;
            }
            let ctx = Ctx {
                tenant_id: tenant_id.clone(),
                query: Query::parse(query),
                prefer: s.prefer,
                graph_url: graph_url.clone(),
                path: format!("/v1.0/{path}"),
            };
            let o = dispatch(&mut st, &sub_ids, key, &ctx, f);
            delay = delay.max(o.delay.unwrap_or_default());
            out.push(entry(&s.id, o.status, &o.headers, &o.body));
        }
        out
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json!({ "responses": responses }).to_string())
}
