use std::collections::BTreeSet;

use super::*;
use crate::domain::evidence::evaluate::test_snapshot::{healthy, previous_of, without_p1};
use crate::domain::evidence::evaluate::{
    CONTROLS, MFA_ALL_USERS, MFA_REGISTRATION_COVERAGE, POLICY_DRIFT,
};

const FRAMEWORK_IDS: [&str; 6] = [
    "soc2",
    "iso27001",
    "cis8",
    "nist_csf2",
    "cyber_essentials",
    "hipaa",
];

#[test]
fn the_mapping_file_parses_and_every_id_exists() {
    let m = parse(MAPPING_TOML).expect("frameworks.toml parses");
    let ids: Vec<&str> = m.framework.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids, FRAMEWORK_IDS,
        "framework ids, unique and in display order"
    );
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len());

    let controls: BTreeSet<&str> = CONTROLS.iter().map(|(id, _)| *id).collect();
    let mapped: BTreeSet<&str> = m.mapping.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        mapped, controls,
        "every Tenantry control mapped, and nothing else"
    );

    for f in &m.framework {
        assert!(
            !f.name.is_empty() && f.source.starts_with("https://"),
            "{}",
            f.id
        );
        for (id, title) in &f.controls {
            assert!(
                !id.trim().is_empty() && !title.trim().is_empty(),
                "{}: {id}",
                f.id
            );
        }
        let used: BTreeSet<&str> = m
            .mapping
            .values()
            .filter_map(|by| by.get(&f.id))
            .flatten()
            .map(|s| s.as_str())
            .collect();
        assert!(!used.is_empty(), "{} has no mapping", f.id);
        let listed: BTreeSet<&str> = f.controls.keys().map(|s| s.as_str()).collect();
        assert_eq!(
            used, listed,
            "{}: every listed control is used, every used one listed",
            f.id
        );
    }
    for (control, by) in &m.mapping {
        for (framework, refs) in by {
            assert!(
                unique.contains(framework.as_str()),
                "{control}: unknown framework {framework}"
            );
            let distinct: BTreeSet<&String> = refs.iter().collect();
            assert_eq!(
                distinct.len(),
                refs.len(),
                "{control}/{framework}: duplicate id"
            );
        }
    }
}

#[test]
fn a_duplicate_framework_control_is_refused_by_the_parser() {
    let twice = "[[framework]]\nid = \"x\"\nname = \"X\"\nsource = \"https://x\"\n[framework.controls]\n\"1\" = \"a\"\n\"1\" = \"b\"\n[mapping]\n";
    assert!(parse(twice).is_err());
}

#[test]
fn all_lists_the_six_frameworks_with_their_names() {
    let names: Vec<(String, String)> = all().into_iter().map(|f| (f.id, f.name)).collect();
    assert_eq!(
        names,
        vec![
            ("soc2".to_string(), "SOC 2".to_string()),
            ("iso27001".to_string(), "ISO/IEC 27001:2022".to_string()),
            ("cis8".to_string(), "CIS Controls v8.1".to_string()),
            ("nist_csf2".to_string(), "NIST CSF 2.0".to_string()),
            (
                "cyber_essentials".to_string(),
                "UK Cyber Essentials".to_string()
            ),
            ("hipaa".to_string(), "HIPAA Security Rule".to_string()),
        ]
    );
    assert_eq!(
        source_url("cis8"),
        Some("https://www.cisecurity.org/controls/v8-1")
    );
}

