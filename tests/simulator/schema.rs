//! Every property name and enum value the simulator emits must exist in Microsoft's Graph v1.0
//! CSDL (docs/microsoft.md#graph-schema): the "clean" v1.0 metadata published in
//! <https://github.com/microsoftgraph/msgraph-metadata>, read from a snapshot kept beside the
//! clone at `../shared/graph-schema/graph-v1.0-csdl.xml` (not in this repository). A tiny string
//! scan is enough: we only need type names, base types, property names/types and enum members of
//! `microsoft.graph`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use tenantry::simulator::Kind;

use crate::common::*;

#[derive(Default)]
pub(crate) struct Schema {
    /// type -> (base type, property -> type)
    pub(crate) types: BTreeMap<String, (Option<String>, BTreeMap<String, String>)>,
    enums: BTreeMap<String, BTreeSet<String>>,
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

fn strip(t: &str) -> String {
    t.trim_start_matches("graph.")
        .trim_start_matches("microsoft.graph.")
        .to_string()
}

pub(crate) fn load() -> Schema {
    let path = format!(
        "{}/../shared/graph-schema/graph-v1.0-csdl.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let xml = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("the Graph CSDL is required for the schema test but could not be read at {path}: {e} (see ../shared/graph-schema/README.md)")
    });
    let start = xml
        .find("<Schema Namespace=\"microsoft.graph\"")
        .expect("microsoft.graph schema in the CSDL");
    let end = xml[start..]
        .find("</Schema>")
        .map(|e| e + start)
        .expect("end of schema");
    let body = &xml[start..end];
    let mut s = Schema::default();
    for kind in ["EntityType", "ComplexType", "EnumType"] {
        let open = format!("<{kind} ");
        let mut rest = body;
        while let Some(i) = rest.find(&open) {
            let el = &rest[i..];
            let tag_end = el.find('>').expect("tag end");
            let tag = &el[..tag_end];
            let name = attr(tag, "Name").expect("Name").to_string();
            let content = if tag.ends_with('/') {
                ""
            } else {
                &el[..el.find(&format!("</{kind}>")).expect("close")]
            };
            if kind == "EnumType" {
                let members = content
                    .split("<Member ")
                    .skip(1)
                    .filter_map(|m| attr(&format!(" {m}"), "Name").map(str::to_string))
                    .collect();
                s.enums.insert(name, members);
            } else {
                let mut props = BTreeMap::new();
                for p in content
                    .split('<')
                    .filter(|p| p.starts_with("Property ") || p.starts_with("NavigationProperty "))
                {
                    let p = format!(" {p}");
                    if let (Some(n), Some(t)) = (attr(&p, "Name"), attr(&p, "Type")) {
                        props.insert(n.to_string(), t.to_string());
                    }
                }
                s.types
                    .insert(name, (attr(tag, "BaseType").map(strip), props));
            }
            rest = &rest[i + tag_end..];
        }
    }
    s
}

impl Schema {
    fn property(&self, ty: &str, name: &str) -> Option<String> {
        let mut cur = Some(ty.to_string());
        while let Some(t) = cur {
            let (base, props) = self.types.get(&t)?;
            if let Some(p) = props.get(name) {
                return Some(p.clone());
            }
            cur = base.clone();
        }
        None
    }

    pub(crate) fn check(&self, ty: &str, v: &Value, path: &str, errors: &mut Vec<String>) {
        let (ty, collection) = match ty
            .strip_prefix("Collection(")
            .and_then(|t| t.strip_suffix(')'))
        {
            Some(inner) => (strip(inner), true),
            None => (strip(ty), false),
        };
        if collection {
            match v {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .for_each(|(i, x)| self.check(&ty, x, &format!("{path}[{i}]"), errors)),
                Value::Null => {}
                _ => errors.push(format!("{path}: expected a collection of {ty}, got {v}")),
            }
            return;
        }
        if v.is_null() || ty.starts_with("Edm.") {
            return;
        }
        if let Some(members) = self.enums.get(&ty) {
            match v.as_str() {
                Some(s) if s.split(',').all(|m| members.contains(m.trim())) => {}
                _ => errors.push(format!("{path}: {v} is not a member of enum {ty}")),
            }
            return;
        }
        let Value::Object(obj) = v else {
            errors.push(format!("{path}: expected an object of {ty}, got {v}"));
            return;
        };
        let ty = match obj.get("@odata.type").and_then(Value::as_str) {
            Some(t) => strip(t.trim_start_matches('#')),
            None => ty,
        };
        if !self.types.contains_key(&ty) {
            errors.push(format!("{path}: unknown type {ty}"));
            return;
        }
        for (k, val) in obj {
            if k.contains('@') {
                continue;
            }
            match self.property(&ty, k) {
                Some(pt) => self.check(&pt, val, &format!("{path}.{k}"), errors),
                None => errors.push(format!("{path}: property '{k}' does not exist on {ty}")),
            }
        }
    }
}

