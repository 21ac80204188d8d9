//! The simulated Graph host (`{graph_url}/v1.0/...`).
//!
//! Every endpoint runs through [`serve`]: bearer check (the token decides the tenant, as on the
//! real Graph), consent check, request counting, fault injection, then the endpoint itself.

pub mod batch;
pub mod delta;
pub mod directory;
pub mod errors;
pub mod evidence;
pub mod filter;
pub mod lists;
pub mod paging;

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::faults::{self, FaultKind};
use super::state::{SharedRef, SimState, Tenant};
use errors::{GraphError, ReqIds};
use paging::Query;

/// What an endpoint handler gets besides the state.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub tenant_id: String,
    pub query: Query,
    pub prefer: String,
    pub graph_url: String,
    pub path: String,
}

/// Endpoint result: JSON body plus extra headers.
pub type GraphResult = Result<Value, GraphError>;

/// Counter key for a request: the endpoint path after `/v1.0/`, plus `?skiptoken` or
/// `?deltatoken` when the request continues a round (documented in `control.rs`).
pub fn endpoint_key(base: &str, q: &Query) -> String {
    if q.has("$skiptoken") {
        format!("{base}?skiptoken")
    } else if q.get("$deltatoken").is_some() {
        format!("{base}?deltatoken")
    } else {
        base.to_string()
    }
}

fn authenticate(
    st: &SimState,
    req: &HttpRequest,
) -> Result<String, Box<(Option<String>, GraphError)>> {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or_default();
    if token.is_empty() {
        return Err(Box::new((
            None,
            GraphError::new(401, "InvalidAuthenticationToken", "Access token is empty."),
        )));
    }
    let Some(t) = st.tokens.get(token) else {
        return Err(Box::new((
            None,
            GraphError::new(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            ),
        )));
    };
    if t.expires <= crate::simulator::clock::now() {
        return Err(Box::new((
            Some(t.tenant_id.clone()),
            GraphError::new(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            ),
        )));
    }
    if !t.app_only {
        return Err(Box::new((
            Some(t.tenant_id.clone()),
            GraphError::new(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ),
        )));
    }
    let consented = st
        .tenants
        .get(&t.tenant_id)
        .is_some_and(|ten| ten.consents.contains(&t.client_id));
    if !consented {
        return Err(Box::new((
            Some(t.tenant_id.clone()),
            GraphError::new(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ),
        )));
    }
    Ok(t.tenant_id.clone())
}

/// Microsoft's per-tenant limits that matter for pacing (docs/microsoft.md#throttling):
/// (endpoint, max requests, window, send Retry-After?). Conditional Access never sends
/// Retry-After.
const RATE_LIMITS: [(&str, usize, Duration, bool); 2] = [
    (
        "identity/conditionalAccess/policies",
        1,
        Duration::from_secs(1),
        false,
    ),
    (
        "reports/authenticationMethods/userRegistrationDetails",
        5,
        Duration::from_secs(10),
        true,
    ),
];

/// Sliding-window check when the tenant enforces rate limits; throttled calls don't count.
/// Time comes from the simulator's clock, like every other time it reads.
fn rate_limited(t: &mut Tenant, base: &str) -> Option<(GraphError, Option<String>)> {
    if !t.settings.enforce_rate_limits {
        return None;
    }
    let (_, max, window, retry) = RATE_LIMITS.iter().find(|(e, ..)| *e == base)?;
    let now = crate::simulator::clock::now();
    let age = |at: &chrono::DateTime<chrono::Utc>| (now - *at).to_std().unwrap_or_default();
    let q = t.rate.entry(base.to_string()).or_default();
    while q.front().is_some_and(|f| age(f) >= *window) {
        q.pop_front();
    }
    if q.len() < *max {
        q.push_back(now);
        return None;
    }
    let wait = q
        .front()
        .map(|f| window.saturating_sub(age(f)))
        .unwrap_or(*window);
    let ra = retry.then(|| format!("{:.3}", wait.as_secs_f64()));
    Some((GraphError::throttled(ra.as_deref()), ra))
}

/// What one Graph request produced, before it becomes an HTTP response or a `$batch` entry.
pub struct Outcome {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The response body; not JSON when the `malformed` fault cut it.
    pub body: String,
    /// A `slow` fault's delay, served after the state lock is released.
    pub delay: Option<Duration>,
}

const JSON_OK: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

impl Outcome {
    fn error(e: &GraphError, ids: &ReqIds) -> Outcome {
        Outcome {
            status: e.status,
            headers: e.headers.clone(),
            body: e.body(ids).to_string(),
            delay: None,
        }
    }

