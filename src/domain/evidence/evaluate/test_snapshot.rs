//! Test-only builders: a healthy, fully licensed tenant every control passes on, and the
//! pieces tests change to break one control at a time.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};

use super::roles::PRIVILEGED_ROLES;
use crate::model::{
    AdminFacts, CaPolicyFacts, Collected, CompliancePolicyFacts, DeviceFacts, DeviceRef,
    EvidenceSnapshot, EvidenceThresholds, GroupRef, Licences, PayloadHash, RegistrationFacts,
    RegistrationSource, RoleRef, UserRef,
};

pub(crate) fn ok<T>(value: T) -> Collected<T> {
    Collected::Collected { value }
}

/// User `n`: "User n (user{n}@contoso.com)", contact id 1000 + n.
pub(crate) fn user(n: u64) -> UserRef {
    UserRef {
        object_id: format!("u-{n}"),
        display_name: format!("User {n}"),
        upn: format!("user{n}@contoso.com"),
        contact_id: Some(1000 + n),
    }
}

pub(crate) fn role(template_id: &str) -> RoleRef {
    let name = PRIVILEGED_ROLES
        .iter()
        .find(|(id, _)| *id == template_id)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| template_id.to_string());
    RoleRef {
        template_id: template_id.to_string(),
        display_name: name,
    }
}

pub(crate) const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
pub(crate) const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";

pub(crate) fn admin(n: u64, template_id: &str, registered: Option<bool>) -> AdminFacts {
    AdminFacts {
        user: user(n),
        roles: vec![role(template_id)],
        mfa_registered: registered,
    }
}

pub(crate) fn group(id: &str, name: &str, members: &[u64]) -> GroupRef {
    GroupRef {
        object_id: id.to_string(),
        display_name: name.to_string(),
        members: members.iter().map(|n| user(*n)).collect(),
    }
}

pub(crate) fn device(asset_id: u64, platform: &str) -> DeviceRef {
    DeviceRef {
        asset_id,
        hostname: format!("PC-{asset_id}"),
        platform: platform.to_string(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// An enabled policy for all users, all apps, all client apps, granting `controls` with OR.
pub(crate) fn policy(id: &str, name: &str, controls: &[&str]) -> CaPolicyFacts {
    CaPolicyFacts {
        id: id.to_string(),
        display_name: name.to_string(),
        state: "enabled".to_string(),
        include_users: strings(&["All"]),
        include_applications: strings(&["All"]),
        client_app_types: strings(&["all"]),
        grant_operator: "OR".to_string(),
        built_in_controls: strings(controls),
        ..CaPolicyFacts::default()
    }
}

pub(crate) fn mfa_policy() -> CaPolicyFacts {
    policy("ca-mfa", "CA001 - Require MFA for all users", &["mfa"])
}

pub(crate) fn legacy_policy() -> CaPolicyFacts {
    let mut p = policy(
        "ca-legacy",
        "CA002 - Block legacy authentication",
        &["block"],
    );
    p.client_app_types = strings(&["exchangeActiveSync", "other"]);
    p
}

pub(crate) fn device_policy() -> CaPolicyFacts {
    policy(
        "ca-device",
        "CA003 - Require compliant device",
        &["compliantDevice", "domainJoinedDevice"],
    )
}

pub(crate) fn compliance_policy(id: &str, name: &str, platform: &str) -> CompliancePolicyFacts {
    CompliancePolicyFacts {
        id: id.to_string(),
        display_name: name.to_string(),
        policy_type: format!("{platform}CompliancePolicy"),
        platform: platform.to_string(),
        version: Some(1),
        settings: BTreeMap::from([
            ("passwordRequired".to_string(), "true".to_string()),
            ("storageRequireEncryption".to_string(), "true".to_string()),
        ]),
        ..CompliancePolicyFacts::default()
    }
}

/// A tenant where every control passes: P1 and Intune, security defaults off, MFA / legacy /
/// device policies, two registered admins, 20 of 20 members registered, 10 compliant and
/// encrypted Windows devices with a Windows compliance policy.
pub(crate) fn healthy() -> EvidenceSnapshot {
    EvidenceSnapshot {
        id: 2,
        company_id: 7,
        tenant_id: "tenant-1".to_string(),
        collected_at: Utc.with_ymd_and_hms(2026, 12, 1, 6, 15, 0).unwrap(),
        job_id: Some(99),
        thresholds: EvidenceThresholds::default(),
        licences: ok(Licences {
            entra_p1: true,
            entra_p2: false,
            intune: true,
            source: "subscribed_skus".to_string(),
            skus: vec![("SPB".to_string(), "Enabled".to_string())],
        }),
        security_defaults: ok(false),
        ca_policies: ok(vec![mfa_policy(), legacy_policy(), device_policy()]),
        admins: ok(vec![
            admin(1, GLOBAL_ADMIN, Some(true)),
            admin(2, USER_ADMIN, Some(true)),
        ]),
        registration: ok(RegistrationFacts {
            members_total: 20,
            members_registered: 20,
            members_unregistered: Vec::new(),
            members_registered_not_capable: Vec::new(),
            guests_total: 3,
            guests_registered: 1,
        }),
        registration_source: Some(RegistrationSource::Report),
        compliance_policies: ok(vec![compliance_policy(
            "cp-win",
            "Windows baseline",
            "windows10",
        )]),
        devices: ok(DeviceFacts {
            managed_total: 10,
            compliant: 10,
            encrypted: 10,
            platforms: BTreeMap::from([("Windows".to_string(), 10)]),
            ..DeviceFacts::default()
        }),
        payloads: vec![PayloadHash {
            source: "identity/conditionalAccess/policies".to_string(),
            pages: 1,
            sha256: "ab".repeat(32),
            request_id: Some("req-1".to_string()),
            http_status: 200,
        }],
    }
}

/// The same tenant one collection earlier (id 1), with nothing changed.
pub(crate) fn previous_of(s: &EvidenceSnapshot) -> EvidenceSnapshot {
    let mut p = s.clone();
    p.id = s.id - 1;
    p.collected_at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 15, 0).unwrap();
    p
}

/// A tenant without Entra ID P1 (`lapsed`: the SKU is suspended) and with security defaults
/// as given; CA policies still readable, as Graph does after P1 lapses.
pub(crate) fn without_p1(security_defaults: bool, lapsed: bool) -> EvidenceSnapshot {
    let mut s = healthy();
    s.licences = ok(Licences {
        entra_p1: false,
        entra_p2: false,
        intune: true,
        source: "subscribed_skus".to_string(),
        skus: if lapsed {
            vec![
                ("O365_BUSINESS_PREMIUM".to_string(), "Enabled".to_string()),
                ("AAD_PREMIUM".to_string(), "Suspended".to_string()),
            ]
        } else {
            vec![("O365_BUSINESS_PREMIUM".to_string(), "Enabled".to_string())]
        },
    });
    s.security_defaults = ok(security_defaults);
    s.registration = Collected::NotLicensed {
        reason: "the registration report needs Microsoft Entra ID P1".to_string(),
        graph_code: Some("Authentication_RequestFromNonPremiumTenantOrB2CTenant".to_string()),
    };
    s.registration_source = Some(RegistrationSource::PerUserMethods);
    s
}
