//! The simulated Level.io estate: API key, folder tree of groups, devices and custom fields.
//! Data only; `simulator::levelio` serves it over HTTP and the control API changes it.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use crate::simulator::faults::Fault;
use crate::simulator::generator::{fold, h};

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

pub(in crate::simulator) fn level_id(kind: &str, n: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("gid://level/{kind}/{n}"))
}

pub(in crate::simulator) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl LevelState {
    pub(in crate::simulator) fn id(&mut self, kind: &str) -> String {
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