    pub fn retry_after(&self) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == "Retry-After")
            .map(|(_, v)| v.clone())
    }

    fn response(&self) -> HttpResponse {
        let status = actix_web::http::StatusCode::from_u16(self.status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut b = HttpResponse::build(status);
        for (k, v) in &self.headers {
            b.insert_header((k.as_str(), v.as_str()));
        }
        let ct = if self.status == 200 {
            JSON_OK
        } else {
            "application/json"
        };
        b.content_type(ct).body(self.body.clone())
    }
}

/// Runs an authenticated request for `tenant_id` through rate limits, faults and the endpoint,
/// and records it. Shared by [`serve`] and each `$batch` sub-request, which Graph counts and
/// throttles like separate requests.
pub fn dispatch(
    st: &mut SimState,
    ids: &ReqIds,
    base: &str,
    ctx: &Ctx,
    f: fn(&mut SimState, &Ctx) -> GraphResult,
) -> Outcome {
    let key = endpoint_key(base, &ctx.query);
    let tenant_id = ctx.tenant_id.clone();
    if let Some((e, ra)) = st
        .tenants
        .get_mut(&tenant_id)
        .and_then(|t| rate_limited(t, base))
    {
        if let Some(t) = st.tenants.get_mut(&tenant_id) {
            t.record(&key, 429, ra, Some("rate_limit".into()), &ids.request_id);
        }
        return Outcome::error(&e, ids);
    }
    let fault = st
        .tenants
        .get_mut(&tenant_id)
        .and_then(|t| faults::evaluate(&mut t.faults, base));
    let (out, fname) = match fault {
        Some(FaultKind::Throttle { retry_after }) => (
            Outcome::error(&GraphError::throttled(retry_after.as_deref()), ids),
            Some("throttle"),
        ),
        Some(FaultKind::Unavailable { retry_after }) => {
            let mut e = GraphError::new(
                503,
                "serviceNotAvailable",
                "The service is temporarily unavailable. Please retry later.",
            );
            if let Some(r) = &retry_after {
                e = e.header("Retry-After", r);
            }
            (Outcome::error(&e, ids), Some("unavailable"))
        }
        Some(FaultKind::Error {
            status,
            code,
            message,
            retry_after,
        }) => {
            let mut e = GraphError::new(status, &code, &message);
            if let Some(r) = &retry_after {
                e = e.header("Retry-After", r);
            }
            (Outcome::error(&e, ids), Some("error"))
        }
        other => {
            let delay = match &other {
                Some(FaultKind::Slow { delay_ms }) => Some(Duration::from_millis(*delay_ms)),
                _ => None,
            };
            match f(st, ctx) {
                Ok(body) => {
                    let mut text = body.to_string();
                    let fname = match other {
                        Some(FaultKind::Malformed) => {
                            // Cut mid-document: valid UTF-8, invalid JSON.
                            let cut = text
                                .char_indices()
                                .map(|(i, _)| i)
                                .find(|i| *i >= text.len() / 2)
                                .unwrap_or(0);
                            text.truncate(cut);
                            Some("malformed")
                        }
                        Some(FaultKind::Slow { .. }) => Some("slow"),
                        _ => None,
                    };
                    let out = Outcome {
                        status: 200,
                        headers: Vec::new(),
                        body: text,
                        delay,
                    };
                    (out, fname)
                }
                Err(e) => (Outcome::error(&e, ids), None),
            }
        }
    };
    if let Some(t) = st.tenants.get_mut(&tenant_id) {
        t.record(
            &key,
            out.status,
            out.retry_after(),
            fname.map(str::to_string),
            &ids.request_id,
        );
    }
    out
}

/// Runs one Graph request through auth, counters and faults.
pub async fn serve(
    shared: web::Data<SharedRef>,
    req: HttpRequest,
    base: &'static str,
    f: fn(&mut SimState, &Ctx) -> GraphResult,
) -> HttpResponse {
    let ids = ReqIds::of(&req);
    let query = Query::parse(req.query_string());
    let out = {
        let mut st = shared.lock();
        let tenant_id = match authenticate(&st, &req) {
            Ok(t) => t,
            Err(b) => {
                let (tid, e) = *b;
                let key = endpoint_key(base, &query);
                if let Some(t) = tid.and_then(|t| st.tenants.get_mut(&t)) {
                    t.record(&key, e.status, None, None, &ids.request_id);
                }
                return e.response(&ids);
            }
        };
        let ctx = Ctx {
            tenant_id,
            query,
            prefer: req
                .headers()
                .get("prefer")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            graph_url: st.graph_url.clone(),
            path: req.path().to_string(),
        };
        dispatch(&mut st, &ids, base, &ctx, f)
    };
    if let Some(d) = out.delay {
        tokio::time::sleep(d).await;
    }
    out.response()
}

