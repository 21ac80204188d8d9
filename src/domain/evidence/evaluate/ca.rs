//! Reading one Conditional Access policy the way the controls need: is it enforced, whom and
//! what does it cover, does its grant really require MFA (or a managed device), and whom does
//! it exclude. Shared by the MFA, legacy-authentication and device-access controls.

use std::collections::BTreeMap;

use super::gates::lower_first;
use super::roles::is_privileged;
use super::words::{and_list, count, fact, group_name, line, role_name, user_item_with};
use crate::model::{AdminFacts, CaPolicyFacts, Fact, FactItem, UserRef};

/// How many accounts may be excluded from a baseline policy before that is a finding.
/// Microsoft recommends excluding emergency access ("break-glass") accounts from every
/// Conditional Access policy and keeping two of them
/// (<https://learn.microsoft.com/entra/identity/role-based-access-control/security-emergency-access>);
/// one or two excluded accounts are therefore shown as a note, a third is a finding.
pub const BREAK_GLASS_ALLOWANCE: usize = 2;

/// The policy's name for facts ("CA001 - Require MFA for all users"), its id when unnamed.
pub(super) fn name(p: &CaPolicyFacts) -> String {
    if p.display_name.is_empty() {
        format!("policy {}", p.id)
    } else {
        p.display_name.clone()
    }
}

/// Why an enforced policy would not be: report-only and disabled policies do not count.
pub(super) fn state_problem(p: &CaPolicyFacts) -> Option<String> {
    match p.state.as_str() {
        "enabled" => None,
        "enabledForReportingButNotEnforced" => Some("report-only (not enforced)".to_string()),
        "disabled" => Some("disabled".to_string()),
        other => Some(format!("state is {other}, not enabled")),
    }
}

fn has(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v.eq_ignore_ascii_case(value))
}

pub(super) fn targets_all_users(p: &CaPolicyFacts) -> bool {
    has(&p.include_users, "All")
}

pub(super) fn targets_all_apps(p: &CaPolicyFacts) -> bool {
    has(&p.include_applications, "All")
}

pub(super) fn users_problem(p: &CaPolicyFacts) -> Option<String> {
    (!targets_all_users(p)).then(|| {
        let mut targets: Vec<String> = p.include_users.clone();
        targets.extend(p.include_groups.iter().map(|g| {
            let name = group_name(g);
            if name.starts_with("group ") {
                name
            } else {
                format!("group {name}")
            }
        }));
        targets.extend(p.include_roles.iter().map(role_name));
        if targets.is_empty() {
            "targets no users".to_string()
        } else {
            format!("targets {} rather than all users", and_list(&targets))
        }
    })
}

pub(super) fn apps_problem(p: &CaPolicyFacts) -> Option<String> {
    (!targets_all_apps(p)).then(|| {
        if p.include_applications.is_empty() {
            "targets no cloud apps".to_string()
        } else {
            format!(
                "targets {} rather than all cloud apps",
                and_list(&p.include_applications)
            )
        }
    })
}

/// Conditions that make a policy fire on only some sign-ins: risk levels (a policy for risky
/// sign-ins, or the password change that remediates user risk), user actions (registering
/// security information), and anything else that narrows it (platforms, locations, a device
/// filter).
pub(super) fn condition_problems(p: &CaPolicyFacts) -> Vec<String> {
    let mut out = Vec::new();
    if !p.user_risk_levels.is_empty() {
        out.push(format!(
            "fires only on {} user risk",
            and_list(&p.user_risk_levels)
        ));
    }
    if !p.sign_in_risk_levels.is_empty() {
        out.push(format!(
            "fires only on {} sign-in risk",
            and_list(&p.sign_in_risk_levels)
        ));
    }
    if has(&p.built_in_controls, "passwordChange") {
        out.push("requires a password change (a risk remediation policy)".to_string());
    }
    if !p.include_user_actions.is_empty() {
        out.push(format!(
            "applies to the user action {} rather than to sign-ins",
            and_list(&p.include_user_actions)
        ));
    }
    for narrowing in &p.narrowing {
        out.push(format!("narrowed by {narrowing}"));
    }
    out
}

/// Whether the policy applies to modern clients: `all`, nothing set (Graph's default), or
/// both browser and mobile/desktop apps. Legacy clients cannot do MFA at all, which is what
/// control 3 is for.
pub(super) fn client_apps_problem(p: &CaPolicyFacts) -> Option<String> {
    let ok = p.client_app_types.is_empty()
        || has(&p.client_app_types, "all")
        || (has(&p.client_app_types, "browser")
            && has(&p.client_app_types, "mobileAppsAndDesktopClients"));
    (!ok).then(|| format!("applies only to {} clients", and_list(&p.client_app_types)))
}