#[tokio::test]
async fn every_emitted_property_and_enum_value_exists_in_the_csdl() {
    let schema = load();
    assert!(
        schema.types.contains_key("user") && schema.enums.contains_key("complianceState"),
        "CSDL scan found no types"
    );
    // The checker itself must catch a misspelt property and a wrongly cased enum value.
    let mut probe = Vec::new();
    schema.check(
        "user",
        &serde_json::json!({"id": "x", "displayname": "y"}),
        "probe",
        &mut probe,
    );
    schema.check(
        "managedDevice",
        &serde_json::json!({"complianceState": "nonCompliant"}),
        "probe",
        &mut probe,
    );
    schema.check(
        "user",
        &serde_json::json!({"accountEnabled": true, "businessPhones": ["1"]}),
        "probe",
        &mut probe,
    );
    assert_eq!(probe.len(), 2, "{probe:?}");
    let env = env(200, 120, true).await;
    let token = app_token(&env).await;
    let mut errors = Vec::new();
    let mut check_all = |ty: &str, items: &[Value], what: &str| {
        assert!(!items.is_empty(), "{what}: nothing to check");
        for (i, it) in items.iter().enumerate() {
            schema.check(ty, it, &format!("{what}[{i}]"), &mut errors);
        }
    };
    let users = env
        .ctl
        .list_objects(env.tid(), Kind::User, 0, 1000)
        .expect("users");
    check_all(
        "user",
        &users.into_iter().map(Value::Object).collect::<Vec<_>>(),
        "user",
    );
    let groups = env
        .ctl
        .list_objects(env.tid(), Kind::Group, 0, 1000)
        .expect("groups");
    check_all(
        "group",
        &groups.into_iter().map(Value::Object).collect::<Vec<_>>(),
        "group",
    );
    let g = env.graph();
    let (delta_users, _, _) = round(&env, &format!("{g}/users/delta"), &token, &[]).await;
    check_all("user", &delta_users, "users/delta");
    let (delta_groups, _, _) = round(&env, &format!("{g}/groups/delta?$select=displayName,mail,mailEnabled,securityEnabled,groupTypes,members"), &token, &[]).await;
    check_all("group", &delta_groups, "groups/delta");
    let member_types: BTreeSet<String> = delta_groups
        .iter()
        .flat_map(|x| x["members@delta"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| {
            m["@odata.type"]
                .as_str()
                .map(|t| strip(t.trim_start_matches('#')))
        })
        .collect();
    for t in &member_types {
        assert!(schema.types.contains_key(t), "member type {t} not in CSDL");
    }
    for (ty, path) in [
        ("managedDevice", "deviceManagement/managedDevices"),
        (
            "conditionalAccessPolicy",
            "identity/conditionalAccess/policies",
        ),
        (
            "userRegistrationDetails",
            "reports/authenticationMethods/userRegistrationDetails",
        ),
        (
            "deviceCompliancePolicy",
            "deviceManagement/deviceCompliancePolicies",
        ),
        ("organization", "organization"),
    ] {
        let items = list_all(&env, &format!("{g}/{path}"), &token).await;
        check_all(ty, &items, path);
    }
    let summary = get(
        &env,
        &format!("{g}/deviceManagement/deviceCompliancePolicyDeviceStateSummary"),
        &token,
        &[],
    )
    .await
    .json();
    let total: i64 = [
        "compliantDeviceCount",
        "nonCompliantDeviceCount",
        "inGracePeriodCount",
        "errorDeviceCount",
        "conflictDeviceCount",
        "unknownDeviceCount",
        "configManagerCount",
    ]
    .iter()
    .map(|k| summary[*k].as_i64().unwrap_or(0))
    .sum();
    assert_eq!(total, 120);
    check_all(
        "deviceCompliancePolicyDeviceStateSummary",
        &[summary],
        "deviceCompliancePolicyDeviceStateSummary",
    );
    // All eight CA policy templates, whatever the seed picked for this tenant.
    let all = env
        .ctl
        .create_tenant(tenantry::simulator::TenantSpec {
            name: "Eight".into(),
            users: 3,
            policies: Some(8),
            p1: true,
            ..Default::default()
        })
        .expect("t");
    let policies = env
        .ctl
        .list_objects(&all.id, Kind::Policy, 0, 100)
        .expect("policies");
    assert_eq!(policies.len(), 8);
    check_all(
        "conditionalAccessPolicy",
        &policies.into_iter().map(Value::Object).collect::<Vec<_>>(),
        "policies(8)",
    );
    assert!(
        errors.is_empty(),
        "{} schema violations:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[tokio::test]
async fn every_evidence_endpoint_emits_only_csdl_properties_and_enum_values() {
    let schema = load();
    let env = env(120, 60, true).await;
    let info = env
        .ctl
        .create_tenant(tenantry::simulator::TenantSpec {
            name: "Evidence P2".into(),
            users: 120,
            devices: 60,
            intune: true,
            p1: true,
            p2: true,
            ..Default::default()
        })
        .expect("tenant");
    env.ctl.grant_consent(&info.id, CLIENT_ID).expect("consent");
    let (_, v) = token_request(
        &env,
        &info.id,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ],
    )
    .await;
    let token = v["access_token"].as_str().expect("token").to_string();
    let g = env.graph();
    let body = |url: String| {
        let (env, token) = (&env, &token);
        async move {
            let r = get(env, &url, token, &[]).await;
            assert_eq!(r.status, reqwest::StatusCode::OK, "{url}: {}", r.text);
            r.json()
        }
    };
    let mut errors = Vec::new();
    let mut check = |ty: &str, items: &[Value], what: &str| {
        assert!(!items.is_empty(), "{what}: nothing to check");
        for (i, it) in items.iter().enumerate() {
            schema.check(ty, it, &format!("{what}[{i}]"), &mut errors);
        }
    };
    let skus = body(format!("{g}/subscribedSkus")).await;
    check(
        "subscribedSku",
        skus["value"].as_array().expect("skus"),
        "subscribedSkus",
    );
    let sd = body(format!(
        "{g}/policies/identitySecurityDefaultsEnforcementPolicy"
    ))
    .await;
    check(
        "identitySecurityDefaultsEnforcementPolicy",
        &[sd],
        "securityDefaults",
    );
    let amp = body(format!("{g}/policies/authenticationMethodsPolicy")).await;
    check(
        "authenticationMethodsPolicy",
        &[amp],
        "authenticationMethodsPolicy",
    );
    let ra = body(format!(
        "{g}/roleManagement/directory/roleAssignments?$expand=principal"
    ))
    .await;
    check(
        "unifiedRoleAssignment",
        ra["value"].as_array().expect("ra"),
        "roleAssignments",
    );
    let report = list_all(
        &env,
        &format!("{g}/reports/authenticationMethods/userRegistrationDetails"),
        &token,
    )
    .await;
    let mut methods = Vec::new();
    for r in report.iter().take(40) {
        let id = r["id"].as_str().expect("id");
        let m = body(format!("{g}/users/{id}/authentication/methods")).await;
        methods.extend(m["value"].as_array().cloned().unwrap_or_default());
    }
    let kinds: BTreeSet<&str> = methods
        .iter()
        .filter_map(|m| m["@odata.type"].as_str())
        .collect();
    assert!(kinds.len() >= 5, "every method kind appears: {kinds:?}");
    check("authenticationMethod", &methods, "authentication/methods");
    let policies = list_all(
        &env,
        &format!("{g}/deviceManagement/deviceCompliancePolicies"),
        &token,
    )
    .await;
    let mut overviews = Vec::new();
    for p in &policies {
        let id = p["id"].as_str().expect("id");
        overviews.push(
            body(format!(
                "{g}/deviceManagement/deviceCompliancePolicies/{id}/deviceStatusOverview"
            ))
            .await,
        );
    }
    check(
        "deviceComplianceDeviceOverview",
        &overviews,
        "deviceStatusOverview",
    );
    let ca = list_all(
        &env,
        &format!("{g}/identity/conditionalAccess/policies"),
        &token,
    )
    .await;
    check("conditionalAccessPolicy", &ca, "conditionalAccess(P2)");
    assert!(
        errors.is_empty(),
        "{} schema violations:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
