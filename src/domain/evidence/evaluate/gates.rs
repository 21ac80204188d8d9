//! Licence and collection gates: what a control says when its evidence is missing, before it
//! looks at any fact. A missing licence is `not_licensed` and a missing permission or a failed
//! read is `not_collected` — never `fail`, because neither says the tenant is insecure.

use super::words::{and_list, line, note};
use crate::model::{
    CaPolicyFacts, Collected, ControlStatus, EvidenceSnapshot, Fact, FactItem, Licences,
};

/// Why one piece of evidence is absent, as the status it gives a control and a sentence.
pub(super) fn missing<T>(evidence: &Collected<T>, what: &str) -> Option<(ControlStatus, String)> {
    match evidence {
        Collected::Collected { .. } => None,
        Collected::NotLicensed { reason, graph_code } => Some((
            ControlStatus::NotLicensed,
            format!(
                "{what} could not be read because the tenant lacks the licence ({}).",
                with_code(reason, graph_code.as_deref())
            ),
        )),
        Collected::MissingPermission { permission, .. } => Some((
            ControlStatus::NotCollected,
            format!(
                "{what} could not be read: grant {permission} to the Tenantry app and consent again."
            ),
        )),
        Collected::Failed { error } => Some((
            ControlStatus::NotCollected,
            format!("{what} could not be read: {}.", error.trim_end_matches('.')),
        )),
    }
}

/// As `missing`, for evidence already known not to be `Collected`.
pub(super) fn absent<T>(evidence: &Collected<T>, what: &str) -> (ControlStatus, String) {
    missing(evidence, what).unwrap_or((ControlStatus::NotCollected, String::new()))
}

fn with_code(reason: &str, code: Option<&str>) -> String {
    let reason = reason.trim_end_matches('.');
    match code {
        Some(code) if !code.is_empty() => format!("{reason}; Graph answered {code}"),
        _ => reason.to_string(),
    }
}

/// A licence as far as the snapshot knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Licence {
    Held,
    /// Not held (or suspended/deleted), in words.
    Lacking(String),
    /// `subscribedSkus` was not readable: the evidence's own `Collected` state decides.
    Unknown,
}

pub(super) fn entra_p1(s: &EvidenceSnapshot) -> Licence {
    licence(s, |l| l.entra_p1, "Microsoft Entra ID P1")
}

pub(super) fn intune(s: &EvidenceSnapshot) -> Licence {
    licence(s, |l| l.intune, "Microsoft Intune")
}

fn licence(s: &EvidenceSnapshot, held: impl Fn(&Licences) -> bool, name: &str) -> Licence {
    match s.licences.value() {
        None => Licence::Unknown,
        Some(l) if held(l) => Licence::Held,
        Some(l) => {
            // Which SKU carried the plan is not in the snapshot, so inactive subscriptions are
            // listed as what they are, not as "the" lapsed licence.
            let inactive: Vec<String> = l
                .skus
                .iter()
                .filter(|(_, status)| status != "Enabled" && status != "Warning")
                .map(|(sku, status)| format!("{sku} {status}"))
                .collect();
            if inactive.is_empty() {
                Licence::Lacking(format!("the tenant has no active {name} licence"))
            } else {
                Licence::Lacking(format!(
                    "the tenant has no active {name} licence (inactive subscriptions: {})",
                    and_list(&inactive)
                ))
            }
        }
    }
}

/// The licence lines shown with a `not_licensed` result.
pub(super) fn licence_facts(s: &EvidenceSnapshot) -> Vec<Fact> {
    let mut items: Vec<FactItem> = Vec::new();
    match s.licences.value() {
        Some(l) => {
            let yes_no = |b: bool| if b { "active" } else { "not active" };
            items.push(line(format!(
                "Microsoft Entra ID P1: {}",
                yes_no(l.entra_p1)
            )));
            items.push(line(format!(
                "Microsoft Entra ID P2: {}",
                yes_no(l.entra_p2)
            )));
            items.push(line(format!("Microsoft Intune: {}", yes_no(l.intune))));
            for (sku, status) in &l.skus {
                items.push(line(format!("Subscription {sku}: {status}")));
            }
            let source = match l.source.as_str() {
                "subscribed_skus" => "decided from subscribedSkus",
                "graph_answers" => "decided from Graph's answers (subscribedSkus was not readable)",
                other => other,
            };
            if !source.is_empty() {
                items.push(line(format!("Licences {source}")));
            }
        }
        None => {
            if let Some((_, why)) = missing(&s.licences, "The tenant's subscriptions") {
                items.push(line(why));
            }
        }
    }
    items.push(line(format!(
        "Security defaults: {}",
        match &s.security_defaults {
            Collected::Collected { value: true } => "on".to_string(),
            Collected::Collected { value: false } => "off".to_string(),
            other => missing(other, "Security defaults")
                .map(|(_, why)| why)
                .unwrap_or_default(),
        }
    )));
    vec![Fact {
        label: "Licences".to_string(),
        items,
    }]
}

/// What a Conditional Access control has to work with.
pub(super) enum CaEvidence<'a> {
    /// Security defaults are on and count for this control.
    SecurityDefaults,
    /// The control cannot be evaluated: status and the one-sentence summary.
    Missing(ControlStatus, String),
    Policies(&'a [CaPolicyFacts]),
}

/// The gate in front of every Conditional Access control: security defaults (where they count)
/// → Entra ID P1 → the policies as collected.
///
/// A lapsed P1 still lets Graph list the policies (200) but no longer enforces them, so the
/// licence decides before the policies do.
pub(super) fn ca_evidence(s: &EvidenceSnapshot, security_defaults_count: bool) -> CaEvidence<'_> {
    if security_defaults_count && s.security_defaults.value() == Some(&true) {
        return CaEvidence::SecurityDefaults;
    }
    let defaults_unknown = security_defaults_count && s.security_defaults.value().is_none();
    let no_licence = match entra_p1(s) {
        Licence::Lacking(why) => Some(why),
        _ => match &s.ca_policies {
            Collected::NotLicensed { reason, graph_code } => {
                Some(with_code(reason, graph_code.as_deref()))
            }
            _ => None,
        },
    };
    if let Some(why) = no_licence {
        if defaults_unknown {
            let (_, defaults) = absent(&s.security_defaults, "Security defaults");
            return CaEvidence::Missing(
                ControlStatus::NotCollected,
                format!(
                    "Conditional Access is not available ({why}), and without it only security defaults could satisfy this control; {}",
                    lower_first(&defaults)
                ),
            );
        }
        let defaults_off = if security_defaults_count {
            ", and security defaults are off"
        } else {
            ""
        };
        return CaEvidence::Missing(
            ControlStatus::NotLicensed,
            format!("Conditional Access is not available: {why}{defaults_off}."),
        );
    }
    match &s.ca_policies {
        Collected::Collected { value } => CaEvidence::Policies(value),
        other => {
            let (status, why) = absent(other, "Conditional Access policies");
            CaEvidence::Missing(status, why)
        }
    }
}

/// When a Conditional Access control would fail but security defaults could not be read, the
/// honest answer is "not collected": with defaults on, the control would pass.
pub(super) fn defaults_unknown(s: &EvidenceSnapshot) -> Option<String> {
    missing(&s.security_defaults, "Security defaults").map(|(_, why)| why)
}

pub(super) fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The security-defaults fact shown when they decide a control.
pub(super) fn security_defaults_fact() -> Fact {
    note(
        "Security defaults",
        "On (identitySecurityDefaultsEnforcementPolicy isEnabled = true)",
    )
}
