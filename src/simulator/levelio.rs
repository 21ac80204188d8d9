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
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::control::SimControl;
use super::faults::{self, Fault, FaultKind};
use super::generator::{fold, h};
use super::state::SharedRef;

/// Level.io world: API key, folder tree, devices, custom fields.
#[derive(Debug, Default)]
pub struct LevelState {
    pub api_key: String,
    pub groups: Vec<Map<String, Value>>,
    pub devices: Vec<Map<String, Value>>,
    pub custom_fields: Vec<Map<String, Value>>,
    pub values: Vec<Map<String, Value>>,
    pub faults: Vec<Fault>,
    pub counts: BTreeMap<String, u64>,
    next_id: u64,
}

fn level_id(kind: &str, n: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("gid://level/{kind}/{n}"))
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl LevelState {
    fn id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        level_id(kind, self.next_id)
    }

    /// Builds a deterministic estate: per client a root folder with Workstations/Servers
    /// children (Workstations/Remote nested deeper), devices spread over the leaves.
    pub fn generate(
        seed: u64,
        api_key: &str,
        clients: &[String],
        per_client: usize,
        now: DateTime<Utc>,
    ) -> LevelState {
        let mut s = LevelState {
            api_key: api_key.into(),
            ..Default::default()
        };
        let warranty = s.id("CustomField");
        let purchase = s.id("CustomField");
        s.custom_fields
            .push(obj(json!({"id": warranty, "name": "Warranty Expiry"})));
        s.custom_fields
            .push(obj(json!({"id": purchase, "name": "Purchase Date"})));
        let mut k: u64 = 0;
        for client in clients {
            let root = s.id("Group");
            let ws = s.id("Group");
            let srv = s.id("Group");
            let remote = s.id("Group");
            s.groups
                .push(obj(json!({"id": root, "name": client, "parent_id": null})));
            s.groups.push(obj(
                json!({"id": ws, "name": "Workstations", "parent_id": root}),
            ));
            s.groups.push(obj(
                json!({"id": srv, "name": "Servers", "parent_id": root}),
            ));
            s.groups.push(obj(
                json!({"id": remote, "name": "Remote", "parent_id": ws}),
            ));
            let prefix: String = fold(client)
                .chars()
                .take(3)
                .collect::<String>()
                .to_uppercase();
            for i in 0..per_client {
                k += 1;
                let x = h(seed, 0x1e7e1, k);
                let (role, group, platform) = match i % 10 {
                    0 => (
                        "server",
                        srv.clone(),
                        if x.is_multiple_of(3) {
                            "Linux"
                        } else {
                            "Windows"
                        },
                    ),
                    1 if i > 5 => ("domain_controller", srv.clone(), "Windows"),
                    2 => ("workstation", remote.clone(), "Mac"),
                    _ => ("workstation", ws.clone(), "Windows"),
                };
                // Duplicate hostnames across clients and placeholder serials, as in real estates.
                let hostname = if i % 11 == 10 {
                    "DESKTOP-1A2B3C".to_string()
                } else {
                    format!(
                        "{prefix}-{}-{i:03}",
                        if role == "workstation" { "WS" } else { "SRV" }
                    )
                };
                let serial = match i % 13 {
                    4 => "To be filled by O.E.M.".to_string(),
                    8 => "0".to_string(),
                    12 => String::new(),
                    _ => format!("{:08X}", x & 0xFFFF_FFFF),
                };
                let id = s.id("Device");
                let seen = now - Duration::minutes((x % (60 * 24 * 20)) as i64);
                let (os, major, minor) = match platform {
                    "Linux" => ("Ubuntu 22.04.4 LTS", "22", "04"),
                    "Mac" => ("macOS Sonoma 14.6", "14", "6"),
                    _ if role == "workstation" => ("Microsoft Windows 11 Pro 23H2", "10", "0"),
                    _ => ("Microsoft Windows Server 2022 Standard", "10", "0"),
                };
                s.devices.push(obj(json!({
                    "id": id, "hostname": hostname, "nickname": if x.is_multiple_of(4) { Value::from(format!("{client} device {i}")) } else { Value::Null },
                    "role": role, "group_id": group, "tags": if role == "server" { json!(["server", "backup"]) } else { json!(["laptop"]) },
                    "online": !x.is_multiple_of(3), "last_seen_at": seen.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "maintenance_mode": x.is_multiple_of(17), "manufacturer": if platform == "Mac" { "Apple Inc." } else { "Dell Inc." },
                    "model": if platform == "Mac" { "MacBookPro18,3" } else if role == "workstation" { "Latitude 5440" } else { "PowerEdge R650" },
                    "serial_number": serial, "platform": platform,
                    "last_logged_in_user": if role == "workstation" { Value::from(format!("{}\\user{i}", prefix.to_lowercase())) } else { Value::Null },
                    "last_reboot_time": (seen - Duration::days((x % 30) as i64)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "security_score": (x % 60 + 40) as i64, "total_memory": 8_589_934_592_i64 * (1 + (x % 4) as i64),
                    "cpu_cores": 4 + (x % 3) as i64 * 4,
                    "operating_system": {"full_operating_system": os, "major_version": major, "minor_version": minor, "architecture": "x64",
                        "install_date": (now - Duration::days(400 + (x % 300) as i64)).format("%Y-%m-%d").to_string(), "end_of_life": Value::Null},
                })));
                if !x.is_multiple_of(5) {
                    let vid = s.id("CustomFieldValue");
                    let date = (now + Duration::days((x % 1000) as i64 - 200))
                        .format("%Y-%m-%d")
                        .to_string();
                    s.values.push(obj(json!({"id": vid, "custom_field_id": warranty, "custom_field_name": "Warranty Expiry", "assigned_to_id": id, "value": date})));
                }
            }
        }
        s
    }
}

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
