//! How the asset pages show what the Intune + Level merge decided: which sources an asset has,
//! each field's provenance, and the warranty end with its badge. Pure functions over the model,
//! so the list, the asset page, the review tab and the gap lists say it the same way.

use crate::model::{Asset, AssetMerge, MatchRule, SourceKind};
use chrono::{DateTime, NaiveDate, Utc};

/// Days before the end a warranty is flagged as ending soon.
pub const WARRANTY_SOON_DAYS: i64 = 30;

/// Which of the two sources report an asset, in the words of the Sources column.
pub fn sources_label(a: &Asset) -> &'static str {
    match (has(a, SourceKind::Intune), has(a, SourceKind::Level)) {
        (true, true) => "Intune + Level",
        (true, false) => "Intune",
        (false, true) => "Level",
        (false, false) => "Manual",
    }
}

/// The badge class of the Sources column: a merged asset stands out from a single-source one.
pub fn sources_class(a: &Asset) -> &'static str {
    match (has(a, SourceKind::Intune), has(a, SourceKind::Level)) {
        (true, true) => "ok",
        (false, false) => "muted",
        _ => "neutral",
    }
}

fn has(a: &Asset, kind: SourceKind) -> bool {
    a.sources.iter().any(|s| s.source == kind.as_str())
}

/// A source's name as people know it.
pub fn source_words(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Intune => "Microsoft Intune",
        SourceKind::Level => "Level.io",
    }
}

/// A provenance field's name in words (the keys `domain::assets::provenance` writes); an
/// unknown key is shown as it is, so a field added there still appears.
pub fn field_label(key: &str) -> &str {
    match key {
        "hostname" => "Hostname",
        "serial_number" => "Serial number",
        "manufacturer" => "Manufacturer",
        "model" => "Model",
        "compliance_state" => "Compliance",
        "os" => "Operating system",
        "os_version" => "OS version",
        "enrolled_at" => "Enrolled",
        "primary_user" => "Primary user",
        "intune_last_sync" => "Intune last sync",
        "online" => "Agent online",
        "agent_last_seen" => "Agent last seen",
        "platform" => "Platform",
        "role" => "Role",
        "security_score" => "Security score",
        "last_logged_in_user" => "Last logged-in user",
        "maintenance_mode" => "Maintenance mode",
        "warranty_end" => "Warranty end",
        other => other,
    }
}

/// How an asset's records came together, in words (the asset page's "Merged" line).
pub fn merge_words(a: &Asset) -> &'static str {
    if a.merge.absorbed_into.is_some() {
        return "Joined another asset (see above)";
    }
    let both = has(a, SourceKind::Intune) && has(a, SourceKind::Level);
    if !both {
        return "No: one source reports this device";
    }
    match a.merge.rule {
        Some(MatchRule::Serial) => "Yes, by serial number",
        Some(MatchRule::Hostname) => "Yes, by hostname",
        Some(MatchRule::Manual) => "Yes, merged by hand from the review queue",
        Some(MatchRule::Linked) | Some(MatchRule::Single) | None => {
            "Yes, linked at an earlier sync"
        }
    }
}

/// One row of the provenance table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenanceRow {
    pub label: String,
    pub value: String,
    pub source: &'static str,
    pub seen_at: Option<DateTime<Utc>>,
}

/// The order fields are listed in: what identifies the machine first, then each source's own.
const FIELD_ORDER: [&str; 18] = [
    "hostname",
    "serial_number",
    "manufacturer",
    "model",
    "os",
    "os_version",
    "compliance_state",
    "primary_user",
    "enrolled_at",
    "intune_last_sync",
    "online",
    "agent_last_seen",
    "platform",
    "role",
    "security_score",
    "last_logged_in_user",
    "maintenance_mode",
    "warranty_end",
];

/// An asset's fields with their provenance, in [`FIELD_ORDER`] (unknown names after, by name).
pub fn provenance(a: &Asset) -> Vec<ProvenanceRow> {
    let rank = |k: &str| {
        FIELD_ORDER
            .iter()
            .position(|f| *f == k)
            .unwrap_or(usize::MAX)
    };
    let mut fields: Vec<_> = a.merge.fields.iter().collect();
    fields.sort_by(|(x, _), (y, _)| rank(x).cmp(&rank(y)).then(x.cmp(y)));
    fields
        .into_iter()
        .map(|(k, f)| ProvenanceRow {
            label: field_label(k).to_string(),
            value: shown(k, &f.value),
            source: source_words(f.source),
            seen_at: f.seen_at,
        })
        .collect()
}

