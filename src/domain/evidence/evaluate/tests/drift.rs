use super::*;
use crate::model::{Collected, DriftKind, FieldChange};

fn drift(current: &EvidenceSnapshot, previous: &EvidenceSnapshot) -> ControlResult {
    evaluate(current, Some(previous))
        .into_iter()
        .find(|r| r.id == POLICY_DRIFT)
        .expect("drift")
}

fn change(field: &str, before: &str, after: &str) -> FieldChange {
    FieldChange {
        field: field.to_string(),
        before: before.to_string(),
        after: after.to_string(),
    }
}

#[test]
fn the_first_snapshot_has_nothing_to_compare() {
    let r = run(&healthy(), POLICY_DRIFT);
    assert_eq!(r.status, ControlStatus::Manual);
    assert_eq!(
        r.summary,
        "This is the company's first evidence snapshot, so there is nothing to compare with yet."
    );
}

#[test]
fn no_change_passes() {
    let s = healthy();
    let r = drift(&s, &previous_of(&s));
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "No Conditional Access or compliance policy was added, removed or changed since 2026-12-01 00:15 UTC."
    );
    assert!(r.drift.is_empty());
    assert_eq!(
        lines(&r, "Compared with"),
        vec!["Snapshot 1 collected 2026-12-01 00:15 UTC"]
    );
}

#[test]
fn an_added_policy_is_for_a_person_to_confirm() {
    let mut s = healthy();
    let before = previous_of(&s);
    let mut added = policy("ca-new", "CA040 - Block unknown platforms", &["block"]);
    added.narrowing = vec!["platforms (all but android, iOS, windows, macOS)".to_string()];
    if let Collected::Collected { value } = &mut s.ca_policies {
        value.push(added);
    }
    let r = drift(&s, &before);
    assert_eq!(r.status, ControlStatus::Manual);
    assert_eq!(
        r.summary,
        "Since 2026-12-01 00:15 UTC, 1 policy changed to confirm as intended: CA040 - Block unknown platforms added."
    );
    assert_eq!(r.drift.len(), 1);
    assert_eq!(r.drift[0].kind, DriftKind::Added);
    assert_eq!(r.drift[0].object, "conditional_access_policy");
    assert_eq!(r.drift[0].id, "ca-new");
    assert_eq!(
        lines(
            &r,
            "Conditional Access policy added: CA040 - Block unknown platforms"
        ),
        vec!["Conditional Access policy added"]
    );
}

#[test]
fn removing_an_enabled_policy_fails() {
    let s = healthy();
    let mut now = s.clone();
    now.ca_policies = ok(vec![mfa_policy(), device_policy()]);
    let r = drift(&now, &previous_of(&s));
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "Since 2026-12-01 00:15 UTC, 1 policy change weakened protection: CA002 - Block legacy authentication."
    );
    assert_eq!(r.drift[0].kind, DriftKind::Removed);
    assert_eq!(
        lines(
            &r,
            "Conditional Access policy removed: CA002 - Block legacy authentication"
        ),
        vec!["Weakens the tenant's protection"]
    );
}

#[test]
fn a_changed_policy_shows_each_changed_field() {
    let s = healthy();
    let mut now = s.clone();
    let mut p = mfa_policy();
    p.state = "enabledForReportingButNotEnforced".to_string();
    p.exclude_users = vec![user(9)];
    p.exclude_groups = vec![group("g-bg", "Break glass", &[8])];
    now.ca_policies = ok(vec![p, legacy_policy(), device_policy()]);
    let r = drift(&now, &previous_of(&s));
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(r.drift.len(), 1);
    let c = &r.drift[0];
    assert_eq!((c.kind, c.id.as_str()), (DriftKind::Changed, "ca-mfa"));
    assert_eq!(
        c.fields,
        vec![
            change("state", "enabled", "enabledForReportingButNotEnforced"),
            change(
                "conditions.users.excludeUsers",
                "(none)",
                "User 9 (user9@contoso.com)"
            ),
            change(
                "conditions.users.excludeGroups",
                "(none)",
                "Break glass (1 member: user8@contoso.com)"
            ),
        ]
    );
    assert_eq!(
        lines(
            &r,
            "Conditional Access policy changed: CA001 - Require MFA for all users"
        ),
        vec![
            "Weakens the tenant's protection",
            "state: enabled → enabledForReportingButNotEnforced",
            "conditions.users.excludeUsers: (none) → User 9 (user9@contoso.com)",
            "conditions.users.excludeGroups: (none) → Break glass (1 member: user8@contoso.com)",
        ]
    );
}

