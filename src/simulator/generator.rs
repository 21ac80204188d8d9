//! Deterministic sample data, generated lazily from `(seed, kind, index)`.
//!
//! WHY lazy: a 100,000-user tenant must be servable page by page in bounded memory, so no
//! object is ever materialised for the whole tenant. Every base object is a pure function of
//! the tenant's generator parameters and its index; runtime changes live in the overlay
//! (`collection.rs`). Ids embed the index (XOR-masked in the last GUID group) so that an id can
//! be mapped back to its base index without a lookup table.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

/// SplitMix64 finaliser: a cheap, well-distributed, version-stable mixer (unlike `rand`, whose
/// streams may change between releases and would silently change every generated tenant).
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of (seed, salt, index).
pub fn h(seed: u64, salt: u64, i: u64) -> u64 {
    mix(seed ^ mix(salt ^ mix(i)))
}

/// FNV-1a, used to turn names into salts.
pub fn str_hash(s: &str) -> u64 {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        x ^= u64::from(b);
        x = x.wrapping_mul(0x100_0000_01b3);
    }
    x
}

const MASK48: u64 = 0xFFFF_FFFF_FFFF;

/// A GUID-shaped id whose last group is `index ^ mask`, so [`index_of`] can invert it.
pub fn guid(seed: u64, salt: u64, i: u64) -> String {
    let a = h(seed, salt, i);
    let mask = h(seed, salt, u64::MAX) & MASK48;
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        8 + ((a >> 60) & 3),
        (a >> 40) & 0xfff,
        (i ^ mask) & MASK48
    )
}

/// Inverse of [`guid`]: the base index an id was generated from, if any.
pub fn index_of(seed: u64, salt: u64, id: &str, count: usize) -> Option<usize> {
    let last = id.get(24..36)?;
    let v = u64::from_str_radix(last, 16).ok()?;
    let mask = h(seed, salt, u64::MAX) & MASK48;
    let i = (v ^ mask) & MASK48;
    let idx = usize::try_from(i).ok()?;
    (idx < count && guid(seed, salt, i) == id).then_some(idx)
}

/// Kind salts: distinct id spaces per object kind.
pub const SALT_USER: u64 = 1;
pub const SALT_GROUP: u64 = 2;
pub const SALT_DEVICE: u64 = 3;
pub const SALT_POLICY: u64 = 4;
pub const SALT_COMPLIANCE: u64 = 5;
pub const SALT_TENANT: u64 = 6;
pub const SALT_MISC: u64 = 7;