/// A stored value as people read it: RFC 3339 times as `2026-12-04 08:00 UTC`, flags as Yes/No.
fn shown(key: &str, v: &str) -> String {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return t
            .with_timezone(&Utc)
            .format("%Y-%m-%d %H:%M UTC")
            .to_string();
    }
    match (key, v) {
        ("online" | "maintenance_mode", "true") => "Yes".into(),
        ("online" | "maintenance_mode", "false") => "No".into(),
        _ => v.to_string(),
    }
}

/// A warranty end as the list and the asset page show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarrantyView {
    /// The date (`2027-03-31`), or the value as Level gave it when it is not a date.
    pub text: String,
    /// The badge beside it: "Expired", "Expires in 12 days", "Not a date"; empty when none.
    pub badge: String,
    /// Its class (`failure`, `warning`, `neutral`).
    pub class: &'static str,
    /// Level's value could not be read as a date: shown as text, flagged.
    pub unparsed: bool,
}

/// An asset's warranty as of `today` (the service clock's date, never the system's): the end
/// date when the sync could read one, else Level's text, flagged.
pub fn warranty_of(m: &AssetMerge, today: NaiveDate) -> Option<WarrantyView> {
    match (m.warranty_end, m.warranty_text.as_deref()) {
        (Some(end), _) => Some(dated(end, today)),
        (None, Some(text)) => warranty(text, today),
        (None, None) => None,
    }
}

/// The warranty of `value` (an ISO date once the sync parsed it, else Level's raw text) as of
/// `today`.
pub fn warranty(value: &str, today: NaiveDate) -> Option<WarrantyView> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(end) => Some(dated(end, today)),
        Err(_) => Some(WarrantyView {
            text: value.to_string(),
            badge: "Not a date".into(),
            class: "neutral",
            unparsed: true,
        }),
    }
}

fn dated(end: NaiveDate, today: NaiveDate) -> WarrantyView {
    let left = (end - today).num_days();
    let (badge, class) = if left < 0 {
        ("Expired".to_string(), "failure")
    } else if left == 0 {
        ("Expires today".to_string(), "warning")
    } else if left <= WARRANTY_SOON_DAYS {
        let days = if left == 1 { "day" } else { "days" };
        (format!("Expires in {left} {days}"), "warning")
    } else {
        (String::new(), "")
    };
    WarrantyView {
        text: end.format("%Y-%m-%d").to_string(),
        badge,
        class,
        unparsed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_warranty_is_badged_against_the_given_day() {
        let today = day("2026-12-04");
        let cases = [
            ("2026-12-03", "Expired", "failure"),
            ("2026-12-04", "Expires today", "warning"),
            ("2026-12-05", "Expires in 1 day", "warning"),
            ("2027-01-03", "Expires in 30 days", "warning"),
            ("2027-01-04", "", ""),
        ];
        for (value, badge, class) in cases {
            let w = warranty(value, today).expect("a warranty");
            assert_eq!((w.badge.as_str(), w.class), (badge, class), "{value}");
            assert!(!w.unparsed);
            assert_eq!(w.text, value);
        }
    }

    #[test]
    fn an_unparseable_warranty_is_text_with_a_flag_and_a_blank_is_none() {
        let today = day("2026-12-04");
        let w = warranty("  ask Dell ", today).expect("kept");
        assert_eq!(w.text, "ask Dell");
        assert!(w.unparsed);
        assert_eq!(w.badge, "Not a date");
        assert_eq!(warranty("   ", today), None);
    }

    #[test]
    fn every_provenance_key_has_words() {
        for key in [
            "hostname",
            "serial_number",
            "manufacturer",
            "model",
            "compliance_state",
            "os",
            "os_version",
            "enrolled_at",
            "primary_user",
            "intune_last_sync",
            "online",
            "agent_last_seen",
            "platform",
            "role",
            "security_score",
            "last_logged_in_user",
            "maintenance_mode",
            "warranty_end",
        ] {
            assert_ne!(field_label(key), key, "{key} has no label");
        }
    }
}
