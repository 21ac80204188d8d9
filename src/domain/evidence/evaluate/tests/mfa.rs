use super::*;
use crate::model::Collected;

fn with_policies(policies: Vec<crate::model::CaPolicyFacts>) -> EvidenceSnapshot {
    let mut s = healthy();
    s.ca_policies = ok(policies);
    s
}

#[test]
fn an_enabled_all_users_all_apps_mfa_policy_passes() {
    let r = run(&healthy(), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "Enabled policy CA001 - Require MFA for all users requires MFA for all users and all apps; no account is excluded."
    );
    assert_eq!(
        lines(&r, "Policies that require MFA"),
        vec!["CA001 - Require MFA for all users: requires multifactor authentication"]
    );
    assert!(!labels(&r).contains(&"Exclusion rule"));
}

#[test]
fn a_report_only_mfa_policy_does_not_count() {
    let mut p = mfa_policy();
    p.state = "enabledForReportingButNotEnforced".to_string();
    let r = run(&with_policies(vec![p, legacy_policy()]), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "No enabled Conditional Access policy requires MFA for all users and all apps, and security defaults are off."
    );
    assert_eq!(
        lines(&r, "Policies that do not count"),
        vec!["CA001 - Require MFA for all users: report-only (not enforced)"]
    );
}

#[test]
fn a_disabled_mfa_policy_does_not_count() {
    let mut p = mfa_policy();
    p.state = "disabled".to_string();
    let r = run(&with_policies(vec![p]), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        lines(&r, "Policies that do not count"),
        vec!["CA001 - Require MFA for all users: disabled"]
    );
}

#[test]
fn an_authentication_strength_that_satisfies_mfa_counts() {
    let mut p = policy("ca-strength", "CA010 - Phishing-resistant MFA", &[]);
    p.authentication_strength = Some(("Phishing-resistant MFA".to_string(), "mfa".to_string()));
    let r = run(&with_policies(vec![p]), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Pass, "{}", r.summary);
    assert_eq!(
        lines(&r, "Policies that require MFA"),
        vec![
            "CA010 - Phishing-resistant MFA: requires the authentication strength \"Phishing-resistant MFA\" (MFA)"
        ]
    );
}

#[test]
fn an_authentication_strength_without_mfa_does_not_count() {
    let mut p = policy("ca-strength", "CA011 - Password only", &[]);
    p.authentication_strength = Some(("Single factor".to_string(), "none".to_string()));
    let r = run(&with_policies(vec![p]), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        lines(&r, "Policies that do not count"),
        vec!["CA011 - Password only: does not require MFA"]
    );
}

#[test]
fn a_risk_only_policy_does_not_count() {
    let mut p = policy(
        "ca-risk",
        "CA006 - High user risk requires password change",
        &["mfa", "passwordChange"],
    );
    p.grant_operator = "AND".to_string();
    p.user_risk_levels = vec!["high".to_string()];
    let mut q = policy("ca-signin", "CA007 - Risky sign-ins", &["mfa"]);
    q.sign_in_risk_levels = vec!["medium".to_string(), "high".to_string()];
    let r = run(&with_policies(vec![p, q]), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        lines(&r, "Policies that do not count"),
        vec![
            "CA006 - High user risk requires password change: fires only on high user risk; requires a password change (a risk remediation policy)",
            "CA007 - Risky sign-ins: fires only on medium and high sign-in risk",
        ]
    );
}

#[test]
fn mfa_offered_as_one_alternative_of_an_or_grant_is_not_required() {
    let r = run(
        &with_policies(vec![policy(
            "ca-or",
            "CA012 - MFA or compliant",
            &["mfa", "compliantDevice"],
        )]),
        MFA_ALL_USERS,
    );
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        lines(&r, "Policies that do not count"),
        vec!["CA012 - MFA or compliant: lets users satisfy it with compliantDevice instead of MFA"]
    );
    // With AND both are required, MFA among them.
    let mut and = policy(
        "ca-and",
        "CA013 - MFA and compliant",
        &["mfa", "compliantDevice"],
    );
    and.grant_operator = "AND".to_string();
    assert_eq!(
        run(&with_policies(vec![and]), MFA_ALL_USERS).status,
        ControlStatus::Pass
    );
}

#[test]
fn policies_for_some_users_some_apps_or_some_conditions_do_not_count() {
    let mut guests = policy("ca-guests", "CA005 - Guests", &["mfa"]);
    guests.include_users = vec!["GuestsOrExternalUsers".to_string()];
    let mut office = policy("ca-office", "CA020 - Office only", &["mfa"]);
    office.include_applications = vec!["Office365".to_string()];
    let mut away = policy("ca-away", "CA021 - Away from the office", &["mfa"]);
    away.narrowing = vec!["locations (all but trusted)".to_string()];
    let mut browser = policy("ca-browser", "CA022 - Browser", &["mfa"]);
    browser.client_app_types = vec!["browser".to_string()];
    let r = run(
        &with_policies(vec![guests, office, away, browser]),
        MFA_ALL_USERS,
    );
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        lines(&r, "Policies that do not count"),
        vec![
            "CA005 - Guests: targets GuestsOrExternalUsers rather than all users",
            "CA020 - Office only: targets Office365 rather than all cloud apps",
            "CA021 - Away from the office: narrowed by locations (all but trusted)",
            "CA022 - Browser: applies only to browser clients",
        ]
    );
}

