//! The Level estate overlaps the Intune estate the way real ones do, honours every include flag
//! and serves tags, the group tree with child ids and counts, and free-text custom field values
//! at organisation, group and device level with their list filters.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{Map, Value};
use tenantry::simulator::collection::Kind;
use tenantry::simulator::{SimOptions, Simulator, TenantSpec};

const KEY: &str = "k-estate";

async fn get(url: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .get(url)
        .header("Authorization", KEY)
        .send()
        .await
        .expect("GET");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Every item of a Level list, following `starting_after` until `has_more` is false.
async fn all(base: &str, path: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let url = match out.last().and_then(|v| v["id"].as_str()) {
            Some(a) => format!("{base}/{path}{sep}limit=100&starting_after={a}"),
            None => format!("{base}/{path}{sep}limit=100"),
        };
        let (s, v) = get(&url).await;
        assert_eq!(s, StatusCode::OK, "{url}: {v}");
        out.extend(v["data"].as_array().cloned().expect("data"));
        if v["has_more"] != true {
            return out;
        }
    }
}

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_uppercase()
}

fn short_host(s: &str) -> String {
    s.split('.').next().unwrap_or_default().to_uppercase()
}

struct Estate {
    sim: Simulator,
    base: String,
    intune: Vec<Map<String, Value>>,
}

async fn estate() -> Estate {
    let sim = Simulator::start(SimOptions::default())
        .await
        .expect("start");
    let ctl = sim.control();
    let t = ctl
        .create_tenant(TenantSpec {
            name: "Contoso Dental".into(),
            intune: true,
            users: 40,
            devices: 80,
            ..Default::default()
        })
        .expect("tenant");
    ctl.create_tenant(TenantSpec {
        name: "Fabrikam Bakery".into(),
        intune: true,
        users: 20,
        devices: 30,
        ..Default::default()
    })
    .expect("tenant");
    let intune = ctl
        .list_objects(&t.id, Kind::Device, 0, 1000)
        .expect("devices");
    ctl.levelio_set_api_key(KEY);
    ctl.levelio_generate(
        &[
            "Contoso Dental".into(),
            "Fabrikam Bakery".into(),
            "Level Only Ltd".into(),
        ],
        40,
    );
    let base = format!("{}/v2", sim.levelio_url());
    Estate { sim, base, intune }
}

async fn client_devices(e: &Estate, name: &str) -> Vec<Value> {
    let groups = all(&e.base, "groups").await;
    let root = groups
        .iter()
        .find(|g| g["parent_id"].is_null() && g["name"] == name)
        .and_then(|g| g["id"].as_str())
        .expect("root group")
        .to_string();
    all(&e.base, &format!("devices?ancestor_group_id={root}")).await
}

#[tokio::test]
async fn most_intune_desktops_reappear_in_level_with_other_spellings() {
    let e = estate().await;
    let level = client_devices(&e, "Contoso Dental").await;
    assert_eq!(level.len(), 40, "exactly devices_per_client");
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let intune_serials: BTreeMap<String, &Map<String, Value>> = e
        .intune
        .iter()
        .filter_map(|d| {
            let n = norm(d.get("serialNumber")?.as_str()?);
            (n.len() == 8).then_some((n, d))
        })
        .collect();
    let mut same_serial = 0;
    let mut serial_spelled_differently = 0;
    let mut host_spelled_differently = 0;
    for d in &level {
        let raw = s(d, "serial_number");
        if let Some(i) = intune_serials.get(&norm(&raw)) {
            same_serial += 1;
            let iraw = i["serialNumber"].as_str().unwrap_or_default();
            if raw != iraw {
                serial_spelled_differently += 1;
            }
            let host = s(d, "hostname");
            let ihost = i["deviceName"].as_str().unwrap_or_default();
            if host != ihost && d["model"] != "VMware7,1" {
                host_spelled_differently += 1;
                assert_eq!(
                    short_host(&host),
                    ihost.to_uppercase(),
                    "only case/suffix differ"
                );
            }
        }
    }
    assert!(
        same_serial >= 15,
        "most Level workstations are Intune devices: {same_serial}"
    );
    assert!(
        serial_spelled_differently >= 3,
        "serials differ in case/spacing"
    );
    assert!(
        host_spelled_differently >= 3,
        "hostnames differ in case/DNS suffix"
    );
    // Intune-only phones: no Level device carries a phone's serial.
    let level_serials: BTreeSet<String> =
        level.iter().map(|d| norm(&s(d, "serial_number"))).collect();
    let phones: Vec<_> = e
        .intune
        .iter()
        .filter(|d| matches!(d["operatingSystem"].as_str(), Some("iOS" | "Android")))
        .collect();
    assert!(!phones.is_empty());
    for p in phones {
        let n = norm(p["serialNumber"].as_str().unwrap_or_default());
        assert!(
            n.len() != 8 || !level_serials.contains(&n),
            "phone {n} has no agent"
        );
    }
    // Level-only servers.
    let servers: Vec<_> = level
        .iter()
        .filter(|d| d["role"] != "workstation")
        .collect();
    assert!(!servers.is_empty());
    assert!(
        servers
            .iter()
            .all(|d| !intune_serials.contains_key(&norm(&s(d, "serial_number"))))
    );
    // Junk serials, and one serial on two Level devices that an agent-less Intune device has too.
    assert!(level.iter().any(|d| matches!(
        s(d, "serial_number").trim(),
        "" | "Default string" | "To be filled by O.E.M." | "0"
    )));
    let mut by_serial: BTreeMap<String, usize> = BTreeMap::new();
    for d in &level {
        *by_serial.entry(norm(&s(d, "serial_number"))).or_default() += 1;
    }
    let dup: Vec<_> = by_serial
        .iter()
        .filter(|(k, n)| k.len() == 8 && **n == 2)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(dup.len(), 1, "one cloned VM pair: {by_serial:?}");
    assert!(
        intune_serials.contains_key(&dup[0]),
        "its serial is an Intune device's too"
    );
    e.sim.stop().await;
}

