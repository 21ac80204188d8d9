//! Control 10: Conditional Access and compliance policies added, removed or changed since the
//! previous snapshot, with a field-level diff.
//!
//! Field names are Graph's property paths (`state`, `conditions.users.excludeUsers`,
//! `grantControls.builtInControls`, a compliance setting's own name), so an auditor can find
//! each one in the portal or in the policy's JSON.

use std::collections::BTreeMap;

use super::POLICY_DRIFT;
use super::words::{and_list, count, fact, group_name, line, note, result, role_name, user_name};
use crate::model::{
    CaPolicyFacts, Collected, CompliancePolicyFacts, ControlResult, ControlStatus, DriftChange,
    DriftKind, EvidenceSnapshot, Fact, FieldChange, GroupRef,
};

pub(super) const CA_OBJECT: &str = "conditional_access_policy";
pub(super) const COMPLIANCE_OBJECT: &str = "compliance_policy";

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_string()
    } else {
        let mut sorted = items.to_vec();
        sorted.sort();
        sorted.join(", ")
    }
}

/// Included groups by name only: someone joining an included group is a directory change,
/// not a policy change, and would otherwise show as drift at every collection.
fn group_names(items: &[GroupRef]) -> String {
    list(&items.iter().map(group_name).collect::<Vec<_>>())
}

/// Excluded groups with their members: a member added to an excluded group (the break-glass
/// group growing) is exactly the weakening drift is for.
fn groups(items: &[GroupRef]) -> String {
    let shown: Vec<String> = items
        .iter()
        .map(|g| {
            let mut members: Vec<String> = g.members.iter().map(|m| m.upn.clone()).collect();
            members.sort();
            format!(
                "{} ({}: {})",
                group_name(g),
                count(g.members.len(), "member", "members"),
                if members.is_empty() {
                    "none".to_string()
                } else {
                    members.join(", ")
                }
            )
        })
        .collect();
    list(&shown)
}

/// A CA policy's fields as (Graph path, value in words), in a fixed order.
fn ca_fields(p: &CaPolicyFacts) -> Vec<(&'static str, String)> {
    let users: Vec<String> = p.exclude_users.iter().map(user_name).collect();
    let roles = |r: &[crate::model::RoleRef]| r.iter().map(role_name).collect::<Vec<_>>();
    vec![
        ("displayName", p.display_name.clone()),
        ("state", p.state.clone()),
        ("conditions.users.includeUsers", list(&p.include_users)),
        ("conditions.users.excludeUsers", list(&users)),
        (
            "conditions.users.includeGroups",
            group_names(&p.include_groups),
        ),
        ("conditions.users.excludeGroups", groups(&p.exclude_groups)),
        (
            "conditions.users.includeRoles",
            list(&roles(&p.include_roles)),
        ),
        (
            "conditions.users.excludeRoles",
            list(&roles(&p.exclude_roles)),
        ),
        (
            "conditions.applications.includeApplications",
            list(&p.include_applications),
        ),
        (
            "conditions.applications.excludeApplications",
            list(&p.exclude_applications),
        ),
        (
            "conditions.applications.includeUserActions",
            list(&p.include_user_actions),
        ),
        ("conditions.clientAppTypes", list(&p.client_app_types)),
        ("conditions.userRiskLevels", list(&p.user_risk_levels)),
        ("conditions.signInRiskLevels", list(&p.sign_in_risk_levels)),
        (
            "conditions (platforms, locations, devices)",
            list(&p.narrowing),
        ),
        ("grantControls.operator", p.grant_operator.clone()),
        ("grantControls.builtInControls", list(&p.built_in_controls)),
        (
            "grantControls.authenticationStrength",
            match &p.authentication_strength {
                Some((name, requirements)) => format!("{name} (satisfies {requirements})"),
                None => "(none)".to_string(),
            },
        ),
    ]
}

