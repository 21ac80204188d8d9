//! Evidence data: directory role assignments, licences (subscribed SKUs), the authentication
//! methods policy and each user's registered methods. All of it is derived from the seed and
//! the tenant's licence flags so the evidence endpoints agree with each other and with the
//! registration report (docs/microsoft.md#evidence-reads).

use chrono::Duration;
use serde_json::{Map, Value, json};

use super::people::obj;
use super::{SALT_MISC, TenantGen, h, str_hash, ts};

/// Role template ids (the same in every tenant; learn.microsoft.com "Microsoft Entra built-in
/// roles").
pub const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
const ROLES: [&str; 5] = [
    GLOBAL_ADMIN,
    "194ae4cb-b126-40b2-bd5b-6091b380977d", // Security Administrator
    "fe930be7-5e62-47db-91af-98c3a49a38b1", // User Administrator
    "729827e3-9c14-49f7-bb1b-9608f156bbb8", // Helpdesk Administrator
    "29232cdf-9323-42fd-ade2-1d097af3e4de", // Exchange Administrator
];

const SALT_ROLES: u64 = SALT_MISC ^ 0x5A5A;

/// Directory role assignments as `(user index, role template id)`: user 0 (`admin@`) is a Global
/// Administrator; one to three more members hold admin roles, picked from the seed. Guests
/// (index % 37 == 5, see `people::user`) are skipped because MSP admins are members.
pub fn role_assignments(g: &TenantGen) -> Vec<(usize, &'static str)> {
    if g.users == 0 {
        return Vec::new();
    }
    let mut out = vec![(0, GLOBAL_ADMIN)];
    let extra = 1 + h(g.seed, SALT_ROLES, 0) % 3;
    for k in 1..=extra {
        let x = h(g.seed, SALT_ROLES, k);
        let span = g.users.min(200);
        if span <= 1 {
            break;
        }
        let i = 1 + (x % (span as u64 - 1)) as usize;
        if i % 37 == 5 || out.iter().any(|(u, _)| *u == i) {
            continue;
        }
        out.push((i, ROLES[((x >> 20) % ROLES.len() as u64) as usize]));
    }
    out
}

/// Whether base user `index` holds any directory role.
pub fn is_admin(g: &TenantGen, index: usize) -> bool {
    role_assignments(g).iter().any(|(u, _)| *u == index)
}

/// Deterministic id of a role assignment (Graph's look like base64-ish strings).
pub fn role_assignment_id(g: &TenantGen, user_id: &str, role: &str) -> String {
    let x = h(g.seed, SALT_ROLES, str_hash(user_id) ^ str_hash(role));
    format!("lAPpYvVpN0KRkAEhdxReE{:016x}-1", x)
}

pub const P1_PLAN: &str = "41781fb2-bc02-4b7c-bd55-b576c07bb09d";
pub const P2_PLAN: &str = "eec0eb4f-6444-4f95-aba0-50c24d67f998";
pub const INTUNE_PLAN: &str = "c1ec4a95-1f05-45b3-a911-aa3fa01094f5";
const EXCHANGE_PLAN: &str = "9aaf7827-d63c-4b61-89c3-182f06f82e5c";

/// Licence state that decides the SKUs.
#[derive(Clone, Copy, Debug)]
pub struct Licences {
    pub intune: bool,
    pub p1: bool,
    pub p2: bool,
    /// P1 was bought but the subscription lapsed: its SKU is `Suspended`.
    pub p1_lapsed: bool,
}

/// The tenant's `subscribedSkus`. Every tenant has Microsoft 365 Business Standard (Exchange);
/// P1 + Intune together come as Microsoft 365 Business Premium, alone (or a lapsed P1) as the
/// standalone SKUs;
/// P2 is its own SKU, which also carries the P1 plan (as Microsoft's P2 SKU does).
pub fn subscribed_skus(g: &TenantGen, l: Licences) -> Vec<Map<String, Value>> {
    let seats = (g.users as i64).max(1);
    let plan = |id: &str, name: &str, status: &str| json!({"servicePlanId": id, "servicePlanName": name, "provisioningStatus": status, "appliesTo": "User"});
    let p1_status = if l.p1_lapsed { "Disabled" } else { "Success" };
    let mut skus: Vec<(&str, &str, Vec<Value>, bool)> = Vec::new();
    let exchange = plan(EXCHANGE_PLAN, "EXCHANGE_S_STANDARD", "Success");
    // A lapsed P1 is modelled as a separately bought P1 SKU, so that only it is suspended.
    if l.p1 && l.intune && !l.p1_lapsed {
        skus.push((
            "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
            "SPB",
            vec![
                exchange,
                plan(P1_PLAN, "AAD_PREMIUM", p1_status),
                plan(INTUNE_PLAN, "INTUNE_A", "Success"),
            ],
            l.p1_lapsed,
        ));
    } else {
        skus.push((
            "f245ecc8-75af-4f8e-b61f-27d8114de5b3",
            "O365_BUSINESS_PREMIUM",
            vec![exchange],
            false,
        ));
        if l.p1 {
            skus.push((
                "078d2b04-f1bd-4111-bbd4-b4b1b354cef4",
                "AAD_PREMIUM",
                vec![plan(P1_PLAN, "AAD_PREMIUM", p1_status)],
                l.p1_lapsed,
            ));
        }
        if l.intune {
            skus.push((
                "061f9ace-7d42-4136-88ac-31dc755f143f",
                "INTUNE_A",
                vec![plan(INTUNE_PLAN, "INTUNE_A", "Success")],
                false,
            ));
        }
    }
    if l.p2 {
        skus.push((
            "84a661c4-e949-4bd2-a560-ed7766fcaf2b",
            "AAD_PREMIUM_P2",
            vec![
                plan(P1_PLAN, "AAD_PREMIUM", "Success"),
                plan(P2_PLAN, "AAD_PREMIUM_P2", "Success"),
            ],
            false,
        ));
    }
    skus.into_iter()
        .enumerate()
        .map(|(k, (sku, part, plans, lapsed))| {
            let x = h(g.seed, SALT_MISC ^ 0x5C, k as u64);
            let bought = seats + (x % 5) as i64;
            // A lapsed subscription keeps its seats but moves them to `suspended`; consumed
            // units stay because the licences are still assigned.
            let units = if lapsed {
                json!({"enabled": 0, "suspended": bought, "warning": 0, "lockedOut": 0})
            } else {
                json!({"enabled": bought, "suspended": 0, "warning": 0, "lockedOut": 0})
            };
            obj(json!({
                "id": format!("{}_{sku}", g.tenant_id), "accountId": g.tenant_id,
                "accountName": g.name, "appliesTo": "User",
                "capabilityStatus": if lapsed { "Suspended" } else { "Enabled" },
                "consumedUnits": seats, "prepaidUnits": units, "servicePlans": plans,
                "skuId": sku, "skuPartNumber": part,
                "subscriptionIds": [super::guid(g.seed, SALT_MISC ^ 0x5D, k as u64)],
            }))
        })
        .collect()
}

