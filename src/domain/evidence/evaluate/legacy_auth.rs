//! Control 3: legacy authentication blocked.

use super::LEGACY_AUTH_BLOCKED;
use super::ca::{
    self, NotCounted, allowance_note, apps_problem, condition_problems, excluded_fact,
    excluded_from_all, exclusions_clause, not_counted_fact, state_problem, users_problem,
};
use super::gates::{
    CaEvidence, ca_evidence, defaults_unknown, licence_facts, lower_first, security_defaults_fact,
};
use super::words::{and_list, line, result};
use crate::model::{CaPolicyFacts, ControlResult, ControlStatus, EvidenceSnapshot, Fact};

/// The two legacy client types, as Graph names them and in words. `other` is IMAP, POP, SMTP
/// AUTH and older Office clients; Exchange ActiveSync is listed apart because a policy may
/// block one and not the other.
const OTHER: (&str, &str) = (
    "other",
    "Other legacy clients (IMAP, POP, SMTP AUTH, older Office)",
);
const EAS: (&str, &str) = ("exchangeActiveSync", "Exchange ActiveSync");

fn blocks(p: &CaPolicyFacts, client: &str) -> bool {
    p.built_in_controls
        .iter()
        .any(|c| c.eq_ignore_ascii_case("block"))
        && p.client_app_types
            .iter()
            .any(|c| c.eq_ignore_ascii_case(client))
}

/// 3. An enabled policy with `block` for `other` clients, and one (the same or another) for
///    `exchangeActiveSync`, each for all users and all apps with no narrowing condition; or
///    security defaults. Exclusions as control 1.
pub(super) fn legacy_auth_blocked(s: &EvidenceSnapshot) -> ControlResult {
    let policies = match ca_evidence(s, true) {
        CaEvidence::SecurityDefaults => {
            return result(
                LEGACY_AUTH_BLOCKED,
                ControlStatus::Pass,
                "The tenant is protected by security defaults, which block legacy authentication for every user.",
                vec![security_defaults_fact()],
            );
        }
        CaEvidence::Missing(status, summary) => {
            return result(LEGACY_AUTH_BLOCKED, status, summary, licence_facts(s));
        }
        CaEvidence::Policies(p) => p,
    };
    let mut counted: Vec<&CaPolicyFacts> = Vec::new();
    let mut not_counted: Vec<NotCounted<'_>> = Vec::new();
    for p in policies
        .iter()
        .filter(|p| blocks(p, OTHER.0) || blocks(p, EAS.0))
    {
        let mut reasons = Vec::new();
        reasons.extend(state_problem(p));
        reasons.extend(users_problem(p));
        reasons.extend(apps_problem(p));
        reasons.extend(condition_problems(p));
        if reasons.is_empty() {
            counted.push(p);
        } else {
            not_counted.push(NotCounted { policy: p, reasons });
        }
    }
    let admins = s.admins.value().map(|a| a.as_slice());
    let mut facts: Vec<Fact> = Vec::new();
    let mut blocked_by = |client: (&str, &str)| -> Option<Vec<&CaPolicyFacts>> {
        let by: Vec<&CaPolicyFacts> = counted
            .iter()
            .copied()
            .filter(|p| blocks(p, client.0))
            .collect();
        let names: Vec<String> = by.iter().map(|p| ca::name(p)).collect();
        facts.push(Fact {
            label: client.1.to_string(),
            items: vec![line(if by.is_empty() {
                "Not blocked for all users and all apps".to_string()
            } else {
                format!("Blocked by {}", and_list(&names))
            })],
        });
        (!by.is_empty()).then_some(by)
    };
    let other = blocked_by(OTHER);
    let eas = blocked_by(EAS);

    // An account excluded from every policy blocking either client type can still use it.
    let mut excluded = Vec::new();
    for by in [&other, &eas].into_iter().flatten() {
        for e in excluded_from_all(by, admins) {
            if !excluded
                .iter()
                .any(|x: &ca::Excluded| x.user.object_id == e.user.object_id)
            {
                excluded.push(e);
            }
        }
    }
    let (clause, finding) = exclusions_clause(&excluded, "account");
    facts.extend(excluded_fact("Excluded accounts", &excluded));
    facts.extend(allowance_note(&excluded));
    facts.extend(not_counted_fact(&not_counted));

    let gap = match (&other, &eas) {
        (Some(_), Some(_)) => None,
        (None, None) => Some(
            "No enabled Conditional Access policy blocks legacy authentication for all users and all apps"
                .to_string(),
        ),
        (Some(by), None) => Some(format!(
            "Other legacy clients are blocked by {}, but Exchange ActiveSync is not blocked for all users and all apps",
            and_list(&by.iter().map(|p| ca::name(p)).collect::<Vec<_>>())
        )),
        (None, Some(by)) => Some(format!(
            "Exchange ActiveSync is blocked by {}, but other legacy clients (IMAP, POP, SMTP AUTH, older Office) are not blocked for all users and all apps",
            and_list(&by.iter().map(|p| ca::name(p)).collect::<Vec<_>>())
        )),
    };
    if let Some(gap) = gap {
        return match defaults_unknown(s) {
            Some(why) => result(
                LEGACY_AUTH_BLOCKED,
                ControlStatus::NotCollected,
                format!("{gap}, and {}", lower_first(&why)),
                facts,
            ),
            None => result(
                LEGACY_AUTH_BLOCKED,
                ControlStatus::Fail,
                format!("{gap}; security defaults are off."),
                facts,
            ),
        };
    }
    let mut names: Vec<String> = counted
        .iter()
        .filter(|p| blocks(p, OTHER.0) || blocks(p, EAS.0))
        .map(|p| ca::name(p))
        .collect();
    names.dedup();
    let summary = format!(
        "Legacy authentication (other clients and Exchange ActiveSync) is blocked for all users and all apps by {}; {clause}.",
        and_list(&names)
    );
    let status = if finding {
        ControlStatus::Fail
    } else {
        ControlStatus::Pass
    };
    result(LEGACY_AUTH_BLOCKED, status, summary, facts)
}
