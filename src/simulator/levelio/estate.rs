//! Generates a deterministic Level estate that overlaps the Intune estates the way real ones
//! do (docs/levelio.md#simulated-estate): most Windows and Mac endpoints of a client appear in
//! both, with the serial in another case or spacing and the hostname in another case or with a
//! DNS suffix; Level-only servers; Intune-only phones (no agent); junk and duplicated serials;
//! a hostname reused in every client; warranty dates as free-text custom field values at
//! organisation, group and device level.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::state::{LevelClient, LevelState, obj, str_of};
use crate::simulator::generator::{device, fold, h};

const SALT_LEVEL: u64 = 0x1e7e1;
/// Hostname a technician's imaging leaves on one machine per client (same in every client).
pub const REUSED_HOSTNAME: &str = "DESKTOP-1A2B3C";
/// Serial both VMs of a client's cloned pair report (VMware builds it from the VM's UUID).
const VM_SERIAL: &str = "VMware-56 4d 9a 1c 7e 22 0b 4f-8a 11 3c 5d 6e 7f 80 91";

struct Ctx<'a> {
    seed: u64,
    now: DateTime<Utc>,
    prefix: String,
    client: &'a str,
    warranty: String,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Another spelling of the same serial, as a second inventory tool reports it.
fn serial_variant(serial: &str, x: u64) -> String {
    match serial.trim() {
        "" => ["", "Default string", "To be filled by O.E.M."][(x % 3) as usize].to_string(),
        "0" | "To be filled by O.E.M." => "Default string".to_string(),
        s => match (x >> 3) % 4 {
            1 => s.to_lowercase(),
            2 => {
                let (a, b) = s.split_at(s.len() / 2);
                format!(" {a} {b} ")
            }
            3 => s
                .chars()
                .collect::<Vec<_>>()
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-"),
            _ => s.to_string(),
        },
    }
}

/// Another spelling of the same hostname: Level reports the agent's view, which may be lower
/// case or fully qualified.
fn hostname_variant(name: &str, domain: &str, x: u64) -> String {
    match (x >> 7) % 4 {
        1 => name.to_lowercase(),
        2 => format!("{name}.{domain}"),
        3 => format!("{}.corp.local", name.to_lowercase()),
        _ => name.to_string(),
    }
}

/// Free-text warranty end dates in the formats technicians type: ISO, day-first, month-first,
/// a timestamp, blank and prose. `days` is relative to now (negative = expired).
fn warranty_text(now: DateTime<Utc>, days: i64, x: u64) -> String {
    let d = now + Duration::days(days);
    match x % 8 {
        1 => d.format("%d/%m/%Y").to_string(),
        2 => d.format("%m/%d/%Y").to_string(),
        3 => format!("{}T00:00:00Z", d.format("%Y-%m-%d")),
        4 => String::new(),
        5 => "see invoice".to_string(),
        _ => d.format("%Y-%m-%d").to_string(),
    }
}

struct Shape<'a> {
    hostname: String,
    serial: String,
    role: &'a str,
    platform: &'a str,
    group: String,
    manufacturer: String,
    model: String,
    user: Option<String>,
    os: &'a str,
}

fn level_device(ctx: &Ctx<'_>, id: &str, k: u64, s: Shape<'_>) -> Map<String, Value> {
    let x = h(ctx.seed, SALT_LEVEL, k);
    let seen = ctx.now - Duration::minutes((x % (60 * 24 * 20)) as i64);
    let (major, minor) = match s.platform {
        "Linux" => ("22", "04"),
        "Mac" => ("14", "6"),
        _ => ("10", "0"),
    };
    let mem = 8_589_934_592_i64 * (1 + (x % 4) as i64);
    let cores = 4 + (x % 3) as i64 * 4;
    let mut tags = vec![if s.role == "workstation" {
        "laptop"
    } else {
        "server"
    }];
    if s.role != "workstation" {
        tags.push("backup");
    }
    if x.is_multiple_of(9) {
        tags.push("vip");
    }
    let mut d = obj(json!({
        "id": id, "hostname": s.hostname,
        "nickname": if x.is_multiple_of(4) { Value::from(format!("{} device {k}", ctx.client)) } else { Value::Null },
        "role": s.role, "group_id": s.group, "tags": tags,
        "online": !x.is_multiple_of(3), "maintenance_mode": x.is_multiple_of(17),
        "manufacturer": s.manufacturer, "model": s.model, "serial_number": s.serial, "platform": s.platform,
        "last_logged_in_user": s.user,
        "last_reboot_time": ts(seen - Duration::days((x % 30) as i64)),
        "security_score": (x % 60 + 40) as i64, "total_memory": mem, "cpu_cores": cores,
        "operating_system": {"full_operating_system": s.os, "major_version": major, "minor_version": minor,
            "architecture": if s.platform == "Mac" { "arm64" } else { "x64" },
            "install_date": (ctx.now - Duration::days(400 + (x % 300) as i64)).format("%Y-%m-%d").to_string(),
            "end_of_life": Value::Null},
        "cpus": [{"model": if s.platform == "Mac" { "Apple M2 Pro" } else { "Intel(R) Core(TM) i7-1365U" }, "cores": cores, "speed_mhz": 2600}],
        "memory": [{"size": mem, "speed_mhz": 4800, "manufacturer": "Samsung"}],
        "disks": [{"name": if s.platform == "Windows" { "C:" } else { "/" }, "size": 512_110_190_592_i64, "free_space": ((x >> 5) % 400_000_000_000) as i64}],
        "network_interfaces": [{"name": "Ethernet", "mac_address": format!("00:1A:2B:{:02X}:{:02X}:{:02X}", (x >> 8) & 0xFF, (x >> 16) & 0xFF, (x >> 24) & 0xFF),
            "ip_addresses": [format!("10.{}.{}.{}", (x >> 8) % 250, (x >> 16) % 250, 2 + (x >> 24) % 250)]}],
        "security": {"antivirus": "Microsoft Defender", "antivirus_up_to_date": !x.is_multiple_of(7),
            "firewall_enabled": !x.is_multiple_of(11), "disk_encrypted": !x.is_multiple_of(13)},
    }));
    // Some agents never report last_seen_at (a Level customer saw it missing): online and
    // last_reboot_time are what remains.
    if !x.is_multiple_of(6) {
        d.insert("last_seen_at".into(), json!(ts(seen)));
    }
    d
}