#[test]
fn one_or_two_excluded_accounts_are_a_note_linked_to_the_contact() {
    let mut p = mfa_policy();
    p.exclude_users = vec![user(9)];
    let r = run(&with_policies(vec![p]), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "Enabled policy CA001 - Require MFA for all users requires MFA for all users and all apps; 1 account is excluded, as expected for emergency access accounts."
    );
    assert_eq!(
        linked(&r, "Excluded accounts"),
        vec![(
            "User 9 (user9@contoso.com) — excluded by name".to_string(),
            Some(1009),
            None
        )]
    );
    assert!(labels(&r).contains(&"Exclusion rule"));
}

#[test]
fn an_excluded_group_is_resolved_to_its_members() {
    let mut p = mfa_policy();
    p.exclude_groups = vec![group("g-bg", "Break glass", &[8, 9])];
    let r = run(&with_policies(vec![p.clone()]), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        lines(&r, "Excluded accounts"),
        vec![
            "User 8 (user8@contoso.com) — through group Break glass",
            "User 9 (user9@contoso.com) — through group Break glass",
        ]
    );
    // A third member is more than break-glass accounts: a finding.
    p.exclude_groups = vec![group("g-bg", "Break glass", &[7, 8, 9])];
    let r = run(&with_policies(vec![p]), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "Enabled policy CA001 - Require MFA for all users requires MFA for all users and all apps; 3 accounts are excluded, more than the 2 emergency access accounts expected."
    );
}

#[test]
fn an_account_excluded_from_one_policy_but_covered_by_another_is_covered() {
    let mut a = mfa_policy();
    a.exclude_users = vec![user(3), user(4), user(5)];
    let mut b = policy("ca-mfa-2", "CA009 - MFA everywhere", &["mfa"]);
    b.exclude_users = vec![user(5)];
    let r = run(&with_policies(vec![a, b]), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "Enabled policies CA001 - Require MFA for all users and CA009 - MFA everywhere require MFA for all users and all apps; counting accounts excluded from all of them, 1 account is excluded, as expected for emergency access accounts."
    );
    assert_eq!(
        lines(&r, "Excluded accounts"),
        vec!["User 5 (user5@contoso.com) — excluded by name"]
    );
}

#[test]
fn an_excluded_role_excludes_its_holders() {
    let mut p = mfa_policy();
    p.exclude_roles = vec![role(GLOBAL_ADMIN)];
    let r = run(&with_policies(vec![p]), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        lines(&r, "Excluded accounts"),
        vec!["User 1 (user1@contoso.com) — through role Global Administrator"]
    );
    assert_eq!(
        lines(&r, "Excluded roles"),
        vec!["CA001 - Require MFA for all users: Global Administrator"]
    );
}

#[test]
fn no_policy_and_unreadable_security_defaults_is_not_collected() {
    let mut s = with_policies(vec![]);
    s.security_defaults = Collected::Failed {
        error: "HTTP 500".to_string(),
    };
    let r = run(&s, MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::NotCollected);
    assert_eq!(
        r.summary,
        "No enabled Conditional Access policy requires MFA for all users and all apps, and security defaults could not be read: HTTP 500."
    );
}

#[test]
fn admins_are_covered_by_the_all_users_policy() {
    let r = run(&healthy(), MFA_ADMINS);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "All 14 privileged roles are covered by 1 enabled policy requiring MFA for all apps (CA001 - Require MFA for all users); no administrator is excluded."
    );
    let covering = lines(&r, "Privileged roles and the policies covering them");
    assert_eq!(covering.len(), 14);
    assert_eq!(
        covering[0],
        "Global Administrator: CA001 - Require MFA for all users"
    );
}

#[test]
fn a_role_targeted_admin_policy_covers_admins_but_not_all_users() {
    let mut p = policy("ca-admins", "CA030 - MFA for administrators", &["mfa"]);
    p.include_users = Vec::new();
    p.include_roles = PRIVILEGED_ROLES.iter().map(|(id, _)| role(id)).collect();
    let s = with_policies(vec![p, legacy_policy()]);
    let admins = run(&s, MFA_ADMINS);
    assert_eq!(admins.status, ControlStatus::Pass, "{}", admins.summary);
    assert_eq!(
        admins.summary,
        "All 14 privileged roles are covered by 1 enabled policy requiring MFA for all apps (CA030 - MFA for administrators); no administrator is excluded."
    );
    let everyone = run(&s, MFA_ALL_USERS);
    assert_eq!(everyone.status, ControlStatus::Fail);
    assert_eq!(
        lines(&everyone, "Policies that do not count"),
        vec![
            "CA030 - MFA for administrators: targets Global Administrator, Application Administrator, Authentication Administrator, Billing Administrator, Cloud Application Administrator, Conditional Access Administrator, Exchange Administrator, Helpdesk Administrator, Password Administrator, Privileged Authentication Administrator, Privileged Role Administrator, Security Administrator, SharePoint Administrator and User Administrator rather than all users"
        ]
    );
}

