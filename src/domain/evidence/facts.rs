//! Graph's answers → the normalised facts a snapshot keeps. Pure: names are looked up through
//! the [`Names`] the caller fills from identity sync's indexes, so this file does no I/O.

use std::collections::BTreeMap;

use crate::graph::licences::{ENTRA_P1_PLAN, ENTRA_P2_PLAN, INTUNE_PLAN, SubscribedSku};
use crate::graph::{ConditionalAccessPolicy, DeviceCompliancePolicy, DeviceStatusOverview};
use crate::model::{
    Asset, CaPolicyFacts, CompliancePolicyFacts, DeviceFacts, DeviceRef, GroupRef, Licences,
    RoleRef, UserRef,
};

pub use super::evaluate::is_privileged;
use super::evaluate::privileged_role_name;

/// A role by template id, named when Microsoft's name is known.
pub fn role_ref(template_id: &str) -> RoleRef {
    let display_name = privileged_role_name(template_id)
        .map(str::to_string)
        .unwrap_or_else(|| template_id.to_string());
    RoleRef {
        template_id: template_id.to_ascii_lowercase(),
        display_name,
    }
}

/// Licences from the SKU list: plans of subscriptions that still work.
pub fn licences_from_skus(skus: &[SubscribedSku]) -> Licences {
    let has = |plan: &str| skus.iter().any(|s| s.is_usable() && s.has_plan(plan));
    let mut seen: Vec<(String, String)> = skus
        .iter()
        .map(|s| {
            (
                s.sku_part_number
                    .clone()
                    .or_else(|| s.sku_id.clone())
                    .unwrap_or_default(),
                s.capability_status.clone().unwrap_or_default(),
            )
        })
        .collect();
    seen.sort();
    Licences {
        entra_p1: has(ENTRA_P1_PLAN) || has(ENTRA_P2_PLAN),
        entra_p2: has(ENTRA_P2_PLAN),
        intune: has(INTUNE_PLAN),
        source: "subscribed_skus".into(),
        skus: seen,
    }
}

/// Intune's operating system names, one spelling per platform (`windows`, `iOS`, `macOS`,
/// `android`); anything else as sent, lower-cased.
pub fn platform_of_os(os: &str) -> String {
    let l = os.trim().to_ascii_lowercase();
    if l.starts_with("windows") {
        "windows".into()
    } else if l == "ios" || l == "ipados" {
        "iOS".into()
    } else if l == "macos" || l == "mac os" || l == "osx" {
        "macOS".into()
    } else if l.starts_with("android") {
        "android".into()
    } else {
        l
    }
}

/// The platform a compliance policy type covers.
pub fn platform_of_policy(policy_type: &str) -> String {
    let l = policy_type.to_ascii_lowercase();
    if l.starts_with("windows") {
        "windows".into()
    } else if l.starts_with("ios") {
        "iOS".into()
    } else if l.starts_with("macos") {
        "macOS".into()
    } else if l.starts_with("android") || l.starts_with("aosp") {
        "android".into()
    } else {
        l.trim_end_matches("compliancepolicy").to_string()
    }
}

