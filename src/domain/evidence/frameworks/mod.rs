//! The reviewed mapping of Tenantry's controls to framework controls (the embedded data file
//! `frameworks.toml`), and framework scores.
//!
//! A framework's score is passing / evaluable over the controls mapped to it: only `pass` and
//! `fail` are evaluable; `not_licensed`, `not_collected` and `manual` are counted apart and
//! never as passing.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::evaluate::{DEVICE_COMPLIANCE, MFA_REGISTRATION_COVERAGE, POLICY_DRIFT, evaluate};
use crate::model::{
    Assessment, Collected, ControlResult, ControlStatus, EvidenceSnapshot, FrameworkInfo,
    FrameworkRef, FrameworkScore, SnapshotSummary,
};

#[cfg(test)]
mod tests;

/// The data file, as reviewed in the repository.
const MAPPING_TOML: &str = include_str!("frameworks.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    framework: Vec<FrameworkDef>,
    /// Tenantry control id → framework id → the framework's control ids.
    mapping: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameworkDef {
    id: String,
    name: String,
    /// Where the framework's own text is published.
    source: String,
    /// The framework's control id → its short title.
    controls: BTreeMap<String, String>,
}

/// The parsed mapping. A file that does not parse is a build defect the unit test catches;
/// at run time it degrades to "no frameworks" (logged) rather than taking the appliance down.
static MAPPING: LazyLock<MappingFile> = LazyLock::new(|| match parse(MAPPING_TOML) {
    Ok(m) => m,
    Err(e) => {
        tracing::error!(error = %e, "the embedded framework mapping does not parse");
        MappingFile {
            framework: Vec::new(),
            mapping: BTreeMap::new(),
        }
    }
});

fn parse(text: &str) -> Result<MappingFile, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

/// Every framework, in display order.
pub fn all() -> Vec<FrameworkInfo> {
    MAPPING
        .framework
        .iter()
        .map(|f| FrameworkInfo {
            id: f.id.clone(),
            name: f.name.clone(),
        })
        .collect()
}

/// Where a framework's own text is published (for links on the page and in the pack).
pub fn source_url(framework: &str) -> Option<&'static str> {
    MAPPING
        .framework
        .iter()
        .find(|f| f.id == framework)
        .map(|f| f.source.as_str())
}

/// The framework controls one Tenantry control maps to, in framework display order, limited
/// to `frameworks` (all when empty).
pub fn references(control: &str, frameworks: &[String]) -> Vec<FrameworkRef> {
    references_in(&MAPPING, control, frameworks)
}

fn chosen(framework: &str, frameworks: &[String]) -> bool {
    frameworks.is_empty() || frameworks.iter().any(|f| f == framework)
}

fn references_in(m: &MappingFile, control: &str, frameworks: &[String]) -> Vec<FrameworkRef> {
    let Some(by_framework) = m.mapping.get(control) else {
        return Vec::new();
    };
    m.framework
        .iter()
        .filter(|f| chosen(&f.id, frameworks))
        .flat_map(|f| {
            by_framework
                .get(&f.id)
                .into_iter()
                .flatten()
                .map(move |id| FrameworkRef {
                    framework: f.id.clone(),
                    control_id: id.clone(),
                    title: f.controls.get(id).cloned().unwrap_or_default(),
                })
        })
        .collect()
}

/// A framework's score over evaluated controls (those already carrying their references).
fn score(framework: &FrameworkDef, controls: &[ControlResult]) -> FrameworkScore {
    let mut s = FrameworkScore {
        framework: framework.id.clone(),
        name: framework.name.clone(),
        passing: 0,
        evaluable: 0,
        not_licensed: 0,
        not_collected: 0,
        manual: 0,
        percent: None,
    };
    for c in controls
        .iter()
        .filter(|c| c.frameworks.iter().any(|r| r.framework == framework.id))
    {
        match c.status {
            ControlStatus::Pass => {
                s.passing += 1;
                s.evaluable += 1;
            }
            ControlStatus::Fail => s.evaluable += 1,
            ControlStatus::NotLicensed => s.not_licensed += 1,
            ControlStatus::NotCollected => s.not_collected += 1,
            ControlStatus::Manual => s.manual += 1,
        }
    }
    s.percent = (s.evaluable > 0).then(|| (s.passing * 100 / s.evaluable) as u8);
    s
}

