//! `/_sim/levelio/...`: the control API that changes the Level estate.
//!
//! `PUT api_key {"api_key"}`, `POST generate {"clients": [names], "devices_per_client": n}`
//! (a client whose name is a simulated tenant's mirrors that tenant's Intune devices),
//! `GET devices`, `POST devices`, `PATCH|DELETE devices/{id}`,
//! `PUT custom_field_values {"custom_field_id", "assigned_to_id", "value"}` (`value: null`
//! removes), `PUT faults [Fault]`, `GET requests` (keys: `groups`, `devices`, `devices/{id}`,
//! `tags`, `custom_fields`, `custom_field_values`), `GET state`.
//!
//! Generation needs the Microsoft tenants, which this module does not see: the caller passes
//! it in as a function.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::state::{LevelHandle, str_of};
use crate::simulator::faults::Fault;

#[derive(Deserialize)]
struct GenSpec {
    clients: Vec<String>,
    #[serde(default = "twenty")]
    devices_per_client: usize,
}

fn twenty() -> usize {
    20
}

#[derive(Deserialize)]
struct ValueSpec {
    custom_field_id: String,
    assigned_to_id: String,
    value: Option<String>,
}

impl LevelHandle {
    pub fn set_api_key(&self, key: &str) {
        self.lock().api_key = key.into();
    }

    /// Adds a device (a fresh id is assigned) and returns it.
    pub fn add_device(&self, mut m: Map<String, Value>) -> Map<String, Value> {
        let mut lv = self.lock();
        let id = lv.id("Device");
        m.insert("id".into(), json!(id));
        lv.devices.push(m.clone());
        m
    }

    /// Merges `m` into the device (its id cannot change); `null` removes a property.
    pub fn update_device(&self, id: &str, m: Map<String, Value>) -> bool {
        let mut lv = self.lock();
        let Some(i) = lv.device_index(id) else {
            return false;
        };
        for (k, v) in m.into_iter().filter(|(k, _)| k != "id") {
            if v.is_null() && k == "last_seen_at" {
                lv.devices[i].remove(&k);
            } else {
                lv.devices[i].insert(k, v);
            }
        }
        true
    }

    pub fn delete_device(&self, id: &str) -> bool {
        let mut lv = self.lock();
        let before = lv.devices.len();
        lv.devices.retain(|d| str_of(d, "id") != Some(id));
        before != lv.devices.len()
    }

    pub fn set_faults(&self, f: Vec<Fault>) {
        self.lock().faults = f.into_iter().map(|f| Fault { seen: 0, ..f }).collect();
    }

    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.lock().counts.clone()
    }

    /// Every device with all its properties (what an include-everything listing returns).
    pub fn devices(&self) -> Vec<Map<String, Value>> {
        self.lock().devices.clone()
    }

    /// Id of the custom field called `name` (e.g. "Warranty Expiry").
    pub fn custom_field_id(&self, name: &str) -> Option<String> {
        self.lock()
            .custom_fields
            .iter()
            .find(|f| str_of(f, "name") == Some(name))
            .and_then(|f| str_of(f, "id").map(str::to_string))
    }

    pub fn set_value(&self, field_id: &str, assigned_to_id: &str, value: Option<&str>) -> bool {
        self.lock().set_value(field_id, assigned_to_id, value)
    }

    /// `{api_key, org_id, groups, devices, values}` (counts) for the CLI banner and tests.
    pub fn summary(&self) -> Value {
        let lv = self.lock();
        json!({"api_key": lv.api_key, "org_id": lv.org_id, "groups": lv.groups.len(),
            "devices": lv.devices.len(), "values": lv.values.len()})
    }
}

/// Dispatches `/_sim/levelio/{rest}`; `generate(clients, per_client)` regenerates the estate.
pub fn dispatch(
    level: &LevelHandle,
    generate: &dyn Fn(&[String], usize),
    method: &str,
    rest: &[&str],
    b: &web::Bytes,
) -> HttpResponse {
    let parse = |b: &web::Bytes| serde_json::from_slice::<Value>(b).unwrap_or(Value::Null);
    let bad = |m: &str| HttpResponse::BadRequest().json(json!({"error": m}));
    let ok = || HttpResponse::Ok().json(json!({"ok": true}));
    match (method, rest) {
        ("PUT", ["api_key"]) => match parse(b).get("api_key").and_then(Value::as_str) {
            Some(k) => {
                level.set_api_key(k);
                ok()
            }
            None => bad("body must be {\"api_key\": \"...\"}"),
        },
        ("POST", ["generate"]) => match serde_json::from_slice::<GenSpec>(b) {
            Ok(s) => {
                generate(&s.clients, s.devices_per_client);
                ok()
            }
            Err(e) => bad(&e.to_string()),
        },
        ("GET", ["devices"]) => HttpResponse::Ok().json(level.devices()),
        ("POST", ["devices"]) => match parse(b) {
            Value::Object(m) => HttpResponse::Ok().json(level.add_device(m)),
            _ => bad("body must be a device object"),
        },
        ("PATCH", ["devices", id]) => {
            let updated = match parse(b) {
                Value::Object(m) => level.update_device(id, m),
                _ => false,
            };
            if updated {
                ok()
            } else {
                HttpResponse::NotFound()
                    .json(json!({"error": "device not found or body not an object"}))
            }
        }
        ("DELETE", ["devices", id]) if level.delete_device(id) => ok(),
        ("PUT", ["custom_field_values"]) => match serde_json::from_slice::<ValueSpec>(b) {
            Ok(v) if level.set_value(&v.custom_field_id, &v.assigned_to_id, v.value.as_deref()) => {
                ok()
            }
            Ok(_) => HttpResponse::NotFound().json(json!({"error": "unknown custom_field_id"})),
            Err(e) => bad(&e.to_string()),
        },
        ("PUT", ["faults"]) => match serde_json::from_slice::<Vec<Fault>>(b) {
            Ok(f) => {
                level.set_faults(f);
                ok()
            }
            Err(e) => bad(&e.to_string()),
        },
        ("GET", ["requests"]) => HttpResponse::Ok().json(level.counts()),
        ("GET", ["state"]) => HttpResponse::Ok().json(level.summary()),
        _ => HttpResponse::NotFound().json(json!({"error": "unknown levelio control route"})),
    }
}
