//! The simulated Level.io RMM API (docs/microsoft.md#levelio), served at `{levelio_url}/v2/...`.
//!
//! Auth is the raw API key in `Authorization` (no `Bearer`); a wrong key is 401
//! `{"error":"Access denied"}`. Lists use cursor paging: `limit` 1–100 (default 20),
//! `starting_after=<last id>`, body `{"data": [...], "has_more": bool}`.
//! Groups form a folder tree (`parent_id`); an MSP maps a root folder to a client.
//! Warranty dates live in custom field values, as MSPs keep them there.
//!
//! The `custom_fields`/`custom_field_values` item shapes are our assumption, not checked against
//! Level's OpenAPI document (<https://levelapi.readme.io/>); the simulator uses `{id, name}` and
//! `{id, custom_field_id, custom_field_name, assigned_to_id, value}` (filterable by
//! `assigned_to_id` and `custom_field_id`).
//!
//! Control: `PUT /_sim/levelio/api_key {"api_key"}`, `POST /_sim/levelio/generate
//! {"clients": [..], "devices_per_client": n}`, `POST /_sim/levelio/devices`,
//! `PATCH|DELETE /_sim/levelio/devices/{id}`, `PUT /_sim/levelio/faults [Fault]`,
//! `GET /_sim/levelio/requests` (keys: `groups`, `devices`, `devices/{id}`, `custom_fields`,
//! `custom_field_values`).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::control::SimControl;
use super::faults::{self, Fault, FaultKind};
use super::state::SharedRef;
pub use super::state::levelio::LevelState;

#[derive(Deserialize, Default)]
struct ListQ {
    limit: Option<String>,
    starting_after: Option<String>,
    group_id: Option<String>,
    ancestor_group_id: Option<String>,
    hostname: Option<String>,
    serial_number: Option<String>,
    tag_id: Option<String>,
    assigned_to_id: Option<String>,
    custom_field_id: Option<String>,
    include_operating_system: Option<String>,
}

fn unprocessable(msg: &str) -> Box<HttpResponse> {
    Box::new(HttpResponse::UnprocessableEntity().json(json!({ "error": msg })))
}

fn page(
    items: Vec<&Map<String, Value>>,
    q: &ListQ,
    strip_os: bool,
) -> Result<Value, Box<HttpResponse>> {
    let limit = match &q.limit {
        None => 20,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(unprocessable("limit must be between 1 and 100"));
            }
        },
    };
    let start = match &q.starting_after {
        Some(a) => match items
            .iter()
            .position(|d| d.get("id").and_then(Value::as_str) == Some(a))
        {
            Some(p) => p + 1,
            None => {
                return Err(unprocessable("starting_after not found"));
            }
        },
        None => 0,
    };
    let data: Vec<Value> = items
        .iter()
        .skip(start)
        .take(limit)
        .map(|m| {
            let mut m = (*m).clone();
            if strip_os {
                m.remove("operating_system");
            }
            Value::Object(m)
        })
        .collect();
    Ok(json!({ "data": data, "has_more": start + limit < items.len() }))
}

fn descendants(groups: &[Map<String, Value>], root: &str) -> Vec<String> {
    let mut out = vec![root.to_string()];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i].clone();
        for g in groups {
            if g.get("parent_id").and_then(Value::as_str) == Some(cur.as_str())
                && let Some(id) = g.get("id").and_then(Value::as_str)
            {
                out.push(id.to_string());
            }
        }
        i += 1;
    }
    out
}

