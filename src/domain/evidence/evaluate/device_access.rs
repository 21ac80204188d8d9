//! Control 8: Conditional Access requires a compliant (or hybrid-joined) device.

use super::CA_REQUIRES_COMPLIANT_DEVICE;
use super::ca::{
    self, NotCounted, allowance_note, apps_problem, condition_problems, counted_fact, device_grant,
    excluded_fact, excluded_from_all, exclusions_clause, not_counted_fact, state_problem,
    users_problem,
};
use super::gates::{CaEvidence, ca_evidence, licence_facts};
use super::words::{and_list, result};
use crate::model::{CaPolicyFacts, ControlResult, ControlStatus, EvidenceSnapshot, Fact};

/// 8. An enabled policy, for all users and all apps with no narrowing condition, whose grant
///    requires `compliantDevice` or `domainJoinedDevice` (with `OR`, nothing else beside
///    them). Security defaults do not cover devices, so without Entra ID P1 this is
///    `not_licensed`. Exclusions as control 1.
pub(super) fn ca_requires_compliant_device(s: &EvidenceSnapshot) -> ControlResult {
    let policies = match ca_evidence(s, false) {
        CaEvidence::Policies(p) => p,
        CaEvidence::Missing(status, summary) => {
            return result(
                CA_REQUIRES_COMPLIANT_DEVICE,
                status,
                summary,
                licence_facts(s),
            );
        }
        // Not asked for (`false` above); kept exhaustive rather than unreachable.
        CaEvidence::SecurityDefaults => &[],
    };
    let mut counted: Vec<(&CaPolicyFacts, String)> = Vec::new();
    let mut not_counted: Vec<NotCounted<'_>> = Vec::new();
    for p in policies.iter().filter(|p| {
        p.built_in_controls.iter().any(|c| {
            ca::DEVICE_CONTROLS
                .iter()
                .any(|d| c.eq_ignore_ascii_case(d))
        })
    }) {
        let mut reasons = Vec::new();
        reasons.extend(state_problem(p));
        if let Err(why) = device_grant(p) {
            reasons.push(why);
        }
        reasons.extend(users_problem(p));
        reasons.extend(apps_problem(p));
        reasons.extend(condition_problems(p));
        match (reasons.is_empty(), device_grant(p)) {
            (true, Ok(how)) => counted.push((p, how)),
            _ => not_counted.push(NotCounted { policy: p, reasons }),
        }
    }
    let mut facts: Vec<Fact> = Vec::new();
    if counted.is_empty() {
        facts.extend(not_counted_fact(&not_counted));
        return result(
            CA_REQUIRES_COMPLIANT_DEVICE,
            ControlStatus::Fail,
            "No enabled Conditional Access policy requires a compliant or hybrid Microsoft Entra joined device for all users and all apps.",
            facts,
        );
    }
    let chosen: Vec<&CaPolicyFacts> = counted.iter().map(|(p, _)| *p).collect();
    let excluded = excluded_from_all(&chosen, s.admins.value().map(|a| a.as_slice()));
    let (clause, finding) = exclusions_clause(&excluded, "account");
    let names: Vec<String> = chosen.iter().map(|p| ca::name(p)).collect();
    let summary = format!(
        "Enabled {} {} {} a compliant or hybrid Microsoft Entra joined device for all users and all apps; {clause}.",
        if names.len() == 1 {
            "policy"
        } else {
            "policies"
        },
        and_list(&names),
        if names.len() == 1 {
            "requires"
        } else {
            "require"
        },
    );
    facts.extend(counted_fact(
        "Policies that require a managed device",
        &counted,
    ));
    facts.extend(excluded_fact("Excluded accounts", &excluded));
    facts.extend(allowance_note(&excluded));
    facts.extend(not_counted_fact(&not_counted));
    let status = if finding {
        ControlStatus::Fail
    } else {
        ControlStatus::Pass
    };
    result(CA_REQUIRES_COMPLIANT_DEVICE, status, summary, facts)
}