/// Whether the grant requires MFA: `mfa` among the built-in controls, or an authentication
/// strength whose `requirementsSatisfied` is `mfa`. With the `OR` operator, any other control
/// next to it (a compliant device, an approved app) lets a user in without MFA, so the policy
/// does not *require* it. `Ok` says how it requires MFA; `Err` why it does not.
pub(super) fn mfa_grant(p: &CaPolicyFacts) -> Result<String, String> {
    let builtin_mfa = has(&p.built_in_controls, "mfa");
    let strength = p
        .authentication_strength
        .as_ref()
        .filter(|(_, requirements)| {
            requirements
                .split(',')
                .any(|r| r.trim().eq_ignore_ascii_case("mfa"))
        })
        .map(|(strength, _)| strength.clone());
    let how = match (builtin_mfa, &strength) {
        (true, _) => "requires multifactor authentication".to_string(),
        (false, Some(strength)) => {
            format!("requires the authentication strength \"{strength}\" (MFA)")
        }
        (false, None) => return Err("does not require MFA".to_string()),
    };
    if p.grant_operator.eq_ignore_ascii_case("OR") {
        let others: Vec<&String> = p
            .built_in_controls
            .iter()
            .filter(|c| !c.eq_ignore_ascii_case("mfa"))
            .collect();
        if !others.is_empty() {
            return Err(format!(
                "lets users satisfy it with {} instead of MFA",
                and_list(&others)
            ));
        }
    }
    Ok(how)
}

/// Whether the policy mentions MFA at all (worth listing when it does not count).
pub(super) fn mentions_mfa(p: &CaPolicyFacts) -> bool {
    has(&p.built_in_controls, "mfa") || p.authentication_strength.is_some()
}

/// The controls that mean "a managed device": `compliantDevice` (Intune) and
/// `domainJoinedDevice` (hybrid Microsoft Entra joined).
pub(super) const DEVICE_CONTROLS: [&str; 2] = ["compliantDevice", "domainJoinedDevice"];

/// Whether the grant requires a compliant or hybrid-joined device (with `OR`, only device
/// controls may stand next to each other).
pub(super) fn device_grant(p: &CaPolicyFacts) -> Result<String, String> {
    let device: Vec<&String> = p
        .built_in_controls
        .iter()
        .filter(|c| DEVICE_CONTROLS.iter().any(|d| c.eq_ignore_ascii_case(d)))
        .collect();
    if device.is_empty() {
        return Err("does not require a managed device".to_string());
    }
    let mut others: Vec<String> = p
        .built_in_controls
        .iter()
        .filter(|c| !DEVICE_CONTROLS.iter().any(|d| c.eq_ignore_ascii_case(d)))
        .cloned()
        .collect();
    if let Some((strength, _)) = &p.authentication_strength {
        others.push(format!("the authentication strength \"{strength}\""));
    }
    if p.grant_operator.eq_ignore_ascii_case("OR") && !others.is_empty() {
        return Err(format!(
            "lets users satisfy it with {} instead of a managed device",
            and_list(&others)
        ));
    }
    let words: Vec<&str> = device
        .iter()
        .map(|c| {
            if c.eq_ignore_ascii_case("compliantDevice") {
                "a compliant device"
            } else {
                "a hybrid Microsoft Entra joined device"
            }
        })
        .collect();
    Ok(format!("requires {}", words.join(" or ")))
}

/// An account a policy does not apply to, and how it got excluded.
#[derive(Debug, Clone)]
pub(super) struct Excluded {
    pub user: UserRef,
    pub how: String,
    /// A whole kind of user (`GuestsOrExternalUsers`), not one account: always a finding.
    pub kind: bool,
}

/// The special values Graph puts among user ids: a kind of user, not an account.
fn user_kind(object_id: &str) -> Option<&'static str> {
    match object_id {
        "GuestsOrExternalUsers" => Some("All guests and external users"),
        "All" => Some("All users"),
        _ => None,
    }
}

/// The accounts a policy excludes: by name, through a group (members resolved by identity
/// sync, nested groups included), or through a privileged role (holders from role
/// assignments, when read). Keyed by object id; the first way found is kept.
pub(super) fn excluded_accounts(
    p: &CaPolicyFacts,
    admins: Option<&[AdminFacts]>,
) -> BTreeMap<String, Excluded> {
    let mut out: BTreeMap<String, Excluded> = BTreeMap::new();
    for user in &p.exclude_users {
        let entry = match user_kind(&user.object_id) {
            Some(kind) => Excluded {
                user: UserRef {
                    display_name: kind.to_string(),
                    upn: String::new(),
                    contact_id: None,
                    ..user.clone()
                },
                how: "excluded by type".to_string(),
                kind: true,
            },
            None => Excluded {
                user: user.clone(),
                how: "excluded by name".to_string(),
                kind: false,
            },
        };
        out.entry(user.object_id.clone()).or_insert(entry);
    }
    for group in &p.exclude_groups {
        let name = group_name(group);
        let how = if name.starts_with("group ") {
            format!("through {name}")
        } else {
            format!("through group {name}")
        };
        for member in &group.members {
            out.entry(member.object_id.clone()).or_insert(Excluded {
                user: member.clone(),
                how: how.clone(),
                kind: false,
            });
        }
    }
    for role in &p.exclude_roles {
        for admin in admins.unwrap_or(&[]) {
            if admin
                .roles
                .iter()
                .any(|r| r.template_id.eq_ignore_ascii_case(&role.template_id))
            {
                out.entry(admin.user.object_id.clone()).or_insert(Excluded {
                    user: admin.user.clone(),
                    how: format!("through role {}", role_name(role)),
                    kind: false,
                });
            }
        }
    }
    out
}