async fn api(shared: web::Data<SharedRef>, req: HttpRequest) -> HttpResponse {
    let path = req
        .path()
        .trim_start_matches("/v2/")
        .trim_end_matches('/')
        .to_string();
    let q: ListQ = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let key = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let seg: Vec<&str> = path.split('/').collect();
    let endpoint = match seg.as_slice() {
        ["devices", _] => "devices/{id}".to_string(),
        _ => path.clone(),
    };
    let mut delay = None;
    let resp = {
        let mut st = shared.lock();
        let lv = &mut st.levelio;
        *lv.counts.entry(endpoint.clone()).or_insert(0) += 1;
        if lv.api_key.is_empty() || key != lv.api_key {
            return HttpResponse::Unauthorized().json(json!({"error": "Access denied"}));
        }
        match faults::evaluate(&mut lv.faults, &endpoint) {
            Some(FaultKind::Throttle { retry_after }) => {
                let mut b = HttpResponse::TooManyRequests();
                if let Some(r) = retry_after {
                    b.insert_header(("Retry-After", r));
                }
                return b.json(json!({"error": "Too many requests"}));
            }
            Some(FaultKind::Unavailable { .. }) => {
                return HttpResponse::ServiceUnavailable()
                    .json(json!({"error": "Service unavailable"}));
            }
            Some(FaultKind::Error {
                status, message, ..
            }) => {
                let code = actix_web::http::StatusCode::from_u16(status)
                    .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
                return HttpResponse::build(code).json(json!({ "error": message }));
            }
            Some(FaultKind::Malformed) => {
                return HttpResponse::Ok()
                    .content_type("application/json")
                    .body("{\"data\": [{\"id\": ");
            }
            Some(FaultKind::Slow { delay_ms }) => {
                delay = Some(std::time::Duration::from_millis(delay_ms))
            }
            None => {}
        }
        let strip = q.include_operating_system.as_deref() != Some("true");
        let result = match seg.as_slice() {
            ["groups"] => page(lv.groups.iter().collect(), &q, false),
            ["custom_fields"] => page(lv.custom_fields.iter().collect(), &q, false),
            ["custom_field_values"] => page(
                lv.values
                    .iter()
                    .filter(|v| {
                        q.assigned_to_id.as_deref().is_none_or(|a| {
                            v.get("assigned_to_id").and_then(Value::as_str) == Some(a)
                        })
                    })
                    .filter(|v| {
                        q.custom_field_id.as_deref().is_none_or(|a| {
                            v.get("custom_field_id").and_then(Value::as_str) == Some(a)
                        })
                    })
                    .collect(),
                &q,
                false,
            ),
            ["devices"] => {
                let within = q
                    .ancestor_group_id
                    .as_deref()
                    .map(|a| descendants(&lv.groups, a));
                let s = |d: &Map<String, Value>, k: &str| {
                    d.get(k).and_then(Value::as_str).map(str::to_string)
                };
                page(
                    lv.devices
                        .iter()
                        .filter(|d| {
                            q.group_id
                                .as_ref()
                                .is_none_or(|g| s(d, "group_id").as_ref() == Some(g))
                        })
                        .filter(|d| {
                            within
                                .as_ref()
                                .is_none_or(|w| s(d, "group_id").is_some_and(|g| w.contains(&g)))
                        })
                        .filter(|d| {
                            q.hostname
                                .as_ref()
                                .is_none_or(|x| s(d, "hostname").as_ref() == Some(x))
                        })
                        .filter(|d| {
                            q.serial_number
                                .as_ref()
                                .is_none_or(|x| s(d, "serial_number").as_ref() == Some(x))
                        })
                        .filter(|d| {
                            q.tag_id.as_ref().is_none_or(|t| {
                                d.get("tags")
                                    .and_then(Value::as_array)
                                    .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(t)))
                            })
                        })
                        .collect(),
                    &q,
                    strip,
                )
            }
            ["devices", id] => match lv
                .devices
                .iter()
                .find(|d| d.get("id").and_then(Value::as_str) == Some(*id))
            {
                Some(d) => {
                    let mut d = d.clone();
                    if strip {
                        d.remove("operating_system");
                    }
                    Ok(Value::Object(d))
                }
                None => Err(Box::new(
                    HttpResponse::NotFound().json(json!({"error": "Not found"})),
                )),
            },
            _ => Err(Box::new(
                HttpResponse::NotFound().json(json!({"error": "Not found"})),
            )),
        };
        match result {
            Ok(v) => HttpResponse::Ok().json(v),
            Err(r) => *r,
        }
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    resp
}

/// Registers `/v2/...`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v2/{tail:.*}", web::get().to(api));
}

#[derive(Deserialize)]
struct GenSpec {
    clients: Vec<String>,
    #[serde(default = "twenty")]
    devices_per_client: usize,
}

fn twenty() -> usize {
    20
}