#[test]
fn references_carry_the_frameworks_own_ids_and_titles() {
    let refs = references(MFA_ALL_USERS, &["soc2".to_string(), "hipaa".to_string()]);
    let shown: Vec<(&str, &str, &str)> = refs
        .iter()
        .map(|r| {
            (
                r.framework.as_str(),
                r.control_id.as_str(),
                r.title.as_str(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            (
                "soc2",
                "CC6.1",
                "Logical access security software, infrastructure, and architectures"
            ),
            (
                "soc2",
                "CC6.6",
                "Logical access security measures against threats from outside system boundaries"
            ),
            ("hipaa", "§164.312(a)(1)", "Access control"),
            ("hipaa", "§164.312(d)", "Person or entity authentication"),
        ]
    );
}

#[test]
fn assessing_all_frameworks_keeps_every_control_and_scores_each() {
    let s = healthy();
    let a = assess(&s, None, &[]);
    assert_eq!(a.controls.len(), 10);
    assert_eq!(a.snapshot_id, 2);
    assert_eq!(a.company_id, 7);
    assert_eq!(a.previous_snapshot_id, None);
    assert_eq!(a.security_defaults, Some(false));
    assert!(a.licences.as_ref().is_some_and(|l| l.entra_p1 && l.intune));
    assert_eq!(a.payloads, s.payloads);
    assert!(a.permission_problems.is_empty());
    let ids: Vec<&str> = a.scores.iter().map(|s| s.framework.as_str()).collect();
    assert_eq!(ids, FRAMEWORK_IDS);
    // SOC 2: 9 controls mapped pass; drift (first snapshot) is manual.
    let soc2 = &a.scores[0];
    assert_eq!(
        (
            soc2.passing,
            soc2.evaluable,
            soc2.manual,
            soc2.not_licensed,
            soc2.percent
        ),
        (9, 9, 1, 0, Some(100))
    );
    // CIS has no mapping for control 8: 8 pass + drift manual.
    let cis = &a.scores[2];
    assert_eq!((cis.passing, cis.evaluable, cis.manual), (8, 8, 1));
}

#[test]
fn choosing_a_framework_keeps_its_controls_and_only_its_references() {
    let s = healthy();
    let a = assess(&s, Some(&previous_of(&s)), &["cis8".to_string()]);
    let ids: Vec<&str> = a.controls.iter().map(|c| c.id.as_str()).collect();
    assert!(
        !ids.contains(&"ca_requires_compliant_device"),
        "not mapped to CIS"
    );
    assert_eq!(ids.len(), 9);
    assert!(
        a.controls
            .iter()
            .all(|c| c.frameworks.iter().all(|r| r.framework == "cis8"))
    );
    assert_eq!(a.scores.len(), 1);
    assert_eq!(
        (
            a.scores[0].passing,
            a.scores[0].evaluable,
            a.scores[0].percent
        ),
        (9, 9, Some(100))
    );
    assert_eq!(a.previous_snapshot_id, Some(1));
    let drift = a
        .controls
        .iter()
        .find(|c| c.id == POLICY_DRIFT)
        .expect("drift");
    assert_eq!(drift.status, ControlStatus::Pass);
}

#[test]
fn scores_exclude_not_licensed_controls_and_never_count_them_as_passing() {
    // No P1, security defaults off: CA and registration controls are not licensed.
    let s = without_p1(false, false);
    let a = assess(&s, None, &["soc2".to_string()]);
    let status = |id: &str| a.controls.iter().find(|c| c.id == id).map(|c| c.status);
    assert_eq!(status(MFA_ALL_USERS), Some(ControlStatus::NotLicensed));
    assert_eq!(
        status(MFA_REGISTRATION_COVERAGE),
        Some(ControlStatus::NotLicensed)
    );
    let soc2 = &a.scores[0];
    // SOC 2 maps all 10: not licensed = 1, 2, 3, 5, 8; pass = 4 (per-user methods), 6, 7, 9;
    // manual = 10.
    assert_eq!(
        (
            soc2.passing,
            soc2.evaluable,
            soc2.not_licensed,
            soc2.not_collected,
            soc2.manual
        ),
        (4, 4, 5, 0, 1)
    );
    assert_eq!(soc2.percent, Some(100));
}

#[test]
fn a_framework_with_nothing_evaluable_has_no_percentage() {
    let mut s = without_p1(false, false);
    s.licences = crate::domain::evidence::evaluate::test_snapshot::ok(crate::model::Licences {
        entra_p1: false,
        entra_p2: false,
        intune: false,
        source: "subscribed_skus".to_string(),
        skus: Vec::new(),
    });
    s.admins = Collected::Failed {
        error: "HTTP 503".to_string(),
    };
    let a = assess(&s, None, &["hipaa".to_string()]);
    let hipaa = &a.scores[0];
    assert_eq!(hipaa.evaluable, 0);
    assert_eq!(hipaa.percent, None);
    assert!(hipaa.not_licensed > 0);
}

#[test]
fn missing_permissions_become_one_grant_line_per_permission() {
    let mut s = healthy();
    s.ca_policies = Collected::MissingPermission {
        permission: "Policy.Read.All".to_string(),
        graph_code: Some("Authorization_RequestDenied".to_string()),
    };
    s.security_defaults = Collected::MissingPermission {
        permission: "Policy.Read.All".to_string(),
        graph_code: Some("Authorization_RequestDenied".to_string()),
    };
    s.admins = Collected::MissingPermission {
        permission: "RoleManagement.Read.Directory".to_string(),
        graph_code: None,
    };
    let a = assess(&s, None, &[]);
    assert_eq!(
        a.permission_problems,
        vec![
            "Grant Policy.Read.All to the Tenantry app and consent again: it is needed to read security defaults and Conditional Access policies.".to_string(),
            "Grant RoleManagement.Read.Directory to the Tenantry app and consent again: it is needed to read role assignments.".to_string(),
        ]
    );
    let mfa = a
        .controls
        .iter()
        .find(|c| c.id == MFA_ALL_USERS)
        .expect("mfa");
    assert_eq!(mfa.status, ControlStatus::NotCollected);
    assert_eq!(a.security_defaults, None);
}

#[test]
fn a_summary_carries_statuses_scores_percentages_and_drift() {
    let s = healthy();
    let mut before = previous_of(&s);
    before.ca_policies = crate::domain::evidence::evaluate::test_snapshot::ok(Vec::new());
    let mut now = s.clone();
    if let Collected::Collected { value } = &mut now.registration {
        value.members_registered = 19;
    }
    let summary = summarize(&now, Some(&before));
    assert_eq!(
        (summary.id, summary.company_id, summary.job_id),
        (2, 7, Some(99))
    );
    assert_eq!(summary.collected_at, now.collected_at);
    assert_eq!(summary.statuses.len(), 10);
    assert_eq!(summary.statuses[MFA_ALL_USERS], ControlStatus::Pass);
    // Three policies added since the previous snapshot: drift, for a person to confirm.
    assert_eq!(summary.statuses[POLICY_DRIFT], ControlStatus::Manual);
    assert!(summary.drift);
    assert_eq!(summary.mfa_registration_pct, Some(95.0));
    assert_eq!(summary.device_compliance_pct, Some(100.0));
    assert_eq!(summary.scores.len(), 6);
    assert_eq!(summary.scores["soc2"], Some(100));

    let unchanged = summarize(&s, Some(&previous_of(&s)));
    assert!(!unchanged.drift);
    assert_eq!(unchanged.statuses[POLICY_DRIFT], ControlStatus::Pass);
}

#[test]
fn how_many_controls_each_framework_maps_is_a_reviewed_choice() {
    // CIS has no safeguard for "access requires a compliant device" (control 8) and Cyber
    // Essentials no encryption requirement (control 9); the others take all ten.
    let counts: Vec<(String, usize)> = FRAMEWORK_IDS
        .iter()
        .map(|f| {
            let n = CONTROLS
                .iter()
                .filter(|(id, _)| !references(id, &[f.to_string()]).is_empty())
                .count();
            (f.to_string(), n)
        })
        .collect();
    let expected: Vec<(String, usize)> = [
        ("soc2", 10),
        ("iso27001", 10),
        ("cis8", 9),
        ("nist_csf2", 10),
        ("cyber_essentials", 9),
        ("hipaa", 10),
    ]
    .iter()
    .map(|(f, n)| (f.to_string(), *n))
    .collect();
    assert_eq!(counts, expected);
}