macro_rules! route {
    ($name:ident, $base:literal, $f:path) => {
        async fn $name(shared: web::Data<SharedRef>, req: HttpRequest) -> HttpResponse {
            serve(shared, req, $base, $f).await
        }
    };
}

route!(users_delta, "users/delta", delta::users);
route!(groups_delta, "groups/delta", delta::groups);
route!(
    managed_devices,
    "deviceManagement/managedDevices",
    lists::managed_devices
);
route!(
    compliance_policies,
    "deviceManagement/deviceCompliancePolicies",
    lists::compliance_policies
);
route!(
    ca_policies,
    "identity/conditionalAccess/policies",
    lists::ca_policies
);
route!(
    registrations,
    "reports/authenticationMethods/userRegistrationDetails",
    lists::registrations
);
route!(organization, "organization", lists::organization);
route!(user, "users/{id}", directory::user);
route!(
    transitive_member_of,
    "users/{id}/transitiveMemberOf",
    directory::transitive_member_of
);
route!(
    transitive_member_of_groups,
    "users/{id}/transitiveMemberOf/microsoft.graph.group",
    directory::transitive_member_of
);
route!(
    compliance_summary,
    "deviceManagement/deviceCompliancePolicyDeviceStateSummary",
    lists::compliance_summary
);

route!(subscribed_skus, "subscribedSkus", evidence::subscribed_skus);
route!(
    security_defaults,
    "policies/identitySecurityDefaultsEnforcementPolicy",
    evidence::security_defaults
);
route!(
    auth_methods_policy,
    "policies/authenticationMethodsPolicy",
    evidence::authentication_methods_policy
);
route!(
    role_assignments,
    "roleManagement/directory/roleAssignments",
    evidence::role_assignments
);
route!(
    user_methods,
    "users/{id}/authentication/methods",
    evidence::user_methods
);
route!(
    device_status_overview,
    "deviceManagement/deviceCompliancePolicies/{id}/deviceStatusOverview",
    evidence::device_status_overview
);

/// Registers the Graph routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1.0/users/delta", web::get().to(users_delta))
        .route("/v1.0/users/delta()", web::get().to(users_delta))
        .route("/v1.0/groups/delta", web::get().to(groups_delta))
        .route("/v1.0/groups/delta()", web::get().to(groups_delta))
        .route(
            "/v1.0/deviceManagement/managedDevices",
            web::get().to(managed_devices),
        )
        .route(
            "/v1.0/deviceManagement/deviceCompliancePolicies",
            web::get().to(compliance_policies),
        )
        .route(
            "/v1.0/identity/conditionalAccess/policies",
            web::get().to(ca_policies),
        )
        .route(
            "/v1.0/reports/authenticationMethods/userRegistrationDetails",
            web::get().to(registrations),
        )
        .route(
            "/v1.0/deviceManagement/deviceCompliancePolicyDeviceStateSummary",
            web::get().to(compliance_summary),
        )
        .route("/v1.0/organization", web::get().to(organization))
        .route("/v1.0/$batch", web::post().to(batch::batch))
        .route("/v1.0/subscribedSkus", web::get().to(subscribed_skus))
        .route(
            "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy",
            web::get().to(security_defaults),
        )
        .route(
            "/v1.0/policies/authenticationMethodsPolicy",
            web::get().to(auth_methods_policy),
        )
        .route(
            "/v1.0/roleManagement/directory/roleAssignments",
            web::get().to(role_assignments),
        )
        .route(
            "/v1.0/deviceManagement/deviceCompliancePolicies/{id}/deviceStatusOverview",
            web::get().to(device_status_overview),
        )
        // After users/delta, which the `{id}` pattern would otherwise swallow.
        .route("/v1.0/users/{id}", web::get().to(user))
        .route(
            "/v1.0/users/{id}/transitiveMemberOf",
            web::get().to(transitive_member_of),
        )
        .route(
            "/v1.0/users/{id}/transitiveMemberOf/microsoft.graph.group",
            web::get().to(transitive_member_of_groups),
        )
        .route(
            "/v1.0/users/{id}/authentication/methods",
            web::get().to(user_methods),
        );
}