#[tokio::test]
async fn a_hostname_is_reused_across_clients_and_level_only_clients_are_synthetic() {
    let e = estate().await;
    let mut with_reused = 0;
    for c in ["Contoso Dental", "Fabrikam Bakery", "Level Only Ltd"] {
        let devs = client_devices(&e, c).await;
        assert_eq!(devs.len(), 40, "{c}");
        if devs.iter().any(|d| d["hostname"] == "DESKTOP-1A2B3C") {
            with_reused += 1;
        }
    }
    assert_eq!(with_reused, 3);
    // A client that is not a simulated tenant shares no serial with the Intune estate.
    let intune: BTreeSet<String> = e
        .intune
        .iter()
        .map(|d| norm(d["serialNumber"].as_str().unwrap_or_default()))
        .filter(|n| n.len() == 8)
        .collect();
    let lonely = client_devices(&e, "Level Only Ltd").await;
    assert!(
        lonely
            .iter()
            .all(|d| !intune.contains(&norm(d["serial_number"].as_str().unwrap_or_default())))
    );
    e.sim.stop().await;
}

#[tokio::test]
async fn include_flags_add_exactly_their_objects_and_last_seen_is_optional() {
    let e = estate().await;
    let props = [
        ("include_operating_system", "operating_system"),
        ("include_cpus", "cpus"),
        ("include_memory", "memory"),
        ("include_disks", "disks"),
        ("include_network_interfaces", "network_interfaces"),
        ("include_security", "security"),
    ];
    let plain = all(&e.base, "devices").await;
    for (_, p) in props {
        assert!(
            plain.iter().all(|d| d.get(p).is_none()),
            "{p} only with its flag"
        );
    }
    for (flag, p) in props {
        let devs = all(&e.base, &format!("devices?{flag}=true")).await;
        assert!(
            devs.iter().all(|d| d.get(p).is_some_and(|v| !v.is_null())),
            "{flag}"
        );
        for (_, other) in props.iter().filter(|(_, o)| *o != p) {
            assert!(
                devs.iter().all(|d| d.get(*other).is_none()),
                "{flag} adds only {p}"
            );
        }
        let one = devs[0]["id"].as_str().expect("id");
        let (_, d) = get(&format!("{}/devices/{one}?{flag}=true", e.base)).await;
        assert!(d.get(p).is_some(), "single device honours {flag}");
    }
    let (_, d) = get(&format!(
        "{}/devices/{}",
        e.base,
        plain[0]["id"].as_str().expect("id")
    ))
    .await;
    assert!(d.get("operating_system").is_none());
    let missing = plain
        .iter()
        .filter(|d| d.get("last_seen_at").is_none())
        .count();
    assert!(
        missing > 0 && missing < plain.len(),
        "some agents lack last_seen_at"
    );
    assert!(
        plain
            .iter()
            .all(|d| d["online"].is_boolean() && d["last_reboot_time"].is_string())
    );
    e.sim.stop().await;
}

