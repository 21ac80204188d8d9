//! Controls 1 and 2: MFA required for all users, and for administrators.

use super::ca::{
    self, NotCounted, allowance_note, apps_problem, client_apps_problem, condition_problems,
    counted_fact, excluded_fact, excluded_from_all, exclusions_clause, mentions_mfa, mfa_grant,
    not_counted_fact, state_problem, users_problem,
};
use super::gates::{
    CaEvidence, ca_evidence, defaults_unknown, licence_facts, lower_first, security_defaults_fact,
};
use super::roles::PRIVILEGED_ROLES;
use super::words::{and_list, count, fact, line, note, result, role_name};
use super::{MFA_ADMINS, MFA_ALL_USERS};
use crate::model::{
    AdminFacts, CaPolicyFacts, ControlResult, ControlStatus, EvidenceSnapshot, Fact,
};

/// Why a policy that requires MFA would still not enforce it on every sign-in to every app
/// (users aside: the two controls scope users differently).
fn sign_in_problems(p: &CaPolicyFacts) -> Vec<String> {
    let mut reasons = Vec::new();
    reasons.extend(state_problem(p));
    if let Err(why) = mfa_grant(p) {
        reasons.push(why);
    }
    reasons.extend(apps_problem(p));
    reasons.extend(client_apps_problem(p));
    reasons.extend(condition_problems(p));
    reasons
}

fn admins_of(s: &EvidenceSnapshot) -> Option<&[AdminFacts]> {
    s.admins.value().map(|a| a.as_slice())
}

/// 1. An enabled policy requires MFA (built-in `mfa`, or an authentication strength that
///    satisfies `mfa`) for all users and all apps, on every sign-in; or security defaults.
///    Accounts excluded from every such policy are listed; more than the break-glass allowance
///    is a finding.
pub(super) fn mfa_all_users(s: &EvidenceSnapshot) -> ControlResult {
    let policies = match ca_evidence(s, true) {
        CaEvidence::SecurityDefaults => {
            return result(
                MFA_ALL_USERS,
                ControlStatus::Pass,
                "The tenant is protected by security defaults, which make every user register for MFA and require it when Microsoft sees a need.",
                vec![security_defaults_fact()],
            );
        }
        CaEvidence::Missing(status, summary) => {
            return result(MFA_ALL_USERS, status, summary, licence_facts(s));
        }
        CaEvidence::Policies(p) => p,
    };
    let mut counted: Vec<(&CaPolicyFacts, String)> = Vec::new();
    let mut not_counted: Vec<NotCounted<'_>> = Vec::new();
    for p in policies.iter().filter(|p| mentions_mfa(p)) {
        let mut reasons = sign_in_problems(p);
        reasons.extend(users_problem(p));
        match (reasons.is_empty(), mfa_grant(p)) {
            (true, Ok(how)) => counted.push((p, how)),
            _ => not_counted.push(NotCounted { policy: p, reasons }),
        }
    }
    let mut facts: Vec<Fact> = Vec::new();
    if counted.is_empty() {
        facts.extend(not_counted_fact(&not_counted));
        if let Some(why) = defaults_unknown(s) {
            return result(
                MFA_ALL_USERS,
                ControlStatus::NotCollected,
                format!(
                    "No enabled Conditional Access policy requires MFA for all users and all apps, and {}",
                    lower_first(&why)
                ),
                facts,
            );
        }
        return result(
            MFA_ALL_USERS,
            ControlStatus::Fail,
            "No enabled Conditional Access policy requires MFA for all users and all apps, and security defaults are off.",
            facts,
        );
    }
    let chosen: Vec<&CaPolicyFacts> = counted.iter().map(|(p, _)| *p).collect();
    let excluded = excluded_from_all(&chosen, admins_of(s));
    let (clause, finding) = exclusions_clause(&excluded, "account");
    let names: Vec<String> = chosen.iter().map(|p| ca::name(p)).collect();
    let summary = if chosen.len() == 1 {
        format!(
            "Enabled policy {} requires MFA for all users and all apps; {clause}.",
            names[0]
        )
    } else {
        format!(
            "Enabled policies {} require MFA for all users and all apps; counting accounts excluded from all of them, {clause}.",
            and_list(&names)
        )
    };
    facts.extend(counted_fact("Policies that require MFA", &counted));
    facts.extend(excluded_fact("Excluded accounts", &excluded));
    facts.extend(allowance_note(&excluded));
    let roles: Vec<String> = chosen
        .iter()
        .flat_map(|p| {
            p.exclude_roles
                .iter()
                .map(|r| format!("{}: {}", ca::name(p), role_name(r)))
        })
        .collect();
    facts.extend(fact(
        "Excluded roles",
        roles.into_iter().map(line).collect(),
    ));
    let apps: Vec<String> = chosen
        .iter()
        .filter(|p| !p.exclude_applications.is_empty())
        .map(|p| format!("{}: {}", ca::name(p), and_list(&p.exclude_applications)))
        .collect();
    facts.extend(fact(
        "Excluded applications",
        apps.into_iter().map(line).collect(),
    ));
    facts.extend(not_counted_fact(&not_counted));
    let status = if finding {
        ControlStatus::Fail
    } else {
        ControlStatus::Pass
    };
    result(MFA_ALL_USERS, status, summary, facts)
}