fn compliance_fields(p: &CompliancePolicyFacts) -> Vec<(String, String)> {
    let mut out = vec![
        ("displayName".to_string(), p.display_name.clone()),
        ("@odata.type".to_string(), p.policy_type.clone()),
    ];
    out.extend(p.settings.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// Field-level differences between two versions of a policy; a field present on one side
/// only reads "(not set)" on the other.
fn diff(before: &[(String, String)], after: &[(String, String)]) -> Vec<FieldChange> {
    let b: BTreeMap<&str, &String> = before.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let a: BTreeMap<&str, &String> = after.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let not_set = "(not set)".to_string();
    // Keep the fields' own order (before's, then fields only after has).
    let mut keys: Vec<&str> = before.iter().map(|(k, _)| k.as_str()).collect();
    keys.extend(
        after
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !b.contains_key(k)),
    );
    keys.into_iter()
        .filter_map(|k| {
            let old = b.get(k).copied().unwrap_or(&not_set);
            let new = a.get(k).copied().unwrap_or(&not_set);
            (old != new).then(|| FieldChange {
                field: k.to_string(),
                before: old.clone(),
                after: new.clone(),
            })
        })
        .collect()
}

/// Changes that weaken a CA policy: it stops being enforced, gains exclusions, loses a
/// grant control, or stops targeting all users.
fn ca_weakens(before: &CaPolicyFacts, after: &CaPolicyFacts) -> bool {
    let gained = |b: Vec<String>, a: Vec<String>| a.iter().any(|x| !b.contains(x));
    let ids_u = |p: &CaPolicyFacts| {
        p.exclude_users
            .iter()
            .map(|u| u.object_id.clone())
            .collect()
    };
    let ids_g = |p: &CaPolicyFacts| {
        p.exclude_groups
            .iter()
            .flat_map(|g| {
                std::iter::once(g.object_id.clone())
                    .chain(g.members.iter().map(|m| m.object_id.clone()))
            })
            .collect()
    };
    let ids_r = |p: &CaPolicyFacts| {
        p.exclude_roles
            .iter()
            .map(|r| r.template_id.clone())
            .collect()
    };
    let lost = |b: &[String], a: &[String]| {
        b.iter()
            .any(|x| !a.iter().any(|y| y.eq_ignore_ascii_case(x)))
    };
    (before.state == "enabled" && after.state != "enabled")
        || gained(ids_u(before), ids_u(after))
        || gained(ids_g(before), ids_g(after))
        || gained(ids_r(before), ids_r(after))
        || gained(
            before.exclude_applications.clone(),
            after.exclude_applications.clone(),
        )
        || lost(&before.built_in_controls, &after.built_in_controls)
        || (before.authentication_strength.is_some() && after.authentication_strength.is_none())
        || lost(&before.include_users, &after.include_users)
        || lost(&before.include_applications, &after.include_applications)
}

/// One side of the comparison: the two lists, or why they cannot be compared (in words that
/// follow "were not compared").
fn pair<'a, T>(
    current: &'a Collected<Vec<T>>,
    previous: &'a Collected<Vec<T>>,
) -> Result<(&'a [T], &'a [T]), String> {
    match (current, previous) {
        (Collected::Collected { value: now }, Collected::Collected { value: then }) => {
            Ok((now.as_slice(), then.as_slice()))
        }
        (Collected::Collected { .. }, other) => Err(format!(
            "the previous snapshot could not read them ({})",
            reason(other)
        )),
        (other, _) => Err(format!(
            "this snapshot could not read them ({})",
            reason(other)
        )),
    }
}

fn reason<T>(c: &Collected<T>) -> String {
    match c {
        Collected::Collected { .. } => String::new(),
        Collected::NotLicensed { reason, .. } => format!("not licensed: {reason}"),
        Collected::MissingPermission { permission, .. } => format!("missing {permission}"),
        Collected::Failed { error } => error.clone(),
    }
}

/// A policy kind the drift control tracks.
trait Tracked {
    const OBJECT: &'static str;
    fn id(&self) -> &str;
    fn name(&self) -> &str;
    fn fields(&self) -> Vec<(String, String)>;
    /// Whether removing this policy weakens the tenant.
    fn removal_weakens(&self) -> bool;
    fn change_weakens(before: &Self, after: &Self) -> bool;
}

impl Tracked for CaPolicyFacts {
    const OBJECT: &'static str = CA_OBJECT;
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.display_name
    }
    fn fields(&self) -> Vec<(String, String)> {
        ca_fields(self)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }
    fn removal_weakens(&self) -> bool {
        self.state == "enabled"
    }
    fn change_weakens(before: &Self, after: &Self) -> bool {
        ca_weakens(before, after)
    }
}

impl Tracked for CompliancePolicyFacts {
    const OBJECT: &'static str = COMPLIANCE_OBJECT;
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.display_name
    }
    fn fields(&self) -> Vec<(String, String)> {
        compliance_fields(self)
    }
    fn removal_weakens(&self) -> bool {
        true
    }
    /// A setting's direction (stricter or looser) is not knowable in general: changes are
    /// for a person to confirm.
    fn change_weakens(_: &Self, _: &Self) -> bool {
        false
    }
}

