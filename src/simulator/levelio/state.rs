//! The simulated Level.io estate: API key, folder tree of groups, tags, devices, custom fields
//! and their values, fault rules and request counters. Data only: `api` serves it over HTTP,
//! `control` changes it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::simulator::faults::Fault;
use crate::simulator::generator::TenantGen;

/// Include flags of `GET /devices` and the device property each one adds. Level documents the
/// flags; the shapes of `cpus`, `memory`, `disks`, `network_interfaces` and `security` are our
/// assumption (docs/levelio.md#include-flags).
pub const INCLUDES: [(&str, &str); 6] = [
    ("include_operating_system", "operating_system"),
    ("include_cpus", "cpus"),
    ("include_memory", "memory"),
    ("include_disks", "disks"),
    ("include_network_interfaces", "network_interfaces"),
    ("include_security", "security"),
];

/// One client whose estate Level should hold. With `intune`, most of the tenant's Windows and
/// Mac devices also appear in Level, as they would when an MSP's agent and Intune both manage
/// them; without it the estate is Level-only.
#[derive(Clone, Debug)]
pub struct LevelClient {
    pub name: String,
    pub intune: Option<TenantGen>,
}

/// Level.io world. Devices are stored with every include-gated property; `api` strips what the
/// request did not ask for.
#[derive(Debug, Default)]
pub struct LevelState {
    pub api_key: String,
    /// Id of the organisation (the account): custom field values can be assigned to it.
    pub org_id: String,
    pub groups: Vec<Map<String, Value>>,
    pub tags: Vec<Map<String, Value>>,
    pub devices: Vec<Map<String, Value>>,
    pub custom_fields: Vec<Map<String, Value>>,
    pub values: Vec<Map<String, Value>>,
    pub faults: Vec<Fault>,
    pub counts: BTreeMap<String, u64>,
    pub(super) next_id: u64,
}

/// Level ids look like base64 of `gid://level/<Kind>/<n>`.
pub(super) fn level_id(kind: &str, n: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("gid://level/{kind}/{n}"))
}

pub(super) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub(super) fn str_of<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

impl LevelState {
    pub(super) fn id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        level_id(kind, self.next_id)
    }

    /// `root` and every group below it.
    pub fn descendants(&self, root: &str) -> Vec<String> {
        let mut out = vec![root.to_string()];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i].clone();
            for g in &self.groups {
                if str_of(g, "parent_id") == Some(cur.as_str())
                    && let Some(id) = str_of(g, "id")
                {
                    out.push(id.to_string());
                }
            }
            i += 1;
        }
        out
    }

    /// A group as listed: stored fields plus `child_ids` and `device_count` (direct devices),
    /// derived at read time so devices added or moved through the control API count.
    pub fn group_view(&self, g: &Map<String, Value>) -> Map<String, Value> {
        let id = str_of(g, "id").unwrap_or_default();
        let children: Vec<Value> = self
            .groups
            .iter()
            .filter(|c| str_of(c, "parent_id") == Some(id))
            .filter_map(|c| c.get("id").cloned())
            .collect();
        let count = self
            .devices
            .iter()
            .filter(|d| str_of(d, "group_id") == Some(id))
            .count();
        let mut m = g.clone();
        m.insert("child_ids".into(), Value::Array(children));
        m.insert("device_count".into(), json!(count));
        m
    }

    pub fn device_index(&self, id: &str) -> Option<usize> {
        self.devices
            .iter()
            .position(|d| str_of(d, "id") == Some(id))
    }

    /// Sets (or, with `value: None`, removes) the value of a custom field for one target
    /// (the organisation, a group or a device).
    pub fn set_value(&mut self, field_id: &str, assigned_to_id: &str, value: Option<&str>) -> bool {
        let Some(field) = self
            .custom_fields
            .iter()
            .find(|f| str_of(f, "id") == Some(field_id))
            .cloned()
        else {
            return false;
        };
        self.values.retain(|v| {
            !(str_of(v, "custom_field_id") == Some(field_id)
                && str_of(v, "assigned_to_id") == Some(assigned_to_id))
        });
        if let Some(value) = value {
            let id = self.id("CustomFieldValue");
            self.values.push(obj(json!({
                "id": id, "custom_field_id": field_id, "custom_field_name": field.get("name"),
                "assigned_to_id": assigned_to_id, "value": value,
            })));
        }
        true
    }
}

/// The Level estate behind its own lock; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct LevelHandle(Arc<Mutex<LevelState>>);

impl LevelHandle {
    /// Locks the estate; a poisoned lock (a panicking handler) is recovered.
    pub fn lock(&self) -> MutexGuard<'_, LevelState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
