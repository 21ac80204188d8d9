//! Controls 4 and 5: every administrator MFA-registered, and registration coverage of the
//! tenant's enabled members.

use super::gates::{Licence, absent, entra_p1, licence_facts, missing};
use super::words::{
    and_list, count, fact, meets, note, pct, percent, result, role_name, user_item, user_item_with,
};
use super::{ADMINS_MFA_REGISTERED, MFA_REGISTRATION_COVERAGE};
use crate::model::{
    AdminFacts, Collected, ControlResult, ControlStatus, EvidenceSnapshot, Fact, RegistrationSource,
};

fn source_words(s: &EvidenceSnapshot) -> &'static str {
    match s.registration_source {
        Some(RegistrationSource::Report) => "the MFA registration report",
        Some(RegistrationSource::PerUserMethods) => "each administrator's authentication methods",
        None => "no registration source",
    }
}

fn admin_remark(admin: &AdminFacts) -> String {
    let roles: Vec<String> = admin.roles.iter().map(role_name).collect();
    and_list(&roles)
}

/// 4. Every holder of a privileged role (from role assignments) has a strong method
///    registered: from the registration report, or without Entra ID P1 from each admin's
///    authentication methods (read in `$batch`es of 20). Those without are listed.
pub(super) fn admins_mfa_registered(s: &EvidenceSnapshot) -> ControlResult {
    let admins = match &s.admins {
        Collected::Collected { value } => value,
        other => {
            let (status, why) = absent(other, "Role assignments");
            let facts = if status == ControlStatus::NotLicensed {
                licence_facts(s)
            } else {
                Vec::new()
            };
            return result(ADMINS_MFA_REGISTERED, status, why, facts);
        }
    };
    if admins.is_empty() {
        return result(
            ADMINS_MFA_REGISTERED,
            ControlStatus::Manual,
            "Role assignments list no holder of a privileged role; confirm by hand who administers the tenant.",
            Vec::new(),
        );
    }
    let unregistered: Vec<&AdminFacts> = admins
        .iter()
        .filter(|a| a.mfa_registered == Some(false))
        .collect();
    let unknown: Vec<&AdminFacts> = admins
        .iter()
        .filter(|a| a.mfa_registered.is_none())
        .collect();
    let registered: Vec<&AdminFacts> = admins
        .iter()
        .filter(|a| a.mfa_registered == Some(true))
        .collect();
    let lines = |list: &[&AdminFacts]| {
        list.iter()
            .map(|a| user_item_with(&a.user, &admin_remark(a)))
            .collect::<Vec<_>>()
    };
    let mut facts: Vec<Fact> = Vec::new();
    facts.extend(fact("Not registered for MFA", lines(&unregistered)));
    facts.extend(fact("Registration unknown", lines(&unknown)));
    facts.extend(fact("Registered for MFA", lines(&registered)));
    facts.push(note(
        "Source",
        format!("Registration read from {}", source_words(s)),
    ));
    let total = admins.len();
    if !unregistered.is_empty() {
        let names: Vec<String> = unregistered
            .iter()
            .map(|a| super::words::user_name(&a.user))
            .collect();
        return result(
            ADMINS_MFA_REGISTERED,
            ControlStatus::Fail,
            format!(
                "{} of {} {} not registered for MFA: {}.",
                unregistered.len(),
                count(total, "administrator", "administrators"),
                if unregistered.len() == 1 { "is" } else { "are" },
                and_list(&names)
            ),
            facts,
        );
    }
    if !unknown.is_empty() {
        // Why the registration is unknown: the report's own state says best.
        let (status, why) = match missing(&s.registration, "The MFA registration report") {
            Some((ControlStatus::NotLicensed, why)) => (ControlStatus::NotLicensed, why),
            Some((_, why)) => (ControlStatus::NotCollected, why),
            None => (
                ControlStatus::NotCollected,
                "Their authentication methods could not be read.".to_string(),
            ),
        };
        return result(
            ADMINS_MFA_REGISTERED,
            status,
            format!(
                "The MFA registration of {} of {} is unknown: {}",
                unknown.len(),
                count(total, "administrator", "administrators"),
                super::gates::lower_first(&why)
            ),
            facts,
        );
    }
    result(
        ADMINS_MFA_REGISTERED,
        ControlStatus::Pass,
        format!(
            "All {} are registered for MFA (from {}).",
            count(total, "administrator", "administrators"),
            source_words(s)
        ),
        facts,
    )
}

/// 5. Enabled member users registered for MFA, as a percentage, against the company's
///    threshold (default 95 %; exactly the threshold passes). Guests are shown apart and never
///    counted. Needs the registration report, so Entra ID P1.
pub(super) fn mfa_registration_coverage(s: &EvidenceSnapshot) -> ControlResult {
    let threshold = s.thresholds.mfa_registration_pct;
    if let Licence::Lacking(why) = entra_p1(s) {
        let summary = if s.security_defaults.value() == Some(&true) {
            format!(
                "The MFA registration report needs Microsoft Entra ID P1 ({why}); security defaults are on, so every user is asked to register for MFA, but coverage cannot be measured."
            )
        } else {
            format!("The MFA registration report needs Microsoft Entra ID P1: {why}.")
        };
        return result(
            MFA_REGISTRATION_COVERAGE,
            ControlStatus::NotLicensed,
            summary,
            licence_facts(s),
        );
    }
    let reg = match &s.registration {
        Collected::Collected { value } => value,
        other => {
            let (status, why) = absent(other, "The MFA registration report");
            let facts = if status == ControlStatus::NotLicensed {
                licence_facts(s)
            } else {
                Vec::new()
            };
            return result(MFA_REGISTRATION_COVERAGE, status, why, facts);
        }
    };
    let mut facts: Vec<Fact> = Vec::new();
    facts.extend(fact(
        "Members not registered for MFA",
        reg.members_unregistered.iter().map(user_item).collect(),
    ));
    facts.extend(fact(
        "Registered but not capable (a method disabled by policy)",
        reg.members_registered_not_capable
            .iter()
            .map(user_item)
            .collect(),
    ));
    facts.push(note(
        "Guests (not counted)",
        format!(
            "{} of {} registered",
            reg.guests_registered,
            count(reg.guests_total as usize, "guest", "guests")
        ),
    ));
    facts.push(note(
        "Threshold",
        format!("{threshold} % of enabled member users (company setting)"),
    ));
    let Some(value) = percent(reg.members_registered, reg.members_total) else {
        return result(
            MFA_REGISTRATION_COVERAGE,
            ControlStatus::Manual,
            "The tenant has no enabled member users to measure.",
            facts,
        );
    };
    let passes = meets(reg.members_registered, reg.members_total, threshold);
    let summary = format!(
        "{} of {} enabled member users are registered for MFA ({}), {} the {threshold} % threshold.",
        reg.members_registered,
        reg.members_total,
        pct(value),
        if passes { "meeting" } else { "below" }
    );
    let mut out = result(
        MFA_REGISTRATION_COVERAGE,
        if passes {
            ControlStatus::Pass
        } else {
            ControlStatus::Fail
        },
        summary,
        facts,
    );
    out.percent = Some(value);
    out
}
