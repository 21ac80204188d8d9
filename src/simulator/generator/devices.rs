//! Intune managed devices and compliance policies.

use chrono::Duration;
use serde_json::{Map, Value, json};

use super::people::{FIRST, fold, obj, user};
use super::{SALT_COMPLIANCE, SALT_DEVICE, SALT_MISC, TenantGen, guid, h, ts};

/// Every value of Microsoft's `complianceState` enum appears in any run of 10 devices.
const COMPLIANCE: [&str; 10] = [
    "compliant",
    "compliant",
    "noncompliant",
    "compliant",
    "unknown",
    "conflict",
    "compliant",
    "error",
    "inGracePeriod",
    "configManager",
];

fn device_raw_name(g: &TenantGen, k: usize) -> String {
    let x = h(g.seed, SALT_DEVICE, k as u64);
    let prefix: String = fold(&g.name)
        .chars()
        .take(3)
        .collect::<String>()
        .to_uppercase();
    match x % 10 {
        6 => format!("{}s-MacBook-Pro", fold(FIRST[k % FIRST.len()])),
        7 => format!("{}'s iPhone", FIRST[k % FIRST.len()]),
        8 => format!("Galaxy-S2{}", x % 5),
        3 => format!("{prefix}-DT-{k:04}"),
        _ => format!("{prefix}-LT-{k:04}"),
    }
}

/// Intune managed device `k`, including placeholder serials and duplicate hostnames.
pub fn device(g: &TenantGen, k: usize) -> Map<String, Value> {
    let x = h(g.seed, SALT_DEVICE, k as u64);
    let id = guid(g.seed, SALT_DEVICE, k as u64);
    let name = if k % 29 == 28 {
        device_raw_name(g, k - 1)
    } else {
        device_raw_name(g, k)
    };
    let (os, ver, manu, model) = match x % 10 {
        6 => ("macOS", "14.6.1", "Apple", "MacBook Pro (14-inch, 2023)"),
        7 => ("iOS", "17.5.1", "Apple", "iPhone 15"),
        8 => ("Android", "14", "samsung", "SM-S921B"),
        3 => ("Windows", "10.0.19045.4780", "Dell Inc.", "OptiPlex 7010"),
        _ => ("Windows", "10.0.26100.2894", "LENOVO", "ThinkPad T14 Gen 5"),
    };
    let serial = match k % 17 {
        2 => String::new(),
        5 => "To be filled by O.E.M.".into(),
        9 => "0".into(),
        _ => format!("{:010X}", (x >> 20) & 0xFF_FFFF_FFFF)
            .chars()
            .take(8)
            .collect(),
    };
    let state = COMPLIANCE[k % COMPLIANCE.len()];
    let (upn, uid, uname, email) = if g.users > 0 {
        let u = user(g, (k * 7 + 1) % g.users);
        (
            u.get("userPrincipalName").cloned().unwrap_or(Value::Null),
            u.get("id").cloned().unwrap_or(Value::Null),
            u.get("displayName").cloned().unwrap_or(Value::Null),
            u.get("mail").cloned().unwrap_or(Value::Null),
        )
    } else {
        (Value::Null, Value::Null, Value::Null, Value::Null)
    };
    let enrolled = g.anchor - Duration::days((x % 900) as i64 + 10);
    let synced = g.anchor - Duration::minutes(((x >> 12) % (60 * 24 * 40)) as i64);
    let grace = if state == "inGracePeriod" {
        ts(g.anchor + Duration::days(3))
    } else {
        "9999-12-31T23:59:59Z".into()
    };
    let owner = match (os, x % 7) {
        (_, 0) => "unknown",
        ("iOS" | "Android", 1..=3) => "personal",
        _ => "company",
    };
    obj(json!({
        "id": id, "deviceName": name,
        "managedDeviceName": format!("{}_{}_{}", fold(&name), os, enrolled.format("%-m/%-d/%Y_%-I:%M %p")),
        "operatingSystem": os, "osVersion": ver, "serialNumber": serial, "complianceState": state,
        "lastSyncDateTime": ts(synced), "enrolledDateTime": ts(enrolled),
        "userPrincipalName": upn, "userId": uid, "userDisplayName": uname, "emailAddress": email,
        "azureADDeviceId": if k % 13 == 4 { "00000000-0000-0000-0000-000000000000".to_string() } else { guid(g.seed, SALT_MISC, k as u64) },
        "manufacturer": manu, "model": model, "managedDeviceOwnerType": owner,
        "managementAgent": if state == "configManager" { "configurationManagerClientMdm" } else { "mdm" },
        "complianceGracePeriodExpirationDateTime": grace,
        // Mostly encrypted; some non-compliant devices are not (the usual reason they fail).
        "isEncrypted": !(k % 11 == 5 || (state == "noncompliant" && (x >> 8).is_multiple_of(2))),
        // A string, not a boolean: Intune reports "Unknown" where it cannot tell (desktops).
        "jailBroken": if matches!(os, "iOS" | "Android") { "False" } else { "Unknown" },
        "isSupervised": os == "iOS" && owner == "company",
        "deviceEnrollmentType": if os == "Windows" { "windowsAzureADJoin" } else { "userEnrollment" },
        "managementState": "managed",
        "totalStorageSpaceInBytes": 256_000_000_000_i64, "freeStorageSpaceInBytes": ((x >> 4) % 200_000_000_000) as i64,
    }))
}

/// Intune compliance policies: one per platform, polymorphic like Microsoft's list.
pub fn compliance_policies(g: &TenantGen) -> Vec<Map<String, Value>> {
    let at = |d: i64| ts(g.anchor - Duration::days(d));
    let id = |n: u64| guid(g.seed, SALT_COMPLIANCE, n);
    vec![
        obj(
            json!({"@odata.type": "#microsoft.graph.windows10CompliancePolicy", "id": id(0), "displayName": "Windows - Baseline compliance", "description": "BitLocker, Secure Boot, min OS", "createdDateTime": at(400), "lastModifiedDateTime": at(20), "version": 4, "bitLockerEnabled": true, "secureBootEnabled": true, "codeIntegrityEnabled": true, "osMinimumVersion": "10.0.19045", "passwordRequired": true}),
        ),
        obj(
            json!({"@odata.type": "#microsoft.graph.iosCompliancePolicy", "id": id(1), "displayName": "iOS - Minimum OS and passcode", "description": null, "createdDateTime": at(380), "lastModifiedDateTime": at(60), "version": 2, "osMinimumVersion": "16.0", "passcodeRequired": true, "securityBlockJailbrokenDevices": true}),
        ),
        obj(
            json!({"@odata.type": "#microsoft.graph.androidCompliancePolicy", "id": id(2), "displayName": "Android - Baseline", "description": "", "createdDateTime": at(350), "lastModifiedDateTime": at(90), "version": 1, "osMinimumVersion": "12", "passwordRequired": true, "securityBlockJailbrokenDevices": true, "storageRequireEncryption": true}),
        ),
        obj(
            json!({"@odata.type": "#microsoft.graph.macOSCompliancePolicy", "id": id(3), "displayName": "macOS - FileVault and firewall", "description": null, "createdDateTime": at(300), "lastModifiedDateTime": at(5), "version": 3, "storageRequireEncryption": true, "firewallEnabled": true, "systemIntegrityProtectionEnabled": true, "osMinimumVersion": "13.0"}),
        ),
    ]
}
