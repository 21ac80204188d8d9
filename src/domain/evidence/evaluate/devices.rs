//! Controls 6, 7 and 9: device compliance, a compliance policy per platform, encryption. All
//! read the managed devices identity sync keeps, and all need Intune.

use std::collections::BTreeMap;

use super::gates::{Licence, absent, intune, licence_facts};
use super::words::{
    and_list, count, device_item, fact, line, meets, note, pct, percent, platform_key,
    platform_name, result,
};
use super::{COMPLIANCE_POLICY_PER_PLATFORM, DEVICE_COMPLIANCE, DEVICE_ENCRYPTION};
use crate::model::{
    Collected, CompliancePolicyFacts, ControlResult, ControlStatus, DeviceFacts, EvidenceSnapshot,
    Fact,
};

/// The Intune gate and the devices, or the result that says why there are none to judge.
fn devices<'a>(s: &'a EvidenceSnapshot, id: &str) -> Result<&'a DeviceFacts, Box<ControlResult>> {
    if let Licence::Lacking(why) = intune(s) {
        return Err(Box::new(result(
            id,
            ControlStatus::NotLicensed,
            format!("Device compliance needs Microsoft Intune: {why}."),
            licence_facts(s),
        )));
    }
    let devices = match &s.devices {
        Collected::Collected { value } => value,
        other => {
            let (status, why) = absent(other, "Managed devices");
            let facts = if status == ControlStatus::NotLicensed {
                licence_facts(s)
            } else {
                Vec::new()
            };
            return Err(Box::new(result(id, status, why, facts)));
        }
    };
    if devices.managed_total == 0 {
        return Err(Box::new(result(
            id,
            ControlStatus::Manual,
            "The tenant has no Intune-managed devices to measure.",
            Vec::new(),
        )));
    }
    Ok(devices)
}

/// 6. Compliant managed devices as a percentage, against the company's threshold (default
///    90 %; exactly the threshold passes). Devices in their grace period are not yet
///    compliant and count against it; they are listed apart with the non-compliant ones.
pub(super) fn device_compliance(s: &EvidenceSnapshot) -> ControlResult {
    let d = match devices(s, DEVICE_COMPLIANCE) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let threshold = s.thresholds.device_compliance_pct;
    let mut facts: Vec<Fact> = Vec::new();
    facts.extend(fact(
        "Not compliant",
        d.non_compliant.iter().map(device_item).collect(),
    ));
    facts.extend(fact(
        "In grace period",
        d.in_grace.iter().map(device_item).collect(),
    ));
    facts.extend(fact(
        "Compliance not known (unknown, error, conflict or not evaluated)",
        d.other_state.iter().map(device_item).collect(),
    ));
    facts.extend(fact(
        "Intune's tenant-wide summary",
        d.summary
            .iter()
            .map(|(state, n)| line(format!("{state}: {n}")))
            .collect(),
    ));
    facts.push(note(
        "Threshold",
        format!("{threshold} % of managed devices (company setting)"),
    ));
    let value = percent(d.compliant, d.managed_total).unwrap_or(0.0);
    let passes = meets(d.compliant, d.managed_total, threshold);
    let mut out = result(
        DEVICE_COMPLIANCE,
        if passes {
            ControlStatus::Pass
        } else {
            ControlStatus::Fail
        },
        format!(
            "{} of {} managed devices are compliant ({}), {} the {threshold} % threshold; {} not compliant and {} in grace period.",
            d.compliant,
            d.managed_total,
            pct(value),
            if passes { "meeting" } else { "below" },
            d.non_compliant.len(),
            d.in_grace.len()
        ),
        facts,
    );
    out.percent = Some(value);
    out
}

/// The platform family a compliance policy covers: its `platform`, or the `@odata.type` when
/// that is empty.
fn policy_platform(p: &CompliancePolicyFacts) -> String {
    if p.platform.is_empty() {
        platform_key(&p.policy_type)
    } else {
        platform_key(&p.platform)
    }
}

fn policy_name(p: &CompliancePolicyFacts) -> String {
    if p.display_name.is_empty() {
        format!("policy {}", p.id)
    } else {
        p.display_name.clone()
    }
}