/// "Grant X and consent again" lines for every piece of evidence our consent could not read,
/// one line per permission naming what it is needed for.
fn permission_problems(s: &EvidenceSnapshot) -> Vec<String> {
    fn permission<T>(c: &Collected<T>) -> Option<&str> {
        match c {
            Collected::MissingPermission { permission, .. } => Some(permission.as_str()),
            _ => None,
        }
    }
    let reads = [
        (permission(&s.licences), "the tenant's subscriptions"),
        (permission(&s.security_defaults), "security defaults"),
        (permission(&s.ca_policies), "Conditional Access policies"),
        (permission(&s.admins), "role assignments"),
        (permission(&s.registration), "MFA registration"),
        (permission(&s.compliance_policies), "compliance policies"),
        (permission(&s.devices), "managed devices"),
    ];
    let mut by_permission: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (p, what) in reads {
        if let Some(p) = p {
            by_permission.entry(p).or_default().push(what);
        }
    }
    by_permission
        .into_iter()
        .map(|(p, what)| {
            let list = match what.as_slice() {
                [one] => one.to_string(),
                [init @ .., last] => format!("{} and {last}", init.join(", ")),
                [] => String::new(),
            };
            format!("Grant {p} to the Tenantry app and consent again: it is needed to read {list}.")
        })
        .collect()
}

/// Evaluate `current` (against `previous`), attach framework references, keep only controls
/// mapped to `frameworks` (all when empty) and score each framework.
pub fn assess(
    current: &EvidenceSnapshot,
    previous: Option<&EvidenceSnapshot>,
    frameworks: &[String],
) -> Assessment {
    assess_with(&MAPPING, current, previous, frameworks)
}

fn assess_with(
    m: &MappingFile,
    current: &EvidenceSnapshot,
    previous: Option<&EvidenceSnapshot>,
    frameworks: &[String],
) -> Assessment {
    let mut controls = evaluate(current, previous);
    for c in &mut controls {
        c.frameworks = references_in(m, &c.id, frameworks);
    }
    controls.retain(|c| !c.frameworks.is_empty());
    let scores = m
        .framework
        .iter()
        .filter(|f| chosen(&f.id, frameworks))
        .map(|f| score(f, &controls))
        .collect();
    Assessment {
        company_id: current.company_id,
        snapshot_id: current.id,
        collected_at: current.collected_at,
        previous_snapshot_id: previous.map(|p| p.id),
        licences: current.licences.value().cloned(),
        security_defaults: current.security_defaults.value().copied(),
        permission_problems: permission_problems(current),
        controls,
        scores,
        payloads: current.payloads.clone(),
    }
}

/// A snapshot's list entry, as evaluated against every framework (what the snapshot list,
/// the history chart and the overview show without re-evaluating): each control's status,
/// each framework's score, the two percentages and whether policies drifted.
pub fn summarize(
    current: &EvidenceSnapshot,
    previous: Option<&EvidenceSnapshot>,
) -> SnapshotSummary {
    let a = assess(current, previous, &[]);
    let percent_of = |id: &str| {
        a.controls
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.percent)
    };
    SnapshotSummary {
        id: current.id,
        company_id: current.company_id,
        collected_at: current.collected_at,
        job_id: current.job_id,
        statuses: a
            .controls
            .iter()
            .map(|c| (c.id.clone(), c.status))
            .collect(),
        scores: a
            .scores
            .iter()
            .map(|s| (s.framework.clone(), s.percent))
            .collect(),
        mfa_registration_pct: percent_of(MFA_REGISTRATION_COVERAGE),
        device_compliance_pct: percent_of(DEVICE_COMPLIANCE),
        drift: a
            .controls
            .iter()
            .any(|c| c.id == POLICY_DRIFT && !c.drift.is_empty()),
    }
}
