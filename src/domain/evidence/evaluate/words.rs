//! The words evidence is written in: fact lines an auditor reads (linked to the contact or
//! asset they are about), counts, percentages and lists. One place, so every control speaks
//! the same way ("3 users", "94.9 %", "A, B and C").

use crate::model::{
    ControlResult, ControlStatus, DeviceRef, Fact, FactItem, GroupRef, RoleRef, UserRef,
};

/// A result with no percentage, no drift and no framework references yet (`frameworks::assess`
/// attaches those).
pub(super) fn result(
    id: &str,
    status: ControlStatus,
    summary: impl Into<String>,
    facts: Vec<Fact>,
) -> ControlResult {
    ControlResult {
        id: id.to_string(),
        title: super::title_of(id).to_string(),
        status,
        summary: summary.into(),
        facts,
        percent: None,
        drift: Vec::new(),
        frameworks: Vec::new(),
    }
}

/// A labelled group of lines; `None` when there is nothing to list, so empty groups never
/// reach the page.
pub(super) fn fact(label: &str, items: Vec<FactItem>) -> Option<Fact> {
    (!items.is_empty()).then(|| Fact {
        label: label.to_string(),
        items,
    })
}

/// A one-line fact group.
pub(super) fn note(label: &str, text: impl Into<String>) -> Fact {
    Fact {
        label: label.to_string(),
        items: vec![line(text)],
    }
}

/// An unlinked fact line.
pub(super) fn line(text: impl Into<String>) -> FactItem {
    FactItem {
        text: text.into(),
        asset_id: None,
        contact_id: None,
    }
}

/// "Alice Smith (alice@contoso.com)", linked to her contact when identity sync knows her.
pub(super) fn user_item(user: &UserRef) -> FactItem {
    user_item_with(user, "")
}

/// As `user_item`, with a trailing remark ("through group Break glass").
pub(super) fn user_item_with(user: &UserRef, remark: &str) -> FactItem {
    let mut text = user_name(user);
    if !remark.is_empty() {
        text.push_str(" — ");
        text.push_str(remark);
    }
    FactItem {
        text,
        asset_id: None,
        contact_id: user.contact_id,
    }
}

/// "Alice Smith (alice@contoso.com)"; the object id when Graph gave neither name.
pub(super) fn user_name(user: &UserRef) -> String {
    match (user.display_name.is_empty(), user.upn.is_empty()) {
        (false, false) => format!("{} ({})", user.display_name, user.upn),
        (false, true) => user.display_name.clone(),
        (true, false) => user.upn.clone(),
        (true, true) => format!("user {}", user.object_id),
    }
}

/// "LAPTOP-7 (Windows)", linked to the asset.
pub(super) fn device_item(device: &DeviceRef) -> FactItem {
    FactItem {
        text: format!("{} ({})", device.hostname, platform_name(&device.platform)),
        asset_id: Some(device.asset_id),
        contact_id: None,
    }
}

pub(super) fn group_name(group: &GroupRef) -> String {
    if group.display_name.is_empty() {
        format!("group {}", group.object_id)
    } else {
        group.display_name.clone()
    }
}

pub(super) fn role_name(role: &RoleRef) -> String {
    if role.display_name.is_empty() {
        role.template_id.clone()
    } else {
        role.display_name.clone()
    }
}

/// "1 user", "3 users".
pub(super) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// "A", "A and B", "A, B and C"; "none" for an empty list.
pub(super) fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => "none".to_string(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => {
            let head: Vec<&str> = init.iter().map(|s| s.as_ref()).collect();
            format!("{} and {}", head.join(", "), last.as_ref())
        }
    }
}

/// `part` of `whole` as a percentage (None when `whole` is 0).
pub(super) fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// Whether `part / whole` reaches `threshold` %, in integers so "exactly 95 %" is never lost
/// to floating point.
pub(super) fn meets(part: u64, whole: u64, threshold: u8) -> bool {
    u128::from(part) * 100 >= u128::from(threshold) * u128::from(whole)
}

/// "94.9 %", "95 %": rounded *down* to one decimal, so a figure below a threshold never prints
/// as the threshold itself.
pub(super) fn pct(value: f64) -> String {
    let tenths = (value * 10.0).floor() as i64;
    if tenths % 10 == 0 {
        format!("{} %", tenths / 10)
    } else {
        format!("{}.{} %", tenths / 10, tenths % 10)
    }
}

/// Intune's OS names in the form people write them.
pub(super) fn platform_name(platform: &str) -> String {
    match platform_key(platform).as_str() {
        "windows" => "Windows".to_string(),
        "ios" => "iOS/iPadOS".to_string(),
        "macos" => "macOS".to_string(),
        "android" => "Android".to_string(),
        "linux" => "Linux".to_string(),
        _ if platform.is_empty() => "unknown platform".to_string(),
        _ => platform.to_string(),
    }
}

/// One key per platform family, so a device's `operatingSystem` ("Windows", "iPadOS",
/// "AndroidForWork") meets a compliance policy's platform ("windows10CompliancePolicy",
/// "iosCompliancePolicy", "androidWorkProfileCompliancePolicy").
pub(super) fn platform_key(platform: &str) -> String {
    let p = platform.to_ascii_lowercase();
    if p.starts_with("windows") {
        "windows".to_string()
    } else if p.starts_with("ios") || p.starts_with("ipados") || p == "iphone" || p == "ipad" {
        "ios".to_string()
    } else if p.starts_with("macos") || p.starts_with("mac") {
        "macos".to_string()
    } else if p.starts_with("android") || p.starts_with("aosp") {
        "android".to_string()
    } else if p.starts_with("linux") {
        "linux".to_string()
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_down_and_drop_a_zero_decimal() {
        assert_eq!(pct(95.0), "95 %");
        assert_eq!(pct(94.99), "94.9 %");
        assert_eq!(pct(100.0), "100 %");
        assert_eq!(pct(0.0), "0 %");
        assert_eq!(pct(2.0 * 100.0 / 3.0), "66.6 %");
    }

    #[test]
    fn thresholds_compare_in_integers() {
        assert!(meets(95, 100, 95));
        assert!(meets(19, 20, 95));
        assert!(!meets(94, 99, 95));
        assert!(meets(0, 0, 95));
    }

    #[test]
    fn lists_and_counts_read_as_english() {
        assert_eq!(and_list::<&str>(&[]), "none");
        assert_eq!(and_list(&["A"]), "A");
        assert_eq!(and_list(&["A", "B"]), "A and B");
        assert_eq!(and_list(&["A", "B", "C"]), "A, B and C");
        assert_eq!(count(1, "user", "users"), "1 user");
        assert_eq!(count(0, "user", "users"), "0 users");
    }

    #[test]
    fn platforms_of_devices_and_policies_meet() {
        assert_eq!(
            platform_key("Windows"),
            platform_key("windows10CompliancePolicy")
        );
        assert_eq!(platform_key("iPadOS"), platform_key("iosCompliancePolicy"));
        assert_eq!(platform_key("macOS"), platform_key("macOSCompliancePolicy"));
        assert_eq!(
            platform_key("AndroidForWork"),
            platform_key("androidWorkProfileCompliancePolicy")
        );
        assert_eq!(platform_name("iOS"), "iOS/iPadOS");
    }
}
