use super::*;

fn with_policies(policies: Vec<crate::model::CaPolicyFacts>) -> EvidenceSnapshot {
    let mut s = healthy();
    s.ca_policies = ok(policies);
    s
}

#[test]
fn a_policy_blocking_other_and_exchange_activesync_passes() {
    let r = run(&healthy(), LEGACY_AUTH_BLOCKED);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "Legacy authentication (other clients and Exchange ActiveSync) is blocked for all users and all apps by CA002 - Block legacy authentication; no account is excluded."
    );
    assert_eq!(
        lines(
            &r,
            "Other legacy clients (IMAP, POP, SMTP AUTH, older Office)"
        ),
        vec!["Blocked by CA002 - Block legacy authentication"]
    );
    assert_eq!(
        lines(&r, "Exchange ActiveSync"),
        vec!["Blocked by CA002 - Block legacy authentication"]
    );
}

#[test]
fn a_report_only_block_does_not_count() {
    let mut p = legacy_policy();
    p.state = "enabledForReportingButNotEnforced".to_string();
    let r = run(&with_policies(vec![mfa_policy(), p]), LEGACY_AUTH_BLOCKED);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "No enabled Conditional Access policy blocks legacy authentication for all users and all apps; security defaults are off."
    );
    assert_eq!(
        lines(&r, "Policies that do not count"),
        vec!["CA002 - Block legacy authentication: report-only (not enforced)"]
    );
    assert_eq!(
        lines(&r, "Exchange ActiveSync"),
        vec!["Not blocked for all users and all apps"]
    );
}

#[test]
fn exchange_activesync_is_checked_separately() {
    let mut p = legacy_policy();
    p.client_app_types = vec!["other".to_string()];
    let r = run(&with_policies(vec![p.clone()]), LEGACY_AUTH_BLOCKED);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "Other legacy clients are blocked by CA002 - Block legacy authentication, but Exchange ActiveSync is not blocked for all users and all apps; security defaults are off."
    );
    let mut eas = policy("ca-eas", "CA014 - Block ActiveSync", &["block"]);
    eas.client_app_types = vec!["exchangeActiveSync".to_string()];
    let r = run(&with_policies(vec![eas.clone()]), LEGACY_AUTH_BLOCKED);
    assert_eq!(
        r.summary,
        "Exchange ActiveSync is blocked by CA014 - Block ActiveSync, but other legacy clients (IMAP, POP, SMTP AUTH, older Office) are not blocked for all users and all apps; security defaults are off."
    );
    // Two policies, one each: blocked.
    let r = run(&with_policies(vec![p, eas]), LEGACY_AUTH_BLOCKED);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "Legacy authentication (other clients and Exchange ActiveSync) is blocked for all users and all apps by CA002 - Block legacy authentication and CA014 - Block ActiveSync; no account is excluded."
    );
}

#[test]
fn a_block_for_some_users_does_not_count() {
    let mut p = legacy_policy();
    p.include_users = vec![];
    p.include_groups = vec![group("g-sales", "Sales", &[4])];
    let r = run(&with_policies(vec![p]), LEGACY_AUTH_BLOCKED);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        lines(&r, "Policies that do not count"),
        vec!["CA002 - Block legacy authentication: targets group Sales rather than all users"]
    );
}

#[test]
fn more_than_two_excluded_accounts_is_a_finding() {
    let mut p = legacy_policy();
    p.exclude_users = vec![user(3), user(4), user(5)];
    let r = run(&with_policies(vec![p]), LEGACY_AUTH_BLOCKED);
    assert_eq!(r.status, ControlStatus::Fail);
    assert!(
        r.summary.ends_with(
            "3 accounts are excluded, more than the 2 emergency access accounts expected."
        ),
        "{}",
        r.summary
    );
    assert_eq!(lines(&r, "Excluded accounts").len(), 3);
}
