//! The `/_sim/...` JSON control API on the login host (loopback peers only).
//!
//! Routes (all JSON; errors are `{"error": "..."}` with 400/403/404):
//! * `GET|POST /_sim/tenants`, `GET|PATCH /_sim/tenants/{tid}` ([`TenantSpec`], [`TenantPatch`])
//! * `GET|POST /_sim/apps` ([`App`], plus optional `"certificates": [pem, ..]` on POST);
//!   `GET|POST|DELETE /_sim/apps/{client_id}/certificates` (POST `{"pem": ".."}`; DELETE takes
//!   `?thumbprint=` or removes all); `PUT|DELETE /_sim/tenants/{tid}/consents/{client_id}`
//! * `GET|POST /_sim/tenants/{tid}/{kind}` and `GET|PATCH|DELETE /_sim/tenants/{tid}/{kind}/{id}`
//!   with kind = `users|groups|devices|policies` (`DELETE ...?permanent=true` hard-deletes;
//!   `GET` list takes `skip`/`top`); `POST /_sim/tenants/{tid}/{kind}/{id}/restore`
//! * `GET /_sim/tenants/{tid}/groups/{gid}/members`, `PUT|DELETE .../members/{member_id}`
//! * `PATCH /_sim/tenants/{tid}/registrations/{user_id}` (MFA report row overrides)
//! * `GET|PUT|POST|DELETE /_sim/tenants/{tid}/faults` ([`Fault`] list / one fault / clear;
//!   kinds `throttle`, `unavailable`, `malformed`, `slow`, `error`)
//! * `POST /_sim/tenants/{tid}/delta/expire`
//! * `GET|DELETE /_sim/tenants/{tid}/requests`, `GET /_sim/tenants/{tid}/requests/log`
//! * `POST /_sim/keys/rotate`, `GET|PUT /_sim/login` ([`LoginSettings`]),
//!   `POST /_sim/tokens/expire?tenant=..`
//! * Level.io: see `levelio/control.rs` (`/_sim/levelio/...`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::collection::Kind;
use super::control::{SimControl, SimError, TenantPatch, TenantSpec};
use super::faults::Fault;
use super::state::{App, LoginSettings};

fn loopback(req: &HttpRequest) -> bool {
    req.peer_addr().is_some_and(|a| a.ip().is_loopback())
}

fn err(status: u16, msg: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(json!({ "error": msg }))
}

fn reply<T: serde::Serialize>(r: Result<T, SimError>) -> HttpResponse {
    match r {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(SimError::NotFound(m)) => err(404, &format!("not found: {m}")),
        Err(SimError::BadRequest(m)) => err(400, &m),
    }
}

fn body<T: DeserializeOwned>(b: &web::Bytes) -> Result<T, SimError> {
    serde_json::from_slice(b).map_err(|e| SimError::BadRequest(format!("invalid JSON body: {e}")))
}

fn kind(s: &str) -> Result<Kind, SimError> {
    match s {
        "users" => Ok(Kind::User),
        "groups" => Ok(Kind::Group),
        "devices" => Ok(Kind::Device),
        "policies" => Ok(Kind::Policy),
        _ => Err(SimError::NotFound(format!("collection {s}"))),
    }
}

/// `POST /_sim/apps`: the app, plus certificates to upload with it.
#[derive(Deserialize)]
struct AppWithCertificates {
    #[serde(flatten)]
    app: App,
    #[serde(default)]
    certificates: Vec<String>,
}

#[derive(Deserialize)]
struct PemBody {
    pem: String,
}

#[derive(Deserialize)]
struct ListQ {
    #[serde(default)]
    skip: u64,
    #[serde(default = "hundred")]
    top: usize,
    #[serde(default)]
    permanent: bool,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    thumbprint: Option<String>,
}

fn hundred() -> usize {
    100
}

type Ctl = web::Data<SimControl>;

