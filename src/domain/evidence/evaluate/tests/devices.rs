use std::collections::BTreeMap;

use super::*;
use crate::model::{Collected, DeviceFacts};

fn fleet(total: u64, non_compliant: &[u64], in_grace: &[u64]) -> DeviceFacts {
    DeviceFacts {
        managed_total: total,
        compliant: total - non_compliant.len() as u64 - in_grace.len() as u64,
        non_compliant: non_compliant
            .iter()
            .map(|id| device(*id, "Windows"))
            .collect(),
        in_grace: in_grace.iter().map(|id| device(*id, "Windows")).collect(),
        encrypted: total,
        platforms: BTreeMap::from([("Windows".to_string(), total)]),
        ..DeviceFacts::default()
    }
}

#[test]
fn compliance_at_the_threshold_passes_and_lists_devices_with_asset_links() {
    let mut s = healthy();
    s.devices = ok(fleet(10, &[5], &[]));
    let r = run(&s, DEVICE_COMPLIANCE);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "9 of 10 managed devices are compliant (90 %), meeting the 90 % threshold; 1 not compliant and 0 in grace period."
    );
    assert_eq!(r.percent, Some(90.0));
    assert_eq!(
        linked(&r, "Not compliant"),
        vec![("PC-5 (Windows)".to_string(), None, Some(5))]
    );
}

#[test]
fn devices_in_grace_count_against_compliance() {
    let mut s = healthy();
    s.devices = ok(fleet(10, &[5], &[6]));
    let r = run(&s, DEVICE_COMPLIANCE);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "8 of 10 managed devices are compliant (80 %), below the 90 % threshold; 1 not compliant and 1 in grace period."
    );
    assert_eq!(
        linked(&r, "In grace period"),
        vec![("PC-6 (Windows)".to_string(), None, Some(6))]
    );
}

#[test]
fn no_managed_devices_is_manual_and_unreadable_devices_not_collected() {
    let mut s = healthy();
    s.devices = ok(DeviceFacts::default());
    for id in [
        DEVICE_COMPLIANCE,
        COMPLIANCE_POLICY_PER_PLATFORM,
        DEVICE_ENCRYPTION,
    ] {
        let r = run(&s, id);
        assert_eq!(r.status, ControlStatus::Manual, "{id}");
        assert_eq!(
            r.summary,
            "The tenant has no Intune-managed devices to measure."
        );
    }
    s.devices = Collected::Failed {
        error: "identity sync has not run yet".to_string(),
    };
    let r = run(&s, DEVICE_COMPLIANCE);
    assert_eq!(r.status, ControlStatus::NotCollected);
    assert_eq!(
        r.summary,
        "Managed devices could not be read: identity sync has not run yet."
    );
}

#[test]
fn every_platform_needs_a_compliance_policy() {
    let r = run(&healthy(), COMPLIANCE_POLICY_PER_PLATFORM);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "Every platform among managed devices (Windows) has a compliance policy."
    );
    assert_eq!(
        lines(&r, "Platforms and their compliance policies"),
        vec!["Windows (10 devices): Windows baseline"]
    );

    let mut s = healthy();
    let mut d = fleet(10, &[], &[]);
    d.platforms = BTreeMap::from([("Windows".to_string(), 8), ("macOS".to_string(), 2)]);
    s.devices = ok(d);
    let r = run(&s, COMPLIANCE_POLICY_PER_PLATFORM);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(r.summary, "No compliance policy covers macOS (2 devices).");
    assert_eq!(
        lines(&r, "Platforms without a compliance policy"),
        vec!["macOS (2 devices)"]
    );
}

#[test]
fn a_policys_type_stands_in_for_its_platform_and_ipads_are_ios() {
    let mut s = healthy();
    let mut d = fleet(3, &[], &[]);
    d.platforms = BTreeMap::from([("iPadOS".to_string(), 1), ("iOS".to_string(), 2)]);
    s.devices = ok(d);
    let mut ios = compliance_policy("cp-ios", "iOS baseline", "ios");
    ios.platform = String::new();
    ios.policy_type = "iosCompliancePolicy".to_string();
    s.compliance_policies = ok(vec![ios]);
    let r = run(&s, COMPLIANCE_POLICY_PER_PLATFORM);
    assert_eq!(r.status, ControlStatus::Pass, "{}", r.summary);
    assert_eq!(
        lines(&r, "Platforms and their compliance policies"),
        vec!["iOS/iPadOS (3 devices): iOS baseline"]
    );
}