#[tokio::test]
async fn tags_filter_by_id_and_groups_carry_children_and_counts() {
    let e = estate().await;
    let tags = all(&e.base, "tags").await;
    let server = tags
        .iter()
        .find(|t| t["name"] == "server")
        .and_then(|t| t["id"].as_str())
        .expect("server tag");
    let tagged = all(&e.base, &format!("devices?tag_id={server}")).await;
    let every = all(&e.base, "devices").await;
    let expected = every
        .iter()
        .filter(|d| {
            d["tags"]
                .as_array()
                .is_some_and(|a| a.iter().any(|t| t == "server"))
        })
        .count();
    assert!(expected > 0);
    assert_eq!(tagged.len(), expected);
    assert!(tagged.iter().all(|d| d["role"] != "workstation"));
    let groups = all(&e.base, "groups").await;
    for g in &groups {
        let id = g["id"].as_str().expect("id");
        let children: BTreeSet<&str> = groups
            .iter()
            .filter(|c| c["parent_id"] == g["id"])
            .filter_map(|c| c["id"].as_str())
            .collect();
        let listed: BTreeSet<&str> = g["child_ids"]
            .as_array()
            .expect("child_ids")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(listed, children);
        let direct = every.iter().filter(|d| d["group_id"] == id).count();
        assert_eq!(g["device_count"], direct);
    }
    // Moving a device changes the counts (they are derived, not stored).
    let ws = groups
        .iter()
        .find(|g| g["name"] == "Workstations")
        .expect("ws");
    let before = ws["device_count"].as_u64().expect("count");
    let moved = every
        .iter()
        .find(|d| d["group_id"] != ws["id"])
        .expect("other");
    let ctl = e.sim.control();
    let mut patch = Map::new();
    patch.insert("group_id".into(), ws["id"].clone());
    assert!(ctl.levelio_update_device(moved["id"].as_str().expect("id"), patch));
    let (_, g) = get(&format!(
        "{}/groups/{}",
        e.base,
        ws["id"].as_str().expect("id")
    ))
    .await;
    assert_eq!(g["device_count"].as_u64(), Some(before + 1));
    e.sim.stop().await;
}

#[tokio::test]
async fn custom_field_values_sit_at_three_levels_as_free_text_and_filter() {
    let e = estate().await;
    let ctl = e.sim.control();
    let level = ctl.level();
    let field = level.custom_field_id("Warranty Expiry").expect("field");
    let org = ctl.levelio_summary()["org_id"]
        .as_str()
        .expect("org")
        .to_string();
    let values = all(
        &e.base,
        &format!("custom_field_values?custom_field_id={field}"),
    )
    .await;
    assert!(
        values
            .iter()
            .all(|v| v["custom_field_id"] == field.as_str())
    );
    let groups: BTreeSet<String> = all(&e.base, "groups")
        .await
        .iter()
        .filter_map(|g| g["id"].as_str().map(str::to_string))
        .collect();
    let devices: BTreeSet<String> = all(&e.base, "devices")
        .await
        .iter()
        .filter_map(|d| d["id"].as_str().map(str::to_string))
        .collect();
    let at = |v: &Value| v["assigned_to_id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        values.iter().filter(|v| at(v) == org).count(),
        1,
        "organisation default"
    );
    assert!(
        values.iter().any(|v| groups.contains(&at(v))),
        "a group value"
    );
    let on_devices: Vec<&Value> = values.iter().filter(|v| devices.contains(&at(v))).collect();
    assert!(on_devices.len() > 10);
    assert!(on_devices.len() < devices.len(), "some devices inherit");
    // Free text: ISO, slashes, blank and prose all occur.
    let texts: Vec<&str> = values.iter().filter_map(|v| v["value"].as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.len() == 10 && t.as_bytes()[4] == b'-')
    );
    assert!(texts.iter().any(|t| t.contains('/')));
    assert!(texts.iter().any(|t| t.is_empty()));
    assert!(
        texts
            .iter()
            .any(|t| t.chars().any(char::is_alphabetic) && !t.contains('T'))
    );
    // assigned_to_id narrows to one target.
    let one = at(on_devices[0]);
    let mine = all(
        &e.base,
        &format!("custom_field_values?assigned_to_id={one}"),
    )
    .await;
    assert!(!mine.is_empty() && mine.iter().all(|v| at(v) == one));
    // The control API changes a value; null removes it.
    assert!(level.set_value(&field, &one, Some("31/12/2030")));
    let mine = all(
        &e.base,
        &format!("custom_field_values?assigned_to_id={one}&custom_field_id={field}"),
    )
    .await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["value"], "31/12/2030");
    assert!(level.set_value(&field, &one, None));
    let mine = all(
        &e.base,
        &format!("custom_field_values?assigned_to_id={one}&custom_field_id={field}"),
    )
    .await;
    assert!(mine.is_empty());
    e.sim.stop().await;
}