/// The accounts excluded from *every* one of `policies`: someone excluded from one policy but
/// covered by another is covered.
pub(super) fn excluded_from_all(
    policies: &[&CaPolicyFacts],
    admins: Option<&[AdminFacts]>,
) -> Vec<Excluded> {
    let mut sets = policies.iter().map(|p| excluded_accounts(p, admins));
    let Some(mut common) = sets.next() else {
        return Vec::new();
    };
    for set in sets {
        common.retain(|id, _| set.contains_key(id));
    }
    let mut out: Vec<Excluded> = common.into_values().collect();
    out.sort_by(|a, b| {
        (&a.user.display_name, &a.user.upn).cmp(&(&b.user.display_name, &b.user.upn))
    });
    out
}

/// "Excluded accounts" fact lines.
pub(super) fn excluded_fact(label: &str, excluded: &[Excluded]) -> Option<Fact> {
    fact(
        label,
        excluded
            .iter()
            .map(|e| user_item_with(&e.user, &e.how))
            .collect(),
    )
}

/// The exclusions clause of a summary ("1 account is excluded, as expected for emergency
/// access accounts") and whether the exclusions are a finding: more than the allowance, or a
/// whole kind of user. `noun` is singular.
pub(super) fn exclusions_clause(excluded: &[Excluded], noun: &str) -> (String, bool) {
    let kinds: Vec<String> = excluded
        .iter()
        .filter(|e| e.kind)
        .map(|e| lower_first(&e.user.display_name))
        .collect();
    if !kinds.is_empty() {
        return (format!("{} are excluded", and_list(&kinds)), true);
    }
    let many = format!("{noun}s are");
    let one = format!("{noun} is");
    match excluded.len() {
        0 => (format!("no {one} excluded"), false),
        n if n <= BREAK_GLASS_ALLOWANCE => (
            format!(
                "{} excluded, as expected for emergency access accounts",
                count(n, &one, &many)
            ),
            false,
        ),
        n => (
            format!(
                "{} excluded, more than the {BREAK_GLASS_ALLOWANCE} emergency access accounts expected",
                count(n, &one, &many)
            ),
            true,
        ),
    }
}

/// The note that explains the allowance, shown whenever accounts are excluded.
pub(super) fn allowance_note(excluded: &[Excluded]) -> Option<Fact> {
    (!excluded.is_empty()).then(|| Fact {
        label: "Exclusion rule".to_string(),
        items: vec![line(format!(
            "Up to {BREAK_GLASS_ALLOWANCE} excluded accounts are accepted as emergency access (break-glass) accounts, which Microsoft recommends excluding from Conditional Access; confirm each is one. More, or a whole kind of user, is a finding."
        ))],
    })
}

/// Excluded roles that are privileged, for the facts.
pub(super) fn excluded_privileged_roles(p: &CaPolicyFacts) -> Vec<String> {
    p.exclude_roles
        .iter()
        .filter(|r| is_privileged(&r.template_id))
        .map(role_name)
        .collect()
}

/// One policy the control looked at and did not count, with every reason.
pub(super) struct NotCounted<'a> {
    pub policy: &'a CaPolicyFacts,
    pub reasons: Vec<String>,
}

/// "Policies that do not count": "CA002 - Block legacy authentication: report-only (not
/// enforced)".
pub(super) fn not_counted_fact(list: &[NotCounted<'_>]) -> Option<Fact> {
    fact(
        "Policies that do not count",
        list.iter()
            .map(|n| line(format!("{}: {}", name(n.policy), n.reasons.join("; "))))
            .collect(),
    )
}

/// "Policies that count" lines with how each satisfies the control.
pub(super) fn counted_fact(label: &str, list: &[(&CaPolicyFacts, String)]) -> Option<Fact> {
    fact(
        label,
        list.iter()
            .map(|(p, how)| line(format!("{}: {how}", name(p))))
            .collect::<Vec<FactItem>>(),
    )
}