/// Looks people and groups up in what identity sync keeps; filled by the collector.
pub trait Names {
    fn user(&self, object_id: &str) -> UserRef;
    fn group(&self, object_id: &str) -> GroupRef;
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn strings(v: Option<&serde_json::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A Conditional Access policy as the controls and the drift diff read it.
pub fn ca_policy_facts(p: &ConditionalAccessPolicy, names: &dyn Names) -> CaPolicyFacts {
    let raw = p.conditions_raw.clone().unwrap_or_default();
    let users = raw.get("users");
    let apps = raw.get("applications");
    let field = |obj: Option<&serde_json::Value>, k: &str| strings(obj.and_then(|o| o.get(k)));
    let mut exclude_users: Vec<UserRef> = field(users, "excludeUsers")
        .iter()
        .map(|id| names.user(id))
        .collect();
    exclude_users.sort();
    let groups = |k: &str| {
        let mut g: Vec<GroupRef> = sorted(field(users, k))
            .iter()
            .map(|id| names.group(id))
            .collect();
        g.sort_by(|a, b| a.object_id.cmp(&b.object_id));
        g
    };
    let roles = |k: &str| {
        let mut r: Vec<RoleRef> = sorted(field(users, k))
            .iter()
            .map(|id| role_ref(id))
            .collect();
        r.sort();
        r
    };
    let mut narrowing = Vec::new();
    if let Some(pl) = raw.get("platforms").filter(|v| !v.is_null()) {
        let inc = strings(pl.get("includePlatforms"));
        let exc = strings(pl.get("excludePlatforms"));
        narrowing.push(format!(
            "platforms: include {}{}",
            if inc.is_empty() {
                "none".into()
            } else {
                inc.join(", ")
            },
            if exc.is_empty() {
                String::new()
            } else {
                format!("; exclude {}", exc.join(", "))
            }
        ));
    }
    if let Some(loc) = raw.get("locations").filter(|v| !v.is_null()) {
        let inc = strings(loc.get("includeLocations"));
        let exc = strings(loc.get("excludeLocations"));
        narrowing.push(format!(
            "locations: include {}{}",
            if inc.is_empty() {
                "none".into()
            } else {
                inc.join(", ")
            },
            if exc.is_empty() {
                String::new()
            } else {
                format!("; exclude {}", exc.join(", "))
            }
        ));
    }
    if let Some(rule) = raw
        .get("devices")
        .and_then(|d| d.get("deviceFilter"))
        .and_then(|f| f.get("rule"))
        .and_then(|r| r.as_str())
    {
        narrowing.push(format!("device filter: {rule}"));
    }
    let grant = p.grant_controls.clone().unwrap_or_default();
    CaPolicyFacts {
        id: p.id.clone(),
        display_name: p.display_name.clone().unwrap_or_else(|| p.id.clone()),
        state: p
            .state
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        include_users: sorted(field(users, "includeUsers")),
        exclude_users,
        include_groups: groups("includeGroups"),
        exclude_groups: groups("excludeGroups"),
        include_roles: roles("includeRoles"),
        exclude_roles: roles("excludeRoles"),
        include_applications: sorted(field(apps, "includeApplications")),
        exclude_applications: sorted(field(apps, "excludeApplications")),
        include_user_actions: sorted(field(apps, "includeUserActions")),
        client_app_types: sorted(strings(raw.get("clientAppTypes"))),
        user_risk_levels: sorted(strings(raw.get("userRiskLevels"))),
        sign_in_risk_levels: sorted(strings(raw.get("signInRiskLevels"))),
        narrowing,
        grant_operator: grant.operator.clone().unwrap_or_default(),
        built_in_controls: sorted(grant.built_in_controls.clone()),
        authentication_strength: grant.authentication_strength.as_ref().map(|s| {
            (
                s.display_name
                    .clone()
                    .or_else(|| s.id.clone())
                    .unwrap_or_default(),
                s.requirements_satisfied.clone().unwrap_or_default(),
            )
        }),
        modified_at: p.modified_date_time.or(p.created_date_time),
    }
}

/// Settings that are metadata, not rules: left out of the drift diff.
const NOT_SETTINGS: &[&str] = &["@odata.context", "roleScopeTagIds"];

/// An Intune compliance policy, with its device status overview when it was read.
pub fn compliance_policy_facts(
    p: &DeviceCompliancePolicy,
    overview: Option<&DeviceStatusOverview>,
) -> CompliancePolicyFacts {
    let policy_type = p.platform_type().unwrap_or_default().to_string();
    let settings: BTreeMap<String, String> = p
        .settings
        .iter()
        .filter(|(k, _)| !NOT_SETTINGS.contains(&k.as_str()) && !k.contains("@odata"))
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    let count = |v: Option<i64>| v.map(|n| u64::try_from(n).unwrap_or(0));
    CompliancePolicyFacts {
        id: p.id.clone(),
        display_name: p.display_name.clone().unwrap_or_else(|| p.id.clone()),
        platform: platform_of_policy(&policy_type),
        policy_type,
        version: p.version,
        modified_at: p.last_modified_date_time.or(p.created_date_time),
        settings,
        compliant: overview.and_then(|o| count(o.success_count)),
        non_compliant: overview.and_then(|o| count(o.failed_count)),
        // The v1.0 overview has no grace count; devices in grace are listed from the assets.
        in_grace: None,
        error: overview.and_then(|o| count(o.error_count)),
    }
}

/// Device facts built one asset at a time (assets are streamed, never held).
#[derive(Debug, Default)]
pub struct DeviceTally {
    facts: DeviceFacts,
}

impl DeviceTally {
    /// Count an asset if Intune manages it and it is still active.
    pub fn add(&mut self, a: &Asset) {
        if !a.active || !a.sources.iter().any(|s| s.source == "intune") {
            return;
        }
        let platform = platform_of_os(&a.os);
        let device = DeviceRef {
            asset_id: a.id,
            hostname: a.hostname.clone(),
            platform: platform.clone(),
        };
        let f = &mut self.facts;
        f.managed_total += 1;
        *f.platforms.entry(platform).or_default() += 1;
        match a.compliance_state.as_str() {
            "compliant" => f.compliant += 1,
            "noncompliant" => f.non_compliant.push(device.clone()),
            "inGracePeriod" => f.in_grace.push(device.clone()),
            _ => f.other_state.push(device.clone()),
        }
        match a.intune_encrypted() {
            Some(true) => f.encrypted += 1,
            Some(false) => f.not_encrypted.push(device),
            None => f.encryption_unknown += 1,
        }
    }

    pub fn finish(mut self, summary: BTreeMap<String, i64>) -> DeviceFacts {
        let f = &mut self.facts;
        f.non_compliant.sort();
        f.in_grace.sort();
        f.other_state.sort();
        f.not_encrypted.sort();
        f.summary = summary;
        self.facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::licences::ServicePlan;

    fn sku(part: &str, status: &str, plans: &[&str]) -> SubscribedSku {
        SubscribedSku {
            sku_id: None,
            sku_part_number: Some(part.into()),
            capability_status: Some(status.into()),
            service_plans: plans
                .iter()
                .map(|p| ServicePlan {
                    service_plan_id: p.to_string(),
                    service_plan_name: None,
                    provisioning_status: None,
                })
                .collect(),
        }
    }

    #[test]
    fn licences_count_enabled_and_warning_subscriptions_only() {
        let l = licences_from_skus(&[
            sku("SPB", "Warning", &[ENTRA_P1_PLAN, INTUNE_PLAN]),
            sku(
                "AAD_PREMIUM_P2",
                "Suspended",
                &[ENTRA_P1_PLAN, ENTRA_P2_PLAN],
            ),
        ]);
        assert!(l.entra_p1 && l.intune && !l.entra_p2);
        assert_eq!(l.source, "subscribed_skus");
        let none = licences_from_skus(&[sku("AAD_PREMIUM", "Suspended", &[ENTRA_P1_PLAN])]);
        assert!(!none.entra_p1 && !none.intune);
        assert_eq!(none.skus, vec![("AAD_PREMIUM".into(), "Suspended".into())]);
    }

    #[test]
    fn platforms_share_one_spelling() {
        assert_eq!(platform_of_os("Windows"), "windows");
        assert_eq!(platform_of_os("iOS"), "iOS");
        assert_eq!(platform_of_policy("windows10CompliancePolicy"), "windows");
        assert_eq!(platform_of_policy("iosCompliancePolicy"), "iOS");
        assert_eq!(platform_of_policy("macOSCompliancePolicy"), "macOS");
        assert_eq!(
            platform_of_policy("androidWorkProfileCompliancePolicy"),
            "android"
        );
    }

    #[test]
    fn roles_are_named_when_microsoft_names_them() {
        assert_eq!(
            role_ref("62E90394-69F5-4237-9190-012177145E10").display_name,
            "Global Administrator"
        );
        assert_eq!(role_ref("0000").display_name, "0000");
    }
}