/// Added / removed / changed entries between two lists keyed by id, with whether each
/// weakens the tenant.
fn changes<T: Tracked>(now: &[T], then: &[T]) -> Vec<(DriftChange, bool)> {
    let before: BTreeMap<&str, &T> = then.iter().map(|p| (p.id(), p)).collect();
    let after: BTreeMap<&str, &T> = now.iter().map(|p| (p.id(), p)).collect();
    let change = |p: &T, kind: DriftKind, fields: Vec<FieldChange>| DriftChange {
        object: T::OBJECT.to_string(),
        id: p.id().to_string(),
        display_name: p.name().to_string(),
        kind,
        fields,
    };
    let mut out = Vec::new();
    for (key, p) in &after {
        match before.get(key) {
            None => out.push((change(p, DriftKind::Added, Vec::new()), false)),
            Some(old) => {
                let fields = diff(&old.fields(), &p.fields());
                if !fields.is_empty() {
                    out.push((
                        change(p, DriftKind::Changed, fields),
                        T::change_weakens(old, p),
                    ));
                }
            }
        }
    }
    for (key, p) in &before {
        if !after.contains_key(key) {
            out.push((
                change(p, DriftKind::Removed, Vec::new()),
                p.removal_weakens(),
            ));
        }
    }
    out
}

fn change_fact(change: &DriftChange, weakens: bool) -> Fact {
    let what = if change.object == CA_OBJECT {
        "Conditional Access policy"
    } else {
        "Compliance policy"
    };
    let kind = match change.kind {
        DriftKind::Added => "added",
        DriftKind::Removed => "removed",
        DriftKind::Changed => "changed",
    };
    let mut items = vec![];
    if weakens {
        items.push(line("Weakens the tenant's protection"));
    }
    items.extend(
        change
            .fields
            .iter()
            .map(|f| line(format!("{}: {} → {}", f.field, f.before, f.after))),
    );
    if items.is_empty() {
        items.push(line(format!("{what} {kind}")));
    }
    Fact {
        label: format!("{what} {kind}: {}", change.display_name),
        items,
    }
}

/// 10. Compared with the previous snapshot: no change passes; changes are listed field by
///     field and need a person to confirm they were intended (`manual`); a change that
///     weakens protection (a policy removed or no longer enforced, an exclusion added, a
///     grant control dropped, all users or all apps no longer targeted) fails. The first
///     snapshot has nothing to compare with (`manual`).
pub(super) fn policy_drift(
    current: &EvidenceSnapshot,
    previous: Option<&EvidenceSnapshot>,
) -> ControlResult {
    let Some(previous) = previous else {
        return result(
            POLICY_DRIFT,
            ControlStatus::Manual,
            "This is the company's first evidence snapshot, so there is nothing to compare with yet.",
            Vec::new(),
        );
    };
    let since = previous
        .collected_at
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    let mut found: Vec<(DriftChange, bool)> = Vec::new();
    let mut gaps: Vec<String> = Vec::new();
    match pair(&current.ca_policies, &previous.ca_policies) {
        Ok((now, then)) => found.extend(changes(now, then)),
        Err(why) => gaps.push(format!(
            "Conditional Access policies were not compared: {why}"
        )),
    }
    match pair(&current.compliance_policies, &previous.compliance_policies) {
        Ok((now, then)) => found.extend(changes(now, then)),
        Err(why) => gaps.push(format!("Compliance policies were not compared: {why}")),
    }
    let mut facts: Vec<Fact> = found.iter().map(|(c, w)| change_fact(c, *w)).collect();
    facts.push(note(
        "Compared with",
        format!("Snapshot {} collected {since}", previous.id),
    ));
    facts.extend(fact("Not compared", gaps.iter().map(line).collect()));
    let weakening = found.iter().filter(|(_, w)| *w).count();
    let names: Vec<String> = found
        .iter()
        .map(|(c, _)| {
            let kind = match c.kind {
                DriftKind::Added => "added",
                DriftKind::Removed => "removed",
                DriftKind::Changed => "changed",
            };
            format!("{} {kind}", c.display_name)
        })
        .collect();
    let (status, summary) = if weakening > 0 {
        (
            ControlStatus::Fail,
            format!(
                "Since {since}, {} weakened protection: {}.",
                count(weakening, "policy change", "policy changes"),
                and_list(
                    &found
                        .iter()
                        .filter(|(_, w)| *w)
                        .map(|(c, _)| c.display_name.clone())
                        .collect::<Vec<_>>()
                )
            ),
        )
    } else if !found.is_empty() {
        (
            ControlStatus::Manual,
            format!(
                "Since {since}, {} to confirm as intended: {}.",
                count(found.len(), "policy changed", "policies changed"),
                and_list(&names)
            ),
        )
    } else if gaps.len() == 2 {
        (
            ControlStatus::NotCollected,
            format!(
                "Neither Conditional Access nor compliance policies could be compared with the snapshot of {since}."
            ),
        )
    } else if let Some(gap) = gaps.first() {
        (
            ControlStatus::NotCollected,
            format!("Nothing changed that could be compared since {since}; {gap}."),
        )
    } else {
        (
            ControlStatus::Pass,
            format!(
                "No Conditional Access or compliance policy was added, removed or changed since {since}."
            ),
        )
    };
    let mut out = result(POLICY_DRIFT, status, summary, facts);
    out.drift = found.into_iter().map(|(c, _)| c).collect();
    out
}
