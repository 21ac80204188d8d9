//! From a complete Level listing to the merge's input: each device assigned to the company of
//! its deepest mapped group (unmapped ones counted), its warranty resolved from custom field
//! values (device, then nearest group, then organisation) and parsed leniently.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::groups::owner_of;
use crate::levelio::{CustomFieldValue, Device, Group};
use crate::model::LevelRecord;

/// A warranty value as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warranty {
    Date(NaiveDate),
    /// Kept as typed and flagged: no date could be read from it.
    Text(String),
}

impl Warranty {
    /// What the asset stores: an ISO date, or the text.
    pub fn stored(&self) -> String {
        match self {
            Warranty::Date(d) => d.format("%Y-%m-%d").to_string(),
            Warranty::Text(t) => t.clone(),
        }
    }
}

/// Reads a free-text date: ISO (`2027-03-14`, with or without a time), or three numbers
/// separated by `/`, `.` or `-` with a four-digit year last, read day-first or month-first as
/// the MSP set (unless one of the two is over 12, which decides). Blank is `None`; anything
/// else is kept as text.
pub fn parse_warranty(raw: &str, day_first: bool) -> Option<Warranty> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    let head = t.split(['T', ' ']).next().unwrap_or(t);
    if let Ok(d) = NaiveDate::parse_from_str(head, "%Y-%m-%d") {
        return Some(Warranty::Date(d));
    }
    let parts: Vec<&str> = head.split(['/', '.', '-']).collect();
    if let [a, b, y] = parts.as_slice()
        && y.len() == 4
        && let (Ok(a), Ok(b), Ok(y)) = (a.parse::<u32>(), b.parse::<u32>(), y.parse::<i32>())
    {
        let (day, month) = if a > 12 {
            (a, b)
        } else if b > 12 {
            (b, a)
        } else if day_first {
            (a, b)
        } else {
            (b, a)
        };
        if let Some(d) = NaiveDate::from_ymd_opt(y, month, day) {
            return Some(Warranty::Date(d));
        }
    }
    Some(Warranty::Text(t.to_string()))
}

/// The devices of one complete listing, per company.
#[derive(Debug, Default)]
pub struct LevelListing {
    pub per_company: BTreeMap<u64, Vec<LevelRecord>>,
    /// Devices under no mapped group: ignored, counted for the settings page.
    pub unmapped: usize,
    /// (device id, text) of warranty values no date could be read from.
    pub unreadable_warranties: Vec<(String, String)>,
}

