//! Users, groups (with memberships) and MFA registration rows.

use chrono::Duration;
use serde_json::{Map, Value, json};

use super::{SALT_GROUP, SALT_MISC, SALT_USER, TenantGen, guid, h, pick, str_hash, ts};

pub(crate) const FIRST: [&str; 40] = [
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

pub(crate) fn obj(v: Value) -> Map<String, Value> {
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
    // Admin status follows the directory role assignments (`evidence::role_assignments`), as the
    // real report derives it from roles; users added at runtime hold no role.
    let is_admin = index.is_some_and(|i| super::evidence::is_admin(g, i));
    let registered = index == Some(0) || x % 10 < 7;
    // SSPR capability needs both registration and the SSPR policy covering the user, so some
    // users are registered but not capable, and capable always implies enabled.
    let sspr_enabled = index == Some(0) || !x.is_multiple_of(5);
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
    // Capable = registered with a method the tenant's policy allows (SMS-only users are not
    // capable where SMS is off; passwordless needs FIDO2 on).
    let (sms_on, fido2_on) = super::evidence::method_states(g);
    let mfa_capable = registered && (x % 4 != 1 || sms_on);
    let passwordless = registered && x % 4 == 2 && fido2_on;
    obj(json!({
        "id": id,
        "userPrincipalName": user.get("userPrincipalName").cloned().unwrap_or(Value::Null),
        "userDisplayName": user.get("displayName").cloned().unwrap_or(Value::Null),
        "userType": if guest { "guest" } else { "member" },
        "isAdmin": is_admin, "isMfaCapable": mfa_capable, "isMfaRegistered": registered,
        "isPasswordlessCapable": passwordless,
        "isSsprCapable": registered && sspr_enabled,
        "isSsprEnabled": sspr_enabled, "isSsprRegistered": registered,
        "isSystemPreferredAuthenticationMethodEnabled": true,
        "methodsRegistered": methods, "systemPreferredAuthenticationMethods": sys,
        "userPreferredMethodForSecondaryAuthentication": pref,
        "lastUpdatedDateTime": ts(g.anchor - Duration::hours((x % 30) as i64 + 1)),
    }))
}