/// `/_sim/levelio/...` control routes (dispatched from `control_http.rs`).
pub fn control(ctl: &SimControl, method: &str, rest: &[&str], b: &web::Bytes) -> HttpResponse {
    let parse = |b: &web::Bytes| serde_json::from_slice::<Value>(b).unwrap_or(Value::Null);
    let bad = |m: &str| HttpResponse::BadRequest().json(json!({"error": m}));
    match (method, rest) {
        ("PUT", ["api_key"]) => match parse(b).get("api_key").and_then(Value::as_str) {
            Some(k) => {
                ctl.levelio_set_api_key(k);
                HttpResponse::Ok().json(json!({"ok": true}))
            }
            None => bad("body must be {\"api_key\": \"...\"}"),
        },
        ("POST", ["generate"]) => match serde_json::from_slice::<GenSpec>(b) {
            Ok(s) => {
                ctl.levelio_generate(&s.clients, s.devices_per_client);
                HttpResponse::Ok().json(json!({"ok": true}))
            }
            Err(e) => bad(&e.to_string()),
        },
        ("POST", ["devices"]) => match parse(b) {
            Value::Object(m) => HttpResponse::Ok().json(ctl.levelio_add_device(m)),
            _ => bad("body must be a device object"),
        },
        ("PATCH", ["devices", id]) => {
            let updated = match parse(b) {
                Value::Object(m) => ctl.levelio_update_device(id, m),
                _ => false,
            };
            if updated {
                HttpResponse::Ok().json(json!({"ok": true}))
            } else {
                HttpResponse::NotFound()
                    .json(json!({"error": "device not found or body not an object"}))
            }
        }
        ("DELETE", ["devices", id]) if ctl.levelio_delete_device(id) => {
            HttpResponse::Ok().json(json!({"ok": true}))
        }
        ("PUT", ["faults"]) => match serde_json::from_slice::<Vec<Fault>>(b) {
            Ok(f) => {
                ctl.levelio_set_faults(f);
                HttpResponse::Ok().json(json!({"ok": true}))
            }
            Err(e) => bad(&e.to_string()),
        },
        ("GET", ["requests"]) => HttpResponse::Ok().json(ctl.levelio_counts()),
        ("GET", ["state"]) => HttpResponse::Ok().json(ctl.levelio_summary()),
        _ => HttpResponse::NotFound().json(json!({"error": "unknown levelio control route"})),
    }
}

impl SimControl {
    pub fn levelio_set_api_key(&self, key: &str) {
        self.shared.lock().levelio.api_key = key.into();
    }

    /// Regenerates the Level.io estate (keeps the API key).
    pub fn levelio_generate(&self, clients: &[String], per_client: usize) {
        let mut st = self.shared.lock();
        let key = st.levelio.api_key.clone();
        st.levelio = LevelState::generate(st.seed, &key, clients, per_client, st.anchor);
    }

    pub fn levelio_add_device(&self, mut m: Map<String, Value>) -> Map<String, Value> {
        let mut st = self.shared.lock();
        let id = st.levelio.id("Device");
        m.insert("id".into(), json!(id));
        st.levelio.devices.push(m.clone());
        m
    }

    pub fn levelio_update_device(&self, id: &str, m: Map<String, Value>) -> bool {
        let mut st = self.shared.lock();
        match st
            .levelio
            .devices
            .iter_mut()
            .find(|d| d.get("id").and_then(Value::as_str) == Some(id))
        {
            Some(d) => {
                d.extend(m.into_iter().filter(|(k, _)| k != "id"));
                true
            }
            None => false,
        }
    }

    pub fn levelio_delete_device(&self, id: &str) -> bool {
        let mut st = self.shared.lock();
        let before = st.levelio.devices.len();
        st.levelio
            .devices
            .retain(|d| d.get("id").and_then(Value::as_str) != Some(id));
        before != st.levelio.devices.len()
    }

    pub fn levelio_set_faults(&self, f: Vec<Fault>) {
        self.shared.lock().levelio.faults = f.into_iter().map(|f| Fault { seen: 0, ..f }).collect();
    }

    pub fn levelio_counts(&self) -> BTreeMap<String, u64> {
        self.shared.lock().levelio.counts.clone()
    }

    /// `{api_key, groups, devices}` (counts) for the CLI banner and tests.
    pub fn levelio_summary(&self) -> Value {
        let st = self.shared.lock();
        json!({"api_key": st.levelio.api_key, "groups": st.levelio.groups.len(), "devices": st.levelio.devices.len()})
    }
}