impl LevelState {
    /// Builds a deterministic estate with exactly `per_client` devices per client.
    pub fn generate(
        seed: u64,
        api_key: &str,
        clients: &[LevelClient],
        per_client: usize,
        now: DateTime<Utc>,
    ) -> LevelState {
        let mut s = LevelState {
            api_key: api_key.into(),
            ..Default::default()
        };
        s.org_id = s.id("Organization");
        let warranty = s.id("CustomField");
        let purchase = s.id("CustomField");
        s.custom_fields
            .push(obj(json!({"id": warranty, "name": "Warranty Expiry"})));
        s.custom_fields
            .push(obj(json!({"id": purchase, "name": "Purchase Date"})));
        for name in ["laptop", "server", "backup", "vip"] {
            let id = s.id("Tag");
            s.tags.push(obj(json!({"id": id, "name": name})));
        }
        // The organisation's default, overridden by group and device values.
        let org = s.org_id.clone();
        s.set_value(&warranty, &org, Some("2028-01-01"));
        let mut k: u64 = 0;
        for client in clients {
            let ctx = Ctx {
                seed,
                now,
                prefix: fold(&client.name)
                    .chars()
                    .take(3)
                    .collect::<String>()
                    .to_uppercase(),
                client: &client.name,
                warranty: warranty.clone(),
            };
            s.generate_client(&ctx, client, per_client, &mut k);
        }
        s
    }

    fn add_group(&mut self, name: &str, parent: Option<&str>) -> String {
        let id = self.id("Group");
        self.groups
            .push(obj(json!({"id": id, "name": name, "parent_id": parent})));
        id
    }