fn time(v: &Option<String>) -> Option<DateTime<Utc>> {
    v.as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// Builds the merge's Level records from a listing. `values` are the values of the warranty
/// field (empty when none is configured).
pub fn level_records(
    devices: &[Device],
    groups: &[Group],
    map: &BTreeMap<String, u64>,
    values: &[CustomFieldValue],
    day_first: bool,
) -> LevelListing {
    let parents: HashMap<String, Option<String>> = groups
        .iter()
        .map(|g| (g.id.clone(), g.parent_id.clone()))
        .collect();
    let device_ids: HashSet<&str> = devices.iter().map(|d| d.id.as_str()).collect();
    let mut by_target: HashMap<&str, &str> = HashMap::new();
    let mut org: Option<&str> = None;
    for v in values {
        let (Some(target), Some(value)) = (v.assigned_to_id.as_deref(), v.value.as_deref()) else {
            continue;
        };
        if value.trim().is_empty() {
            continue; // a blank value is no value: the group's or organisation's applies
        }
        if device_ids.contains(target) || parents.contains_key(target) {
            by_target.insert(target, value);
        } else {
            // Neither a device nor a group: the organisation (its id is not listed anywhere).
            org = Some(value);
        }
    }
    let mut out = LevelListing::default();
    for d in devices {
        let group = d.group_id.clone().unwrap_or_default();
        let Some(company) = owner_of(&group, &parents, map) else {
            out.unmapped += 1;
            continue;
        };
        // Device value, else the nearest group up the tree that has one, else the organisation.
        let mut raw = by_target.get(d.id.as_str()).copied();
        let mut cur = Some(group.clone());
        let mut steps = 0;
        while raw.is_none() && steps < 64 {
            let Some(g) = cur else { break };
            raw = by_target.get(g.as_str()).copied();
            cur = parents.get(&g).cloned().flatten();
            steps += 1;
        }
        let warranty = raw.or(org).and_then(|r| parse_warranty(r, day_first));
        if let Some(Warranty::Text(t)) = &warranty {
            out.unreadable_warranties.push((d.id.clone(), t.clone()));
        }
        let os = d
            .operating_system
            .as_ref()
            .and_then(|o| o.full_operating_system.clone())
            .unwrap_or_default();
        out.per_company
            .entry(company)
            .or_default()
            .push(LevelRecord {
                company_id: company,
                id: d.id.clone(),
                hostname: d.hostname.clone().unwrap_or_default(),
                serial_number: d.serial_number.clone().unwrap_or_default(),
                platform: d.platform.clone().unwrap_or_default(),
                role: d.role.clone().unwrap_or_default(),
                os,
                online: d.online.unwrap_or(false),
                last_seen: time(&d.last_seen_at),
                last_reboot: time(&d.last_reboot_time),
                security_score: d.security_score,
                last_logged_in_user: d.last_logged_in_user.clone(),
                maintenance_mode: d.maintenance_mode.unwrap_or(false),
                manufacturer: d.manufacturer.clone().unwrap_or_default(),
                model: d.model.clone().unwrap_or_default(),
                warranty: warranty.map(|w| w.stored()),
            });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<Warranty> {
        NaiveDate::from_ymd_opt(y, m, d).map(Warranty::Date)
    }

    #[test]
    fn warranty_dates_are_read_leniently_and_unreadable_ones_kept_as_text() {
        assert_eq!(parse_warranty("2027-03-14", false), date(2027, 3, 14));
        assert_eq!(
            parse_warranty(" 2027-03-14T00:00:00Z ", true),
            date(2027, 3, 14)
        );
        assert_eq!(parse_warranty("03/04/2027", true), date(2027, 4, 3));
        assert_eq!(parse_warranty("03/04/2027", false), date(2027, 3, 4));
        assert_eq!(
            parse_warranty("14/03/2027", false),
            date(2027, 3, 14),
            "14 cannot be a month"
        );
        assert_eq!(
            parse_warranty("03/14/2027", true),
            date(2027, 3, 14),
            "14 cannot be a month"
        );
        assert_eq!(parse_warranty("14.03.2027", true), date(2027, 3, 14));
        assert_eq!(parse_warranty("", true), None);
        assert_eq!(parse_warranty("   ", true), None);
        assert_eq!(
            parse_warranty("see invoice", true),
            Some(Warranty::Text("see invoice".into()))
        );
        assert_eq!(
            parse_warranty("31/02/2027", true),
            Some(Warranty::Text("31/02/2027".into()))
        );
    }

    fn group(id: &str, parent: Option<&str>) -> Group {
        Group {
            id: id.into(),
            name: id.into(),
            parent_id: parent.map(str::to_string),
        }
    }

    fn device(id: &str, group: &str) -> Device {
        serde_json::from_value(serde_json::json!({"id": id, "group_id": group, "hostname": id}))
            .unwrap_or_else(|_| unreachable!())
    }

    fn value(target: &str, v: &str) -> CustomFieldValue {
        CustomFieldValue {
            id: format!("v-{target}"),
            custom_field_id: Some("f".into()),
            assigned_to_id: Some(target.into()),
            value: Some(v.into()),
        }
    }

    #[test]
    fn devices_go_to_the_deepest_mapped_group_and_warranty_precedence_is_device_group_org() {
        let groups = vec![
            group("root", None),
            group("ws", Some("root")),
            group("remote", Some("ws")),
            group("other", None),
        ];
        let map = BTreeMap::from([("root".to_string(), 1), ("remote".to_string(), 2)]);
        let devices = vec![
            device("d-root", "root"),
            device("d-ws", "ws"),
            device("d-remote", "remote"),
            device("d-other", "other"),
            device("d-nogroup", ""),
        ];
        let values = vec![
            value("org-1", "2030-01-01"),
            value("ws", "01/02/2029"),
            value("d-ws", "garbage"),
            value("d-remote", "2028-05-06"),
        ];
        let out = level_records(&devices, &groups, &map, &values, true);
        assert_eq!(out.unmapped, 2, "other and no group");
        let c1: Vec<(&str, Option<&str>)> = out.per_company[&1]
            .iter()
            .map(|r| (r.id.as_str(), r.warranty.as_deref()))
            .collect();
        assert_eq!(
            c1,
            vec![("d-root", Some("2030-01-01")), ("d-ws", Some("garbage"))],
            "organisation default; a device's own value wins even when unreadable"
        );
        let c2: Vec<(&str, Option<&str>)> = out.per_company[&2]
            .iter()
            .map(|r| (r.id.as_str(), r.warranty.as_deref()))
            .collect();
        assert_eq!(
            c2,
            vec![("d-remote", Some("2028-05-06"))],
            "deepest mapped group wins"
        );
        assert_eq!(
            out.unreadable_warranties,
            vec![("d-ws".to_string(), "garbage".to_string())]
        );
        // With a blank value of its own, a device under ws inherits ws's (day-first) value.
        let values = vec![
            value("org-1", "2030-01-01"),
            value("ws", "01/02/2029"),
            value("d-ws", "  "),
        ];
        let out = level_records(&devices, &groups, &map, &values, true);
        assert_eq!(
            out.per_company[&1][1].warranty.as_deref(),
            Some("2029-02-01")
        );
        assert_eq!(
            out.per_company[&2][0].warranty.as_deref(),
            Some("2029-02-01"),
            "via ancestors"
        );
    }
}