/// Everything needed to regenerate a tenant's base objects.
#[derive(Clone, Debug)]
pub struct TenantGen {
    pub seed: u64,
    pub tenant_id: String,
    pub name: String,
    pub domain: String,
    pub initial_domain: String,
    pub users: usize,
    pub groups: usize,
    pub devices: usize,
    pub policies: usize,
    /// Fixed reference time so regenerated objects are identical across calls.
    pub anchor: DateTime<Utc>,
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn pick<'a>(list: &'a [&'a str], x: u64) -> &'a str {
    // list lengths are tiny constants; the modulo result always fits usize.
    list[(x % list.len() as u64) as usize]
}

const FIRST: [&str; 40] = [
    "Priya",
    "José",
    "Zoë",
    "Björn",
    "Łukasz",
    "Søren",
    "Chloé",
    "Mátyás",
    "Ngozi",
    "Aoife",
    "Hiroshi",
    "Fatima",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Mateo",
    "Sofía",
    "Jürgen",
    "Anaïs",
    "Dmitri",
    "Ayşe",
    "Kwame",
    "Mei",
    "Raúl",
    "Ingrid",
    "Tomás",
    "Élodie",
    "Giulia",
    "Arjun",
    "Siobhán",
    "Håkon",
    "Nadia",
    "Omar",
    "Yuki",
    "Zaid",
    "Bernadette",
    "Ciarán",
    "Małgorzata",
    "Renée",
];
const LAST: [&str; 40] = [
    "Raman",
    "Müller",
    "Núñez",
    "O'Brien",
    "García",
    "Dvořák",
    "Østergaard",
    "Smith",
    "Jones",
    "Kowalski",
    "Nakamura",
    "Okafor",
    "Rossi",
    "Dubois",
    "Fernández",
    "Schröder",
    "Nguyen",
    "Kim",
    "Papadopoulos",
    "Jensen",
    "Ivanova",
    "Yılmaz",
    "Mensah",
    "Chen",
    "López",
    "Andersson",
    "Silva",
    "Lefèvre",
    "Bianchi",
    "Patel",
    "Ní Bhriain",
    "Ødegård",
    "Haddad",
    "Farouk",
    "Tanaka",
    "Al-Sayed",
    "Murphy",
    "Byrne",
    "Wiśniewska",
    "Côté",
];
const DEPTS: [&str; 9] = [
    "Finance",
    "Sales",
    "Engineering",
    "Operations",
    "HR",
    "Marketing",
    "Legal",
    "Support",
    "IT",
];
const TITLES: [&str; 8] = [
    "Analyst",
    "Manager",
    "Engineer",
    "Coordinator",
    "Director",
    "Specialist",
    "Assistant",
    "Lead",
];
const EXT_DOMAINS: [&str; 4] = [
    "fabrikam.com",
    "gmail.com",
    "outlook.com",
    "partner.example",
];
const LANGS: [&str; 4] = ["en-GB", "en-US", "de-DE", "fr-FR"];

/// ASCII-folds a display name for use in UPNs (Microsoft UPNs are ASCII in practice).
pub fn fold(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let r = match c {
            'á' | 'à' | 'â' | 'ä' | 'å' | 'ã' => "a",
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'ě' => "e",
            'í' | 'ì' | 'î' | 'ï' | 'ı' => "i",
            'ó' | 'ò' | 'ô' | 'ö' | 'ø' | 'Ø' | 'õ' => "o",
            'ú' | 'ù' | 'û' | 'ü' => "u",
            'ñ' => "n",
            'ç' => "c",
            'ş' | 'ś' => "s",
            'ł' | 'Ł' => "l",
            'ř' => "r",
            'Å' => "a",
            'ß' => "ss",
            c if c.is_ascii_alphanumeric() => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            _ => "",
        };
        out.push_str(r);
    }
    out
}

/// User `i`. Index 0 is always the tenant's global admin `admin@{domain}`.
pub fn user(g: &TenantGen, i: usize) -> Map<String, Value> {
    let iu = i as u64;
    let x = h(g.seed, SALT_USER, iu);
    let id = guid(g.seed, SALT_USER, iu);
    let created = ts(g.anchor - Duration::days((x % 2000) as i64 + 1));
    if i == 0 {
        let upn = format!("admin@{}", g.domain);
        return obj(json!({
            "id": id, "displayName": "Global Administrator", "givenName": "Global",
            "surname": "Administrator", "mail": upn, "userPrincipalName": upn,
            "department": "IT", "jobTitle": "IT Administrator", "accountEnabled": true,
            "userType": "Member", "businessPhones": [], "mobilePhone": null,
            "officeLocation": null, "preferredLanguage": "en-GB", "createdDateTime": created,
        }));
    }
    let a = i % FIRST.len();
    let q = i / FIRST.len();
    let b = (q + 7 * a) % LAST.len();
    let suffix = i / (FIRST.len() * LAST.len());
    let (first, last) = (FIRST[a], LAST[b]);
    let mut local = format!("{}.{}", fold(first), fold(last));
    if suffix > 0 {
        local.push_str(&suffix.to_string());
    }
    let guest = i % 37 == 5;
    let (upn, mail, user_type) = if guest {
        let ext = pick(&EXT_DOMAINS, x >> 3);
        (
            format!("{local}_{ext}#EXT#@{}", g.initial_domain),
            Value::from(format!("{local}@{ext}")),
            "Guest",
        )
    } else {
        let upn = format!("{local}@{}", g.domain);
        let mail = if i % 19 == 3 {
            Value::Null
        } else {
            Value::from(upn.clone())
        };
        (upn, mail, "Member")
    };
    let dept = if x.is_multiple_of(11) {
        Value::Null
    } else {
        Value::from(pick(&DEPTS, x >> 8))
    };
    let title = if x.is_multiple_of(13) {
        Value::Null
    } else {
        Value::from(format!(
            "{} {}",
            pick(&DEPTS, x >> 8),
            pick(&TITLES, x >> 16)
        ))
    };
    let phones: Vec<String> = if x.is_multiple_of(3) {
        vec![]
    } else {
        vec![format!("+44 20 7946 {:04}", i % 10000)]
    };
    obj(json!({
        "id": id, "displayName": format!("{first} {last}"), "givenName": first, "surname": last,
        "mail": mail, "userPrincipalName": upn, "department": dept, "jobTitle": title,
        "accountEnabled": i % 23 != 7, "userType": user_type, "businessPhones": phones,
        "mobilePhone": if x.is_multiple_of(4) { Value::from(format!("+44 7700 9{:05}", i % 100000)) } else { Value::Null },
        "officeLocation": if x.is_multiple_of(5) { Value::Null } else { Value::from(format!("Floor {}", x % 6 + 1)) },
        "preferredLanguage": pick(&LANGS, x >> 20), "createdDateTime": created,
    }))
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Direct members of base group `j`: `(odata type, id)`.
///
/// Group 0 ("All Staff") holds the first 2,000 users, which spans several pages of
/// `members@delta`; every sixth group nests the previous group.
pub fn group_members(g: &TenantGen, j: usize) -> Vec<(String, String)> {
    let user_t = "#microsoft.graph.user".to_string();
    let mut out = Vec::new();
    if g.users == 0 {
        return out;
    }
    if j == 0 {
        for u in 0..g.users.min(2000) {
            out.push((user_t.clone(), guid(g.seed, SALT_USER, u as u64)));
        }
        return out;
    }
    let x = h(g.seed, SALT_GROUP, j as u64);
    let size = (3 + (x % 30) as usize).min(g.users);
    let start = ((x >> 8) % g.users as u64) as usize;
    for k in 0..size {
        let u = (start + k) % g.users;
        out.push((user_t.clone(), guid(g.seed, SALT_USER, u as u64)));
    }
    if j % 6 == 2 {
        out.push((
            "#microsoft.graph.group".into(),
            guid(g.seed, SALT_GROUP, (j - 1) as u64),
        ));
    }
    out
}

/// Group `j`: security, Microsoft 365, mail-enabled security, distribution and dynamic groups.
pub fn group(g: &TenantGen, j: usize) -> Map<String, Value> {
    let x = h(g.seed, SALT_GROUP, j as u64);
    let id = guid(g.seed, SALT_GROUP, j as u64);
    let dept = pick(&DEPTS, x >> 4);
    let created = ts(g.anchor - Duration::days((x % 1500) as i64 + 1));
    let slug = |p: &str| format!("{}{}{}", p, fold(dept), j);
    let (name, mail, mail_enabled, security, types, rule, vis): (
        String,
        Value,
        bool,
        bool,
        Value,
        Value,
        Value,
    ) = if j == 0 {
        (
            "All Staff".into(),
            format!("allstaff@{}", g.domain).into(),
            true,
            false,
            json!(["Unified"]),
            Value::Null,
            "Public".into(),
        )
    } else {
        match j % 5 {
            0 => (
                format!("SG - {dept} {j}"),
                Value::Null,
                false,
                true,
                json!([]),
                Value::Null,
                Value::Null,
            ),
            1 => (
                format!("{dept} Team {j}"),
                format!("{}@{}", slug("team-"), g.domain).into(),
                true,
                false,
                json!(["Unified"]),
                Value::Null,
                "Private".into(),
            ),
            2 => (
                format!("MESG - {dept} {j}"),
                format!("{}@{}", slug("mesg-"), g.domain).into(),
                true,
                true,
                json!([]),
                Value::Null,
                Value::Null,
            ),
            3 => (
                format!("DL - {dept} {j}"),
                format!("{}@{}", slug("dl-"), g.domain).into(),
                true,
                false,
                json!([]),
                Value::Null,
                Value::Null,
            ),
            _ => (
                format!("Dynamic - {dept} {j}"),
                Value::Null,
                false,
                true,
                json!(["DynamicMembership"]),
                format!("user.department -eq \"{dept}\"").into(),
                Value::Null,
            ),
        }
    };
    obj(json!({
        "id": id, "displayName": name,
        "description": if x.is_multiple_of(4) { Value::Null } else { Value::from(format!("{dept} group")) },
        "mail": mail, "mailEnabled": mail_enabled, "securityEnabled": security, "groupTypes": types,
        "membershipRule": rule,
        "membershipRuleProcessingState": if j % 5 == 4 && j != 0 { Value::from("On") } else { Value::Null },
        "visibility": vis, "createdDateTime": created, "onPremisesSyncEnabled": Value::Null,
        "isAssignableToRole": Value::Null,
    }))
}

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
    }))
}