    fn generate_client(&mut self, ctx: &Ctx<'_>, client: &LevelClient, per: usize, k: &mut u64) {
        let root = self.add_group(&client.name, None);
        let ws = self.add_group("Workstations", Some(&root));
        let srv = self.add_group("Servers", Some(&root));
        let remote = self.add_group("Remote", Some(&ws));
        // A group value overrides the organisation's for every server of the client.
        let _ = self.set_value(&ctx.warranty, &srv, Some("2029-06-30"));
        let servers = (per / 10).max(1).min(per);
        let reused = usize::from(per >= 5);
        let vm_pair = if per >= 10 && client.intune.is_some() {
            2
        } else {
            0
        };
        let mirrors_max = per - servers - reused - vm_pair;
        let mut made = 0;
        let mut unmirrored_serial: Option<String> = None;
        if let Some(g) = &client.intune {
            for i in 0..g.devices {
                if made >= mirrors_max {
                    // Past the mirrors every desktop is agent-less: still a VM-pair candidate.
                    if unmirrored_serial.is_none() {
                        let d = device(g, i);
                        let serial = str_of(&d, "serialNumber").unwrap_or_default();
                        let desktop = matches!(str_of(&d, "operatingSystem"), Some("Windows"));
                        if desktop && serial.len() == 8 {
                            unmirrored_serial = Some(serial.to_string());
                        }
                        continue;
                    }
                    break;
                }
                let d = device(g, i);
                let os = str_of(&d, "operatingSystem").unwrap_or_default();
                let platform = match os {
                    "Windows" => "Windows",
                    "macOS" => "Mac",
                    _ => continue, // phones and tablets carry no RMM agent
                };
                let x = h(ctx.seed, SALT_LEVEL ^ 0xabc, i as u64);
                let serial = str_of(&d, "serialNumber").unwrap_or_default().to_string();
                if x % 10 == 9 {
                    // Enrolled in Intune, agent never installed: the "agents missing" gap.
                    if serial.len() == 8 && unmirrored_serial.is_none() {
                        unmirrored_serial = Some(serial);
                    }
                    continue;
                }
                *k += 1;
                let id = self.id("Device");
                let name = str_of(&d, "deviceName").unwrap_or_default();
                let upn = str_of(&d, "userPrincipalName").map(|u| {
                    let user = u.split('@').next().unwrap_or_default();
                    format!("{}\\{user}", ctx.prefix)
                });
                let shape = Shape {
                    hostname: hostname_variant(name, &g.domain, x),
                    serial: serial_variant(&serial, x),
                    role: "workstation",
                    platform,
                    group: if platform == "Mac" {
                        remote.clone()
                    } else {
                        ws.clone()
                    },
                    manufacturer: str_of(&d, "manufacturer").unwrap_or_default().into(),
                    model: str_of(&d, "model").unwrap_or_default().into(),
                    user: upn,
                    os: if platform == "Mac" {
                        "macOS Sonoma 14.6.1"
                    } else {
                        "Microsoft Windows 11 Pro 24H2"
                    },
                };
                self.devices.push(level_device(ctx, &id, *k, shape));
                self.device_warranty(ctx, &id, x);
                made += 1;
            }
        }
        // Level-only workstations fill what Intune did not provide.
        while made < mirrors_max {
            *k += 1;
            let x = h(ctx.seed, SALT_LEVEL, *k);
            let id = self.id("Device");
            let mac = made % 10 == 2;
            let serial = match made % 13 {
                4 => "To be filled by O.E.M.".to_string(),
                8 => "0".to_string(),
                12 => String::new(),
                _ => format!("{:08X}", x & 0xFFFF_FFFF),
            };
            let shape = Shape {
                hostname: format!("{}-WS-{made:03}", ctx.prefix),
                serial,
                role: "workstation",
                platform: if mac { "Mac" } else { "Windows" },
                group: if mac { remote.clone() } else { ws.clone() },
                manufacturer: if mac { "Apple Inc." } else { "Dell Inc." }.into(),
                model: if mac {
                    "MacBookPro18,3"
                } else {
                    "Latitude 5440"
                }
                .into(),
                user: Some(format!("{}\\user{made}", ctx.prefix.to_lowercase())),
                os: if mac {
                    "macOS Sonoma 14.6"
                } else {
                    "Microsoft Windows 11 Pro 23H2"
                },
            };
            self.devices.push(level_device(ctx, &id, *k, shape));
            self.device_warranty(ctx, &id, x);
            made += 1;
        }
        // Servers live only in Level (Intune does not manage them).
        for i in 0..servers {
            *k += 1;
            let x = h(ctx.seed, SALT_LEVEL, *k);
            let (role, platform) = match i % 3 {
                1 => ("domain_controller", "Windows"),
                2 => ("server", "Linux"),
                _ => ("server", "Windows"),
            };
            let id = self.id("Device");
            let shape = Shape {
                hostname: format!("{}-SRV-{i:02}", ctx.prefix),
                serial: format!("SRV{:07X}", x & 0xFFF_FFFF),
                role,
                platform,
                group: srv.clone(),
                manufacturer: "Dell Inc.".into(),
                model: "PowerEdge R650".into(),
                user: None,
                os: if platform == "Linux" {
                    "Ubuntu 22.04.4 LTS"
                } else {
                    "Microsoft Windows Server 2022 Standard"
                },
            };
            self.devices.push(level_device(ctx, &id, *k, shape));
        }
        if reused == 1 {
            *k += 1;
            let id = self.id("Device");
            let shape = Shape {
                hostname: REUSED_HOSTNAME.into(),
                serial: "Default string".into(),
                role: "workstation",
                platform: "Windows",
                group: ws.clone(),
                manufacturer: "ASUS".into(),
                model: "System Product Name".into(),
                user: None,
                os: "Microsoft Windows 11 Pro 23H2",
            };
            self.devices.push(level_device(ctx, &id, *k, shape));
        }
        // Two cloned VMs sharing one serial, which an Intune device without an agent also
        // reports: no rule can pick one, so the appliance must send it to review.
        for i in 0..vm_pair {
            *k += 1;
            let id = self.id("Device");
            let shape = Shape {
                hostname: format!("{}-VDI-{i:02}", ctx.prefix),
                serial: unmirrored_serial
                    .clone()
                    .unwrap_or_else(|| VM_SERIAL.to_string()),
                role: "workstation",
                platform: "Windows",
                group: ws.clone(),
                manufacturer: "VMware, Inc.".into(),
                model: "VMware7,1".into(),
                user: None,
                os: "Microsoft Windows 11 Enterprise 23H2",
            };
            self.devices.push(level_device(ctx, &id, *k, shape));
        }
    }

    /// Most workstations carry their own warranty value; one in eight has expired.
    fn device_warranty(&mut self, ctx: &Ctx<'_>, id: &str, x: u64) {
        if x.is_multiple_of(5) {
            return; // falls back to the group's or the organisation's value
        }
        let days = if (x >> 11).is_multiple_of(8) {
            -((x % 300) as i64) - 1
        } else {
            (x % 1000) as i64 + 1
        };
        let text = warranty_text(ctx.now, days, x >> 13);
        let _ = self.set_value(&ctx.warranty, id, Some(&text));
    }
}
