//! Which source gives which field of a merged asset (rule 5), and when it last saw it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::model::{FieldValue, IntuneRecord, LevelRecord, SourceKind};

/// When Level last saw the device: `last_seen_at` when Level sent it, else now for an online
/// agent, else its last reboot (docs/levelio.md#api: `last_seen_at` is optional).
pub fn level_seen(l: &LevelRecord, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    l.last_seen
        .or(if l.online { Some(now) } else { None })
        .or(l.last_reboot)
}

struct Fields(BTreeMap<String, FieldValue>);

impl Fields {
    fn put(&mut self, name: &str, value: String, source: SourceKind, seen: Option<DateTime<Utc>>) {
        if !value.trim().is_empty() {
            self.0.insert(
                name.into(),
                FieldValue {
                    value,
                    source,
                    seen_at: seen,
                },
            );
        }
    }
}

/// The fields of an asset made of `i` and/or `l`.
///
/// Intune owns compliance, OS and version, enrolment and the primary user; Level owns the
/// agent's state, platform and role, security score, last logged-in user, maintenance mode and
/// warranty. Hostname, serial, manufacturer and model come from whichever source saw the
/// device last (Intune on a tie), falling back to the other when that one is blank. An owned
/// field falls back to the other source only where it has an equivalent (the OS).
pub fn fields(
    i: Option<&IntuneRecord>,
    l: Option<&LevelRecord>,
    now: DateTime<Utc>,
) -> BTreeMap<String, FieldValue> {
    let mut f = Fields(BTreeMap::new());
    let iseen = i.and_then(|i| i.last_seen);
    let lseen = l.and_then(|l| level_seen(l, now));
    if let Some(i) = i {
        let s = SourceKind::Intune;
        f.put("compliance_state", i.compliance_state.clone(), s, iseen);
        f.put("os", i.os.clone(), s, iseen);
        f.put("os_version", i.os_version.clone(), s, iseen);
        let enrolled = i.enrolled_at.map(|t| t.to_rfc3339()).unwrap_or_default();
        f.put("enrolled_at", enrolled, s, iseen);
        f.put(
            "primary_user",
            i.primary_user.clone().unwrap_or_default(),
            s,
            iseen,
        );
        f.put(
            "intune_last_sync",
            iseen.map(|t| t.to_rfc3339()).unwrap_or_default(),
            s,
            iseen,
        );
    }
    if let Some(l) = l {
        let s = SourceKind::Level;
        if !f.0.contains_key("os") {
            let os = if l.os.is_empty() { &l.platform } else { &l.os };
            f.put("os", os.clone(), s, lseen);
        }
        f.put("online", l.online.to_string(), s, lseen);
        let last = l.last_seen.map(|t| t.to_rfc3339()).unwrap_or_default();
        f.put("agent_last_seen", last, s, lseen);
        f.put("platform", l.platform.clone(), s, lseen);
        f.put("role", l.role.clone(), s, lseen);
        let score = l.security_score.map(|x| x.to_string()).unwrap_or_default();
        f.put("security_score", score, s, lseen);
        let user = l.last_logged_in_user.clone().unwrap_or_default();
        f.put("last_logged_in_user", user, s, lseen);
        f.put("maintenance_mode", l.maintenance_mode.to_string(), s, lseen);
        f.put(
            "warranty_end",
            l.warranty.clone().unwrap_or_default(),
            s,
            lseen,
        );
    }
    // Most recently seen wins; Intune on a tie (None sorts first, so a dated source beats an
    // undated one).
    let level_first = lseen > iseen;
    let shared: [(&str, Option<&str>, Option<&str>); 4] = [
        (
            "hostname",
            i.map(|i| i.hostname.as_str()),
            l.map(|l| l.hostname.as_str()),
        ),
        (
            "serial_number",
            i.map(|i| i.serial_number.trim()),
            l.map(|l| l.serial_number.trim()),
        ),
        (
            "manufacturer",
            i.map(|i| i.manufacturer.as_str()),
            l.map(|l| l.manufacturer.as_str()),
        ),
        (
            "model",
            i.map(|i| i.model.as_str()),
            l.map(|l| l.model.as_str()),
        ),
    ];
    for (name, iv, lv) in shared {
        let ic = iv
            .filter(|v| !v.trim().is_empty())
            .map(|v| (v, SourceKind::Intune, iseen));
        let lc = lv
            .filter(|v| !v.trim().is_empty())
            .map(|v| (v, SourceKind::Level, lseen));
        let pick = if level_first { lc.or(ic) } else { ic.or(lc) };
        if let Some((v, s, seen)) = pick {
            f.put(name, v.to_string(), s, seen);
        }
    }
    f.0
}