/// Which optional methods the tenant's authentication methods policy enables:
/// `(sms, fido2)`. Authenticator and software OATH are always on. The registration report
/// follows it: a user whose only registered method is disabled is registered but not MFA
/// capable.
pub fn method_states(g: &TenantGen) -> (bool, bool) {
    let x = h(g.seed, SALT_MISC ^ 0x5E, 0);
    (!x.is_multiple_of(3), x.is_multiple_of(2))
}

/// The tenant's authentication methods policy (Authenticator, FIDO2, SMS, TAP, software OATH
/// and email), with the registration campaign nudging everyone to Authenticator.
pub fn authentication_methods_policy(g: &TenantGen) -> Map<String, Value> {
    let x = h(g.seed, SALT_MISC ^ 0x5E, 0);
    let (sms, fido2) = method_states(g);
    let on = |b: bool| if b { "enabled" } else { "disabled" };
    let all = json!([{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}]);
    let cfg = |ty: &str, id: &str, state: &str| {
        json!({"@odata.type": format!("#microsoft.graph.{ty}AuthenticationMethodConfiguration"),
               "id": id, "state": state, "excludeTargets": [], "includeTargets": all.clone()})
    };
    obj(json!({
        "id": "authenticationMethodsPolicy", "displayName": "Authentication Methods Policy",
        "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
        "lastModifiedDateTime": ts(g.anchor - Duration::days((x % 90) as i64 + 1)),
        "policyVersion": "1.5", "policyMigrationState": "migrationComplete",
        "registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {
            "snoozeDurationInDays": 1, "state": "default", "excludeTargets": [],
            "includeTargets": [{"id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator"}]}},
        "authenticationMethodConfigurations": [
            cfg("microsoftAuthenticator", "MicrosoftAuthenticator", "enabled"),
            cfg("fido2", "Fido2", on(fido2)),
            cfg("sms", "Sms", on(sms)),
            cfg("temporaryAccessPass", "TemporaryAccessPass", "enabled"),
            cfg("softwareOath", "SoftwareOath", "enabled"),
            cfg("email", "Email", "disabled"),
        ],
    }))
}

/// A user's authentication methods, matching the `methodsRegistered` of their registration row:
/// every user has a password; each registered method becomes one method object.
pub fn user_methods(g: &TenantGen, user: &Map<String, Value>, registered: &[String]) -> Vec<Value> {
    let uid = user.get("id").and_then(Value::as_str).unwrap_or_default();
    let x = h(g.seed, SALT_MISC ^ 0x5F, str_hash(uid));
    let created = ts(g.anchor - Duration::days((x % 400) as i64 + 1));
    let mid = |k: u64| super::guid(g.seed, SALT_MISC ^ 0x60, str_hash(uid) ^ k);
    let mut out = vec![json!({
        "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
        // Graph uses this fixed id for every user's password method.
        "id": "28c10230-6103-485e-b985-444c60001490", "password": null, "createdDateTime": created,
    })];
    for m in registered {
        let v = match m.as_str() {
            "microsoftAuthenticatorPush" => json!({
                "@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
                "id": mid(1), "displayName": "iPhone 15", "deviceTag": "SoftwareTokenActivated",
                "phoneAppVersion": "6.8.12", "createdDateTime": created}),
            "mobilePhone" => json!({
                "@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
                "id": "3179e48a-750b-4051-897c-87b9720928f7",
                "phoneNumber": format!("+44 7700900{:03}", x % 1000), "phoneType": "mobile",
                "smsSignInState": "notAllowedByPolicy"}),
            "fido2" => json!({
                "@odata.type": "#microsoft.graph.fido2AuthenticationMethod",
                "id": mid(2), "displayName": "YubiKey 5 NFC", "createdDateTime": created,
                "aaGuid": "cb69481e-8ff7-4039-93ec-0a2729a154a8", "model": "YubiKey 5 Series",
                "attestationCertificates": [], "attestationLevel": "attested"}),
            "softwareOneTimePasscode" => json!({
                "@odata.type": "#microsoft.graph.softwareOathAuthenticationMethod",
                "id": mid(3), "secretKey": null}),
            "email" => json!({
                "@odata.type": "#microsoft.graph.emailAuthenticationMethod",
                "id": "3ddfcfc8-9383-446f-83cc-3ab9be4be18f",
                "emailAddress": format!("backup{}@outlook.com", x % 1000)}),
            _ => continue,
        };
        out.push(v);
    }
    out
}
