//! Object CRUD of the control API: users, groups, devices, CA policies, memberships and
//! MFA registration overrides. Property names are checked against what the simulator emits (and
//! therefore against the Graph CSDL, see the schema test) so tests cannot invent fields.

use serde_json::{Map, Value, json};

use super::{SimControl, SimError};
use crate::simulator::collection::Kind;
use crate::simulator::graph::{delta, lists};

fn allowed(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => delta::USER_PROPS,
        Kind::Group => delta::GROUP_PROPS,
        Kind::Device => lists::DEVICE_PROPS,
        Kind::Policy => lists::POLICY_PROPS,
    }
}

/// Rejects unknown property names and enum values Microsoft would never send.
fn validate(kind: Kind, props: &Map<String, Value>) -> Result<(), SimError> {
    for (k, v) in props {
        if k == "members" || !allowed(kind).contains(&k.as_str()) {
            return Err(SimError::BadRequest(format!(
                "unknown property '{k}' for {kind:?}"
            )));
        }
        let ok = |vals: &[&str]| v.as_str().is_some_and(|s| vals.contains(&s));
        let valid = match k.as_str() {
            "complianceState" => ok(&[
                "unknown",
                "compliant",
                "noncompliant",
                "conflict",
                "error",
                "inGracePeriod",
                "configManager",
            ]),
            "state" => ok(&["enabled", "disabled", "enabledForReportingButNotEnforced"]),
            "userType" => ok(&["Member", "Guest"]),
            "managedDeviceOwnerType" => ok(&["unknown", "company", "personal"]),
            _ => true,
        };
        if !valid {
            return Err(SimError::BadRequest(format!("invalid value {v} for '{k}'")));
        }
    }
    Ok(())
}

