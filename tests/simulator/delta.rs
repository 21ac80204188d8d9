//! users/delta and groups/delta rounds.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use tenantry::simulator::{Kind, TenantPatch};

use crate::common::*;

const USER_SELECT: &str = "id,displayName,mail,department,jobTitle,userPrincipalName,accountEnabled,userType,givenName,surname";

fn props(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[tokio::test]
async fn users_delta_full_round_then_exactly_the_change() {
    let env = env(300, 0, true).await;
    let token = app_token(&env).await;
    let start = format!("{}/users/delta?$select={USER_SELECT}", env.graph());
    let (items, delta_link, pages) = round(&env, &start, &token, &[]).await;
    assert_eq!(pages, 3, "300 users at the default page size of 100");
    let ids: BTreeSet<String> = ids(&items).into_iter().collect();
    assert_eq!(ids.len(), 300);
    assert!(
        items
            .iter()
            .all(|u| u.get("department").is_some() && u.get("businessPhones").is_none()),
        "only $select-ed properties"
    );
    assert!(items.iter().any(|u| {
        u["userType"] == "Guest"
            && u["userPrincipalName"]
                .as_str()
                .is_some_and(|p| p.contains("#EXT#"))
    }));
    assert!(items.iter().any(|u| u["accountEnabled"] == false));
    assert!(items.iter().any(|u| u["mail"].is_null()));
    assert!(
        items
            .iter()
            .any(|u| u["displayName"].as_str().is_some_and(|n| !n.is_ascii()))
    );
    assert!(delta_link.contains("$deltatoken="));

    // No change: one empty page with a deltaLink.
    let (items, delta_link, pages) = round(&env, &delta_link, &token, &[]).await;
    assert_eq!((items.len(), pages), (0, 1));

    // One mutation through the control API.
    let victim = env
        .ctl
        .list_objects(env.tid(), Kind::User, 10, 1)
        .expect("list")[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    env.ctl
        .update_object(
            env.tid(),
            Kind::User,
            &victim,
            props(json!({"department": "Treasury"})),
        )
        .expect("update");
    // A change to a property outside $select does not make the user appear.
    let other = env
        .ctl
        .list_objects(env.tid(), Kind::User, 11, 1)
        .expect("list")[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    env.ctl
        .update_object(
            env.tid(),
            Kind::User,
            &other,
            props(json!({"mobilePhone": "+1 555 0100"})),
        )
        .expect("update");
    let (items, next_link, _) =
        round(&env, &delta_link, &token, &[("Prefer", "return=minimal")]).await;
    assert_eq!(items, vec![json!({"id": victim, "department": "Treasury"})]);
    // Without return=minimal the changed user carries all selected properties.
    let (items, _, _) = round(&env, &delta_link, &token, &[]).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["department"], "Treasury");
    assert!(items[0]["userPrincipalName"].is_string());

    // Soft delete, hard delete, creation.
    let hard = env
        .ctl
        .list_objects(env.tid(), Kind::User, 12, 1)
        .expect("list")[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    env.ctl
        .delete_object(env.tid(), Kind::User, &victim, false)
        .expect("soft");
    env.ctl
        .delete_object(env.tid(), Kind::User, &hard, true)
        .expect("hard");
    let created = env
        .ctl
        .create_object(env.tid(), Kind::User, props(json!({"displayName": "Zoë New", "userPrincipalName": "zoe.new@contosotest.example", "department": "Sales"})))
        .expect("create");
    let (items, next2, _) = round(&env, &next_link, &token, &[("Prefer", "return=minimal")]).await;
    let by_id: BTreeMap<String, Value> = items
        .iter()
        .map(|v| (v["id"].as_str().unwrap_or_default().to_string(), v.clone()))
        .collect();
    assert_eq!(by_id.len(), 3, "{items:?}");
    assert_eq!(by_id[&victim]["@removed"]["reason"], "changed");
    assert_eq!(by_id[&hard]["@removed"]["reason"], "deleted");
    let new = &by_id[created["id"].as_str().expect("id")];
    assert_eq!(new["displayName"], "Zoë New");
    assert!(
        new.get("jobTitle").is_some(),
        "a new object comes with every selected property"
    );
    // Restore: the user comes back whole.
    env.ctl
        .restore_object(env.tid(), Kind::User, &victim)
        .expect("restore");
    let (items, _, _) = round(&env, &next2, &token, &[("Prefer", "return=minimal")]).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["department"], "Treasury");
    assert!(items[0]["displayName"].is_string());

    let c = counts(&env);
    assert_eq!(c.get("users/delta"), Some(&1));
    assert_eq!(c.get("users/delta?skiptoken"), Some(&2));
    assert_eq!(c.get("users/delta?deltatoken"), Some(&5));
}

#[tokio::test]
async fn groups_delta_members_span_pages_and_changes_are_deltas() {
    let env = env(300, 0, true).await;
    env.ctl
        .update_tenant(
            env.tid(),
            TenantPatch {
                members_per_page: Some(100),
                delta_page_size: Some(4),
                ..Default::default()
            },
        )
        .expect("patch");
    let token = app_token(&env).await;
    let start = format!(
        "{}/groups/delta?$select=id,displayName,description,mail,mailEnabled,securityEnabled,groupTypes,members",
        env.graph()
    );
    let (items, delta_link, pages) = round(&env, &start, &token, &[]).await;
    let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut appearances: BTreeMap<String, usize> = BTreeMap::new();
    for g in &items {
        let id = g["id"].as_str().expect("id").to_string();
        *appearances.entry(id.clone()).or_default() += 1;
        for m in g["members@delta"].as_array().cloned().unwrap_or_default() {
            assert!(
                m["@odata.type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("#microsoft.graph."))
            );
            members
                .entry(id.clone())
                .or_default()
                .insert(m["id"].as_str().expect("member id").to_string());
        }
    }
    assert_eq!(appearances.len(), env.tenant.groups);
    let all_staff = items
        .iter()
        .find(|g| g["displayName"] == "All Staff")
        .expect("All Staff")["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(
        appearances[&all_staff], 3,
        "300 members at 100 per slice: the group spans pages"
    );
    assert_eq!(members[&all_staff].len(), 300);
    assert!(pages > 3);
    assert!(
        items
            .iter()
            .any(|g| g["groupTypes"] == json!(["Unified"]) && g["mailEnabled"] == true)
    );
    assert!(
        items
            .iter()
            .any(|g| g["mailEnabled"] == true && g["securityEnabled"] == true)
    );
    assert!(
        items
            .iter()
            .any(|g| g["members@delta"].as_array().is_some_and(|m| m
                .iter()
                .any(|x| x["@odata.type"] == "#microsoft.graph.group")))
    );

    // Add one member and remove another.
    let group = items
        .iter()
        .find(|g| g["displayName"] != "All Staff" && g.get("members@delta").is_some())
        .expect("group");
    let gid = group["id"].as_str().expect("gid").to_string();
    let removed = members[&gid].iter().next().expect("member").clone();
    let added = env
        .ctl
        .list_objects(env.tid(), Kind::User, 0, 300)
        .expect("users")
        .into_iter()
        .map(|u| u["id"].as_str().unwrap_or_default().to_string())
        .find(|u| !members[&gid].contains(u))
        .expect("non-member");
    env.ctl.add_member(env.tid(), &gid, &added).expect("add");
    env.ctl
        .remove_member(env.tid(), &gid, &removed)
        .expect("remove");
    let (items, _, _) = round(&env, &delta_link, &token, &[]).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let md = items[0]["members@delta"]
        .as_array()
        .cloned()
        .expect("members@delta");
    assert_eq!(md.len(), 2);
    let add = md
        .iter()
        .find(|m| m["id"] == added.as_str())
        .expect("added");
    assert!(add.get("@removed").is_none());
    let rem = md
        .iter()
        .find(|m| m["id"] == removed.as_str())
        .expect("removed");
    assert_eq!(rem["@removed"]["reason"], "deleted");
}

#[tokio::test]
async fn groups_put_in_groups_arrive_typed_as_groups_with_their_own_members() {
    let env = env(20, 0, true).await;
    let token = app_token(&env).await;
    let start = format!("{}/groups/delta?$select=displayName,members", env.graph());
    let (_, delta_link, _) = round(&env, &start, &token, &[]).await;
    let new_group = |name: &str| {
        let g = env
            .ctl
            .create_object(
                env.tid(),
                Kind::Group,
                props(json!({ "displayName": name })),
            )
            .expect("group");
        g["id"].as_str().expect("id").to_string()
    };
    let (outer, inner) = (new_group("Outer"), new_group("Inner"));
    let user = env
        .ctl
        .list_objects(env.tid(), Kind::User, 0, 1)
        .expect("users")[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    env.ctl.add_member(env.tid(), &outer, &inner).expect("nest");
    env.ctl.add_member(env.tid(), &inner, &user).expect("add");
    let (items, delta_link, _) = round(&env, &delta_link, &token, &[]).await;
    let members = |id: &str| {
        items
            .iter()
            .find(|g| g["id"] == id)
            .and_then(|g| g["members@delta"].as_array().cloned())
            .unwrap_or_default()
    };
    assert_eq!(
        members(&outer),
        vec![json!({"@odata.type": "#microsoft.graph.group", "id": inner})]
    );
    assert_eq!(
        members(&inner),
        vec![json!({"@odata.type": "#microsoft.graph.user", "id": user})]
    );
    env.ctl
        .remove_member(env.tid(), &outer, &inner)
        .expect("unnest");
    let (items, _, _) = round(&env, &delta_link, &token, &[]).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(
        items[0]["members@delta"],
        json!([{"@odata.type": "#microsoft.graph.group", "id": inner, "@removed": {"reason": "deleted"}}])
    );
}

#[tokio::test]
async fn deleting_a_user_removes_its_memberships() {
    let env = env(40, 0, true).await;
    let token = app_token(&env).await;
    let start = format!("{}/groups/delta?$select=displayName,members", env.graph());
    let (_, delta_link, _) = round(&env, &start, &token, &[]).await;
    let user = env
        .ctl
        .list_objects(env.tid(), Kind::User, 0, 1)
        .expect("users")[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    env.ctl
        .delete_object(env.tid(), Kind::User, &user, false)
        .expect("delete");
    let (items, _, _) = round(&env, &delta_link, &token, &[]).await;
    assert!(!items.is_empty());
    for g in items {
        let md = g["members@delta"]
            .as_array()
            .cloned()
            .expect("members@delta");
        assert_eq!(
            md,
            vec![
                json!({"@odata.type": "#microsoft.graph.user", "id": user, "@removed": {"reason": "deleted"}})
            ]
        );
    }
}

#[tokio::test]
async fn delta_rejects_unsupported_query_options() {
    let env = env(5, 0, true).await;
    let token = app_token(&env).await;
    let r = get(
        &env,
        &format!("{}/users/delta?$top=5", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "Request_UnsupportedQuery");
    let r = get(
        &env,
        &format!("{}/users/delta?$select=id,departmant", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("departmant"))
    );
    // Without $select: Graph's default set, which lacks department.
    let (items, _, _) = round(&env, &format!("{}/users/delta", env.graph()), &token, &[]).await;
    assert!(
        items
            .iter()
            .all(|u| u.get("department").is_none() && u.get("businessPhones").is_some())
    );
    // $deltatoken=latest: just a deltaLink.
    let r = get(
        &env,
        &format!("{}/users/delta?$deltatoken=latest", env.graph()),
        &token,
        &[],
    )
    .await;
    let v = r.json();
    assert_eq!(v["value"], json!([]));
    assert!(v["@odata.deltaLink"].is_string());
}

#[tokio::test]
async fn expired_delta_tokens_answer_400_or_410() {
    let env = env(10, 0, true).await;
    let token = app_token(&env).await;
    let (_, delta_link, _) = round(
        &env,
        &format!("{}/users/delta?$select=displayName", env.graph()),
        &token,
        &[],
    )
    .await;
    env.ctl.expire_delta_tokens(env.tid()).expect("expire");
    let r = get(&env, &delta_link, &token, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "syncStateNotFound");
    // Garbage token: same answer.
    let r = get(
        &env,
        &format!("{}/users/delta?$deltatoken=garbage", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.json()["error"]["code"], "syncStateNotFound");
    // 410 mode with Location pointing at a fresh initial round.
    env.ctl
        .update_tenant(
            env.tid(),
            TenantPatch {
                expired_delta_status: Some(410),
                ..Default::default()
            },
        )
        .expect("patch");
    let r = get(&env, &delta_link, &token, &[]).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.json()["error"]["code"], "resyncRequired");
    let loc = r.header("location").expect("Location");
    let (items, _, _) = round(&env, &loc, &token, &[]).await;
    assert_eq!(items.len(), 10);
    // Age-based expiry (7 days by default).
    let (_, fresh, _) = round(
        &env,
        &format!("{}/users/delta?$select=displayName", env.graph()),
        &token,
        &[],
    )
    .await;
    env.ctl
        .update_tenant(
            env.tid(),
            TenantPatch {
                delta_token_max_age_secs: Some(-1),
                expired_delta_status: Some(400),
                ..Default::default()
            },
        )
        .expect("patch");
    let r = get(&env, &fresh, &token, &[]).await;
    assert_eq!(r.json()["error"]["code"], "syncStateNotFound");
}