/// 7. Every platform present among managed devices has at least one compliance policy.
pub(super) fn compliance_policy_per_platform(s: &EvidenceSnapshot) -> ControlResult {
    let d = match devices(s, COMPLIANCE_POLICY_PER_PLATFORM) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let policies = match &s.compliance_policies {
        Collected::Collected { value } => value,
        other => {
            let (status, why) = absent(other, "Compliance policies");
            return result(COMPLIANCE_POLICY_PER_PLATFORM, status, why, Vec::new());
        }
    };
    // Platform family → (devices, display name).
    let mut present: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for (platform, n) in d.platforms.iter().filter(|(_, n)| **n > 0) {
        let entry = present
            .entry(platform_key(platform))
            .or_insert((0, platform_name(platform)));
        entry.0 += n;
    }
    let mut covered = Vec::new();
    let mut missing_platforms = Vec::new();
    for (key, (n, shown)) in &present {
        let by: Vec<String> = policies
            .iter()
            .filter(|p| &policy_platform(p) == key)
            .map(policy_name)
            .collect();
        let devices = count(*n as usize, "device", "devices");
        if by.is_empty() {
            missing_platforms.push(format!("{shown} ({devices})"));
        } else {
            covered.push(line(format!("{shown} ({devices}): {}", and_list(&by))));
        }
    }
    let mut facts: Vec<Fact> = Vec::new();
    facts.extend(fact(
        "Platforms without a compliance policy",
        missing_platforms.iter().map(line).collect(),
    ));
    facts.extend(fact("Platforms and their compliance policies", covered));
    if present.is_empty() {
        return result(
            COMPLIANCE_POLICY_PER_PLATFORM,
            ControlStatus::Manual,
            "The managed devices' platforms are not known; check the compliance policies by hand.",
            facts,
        );
    }
    if missing_platforms.is_empty() {
        let names: Vec<String> = present.values().map(|(_, shown)| shown.clone()).collect();
        result(
            COMPLIANCE_POLICY_PER_PLATFORM,
            ControlStatus::Pass,
            format!(
                "Every platform among managed devices ({}) has a compliance policy.",
                and_list(&names)
            ),
            facts,
        )
    } else {
        result(
            COMPLIANCE_POLICY_PER_PLATFORM,
            ControlStatus::Fail,
            format!(
                "No compliance policy covers {}.",
                and_list(&missing_platforms)
            ),
            facts,
        )
    }
}

/// 9. Every managed device is encrypted (`isEncrypted`). A device not encrypted is a finding;
///    devices whose state identity sync has not read yet make the answer `not_collected`
///    rather than a guess.
pub(super) fn device_encryption(s: &EvidenceSnapshot) -> ControlResult {
    let d = match devices(s, DEVICE_ENCRYPTION) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let mut facts: Vec<Fact> = Vec::new();
    facts.extend(fact(
        "Not encrypted",
        d.not_encrypted.iter().map(device_item).collect(),
    ));
    if d.encryption_unknown > 0 {
        facts.push(note(
            "Encryption not read yet",
            format!(
                "{} not yet read by identity sync",
                count(
                    d.encryption_unknown as usize,
                    "device's state is",
                    "devices' state is"
                )
            ),
        ));
    }
    let value = percent(d.encrypted, d.managed_total).unwrap_or(0.0);
    let (status, summary) = if !d.not_encrypted.is_empty() {
        (
            ControlStatus::Fail,
            format!(
                "{} of {} managed devices are encrypted ({}); {} not.",
                d.encrypted,
                d.managed_total,
                pct(value),
                count(d.not_encrypted.len(), "is", "are")
            ),
        )
    } else if d.encryption_unknown > 0 {
        (
            ControlStatus::NotCollected,
            format!(
                "{} of {} managed devices are encrypted and none is known to be unencrypted, but the state of {} has not been read yet; run identity sync.",
                d.encrypted,
                d.managed_total,
                count(d.encryption_unknown as usize, "device", "devices")
            ),
        )
    } else {
        (
            ControlStatus::Pass,
            format!("Every managed device ({}) is encrypted.", d.managed_total),
        )
    };
    let mut out = result(DEVICE_ENCRYPTION, status, summary, facts);
    out.percent = Some(value);
    out
}
