use super::*;
use crate::model::{Collected, RegistrationFacts, RegistrationSource};

fn coverage(registered: u64, total: u64) -> RegistrationFacts {
    RegistrationFacts {
        members_total: total,
        members_registered: registered,
        members_unregistered: (1..=total - registered).map(|n| user(100 + n)).collect(),
        members_registered_not_capable: Vec::new(),
        guests_total: 3,
        guests_registered: 1,
    }
}

#[test]
fn every_admin_registered_passes() {
    let r = run(&healthy(), ADMINS_MFA_REGISTERED);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "All 2 administrators are registered for MFA (from the MFA registration report)."
    );
    assert_eq!(
        lines(&r, "Registered for MFA"),
        vec![
            "User 1 (user1@contoso.com) — Global Administrator",
            "User 2 (user2@contoso.com) — User Administrator",
        ]
    );
}

#[test]
fn an_unregistered_admin_fails_and_is_named_with_a_link() {
    let mut s = healthy();
    s.admins = ok(vec![
        admin(1, GLOBAL_ADMIN, Some(true)),
        admin(2, USER_ADMIN, Some(false)),
        admin(3, USER_ADMIN, None),
    ]);
    let r = run(&s, ADMINS_MFA_REGISTERED);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "1 of 3 administrators is not registered for MFA: User 2 (user2@contoso.com)."
    );
    assert_eq!(
        linked(&r, "Not registered for MFA"),
        vec![(
            "User 2 (user2@contoso.com) — User Administrator".to_string(),
            Some(1002),
            None
        )]
    );
    assert_eq!(
        lines(&r, "Registration unknown"),
        vec!["User 3 (user3@contoso.com) — User Administrator"]
    );
}

#[test]
fn unknown_registration_is_not_collected_or_not_licensed_never_fail() {
    let mut s = healthy();
    s.admins = ok(vec![
        admin(1, GLOBAL_ADMIN, Some(true)),
        admin(2, USER_ADMIN, None),
    ]);
    s.registration = Collected::Failed {
        error: "HTTP 429 after 5 attempts".to_string(),
    };
    let r = run(&s, ADMINS_MFA_REGISTERED);
    assert_eq!(r.status, ControlStatus::NotCollected);
    assert_eq!(
        r.summary,
        "The MFA registration of 1 of 2 administrators is unknown: the MFA registration report could not be read: HTTP 429 after 5 attempts."
    );
    s.registration = Collected::NotLicensed {
        reason: "the registration report needs Microsoft Entra ID P1".to_string(),
        graph_code: None,
    };
    assert_eq!(
        run(&s, ADMINS_MFA_REGISTERED).status,
        ControlStatus::NotLicensed
    );
}

#[test]
fn without_p1_each_admins_methods_decide() {
    let s = without_p1(false, false);
    let r = run(&s, ADMINS_MFA_REGISTERED);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "All 2 administrators are registered for MFA (from each administrator's authentication methods)."
    );
    assert_eq!(
        s.registration_source,
        Some(RegistrationSource::PerUserMethods)
    );
}

#[test]
fn no_privileged_role_holder_is_for_a_person_to_check() {
    let mut s = healthy();
    s.admins = ok(Vec::new());
    let r = run(&s, ADMINS_MFA_REGISTERED);
    assert_eq!(r.status, ControlStatus::Manual);
}

#[test]
fn unreadable_role_assignments_say_which_permission_to_grant() {
    let mut s = healthy();
    s.admins = Collected::MissingPermission {
        permission: "RoleManagement.Read.Directory".to_string(),
        graph_code: Some("Authorization_RequestDenied".to_string()),
    };
    let r = run(&s, ADMINS_MFA_REGISTERED);
    assert_eq!(r.status, ControlStatus::NotCollected);
    assert_eq!(
        r.summary,
        "Role assignments could not be read: grant RoleManagement.Read.Directory to the Tenantry app and consent again."
    );
}

#[test]
fn exactly_the_threshold_passes() {
    let mut s = healthy();
    s.registration = ok(coverage(19, 20));
    let r = run(&s, MFA_REGISTRATION_COVERAGE);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "19 of 20 enabled member users are registered for MFA (95 %), meeting the 95 % threshold."
    );
    assert_eq!(r.percent, Some(95.0));
    assert_eq!(
        linked(&r, "Members not registered for MFA"),
        vec![(
            "User 101 (user101@contoso.com)".to_string(),
            Some(1101),
            None
        )]
    );
}

#[test]
fn below_the_threshold_fails_and_lists_who_is_missing() {
    let mut s = healthy();
    s.registration = ok(coverage(189, 200));
    let r = run(&s, MFA_REGISTRATION_COVERAGE);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "189 of 200 enabled member users are registered for MFA (94.5 %), below the 95 % threshold."
    );
    assert_eq!(lines(&r, "Members not registered for MFA").len(), 11);
    // The company's own threshold is the one applied.
    s.thresholds.mfa_registration_pct = 90;
    let r = run(&s, MFA_REGISTRATION_COVERAGE);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        lines(&r, "Threshold"),
        vec!["90 % of enabled member users (company setting)"]
    );
}

#[test]
fn guests_are_shown_apart_and_not_counted() {
    let mut s = healthy();
    let mut facts = coverage(20, 20);
    facts.guests_total = 40;
    facts.guests_registered = 0;
    facts.members_registered_not_capable = vec![user(6)];
    s.registration = ok(facts);
    let r = run(&s, MFA_REGISTRATION_COVERAGE);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        lines(&r, "Guests (not counted)"),
        vec!["0 of 40 guests registered"]
    );
    assert_eq!(
        lines(
            &r,
            "Registered but not capable (a method disabled by policy)"
        ),
        vec!["User 6 (user6@contoso.com)"]
    );
}

#[test]
fn no_members_is_manual_and_an_unreadable_report_not_collected() {
    let mut s = healthy();
    s.registration = ok(coverage(0, 0));
    assert_eq!(
        run(&s, MFA_REGISTRATION_COVERAGE).status,
        ControlStatus::Manual
    );
    s.registration = Collected::MissingPermission {
        permission: "AuditLog.Read.All".to_string(),
        graph_code: None,
    };
    let r = run(&s, MFA_REGISTRATION_COVERAGE);
    assert_eq!(r.status, ControlStatus::NotCollected);
    assert_eq!(
        r.summary,
        "The MFA registration report could not be read: grant AuditLog.Read.All to the Tenantry app and consent again."
    );
}
