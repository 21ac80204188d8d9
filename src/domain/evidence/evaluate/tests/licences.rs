//! Licence and collection gates across controls: not licensed and not collected are never
//! fail, and security defaults count for the MFA and legacy controls without P1.

use super::*;
use crate::model::{Collected, Licences};

#[test]
fn security_defaults_make_mfa_and_legacy_pass_without_p1() {
    let s = without_p1(true, false);
    let r = run(&s, MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "The tenant is protected by security defaults, which make every user register for MFA and require it when Microsoft sees a need."
    );
    assert_eq!(
        lines(&r, "Security defaults"),
        vec!["On (identitySecurityDefaultsEnforcementPolicy isEnabled = true)"]
    );
    let r = run(&s, MFA_ADMINS);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "The tenant is protected by security defaults, which require MFA from holders of the 14 privileged roles at every sign-in."
    );
    let r = run(&s, LEGACY_AUTH_BLOCKED);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "The tenant is protected by security defaults, which block legacy authentication for every user."
    );
    // Security defaults do not cover devices or the coverage figure.
    let r = run(&s, CA_REQUIRES_COMPLIANT_DEVICE);
    assert_eq!(r.status, ControlStatus::NotLicensed);
    assert_eq!(
        r.summary,
        "Conditional Access is not available: the tenant has no active Microsoft Entra ID P1 licence."
    );
    let r = run(&s, MFA_REGISTRATION_COVERAGE);
    assert_eq!(r.status, ControlStatus::NotLicensed);
    assert_eq!(
        r.summary,
        "The MFA registration report needs Microsoft Entra ID P1 (the tenant has no active Microsoft Entra ID P1 licence); security defaults are on, so every user is asked to register for MFA, but coverage cannot be measured."
    );
}

#[test]
fn a_lapsed_p1_is_not_licensed_even_though_policies_still_read() {
    // The CA policies are still listed (Graph answers 200 after P1 lapses) and would pass.
    let s = without_p1(false, true);
    assert!(s.ca_policies.value().is_some_and(|p| !p.is_empty()));
    for id in [MFA_ALL_USERS, MFA_ADMINS, LEGACY_AUTH_BLOCKED] {
        let r = run(&s, id);
        assert_eq!(r.status, ControlStatus::NotLicensed, "{id}");
        assert_eq!(
            r.summary,
            "Conditional Access is not available: the tenant has no active Microsoft Entra ID P1 licence (inactive subscriptions: AAD_PREMIUM Suspended), and security defaults are off."
        );
        assert_eq!(
            lines(&r, "Licences"),
            vec![
                "Microsoft Entra ID P1: not active",
                "Microsoft Entra ID P2: not active",
                "Microsoft Intune: active",
                "Subscription O365_BUSINESS_PREMIUM: Enabled",
                "Subscription AAD_PREMIUM: Suspended",
                "Licences decided from subscribedSkus",
                "Security defaults: off",
            ]
        );
    }
    let r = run(&s, MFA_REGISTRATION_COVERAGE);
    assert_eq!(r.status, ControlStatus::NotLicensed);
    assert_eq!(
        r.summary,
        "The MFA registration report needs Microsoft Entra ID P1: the tenant has no active Microsoft Entra ID P1 licence (inactive subscriptions: AAD_PREMIUM Suspended)."
    );
}

#[test]
fn without_readable_licences_graphs_own_answer_decides() {
    let mut s = healthy();
    s.licences = Collected::Failed {
        error: "HTTP 500".to_string(),
    };
    s.ca_policies = Collected::NotLicensed {
        reason: "Conditional Access needs Microsoft Entra ID P1".to_string(),
        graph_code: Some("Authentication_RequestFromNonPremiumTenantOrB2CTenant".to_string()),
    };
    let r = run(&s, MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::NotLicensed);
    assert_eq!(
        r.summary,
        "Conditional Access is not available: Conditional Access needs Microsoft Entra ID P1; Graph answered Authentication_RequestFromNonPremiumTenantOrB2CTenant, and security defaults are off."
    );
    assert_eq!(
        lines(&r, "Licences")[0],
        "The tenant's subscriptions could not be read: HTTP 500."
    );
}