/// Number of CA policies for a tenant: 3–8, seeded.
pub fn policy_count(seed: u64) -> usize {
    3 + (h(seed, SALT_POLICY, 999) % 6) as usize
}

/// Conditional Access policy `p` (0..8). The first three cover all three states; CA004 requires
/// MFA only through `authenticationStrength` (the detection trap in the contract).
pub fn policy(g: &TenantGen, p: usize) -> Map<String, Value> {
    let id = guid(g.seed, SALT_POLICY, p as u64);
    let x = h(g.seed, SALT_POLICY, p as u64);
    let admin = guid(g.seed, SALT_USER, 0);
    let created = if p % 3 == 1 {
        Value::Null
    } else {
        Value::from(ts(g.anchor - Duration::days((x % 700) as i64 + 30)))
    };
    let modified = if created.is_null() {
        Value::Null
    } else {
        Value::from(ts(g.anchor - Duration::days((x % 29) as i64)))
    };
    let (name, state, apps, client_apps, controls, strength, session, op) = match p {
        0 => (
            "CA001 - Require MFA for all users",
            "enabled",
            "All",
            json!(["all"]),
            json!(["mfa"]),
            Value::Null,
            Value::Null,
            "OR",
        ),
        1 => (
            "CA002 - Block legacy authentication",
            "enabledForReportingButNotEnforced",
            "All",
            json!(["exchangeActiveSync", "other"]),
            json!(["block"]),
            Value::Null,
            Value::Null,
            "OR",
        ),
        2 => (
            "CA003 - Require compliant device",
            "disabled",
            "Office365",
            json!(["all"]),
            json!(["compliantDevice", "domainJoinedDevice"]),
            Value::Null,
            Value::Null,
            "OR",
        ),
        3 => (
            "CA004 - Phishing-resistant MFA for admins",
            "enabled",
            "MicrosoftAdminPortals",
            json!(["all"]),
            json!([]),
            json!({
            "id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA",
            "description": "Include two-factor authentication methods that are phishing-resistant",
            "policyType": "builtIn", "requirementsSatisfied": "mfa",
            "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
            "createdDateTime": "2021-12-01T08:00:00Z", "modifiedDateTime": "2021-12-01T08:00:00Z"}),
            Value::Null,
            "OR",
        ),
        4 => (
            "CA005 - Sign-in frequency for guests",
            "enabled",
            "All",
            json!(["browser", "mobileAppsAndDesktopClients"]),
            json!(["mfa"]),
            Value::Null,
            json!({
            "applicationEnforcedRestrictions": null, "cloudAppSecurity": null, "persistentBrowser": null,
            "disableResilienceDefaults": null,
            "signInFrequency": {"value": 4, "type": "hours", "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased", "isEnabled": true}}),
            "OR",
        ),
        5 => (
            "CA006 - High user risk requires password change",
            "enabledForReportingButNotEnforced",
            "All",
            json!(["all"]),
            json!(["mfa", "passwordChange"]),
            Value::Null,
            Value::Null,
            "AND",
        ),
        6 => (
            "CA007 - Approved apps on mobile",
            "disabled",
            "Office365",
            json!(["mobileAppsAndDesktopClients"]),
            json!(["approvedApplication", "compliantApplication"]),
            Value::Null,
            Value::Null,
            "OR",
        ),
        _ => (
            "CA008 - Block access from unknown platforms",
            "enabled",
            "All",
            json!(["all"]),
            json!(["block"]),
            Value::Null,
            Value::Null,
            "OR",
        ),
    };
    let strength_ctx = format!(
        "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('{id}')/grantControls/authenticationStrength/$entity"
    );
    obj(json!({
        "id": id, "templateId": null, "displayName": name, "description": null,
        "createdDateTime": created, "modifiedDateTime": modified, "state": state,
        "sessionControls": session,
        "conditions": {
            "clientAppTypes": client_apps, "signInRiskLevels": [],
            "userRiskLevels": if p == 5 { json!(["high"]) } else { json!([]) },
            "servicePrincipalRiskLevels": [],
            "platforms": if p == 7 { json!({"includePlatforms": ["all"], "excludePlatforms": ["android", "iOS", "windows", "macOS"]}) } else { Value::Null },
            "locations": null, "devices": null,
            "applications": {"includeApplications": [apps], "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": [], "applicationFilter": null},
            "users": {
                "includeUsers": if p == 4 { json!(["GuestsOrExternalUsers"]) } else { json!(["All"]) },
                "excludeUsers": if p == 3 { json!([]) } else { json!([admin]) },
                "includeGroups": [], "excludeGroups": [],
                "includeRoles": if p == 3 { json!(["62e90394-69f5-4237-9190-012177145e10"]) } else { json!([]) },
                "excludeRoles": [], "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null,
            },
        },
        "grantControls": {
            "operator": op, "builtInControls": controls, "customAuthenticationFactors": [], "termsOfUse": [],
            "authenticationStrength@odata.context": strength_ctx, "authenticationStrength": strength,
        },
    }))
}