/// 2. Every one of the 14 privileged roles is covered by an enabled policy requiring MFA on
///    all apps, through `includeRoles` or through all users, and not excluded by role; or
///    security defaults. Administrators excluded by name or group from every policy covering
///    them are listed under the same break-glass allowance as control 1.
pub(super) fn mfa_admins(s: &EvidenceSnapshot) -> ControlResult {
    let policies = match ca_evidence(s, true) {
        CaEvidence::SecurityDefaults => {
            return result(
                MFA_ADMINS,
                ControlStatus::Pass,
                "The tenant is protected by security defaults, which require MFA from holders of the 14 privileged roles at every sign-in.",
                vec![security_defaults_fact()],
            );
        }
        CaEvidence::Missing(status, summary) => {
            return result(MFA_ADMINS, status, summary, licence_facts(s));
        }
        CaEvidence::Policies(p) => p,
    };
    // Policies that enforce MFA on every sign-in to every app, whatever users they target.
    let mut enforcing: Vec<(&CaPolicyFacts, String)> = Vec::new();
    let mut not_counted: Vec<NotCounted<'_>> = Vec::new();
    for p in policies.iter().filter(|p| mentions_mfa(p)) {
        let mut reasons = sign_in_problems(p);
        let targets_roles = ca::targets_all_users(p)
            || p.include_roles
                .iter()
                .any(|r| super::roles::is_privileged(&r.template_id));
        if !targets_roles {
            reasons.push("targets no privileged role".to_string());
        }
        match (reasons.is_empty(), mfa_grant(p)) {
            (true, Ok(how)) => enforcing.push((p, how)),
            _ => not_counted.push(NotCounted { policy: p, reasons }),
        }
    }
    let covers = |p: &CaPolicyFacts, template_id: &str| {
        let included = ca::targets_all_users(p)
            || p.include_roles
                .iter()
                .any(|r| r.template_id.eq_ignore_ascii_case(template_id));
        let excluded = p
            .exclude_roles
            .iter()
            .any(|r| r.template_id.eq_ignore_ascii_case(template_id));
        included && !excluded
    };
    let mut coverage_lines = Vec::new();
    let mut uncovered: Vec<&str> = Vec::new();
    for (template_id, role) in PRIVILEGED_ROLES {
        let by: Vec<String> = enforcing
            .iter()
            .filter(|(p, _)| covers(p, template_id))
            .map(|(p, _)| ca::name(p))
            .collect();
        if by.is_empty() {
            uncovered.push(role);
        } else {
            coverage_lines.push(line(format!("{role}: {}", and_list(&by))));
        }
    }
    let mut facts: Vec<Fact> = Vec::new();
    facts.extend(fact(
        "Privileged roles not covered",
        uncovered.iter().map(|r| line(*r)).collect(),
    ));
    facts.extend(fact(
        "Privileged roles and the policies covering them",
        coverage_lines,
    ));
    let excluded_roles: Vec<String> = enforcing
        .iter()
        .flat_map(|(p, _)| {
            ca::excluded_privileged_roles(p)
                .into_iter()
                .map(move |r| format!("{}: {r}", ca::name(p)))
        })
        .collect();
    facts.extend(fact(
        "Privileged roles excluded",
        excluded_roles.into_iter().map(line).collect(),
    ));

    // Administrators excluded (by name or group) from every policy that covers one of their
    // roles.
    let admins = admins_of(s);
    let mut excluded_admins = Vec::new();
    for admin in admins.unwrap_or(&[]) {
        let covering: Vec<&CaPolicyFacts> = enforcing
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| admin.roles.iter().any(|r| covers(p, &r.template_id)))
            .collect();
        if covering.is_empty() {
            continue; // their roles are uncovered: already a finding above
        }
        if let Some(e) = excluded_from_all(&covering, admins)
            .into_iter()
            .find(|e| e.user.object_id == admin.user.object_id)
        {
            excluded_admins.push(e);
        }
    }
    let (clause, finding) = exclusions_clause(&excluded_admins, "administrator");
    facts.extend(excluded_fact("Excluded administrators", &excluded_admins));
    facts.extend(allowance_note(&excluded_admins));
    if let Some(why) = super::gates::missing(&s.admins, "Role assignments").map(|(_, w)| w) {
        facts.push(note("Administrators", why));
    }
    facts.extend(not_counted_fact(&not_counted));

    if !uncovered.is_empty() {
        let status = match defaults_unknown(s) {
            Some(_) => ControlStatus::NotCollected,
            None => ControlStatus::Fail,
        };
        let tail = match defaults_unknown(s) {
            Some(why) => format!("; {}", lower_first(&why).trim_end_matches('.')),
            None => String::new(),
        };
        return result(
            MFA_ADMINS,
            status,
            format!(
                "{} of the {} privileged roles {} not covered by an enabled policy requiring MFA for all apps ({}){tail}.",
                uncovered.len(),
                PRIVILEGED_ROLES.len(),
                if uncovered.len() == 1 { "is" } else { "are" },
                and_list(&uncovered)
            ),
            facts,
        );
    }
    let names: Vec<String> = enforcing.iter().map(|(p, _)| ca::name(p)).collect();
    let summary = format!(
        "All {} privileged roles are covered by {} requiring MFA for all apps ({}); {}.",
        PRIVILEGED_ROLES.len(),
        count(names.len(), "enabled policy", "enabled policies"),
        and_list(&names),
        clause
    );
    let status = if finding {
        ControlStatus::Fail
    } else {
        ControlStatus::Pass
    };
    result(MFA_ADMINS, status, summary, facts)
}