#[test]
fn unreadable_compliance_policies_are_not_collected() {
    let mut s = healthy();
    s.compliance_policies = Collected::MissingPermission {
        permission: "DeviceManagementConfiguration.Read.All".to_string(),
        graph_code: Some("Authorization_RequestDenied".to_string()),
    };
    let r = run(&s, COMPLIANCE_POLICY_PER_PLATFORM);
    assert_eq!(r.status, ControlStatus::NotCollected);
    assert_eq!(
        r.summary,
        "Compliance policies could not be read: grant DeviceManagementConfiguration.Read.All to the Tenantry app and consent again."
    );
}

#[test]
fn a_compliance_requirement_in_conditional_access_passes_with_the_policy_named() {
    let r = run(&healthy(), CA_REQUIRES_COMPLIANT_DEVICE);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(
        r.summary,
        "Enabled policy CA003 - Require compliant device requires a compliant or hybrid Microsoft Entra joined device for all users and all apps; no account is excluded."
    );
    assert_eq!(
        lines(&r, "Policies that require a managed device"),
        vec![
            "CA003 - Require compliant device: requires a compliant device or a hybrid Microsoft Entra joined device"
        ]
    );
}

#[test]
fn a_disabled_or_narrow_device_policy_fails() {
    let mut s = healthy();
    let mut p = device_policy();
    p.state = "disabled".to_string();
    p.include_applications = vec!["Office365".to_string()];
    let mut or_mfa = policy(
        "ca-dev-mfa",
        "CA015 - Device or MFA",
        &["compliantDevice", "mfa"],
    );
    or_mfa.grant_operator = "OR".to_string();
    s.ca_policies = ok(vec![mfa_policy(), p, or_mfa]);
    let r = run(&s, CA_REQUIRES_COMPLIANT_DEVICE);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "No enabled Conditional Access policy requires a compliant or hybrid Microsoft Entra joined device for all users and all apps."
    );
    assert_eq!(
        lines(&r, "Policies that do not count"),
        vec![
            "CA003 - Require compliant device: disabled; targets Office365 rather than all cloud apps",
            "CA015 - Device or MFA: lets users satisfy it with mfa instead of a managed device",
        ]
    );
}

#[test]
fn encryption_lists_the_devices_that_are_not() {
    let r = run(&healthy(), DEVICE_ENCRYPTION);
    assert_eq!(r.status, ControlStatus::Pass);
    assert_eq!(r.summary, "Every managed device (10) is encrypted.");
    assert_eq!(r.percent, Some(100.0));

    let mut s = healthy();
    let mut d = fleet(10, &[], &[]);
    d.encrypted = 8;
    d.not_encrypted = vec![device(3, "Windows"), device(4, "macOS")];
    s.devices = ok(d);
    let r = run(&s, DEVICE_ENCRYPTION);
    assert_eq!(r.status, ControlStatus::Fail);
    assert_eq!(
        r.summary,
        "8 of 10 managed devices are encrypted (80 %); 2 are not."
    );
    assert_eq!(
        linked(&r, "Not encrypted"),
        vec![
            ("PC-3 (Windows)".to_string(), None, Some(3)),
            ("PC-4 (macOS)".to_string(), None, Some(4)),
        ]
    );
}

#[test]
fn unread_encryption_is_not_collected_rather_than_guessed() {
    let mut s = healthy();
    let mut d = fleet(10, &[], &[]);
    d.encrypted = 7;
    d.encryption_unknown = 3;
    s.devices = ok(d);
    let r = run(&s, DEVICE_ENCRYPTION);
    assert_eq!(r.status, ControlStatus::NotCollected);
    assert_eq!(
        r.summary,
        "7 of 10 managed devices are encrypted and none is known to be unencrypted, but the state of 3 devices has not been read yet; run identity sync."
    );
    assert_eq!(r.percent, Some(70.0));
}