#[test]
fn a_policy_for_global_administrators_only_leaves_thirteen_roles_uncovered() {
    let mut p = policy("ca-ga", "CA004 - MFA for global admins", &["mfa"]);
    p.include_users = Vec::new();
    p.include_roles = vec![role(GLOBAL_ADMIN)];
    let r = run(&with_policies(vec![p]), MFA_ADMINS);
    assert_eq!(r.status, ControlStatus::Fail);
    assert!(r.summary.starts_with(
        "13 of the 14 privileged roles are not covered by an enabled policy requiring MFA for all apps (Application Administrator, Authentication Administrator,"
    ), "{}", r.summary);
    assert_eq!(
        lines(&r, "Privileged roles and the policies covering them"),
        vec!["Global Administrator: CA004 - MFA for global admins"]
    );
    assert_eq!(lines(&r, "Privileged roles not covered").len(), 13);
}

#[test]
fn an_admin_policy_for_admin_portals_only_does_not_count() {
    let mut p = policy(
        "ca-portals",
        "CA004 - Phishing-resistant MFA for admins",
        &[],
    );
    p.include_users = Vec::new();
    p.include_roles = vec![role(GLOBAL_ADMIN)];
    p.include_applications = vec!["MicrosoftAdminPortals".to_string()];
    p.authentication_strength = Some(("Phishing-resistant MFA".to_string(), "mfa".to_string()));
    let r = run(&with_policies(vec![p]), MFA_ADMINS);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(lines(&r, "Privileged roles not covered").len(), 14);
    assert_eq!(
        lines(&r, "Policies that do not count"),
        vec![
            "CA004 - Phishing-resistant MFA for admins: targets MicrosoftAdminPortals rather than all cloud apps"
        ]
    );
}

#[test]
fn excluding_a_privileged_role_uncovers_it() {
    let mut p = mfa_policy();
    p.exclude_roles = vec![role(USER_ADMIN)];
    let r = run(&with_policies(vec![p]), MFA_ADMINS);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "1 of the 14 privileged roles is not covered by an enabled policy requiring MFA for all apps (User Administrator)."
    );
    assert_eq!(
        lines(&r, "Privileged roles excluded"),
        vec!["CA001 - Require MFA for all users: User Administrator"]
    );
}

#[test]
fn excluded_administrators_follow_the_break_glass_rule() {
    let mut p = mfa_policy();
    p.exclude_users = vec![user(1)];
    let r = run(&with_policies(vec![p.clone()]), MFA_ADMINS);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "All 14 privileged roles are covered by 1 enabled policy requiring MFA for all apps (CA001 - Require MFA for all users); 1 administrator is excluded, as expected for emergency access accounts."
    );
    assert_eq!(
        linked(&r, "Excluded administrators"),
        vec![(
            "User 1 (user1@contoso.com) — excluded by name".to_string(),
            Some(1001),
            None
        )]
    );

    let mut s = with_policies(vec![]);
    p.exclude_groups = vec![group("g-ops", "IT operations", &[2, 3])];
    s.ca_policies = ok(vec![p]);
    s.admins = ok(vec![
        admin(1, GLOBAL_ADMIN, Some(true)),
        admin(2, USER_ADMIN, Some(true)),
        admin(3, USER_ADMIN, Some(true)),
        admin(4, USER_ADMIN, Some(true)),
    ]);
    let r = run(&s, MFA_ADMINS);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        lines(&r, "Excluded administrators"),
        vec![
            "User 1 (user1@contoso.com) — excluded by name",
            "User 2 (user2@contoso.com) — through group IT operations",
            "User 3 (user3@contoso.com) — through group IT operations",
        ]
    );
    assert!(
        r.summary.ends_with(
            "3 administrators are excluded, more than the 2 emergency access accounts expected."
        ),
        "{}",
        r.summary
    );
}

#[test]
fn excluding_all_guests_is_a_finding_whatever_the_count() {
    let mut p = mfa_policy();
    p.exclude_users = vec![crate::model::UserRef {
        object_id: "GuestsOrExternalUsers".to_string(),
        display_name: String::new(),
        upn: String::new(),
        contact_id: None,
    }];
    let r = run(&with_policies(vec![p]), MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "Enabled policy CA001 - Require MFA for all users requires MFA for all users and all apps; all guests and external users are excluded."
    );
    assert_eq!(
        linked(&r, "Excluded accounts"),
        vec![(
            "All guests and external users — excluded by type".to_string(),
            None,
            None
        )]
    );
}