#[test]
fn grant_and_role_changes_are_fields_too() {
    let s = healthy();
    let mut now = s.clone();
    let mut p = mfa_policy();
    p.built_in_controls = vec!["mfa".to_string(), "compliantDevice".to_string()];
    p.grant_operator = "AND".to_string();
    p.include_roles = vec![role(GLOBAL_ADMIN)];
    now.ca_policies = ok(vec![p, legacy_policy(), device_policy()]);
    let r = drift(&now, &previous_of(&s));
    // Stricter: nothing lost, nothing excluded: a person confirms it.
    assert_eq!(r.status, ControlStatus::Manual);
    assert_eq!(
        r.drift[0].fields,
        vec![
            change(
                "conditions.users.includeRoles",
                "(none)",
                "Global Administrator"
            ),
            change("grantControls.operator", "OR", "AND"),
            change(
                "grantControls.builtInControls",
                "mfa",
                "compliantDevice, mfa"
            ),
        ]
    );
}

#[test]
fn compliance_policy_changes_are_diffed_setting_by_setting() {
    let s = healthy();
    let mut now = s.clone();
    let mut p = compliance_policy("cp-win", "Windows baseline", "windows10");
    p.settings
        .insert("passwordRequired".to_string(), "false".to_string());
    p.settings
        .insert("osMinimumVersion".to_string(), "\"10.0.19045\"".to_string());
    p.version = Some(2);
    now.compliance_policies = ok(vec![p]);
    let r = drift(&now, &previous_of(&s));
    assert_eq!(r.status, ControlStatus::Manual);
    assert_eq!(r.drift[0].object, "compliance_policy");
    assert_eq!(
        r.drift[0].fields,
        vec![
            change("passwordRequired", "true", "false"),
            change("osMinimumVersion", "(not set)", "\"10.0.19045\""),
        ]
    );
    // Removing it weakens the tenant.
    now.compliance_policies = ok(Vec::new());
    let r = drift(&now, &previous_of(&s));
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(r.drift[0].kind, DriftKind::Removed);
}

#[test]
fn what_could_not_be_compared_is_said() {
    let s = healthy();
    let mut before = previous_of(&s);
    before.ca_policies = Collected::Failed {
        error: "HTTP 503".to_string(),
    };
    let r = drift(&s, &before);
    assert_eq!(r.status, ControlStatus::NotCollected);
    assert_eq!(
        r.summary,
        "Nothing changed that could be compared since 2026-12-01 00:15 UTC; Conditional Access policies were not compared: the previous snapshot could not read them (HTTP 503)."
    );
    assert_eq!(
        lines(&r, "Not compared"),
        vec![
            "Conditional Access policies were not compared: the previous snapshot could not read them (HTTP 503)"
        ]
    );
    let mut now = s.clone();
    now.compliance_policies = Collected::MissingPermission {
        permission: "DeviceManagementConfiguration.Read.All".to_string(),
        graph_code: None,
    };
    let r = drift(&now, &before);
    assert_eq!(r.status, ControlStatus::NotCollected);
    assert_eq!(
        r.summary,
        "Neither Conditional Access nor compliance policies could be compared with the snapshot of 2026-12-01 00:15 UTC."
    );
    assert_eq!(lines(&r, "Not compared").len(), 2);
}

#[test]
fn members_joining_an_included_group_are_not_drift_but_an_excluded_group_growing_is() {
    let mut s = healthy();
    let mut p = mfa_policy();
    p.include_groups = vec![group("g-sales", "Sales", &[4])];
    p.exclude_groups = vec![group("g-bg", "Break glass", &[8])];
    s.ca_policies = ok(vec![p.clone(), legacy_policy(), device_policy()]);
    let before = previous_of(&s);

    let mut now = s.clone();
    p.include_groups = vec![group("g-sales", "Sales", &[4, 5, 6])];
    now.ca_policies = ok(vec![p.clone(), legacy_policy(), device_policy()]);
    assert_eq!(drift(&now, &before).status, ControlStatus::Pass);

    p.exclude_groups = vec![group("g-bg", "Break glass", &[8, 9])];
    now.ca_policies = ok(vec![p, legacy_policy(), device_policy()]);
    let r = drift(&now, &before);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.drift[0].fields,
        vec![change(
            "conditions.users.excludeGroups",
            "Break glass (1 member: user8@contoso.com)",
            "Break glass (2 members: user8@contoso.com, user9@contoso.com)"
        )]
    );
}