fn defaults(kind: Kind, id: &str) -> Map<String, Value> {
    let mut m = Map::new();
    for p in allowed(kind) {
        if *p != "members" {
            m.insert((*p).to_string(), Value::Null);
        }
    }
    m.insert("id".into(), json!(id));
    let now = crate::simulator::clock::now()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let extra = match kind {
        Kind::User => {
            json!({"accountEnabled": true, "userType": "Member", "businessPhones": [], "createdDateTime": now})
        }
        Kind::Group => {
            json!({"mailEnabled": false, "securityEnabled": true, "groupTypes": [], "createdDateTime": now})
        }
        Kind::Device => {
            json!({"complianceState": "compliant", "operatingSystem": "Windows", "managedDeviceOwnerType": "company", "managementAgent": "mdm", "serialNumber": "", "lastSyncDateTime": now, "enrolledDateTime": now, "complianceGracePeriodExpirationDateTime": "9999-12-31T23:59:59Z"})
        }
        Kind::Policy => {
            json!({"state": "enabled", "createdDateTime": now, "modifiedDateTime": now, "sessionControls": null,
            "conditions": {"clientAppTypes": ["all"], "signInRiskLevels": [], "userRiskLevels": [], "servicePrincipalRiskLevels": [], "platforms": null, "locations": null, "devices": null,
                "applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": [], "applicationFilter": null},
                "users": {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": [], "excludeGroups": [], "includeRoles": [], "excludeRoles": [], "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null}},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('{id}')/grantControls/authenticationStrength/$entity"), "authenticationStrength": null}})
        }
    };
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    m
}

impl SimControl {
    pub fn get_object(
        &self,
        tid: &str,
        kind: Kind,
        id: &str,
    ) -> Result<Map<String, Value>, SimError> {
        self.with_tenant(tid, |t| {
            t.coll(kind)
                .get(&t.tg, id)
                .ok_or_else(|| SimError::NotFound(format!("{kind:?} {id}")))
        })
    }

    /// Live objects in position order (`skip`/`top` over positions; `top` capped at 1000).
    pub fn list_objects(
        &self,
        tid: &str,
        kind: Kind,
        skip: u64,
        top: usize,
    ) -> Result<Vec<Map<String, Value>>, SimError> {
        self.with_tenant(tid, |t| {
            let c = t.coll(kind);
            let mut out = Vec::new();
            let mut p = skip;
            while out.len() < top.min(1000) {
                let Some(pos) = c.next_pos(p) else { break };
                if pos >= c.end() {
                    break;
                }
                if let Some((_, o)) = c.at(&t.tg, pos) {
                    out.push(o);
                }
                p = pos + 1;
            }
            Ok(out)
        })
    }

    pub fn create_object(
        &self,
        tid: &str,
        kind: Kind,
        mut props: Map<String, Value>,
    ) -> Result<Map<String, Value>, SimError> {
        let id = match props.remove("id") {
            Some(Value::String(s)) => s,
            _ => uuid::Uuid::new_v4().to_string(),
        };
        validate(kind, &props)?;
        let required = match kind {
            Kind::User => &["displayName", "userPrincipalName"][..],
            Kind::Device => &["deviceName"][..],
            _ => &["displayName"][..],
        };
        for r in required {
            if !props.get(*r).is_some_and(Value::is_string) {
                return Err(SimError::BadRequest(format!("'{r}' is required")));
            }
        }
        self.with_tenant(tid, |t| {
            if t.coll(kind).get(&t.tg, &id).is_some() {
                return Err(SimError::BadRequest(format!(
                    "{kind:?} {id} already exists"
                )));
            }
            let mut obj = defaults(kind, &id);
            obj.extend(props);
            let v = t.bump();
            t.coll_mut(kind).1.create(id, obj.clone(), v);
            Ok(obj)
        })
    }

    pub fn update_object(
        &self,
        tid: &str,
        kind: Kind,
        id: &str,
        props: Map<String, Value>,
    ) -> Result<Map<String, Value>, SimError> {
        validate(kind, &props)?;
        self.with_tenant(tid, |t| {
            let v = t.bump();
            let (g, c) = t.coll_mut(kind);
            if !c.update(g, id, &props, v) {
                return Err(SimError::NotFound(format!("{kind:?} {id}")));
            }
            c.get(g, id)
                .ok_or_else(|| SimError::NotFound(format!("{kind:?} {id}")))
        })
    }

    /// Deletes an object. Users/groups: `permanent = false` is a soft delete (`@removed.reason`
    /// `changed`, restorable), `true` a hard delete (`deleted`). Deleting a user also removes it
    /// from every group, which later shows up in `members@delta`.
    pub fn delete_object(
        &self,
        tid: &str,
        kind: Kind,
        id: &str,
        permanent: bool,
    ) -> Result<(), SimError> {
        self.with_tenant(tid, |t| {
            let v = t.bump();
            let reason = if permanent { "deleted" } else { "changed" };
            let (g, c) = t.coll_mut(kind);
            if !c.remove(g, id, reason, v) {
                return Err(SimError::NotFound(format!("{kind:?} {id}")));
            }
            if matches!(kind, Kind::User | Kind::Group) {
                let (g, groups) = t.coll_mut(Kind::Group);
                let mut p = 0;
                while let Some(pos) = groups.next_pos(p) {
                    if pos >= groups.end() {
                        break;
                    }
                    p = pos + 1;
                    let Some((gid, _)) = groups.at(g, pos) else {
                        continue;
                    };
                    let found = groups.members(g, &gid).into_iter().find(|(_, m)| m == id);
                    if let Some((ty, _)) = found {
                        groups.set_member(g, &gid, id, &ty, false, v);
                    }
                }
            }
            Ok(())
        })
    }

    /// Restores a soft-deleted user or group (it re-appears in delta as a full object).
    pub fn restore_object(
        &self,
        tid: &str,
        kind: Kind,
        id: &str,
    ) -> Result<Map<String, Value>, SimError> {
        self.with_tenant(tid, |t| {
            let v = t.bump();
            let (g, c) = t.coll_mut(kind);
            if !c.restore(id, v) {
                return Err(SimError::NotFound(format!("soft-deleted {kind:?} {id}")));
            }
            c.get(g, id).ok_or_else(|| SimError::NotFound(id.into()))
        })
    }

    /// Adds a direct member (user, group or device id) to a group.
    pub fn add_member(&self, tid: &str, group_id: &str, member_id: &str) -> Result<(), SimError> {
        self.member(tid, group_id, member_id, true)
    }

    pub fn remove_member(
        &self,
        tid: &str,
        group_id: &str,
        member_id: &str,
    ) -> Result<(), SimError> {
        self.member(tid, group_id, member_id, false)
    }

    fn member(&self, tid: &str, gid: &str, mid: &str, add: bool) -> Result<(), SimError> {
        self.with_tenant(tid, |t| {
            let ty = if t.users.get(&t.tg, mid).is_some() {
                "#microsoft.graph.user"
            } else if t.groups.get(&t.tg, mid).is_some() {
                "#microsoft.graph.group"
            } else if t.devices.get(&t.tg, mid).is_some() {
                "#microsoft.graph.device"
            } else if add {
                return Err(SimError::NotFound(format!("member {mid}")));
            } else {
                "#microsoft.graph.user"
            };
            let v = t.bump();
            let (g, groups) = t.coll_mut(Kind::Group);
            if groups.get(g, gid).is_none() {
                return Err(SimError::NotFound(format!("group {gid}")));
            }
            groups.set_member(g, gid, mid, ty, add, v);
            Ok(())
        })
    }

    /// Direct members of a group as `(odata type, id)`.
    pub fn members(&self, tid: &str, group_id: &str) -> Result<Vec<(String, String)>, SimError> {
        self.with_tenant(tid, |t| Ok(t.groups.members(&t.tg, group_id)))
    }

    /// Overrides fields of a user's MFA registration row.
    pub fn set_registration(
        &self,
        tid: &str,
        user_id: &str,
        props: Map<String, Value>,
    ) -> Result<(), SimError> {
        for k in props.keys() {
            if k == "id" || !lists::REGISTRATION_PROPS.contains(&k.as_str()) {
                return Err(SimError::BadRequest(format!(
                    "unknown registration property '{k}'"
                )));
            }
        }
        self.with_tenant(tid, |t| {
            t.registrations
                .entry(user_id.to_string())
                .or_default()
                .extend(props);
            Ok(())
        })
    }

    pub fn organization(&self, tid: &str) -> Result<Map<String, Value>, SimError> {
        self.with_tenant(tid, |t| Ok(lists::organization_object(t)))
    }
}