#[test]
fn no_p1_with_unreadable_security_defaults_is_not_collected() {
    let mut s = without_p1(false, false);
    s.security_defaults = Collected::MissingPermission {
        permission: "Policy.Read.All".to_string(),
        graph_code: Some("Authorization_RequestDenied".to_string()),
    };
    let r = run(&s, MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::NotCollected);
    assert_eq!(
        r.summary,
        "Conditional Access is not available (the tenant has no active Microsoft Entra ID P1 licence), and without it only security defaults could satisfy this control; security defaults could not be read: grant Policy.Read.All to the Tenantry app and consent again."
    );
}

#[test]
fn unreadable_policies_are_not_collected_with_the_reason() {
    let mut s = healthy();
    s.ca_policies = Collected::Failed {
        error: "HTTP 503 after 3 attempts (request-id r-1)".to_string(),
    };
    for id in [
        MFA_ALL_USERS,
        MFA_ADMINS,
        LEGACY_AUTH_BLOCKED,
        CA_REQUIRES_COMPLIANT_DEVICE,
    ] {
        let r = run(&s, id);
        assert_eq!(r.status, ControlStatus::NotCollected, "{id}");
        assert_eq!(
            r.summary,
            "Conditional Access policies could not be read: HTTP 503 after 3 attempts (request-id r-1)."
        );
    }
    s.ca_policies = Collected::MissingPermission {
        permission: "Policy.Read.All".to_string(),
        graph_code: Some("Authorization_RequestDenied".to_string()),
    };
    let r = run(&s, MFA_ALL_USERS);
    assert_eq!(r.status, ControlStatus::NotCollected);
    assert_eq!(
        r.summary,
        "Conditional Access policies could not be read: grant Policy.Read.All to the Tenantry app and consent again."
    );
}

#[test]
fn no_intune_makes_every_device_control_not_licensed() {
    let mut s = healthy();
    s.licences = ok(Licences {
        entra_p1: true,
        entra_p2: false,
        intune: false,
        source: "subscribed_skus".to_string(),
        skus: vec![("AAD_PREMIUM".to_string(), "Enabled".to_string())],
    });
    for id in [
        DEVICE_COMPLIANCE,
        COMPLIANCE_POLICY_PER_PLATFORM,
        DEVICE_ENCRYPTION,
    ] {
        let r = run(&s, id);
        assert_eq!(r.status, ControlStatus::NotLicensed, "{id}");
        assert_eq!(
            r.summary,
            "Device compliance needs Microsoft Intune: the tenant has no active Microsoft Intune licence."
        );
    }
    // Conditional Access itself is licensed: control 8 is judged on the policies.
    assert_eq!(
        run(&s, CA_REQUIRES_COMPLIANT_DEVICE).status,
        ControlStatus::Pass
    );
}

#[test]
fn nothing_missing_is_ever_a_fail() {
    let mut s = healthy();
    s.licences = Collected::Failed {
        error: "HTTP 500".to_string(),
    };
    s.security_defaults = Collected::Failed {
        error: "HTTP 500".to_string(),
    };
    s.ca_policies = Collected::Failed {
        error: "HTTP 500".to_string(),
    };
    s.admins = Collected::Failed {
        error: "HTTP 500".to_string(),
    };
    s.registration = Collected::Failed {
        error: "HTTP 500".to_string(),
    };
    s.compliance_policies = Collected::Failed {
        error: "HTTP 500".to_string(),
    };
    s.devices = Collected::Failed {
        error: "HTTP 500".to_string(),
    };
    let prev = previous_of(&healthy());
    for r in evaluate(&s, Some(&prev)) {
        assert_eq!(
            r.status,
            ControlStatus::NotCollected,
            "{}: {}",
            r.id,
            r.summary
        );
    }
}