/// MFA registration row for a user, derived from the user's current properties.
pub fn registration(
    g: &TenantGen,
    user: &Map<String, Value>,
    index: Option<usize>,
) -> Map<String, Value> {
    let id = user
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let x = h(g.seed, SALT_MISC ^ 0xA5, str_hash(&id));
    let is_admin = index == Some(0) || x % 97 == 1;
    let registered = is_admin && index == Some(0) || x % 10 < 7;
    let guest = user.get("userType").and_then(Value::as_str) == Some("Guest");
    let (methods, sys, pref): (Value, Value, Value) = if !registered {
        (json!([]), json!([]), "none".into())
    } else {
        match x % 4 {
            0 => (
                json!(["microsoftAuthenticatorPush", "softwareOneTimePasscode"]),
                json!(["push"]),
                "push".into(),
            ),
            1 => (json!(["mobilePhone"]), json!(["sms"]), "sms".into()),
            2 => (
                json!(["fido2", "microsoftAuthenticatorPush"]),
                json!(["push"]),
                "push".into(),
            ),
            _ => (
                json!(["softwareOneTimePasscode", "email"]),
                json!(["oath"]),
                "oath".into(),
            ),
        }
    };
    obj(json!({
        "id": id,
        "userPrincipalName": user.get("userPrincipalName").cloned().unwrap_or(Value::Null),
        "userDisplayName": user.get("displayName").cloned().unwrap_or(Value::Null),
        "userType": if guest { "guest" } else { "member" },
        "isAdmin": is_admin, "isMfaCapable": registered, "isMfaRegistered": registered,
        "isPasswordlessCapable": registered && x % 4 == 2, "isSsprCapable": registered,
        "isSsprEnabled": !x.is_multiple_of(5), "isSsprRegistered": registered,
        "isSystemPreferredAuthenticationMethodEnabled": true,
        "methodsRegistered": methods, "systemPreferredAuthenticationMethods": sys,
        "userPreferredMethodForSecondaryAuthentication": pref,
        "lastUpdatedDateTime": ts(g.anchor - Duration::hours((x % 30) as i64 + 1)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_invert() {
        for i in [0u64, 1, 99, 99_999] {
            let id = guid(42, SALT_USER, i);
            assert_eq!(index_of(42, SALT_USER, &id, 100_000), Some(i as usize));
        }
        assert_eq!(index_of(42, SALT_GROUP, &guid(42, SALT_USER, 3), 100), None);
    }
}
