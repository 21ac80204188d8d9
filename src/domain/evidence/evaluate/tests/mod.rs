//! Every control and every status branch, on snapshots built here (`test_snapshot`). Each
//! test asserts the exact status and the words an auditor reads.

mod devices;
mod drift;
mod legacy_auth;
mod licences;
mod mfa;
mod registration;

use super::test_snapshot::*;
use super::*;
use crate::model::{ControlResult, ControlStatus, EvidenceSnapshot};

/// One control over `s` (no previous snapshot).
fn run(s: &EvidenceSnapshot, id: &str) -> ControlResult {
    evaluate(s, None)
        .into_iter()
        .find(|r| r.id == id)
        .expect("control present")
}

/// The lines of one fact group (empty when the group is absent).
fn lines(r: &ControlResult, label: &str) -> Vec<String> {
    r.facts
        .iter()
        .find(|f| f.label == label)
        .map(|f| f.items.iter().map(|i| i.text.clone()).collect())
        .unwrap_or_default()
}

/// (text, contact id, asset id) of one fact group.
fn linked(r: &ControlResult, label: &str) -> Vec<(String, Option<u64>, Option<u64>)> {
    r.facts
        .iter()
        .find(|f| f.label == label)
        .map(|f| {
            f.items
                .iter()
                .map(|i| (i.text.clone(), i.contact_id, i.asset_id))
                .collect()
        })
        .unwrap_or_default()
}

fn labels(r: &ControlResult) -> Vec<&str> {
    r.facts.iter().map(|f| f.label.as_str()).collect()
}

#[test]
fn a_healthy_tenant_passes_every_control_but_first_drift() {
    let s = healthy();
    let results = evaluate(&s, None);
    let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
    let expected: Vec<&str> = CONTROLS.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, expected, "all ten, in order");
    for r in &results[..9] {
        assert_eq!(r.status, ControlStatus::Pass, "{}: {}", r.id, r.summary);
        assert_eq!(r.title, title_of(&r.id));
        assert!(
            r.frameworks.is_empty(),
            "references come from frameworks::assess"
        );
    }
    assert_eq!(results[9].status, ControlStatus::Manual);
}

#[test]
fn every_summary_is_one_sentence() {
    let mut snapshots = vec![healthy(), without_p1(true, false), without_p1(false, true)];
    let mut broken = healthy();
    broken.ca_policies = crate::model::Collected::Failed {
        error: "HTTP 503 after 3 attempts".to_string(),
    };
    snapshots.push(broken);
    for s in &snapshots {
        for r in evaluate(s, Some(&previous_of(s))) {
            let body = r.summary.trim_end_matches('.');
            assert!(r.summary.ends_with('.'), "{}: {}", r.id, r.summary);
            assert!(
                !body.contains(". "),
                "{}: more than one sentence: {}",
                r.id,
                r.summary
            );
        }
    }
}