/// One handler for everything under `/_sim`: a small router keeps the route table readable.
async fn dispatch(ctl: Ctl, req: HttpRequest, b: web::Bytes) -> HttpResponse {
    if !loopback(&req) {
        return err(403, "the simulator control API only accepts loopback peers");
    }
    let q: ListQ = serde_urlencoded::from_str(req.query_string()).unwrap_or(ListQ {
        skip: 0,
        top: 100,
        permanent: false,
        tenant: None,
        thumbprint: None,
    });
    let path = req
        .path()
        .trim_start_matches("/_sim/")
        .trim_end_matches('/')
        .to_string();
    let seg: Vec<&str> = path.split('/').collect();
    let m = req.method().as_str();
    match (m, seg.as_slice()) {
        ("GET", ["tenants"]) => HttpResponse::Ok().json(ctl.tenants()),
        ("POST", ["tenants"]) => reply(body::<TenantSpec>(&b).and_then(|s| ctl.create_tenant(s))),
        ("GET", ["tenants", t]) => reply(ctl.tenant(t)),
        ("PATCH", ["tenants", t]) => {
            reply(body::<TenantPatch>(&b).and_then(|p| ctl.update_tenant(t, p)))
        }
        ("GET", ["apps"]) => HttpResponse::Ok().json(ctl.apps()),
        ("POST", ["apps"]) => reply(body::<AppWithCertificates>(&b).and_then(|a| {
            let app = ctl.register_app(a.app)?;
            for pem in &a.certificates {
                ctl.add_app_certificate(&app.client_id, pem)?;
            }
            Ok(app)
        })),
        ("GET", ["apps", c, "certificates"]) => reply(ctl.app_certificates(c)),
        ("POST", ["apps", c, "certificates"]) => {
            reply(body::<PemBody>(&b).and_then(|p| ctl.add_app_certificate(c, &p.pem)))
        }
        ("DELETE", ["apps", c, "certificates"]) => reply(
            ctl.remove_app_certificates(c, q.thumbprint.as_deref())
                .map(|n| json!({"removed": n})),
        ),
        ("PUT", ["tenants", t, "consents", c]) => {
            reply(ctl.grant_consent(t, c).map(|_| json!({"granted": true})))
        }
        ("DELETE", ["tenants", t, "consents", c]) => {
            reply(ctl.revoke_consent(t, c).map(|_| json!({"revoked": true})))
        }
        ("GET", ["tenants", t, "organization"]) => reply(ctl.organization(t)),
        ("GET", ["tenants", t, "faults"]) => reply(ctl.faults(t)),
        ("PUT", ["tenants", t, "faults"]) => reply(
            body::<Vec<Fault>>(&b)
                .and_then(|f| ctl.set_faults(t, f))
                .map(|_| json!({"ok": true})),
        ),
        ("POST", ["tenants", t, "faults"]) => reply(
            body::<Fault>(&b)
                .and_then(|f| ctl.add_fault(t, f))
                .map(|_| json!({"ok": true})),
        ),
        ("DELETE", ["tenants", t, "faults"]) => {
            reply(ctl.set_faults(t, Vec::new()).map(|_| json!({"ok": true})))
        }
        ("POST", ["tenants", t, "delta", "expire"]) => {
            reply(ctl.expire_delta_tokens(t).map(|_| json!({"ok": true})))
        }
        ("GET", ["tenants", t, "requests"]) => reply(ctl.request_counts(t)),
        ("DELETE", ["tenants", t, "requests"]) => {
            reply(ctl.reset_requests(t).map(|_| json!({"ok": true})))
        }
        ("GET", ["tenants", t, "requests", "log"]) => reply(ctl.request_log(t)),
        ("PATCH", ["tenants", t, "registrations", u]) => reply(
            body::<Map<String, Value>>(&b)
                .and_then(|p| ctl.set_registration(t, u, p))
                .map(|_| json!({"ok": true})),
        ),
        ("GET", ["tenants", t, "groups", g, "members"]) => reply(ctl.members(t, g).map(|v| {
            v.into_iter()
                .map(|(ty, id)| json!({"@odata.type": ty, "id": id}))
                .collect::<Vec<_>>()
        })),
        ("PUT", ["tenants", t, "groups", g, "members", mid]) => {
            reply(ctl.add_member(t, g, mid).map(|_| json!({"ok": true})))
        }
        ("DELETE", ["tenants", t, "groups", g, "members", mid]) => {
            reply(ctl.remove_member(t, g, mid).map(|_| json!({"ok": true})))
        }
        ("POST", ["tenants", t, k, id, "restore"]) => {
            reply(kind(k).and_then(|k| ctl.restore_object(t, k, id)))
        }
        ("GET", ["tenants", t, k]) => {
            reply(kind(k).and_then(|k| ctl.list_objects(t, k, q.skip, q.top)))
        }
        ("POST", ["tenants", t, k]) => {
            reply(kind(k).and_then(|k| body(&b).and_then(|p| ctl.create_object(t, k, p))))
        }
        ("GET", ["tenants", t, k, id]) => reply(kind(k).and_then(|k| ctl.get_object(t, k, id))),
        ("PATCH", ["tenants", t, k, id]) => {
            reply(kind(k).and_then(|k| body(&b).and_then(|p| ctl.update_object(t, k, id, p))))
        }
        ("DELETE", ["tenants", t, k, id]) => reply(
            kind(k)
                .and_then(|k| ctl.delete_object(t, k, id, q.permanent))
                .map(|_| json!({"ok": true})),
        ),
        ("POST", ["keys", "rotate"]) => {
            HttpResponse::Ok().json(json!({"key_index": ctl.rotate_keys()}))
        }
        ("GET", ["login"]) => HttpResponse::Ok().json(ctl.login_settings()),
        ("PUT", ["login"]) => reply(
            body::<LoginSettings>(&b)
                .map(|s| ctl.set_login_settings(s))
                .map(|_| json!({"ok": true})),
        ),
        ("POST", ["tokens", "expire"]) => HttpResponse::Ok()
            .json(json!({"expired": ctl.expire_access_tokens(q.tenant.as_deref())})),
        (_, ["levelio", rest @ ..]) => super::levelio::control::dispatch(
            &ctl.level(),
            &|c, n| ctl.levelio_generate(c, n),
            m,
            rest,
            &b,
        ),
        _ => err(404, &format!("unknown control route {m} /_sim/{path}")),
    }
}

/// Registers `/_sim/{tail:.*}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/_sim/{tail:.*}", web::route().to(dispatch));
}
