//! Single-user reads: `users/{id | upn}` and `users/{id}/transitiveMemberOf[/microsoft.graph.group]`.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use tenantry::simulator::{Fault, FaultKind, Kind};

use crate::common::*;

const SELECT: &str = "id,displayName,userPrincipalName,mail,userType,accountEnabled";

fn props(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A runtime user, so generated memberships don't interfere.
fn new_user(env: &Env, upn: &str) -> String {
    let u = env
        .ctl
        .create_object(
            env.tid(),
            Kind::User,
            props(json!({ "displayName": upn, "userPrincipalName": upn, "mail": upn })),
        )
        .expect("user");
    u["id"].as_str().expect("id").to_string()
}

fn new_group(env: &Env, name: &str) -> String {
    let g = env
        .ctl
        .create_object(
            env.tid(),
            Kind::Group,
            props(json!({ "displayName": name })),
        )
        .expect("group");
    g["id"].as_str().expect("id").to_string()
}

fn assert_not_found(r: &Resp, segment: &str) {
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let e = r.json();
    assert_eq!(e["error"]["code"], "Request_ResourceNotFound");
    assert_eq!(
        e["error"]["message"],
        format!(
            "Resource '{segment}' does not exist or one of its queried reference-property objects are not present."
        )
    );
    assert!(e["error"]["innerError"]["request-id"].is_string());
    assert!(r.header("request-id").is_some());
}

#[tokio::test]
async fn user_by_id_and_by_upn_respects_select() {
    let env = env(40, 0, true).await;
    let token = app_token(&env).await;
    let listed = env
        .ctl
        .list_objects(env.tid(), Kind::User, 0, 40)
        .expect("users");
    let member = listed
        .iter()
        .find(|u| u["userType"] == "Member" && u["mail"].is_string())
        .expect("member");
    let id = member["id"].as_str().expect("id");

    // By id, with the client's $select: exactly those properties.
    let r = get(
        &env,
        &format!("{}/users/{id}?$select={SELECT}", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let u = r.json();
    assert_eq!(
        u["@odata.context"],
        format!("{}/$metadata#users({SELECT})/$entity", env.graph())
    );
    let keys: BTreeSet<&str> = u
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut want: BTreeSet<&str> = SELECT.split(',').collect();
    want.insert("@odata.context");
    assert_eq!(keys, want);
    assert_eq!(u["id"], id);
    assert_eq!(u["userPrincipalName"], member["userPrincipalName"]);
    assert_eq!(u["accountEnabled"], member["accountEnabled"]);
    assert_eq!(u["userType"], "Member");

    // Without $select: Graph's default set (businessPhones yes, department/accountEnabled no).
    let d = get(&env, &format!("{}/users/{id}", env.graph()), &token, &[])
        .await
        .json();
    assert_eq!(d["id"], id);
    assert!(d.get("businessPhones").is_some());
    assert!(d.get("department").is_none());
    assert!(d.get("accountEnabled").is_none());

    // By UPN, case-insensitively: the same user.
    let upn = member["userPrincipalName"].as_str().expect("upn");
    let by_upn = get(
        &env,
        &format!(
            "{}/users/{}?$select={SELECT}",
            env.graph(),
            upn.to_ascii_uppercase()
        ),
        &token,
        &[],
    )
    .await;
    assert_eq!(by_upn.status, StatusCode::OK, "{}", by_upn.text);
    assert_eq!(by_upn.json()["id"], id);

    // A guest UPN carries #EXT#, percent-encoded in the path.
    let guest = listed
        .iter()
        .find(|u| u["userType"] == "Guest")
        .expect("a guest among 40 users");
    let gupn = guest["userPrincipalName"].as_str().expect("upn");
    assert!(gupn.contains("#EXT#"));
    let r = get(
        &env,
        &format!(
            "{}/users/{}?$select=id,userType",
            env.graph(),
            gupn.replace('#', "%23")
        ),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["id"], guest["id"]);
    assert_eq!(r.json()["userType"], "Guest");

    // An unknown $select property is a 400, like the lists.
    let bad = get(
        &env,
        &format!("{}/users/{id}?$select=id,shoeSize", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);

    let counts = counts(&env);
    assert_eq!(counts.get("users/{id}").copied(), Some(5), "{counts:?}");
}

#[tokio::test]
async fn unknown_or_deleted_user_is_graphs_404() {
    let env = env(10, 0, true).await;
    let token = app_token(&env).await;
    let missing = "00000000-0000-4000-8000-000000000000";
    let r = get(
        &env,
        &format!("{}/users/{missing}", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_not_found(&r, missing);
    let r = get(
        &env,
        &format!("{}/users/nobody@nowhere.example", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_not_found(&r, "nobody@nowhere.example");
    let r = get(
        &env,
        &format!("{}/users/{missing}/transitiveMemberOf", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_not_found(&r, missing);

    // A soft-deleted user is gone from /users too.
    let id = new_user(&env, "leaver@contoso.example");
    env.ctl
        .delete_object(env.tid(), Kind::User, &id, false)
        .expect("delete");
    let r = get(&env, &format!("{}/users/{id}", env.graph()), &token, &[]).await;
    assert_not_found(&r, &id);
    let r = get(
        &env,
        &format!(
            "{}/users/{id}/transitiveMemberOf/microsoft.graph.group",
            env.graph()
        ),
        &token,
        &[],
    )
    .await;
    assert_not_found(&r, &id);
}

#[tokio::test]
async fn lookups_need_a_consented_app_token_and_honour_faults() {
    let env = env(10, 0, true).await;
    let token = app_token(&env).await;
    let id = new_user(&env, "someone@contoso.example");
    let url = format!("{}/users/{id}", env.graph());
    let r = get(&env, &url, "", &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "InvalidAuthenticationToken");

    env.ctl
        .add_fault(
            env.tid(),
            Fault {
                kind: FaultKind::Throttle {
                    retry_after: Some("1".into()),
                },
                endpoint: Some("users/{id}/transitiveMemberOf/microsoft.graph.group".into()),
                nth: 1,
                times: 1,
                seen: 0,
            },
        )
        .expect("fault");
    let tmo = format!(
        "{}/users/{id}/transitiveMemberOf/microsoft.graph.group",
        env.graph()
    );
    let r = get(&env, &tmo, &token, &[]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    assert_eq!(get(&env, &url, &token, &[]).await.status, StatusCode::OK);
    assert_eq!(get(&env, &tmo, &token, &[]).await.status, StatusCode::OK);

    env.ctl
        .revoke_consent(env.tid(), CLIENT_ID)
        .expect("revoke");
    for u in [&url, &tmo] {
        let r = get(&env, u, &token, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{u}");
        assert_eq!(r.json()["error"]["code"], "Authorization_RequestDenied");
    }
}

#[tokio::test]
async fn transitive_member_of_follows_nested_groups() {
    let env = env(10, 0, true).await;
    let token = app_token(&env).await;
    let user = new_user(&env, "nested@contoso.example");
    let other = new_user(&env, "other@contoso.example");
    let direct = new_group(&env, "Direct");
    let parent = new_group(&env, "Parent of Direct");
    let grandparent = new_group(&env, "Grandparent");
    let both = new_group(&env, "Direct and via nesting");
    let unrelated = new_group(&env, "Unrelated");
    let ctl = &env.ctl;
    let tid = env.tid();
    ctl.add_member(tid, &direct, &user).expect("member");
    ctl.add_member(tid, &parent, &direct).expect("nest");
    ctl.add_member(tid, &grandparent, &parent).expect("nest");
    ctl.add_member(tid, &both, &user).expect("member");
    ctl.add_member(tid, &both, &direct).expect("nest");
    ctl.add_member(tid, &unrelated, &other).expect("member");
    // A cycle must not loop.
    ctl.add_member(tid, &direct, &grandparent).expect("cycle");

    let want: BTreeSet<String> = [&direct, &parent, &grandparent, &both]
        .into_iter()
        .cloned()
        .collect();
    for suffix in ["", "/microsoft.graph.group"] {
        let url = format!("{}/users/{user}/transitiveMemberOf{suffix}", env.graph());
        let r = get(&env, &url, &token, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let v = r.json();
        let ctx = v["@odata.context"].as_str().expect("context");
        if suffix.is_empty() {
            assert!(ctx.ends_with("$metadata#directoryObjects"), "{ctx}");
        } else {
            assert!(ctx.ends_with("$metadata#groups"), "{ctx}");
        }
        let items = v["value"].as_array().expect("value");
        assert_eq!(items.len(), want.len(), "each group once: {items:?}");
        let got: BTreeSet<String> = ids(items).into_iter().collect();
        assert_eq!(got, want);
        for g in items {
            assert_eq!(g["@odata.type"], "#microsoft.graph.group");
            assert!(g["displayName"].is_string());
        }
        assert!(v.get("@odata.nextLink").is_none());
    }
    // By UPN too.
    let r = get(
        &env,
        &format!(
            "{}/users/nested@contoso.example/transitiveMemberOf/microsoft.graph.group?$select=id",
            env.graph()
        ),
        &token,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids(r.json()["value"].as_array().expect("value")).len(), 4);

    // Leaving the direct group drops the groups reached only through it.
    ctl.remove_member(tid, &direct, &user).expect("remove");
    let url = format!(
        "{}/users/{user}/transitiveMemberOf/microsoft.graph.group",
        env.graph()
    );
    let got: BTreeSet<String> = ids(&list_all(&env, &url, &token).await)
        .into_iter()
        .collect();
    // `both` still contains `direct`, which is no longer an ancestor of the user: only `both`
    // and what contains it remain.
    assert_eq!(got, BTreeSet::from([both.clone()]));
}

#[tokio::test]
async fn generated_nesting_is_transitive() {
    // Generated group j (j % 6 == 2) contains group j - 1; group 0 holds everyone.
    let env = env(100, 0, true).await;
    let token = app_token(&env).await;
    let groups = env
        .ctl
        .list_objects(env.tid(), Kind::Group, 0, 100)
        .expect("groups");
    let gid = |j: usize| groups[j]["id"].as_str().expect("id").to_string();
    let inner = env.ctl.members(env.tid(), &gid(1)).expect("members");
    let (_, user) = inner
        .iter()
        .find(|(t, _)| t == "#microsoft.graph.user")
        .expect("a user in group 1");
    let url = format!(
        "{}/users/{user}/transitiveMemberOf/microsoft.graph.group?$select=id",
        env.graph()
    );
    let got = ids(&list_all(&env, &url, &token).await);
    assert!(got.contains(&gid(1)), "direct: {got:?}");
    assert!(
        got.contains(&gid(2)),
        "through group 1 inside group 2: {got:?}"
    );
    assert!(got.contains(&gid(0)), "everyone is in group 0: {got:?}");
}

#[tokio::test]
async fn transitive_member_of_pages_with_top_and_select() {
    let env = env(10, 0, true).await;
    let token = app_token(&env).await;
    let user = new_user(&env, "busy@contoso.example");
    let mut want = Vec::new();
    for i in 0..7 {
        let g = new_group(&env, &format!("Team {i}"));
        env.ctl.add_member(env.tid(), &g, &user).expect("member");
        want.push(g);
    }
    env.ctl.reset_requests(env.tid()).expect("reset");
    let start = format!(
        "{}/users/{user}/transitiveMemberOf/microsoft.graph.group?$select=id&$top=3",
        env.graph()
    );
    let mut url = start.clone();
    let mut got = Vec::new();
    let mut pages = Vec::new();
    loop {
        let r = get(&env, &url, &token, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text);
        let v = r.json();
        assert!(
            v["@odata.context"]
                .as_str()
                .is_some_and(|c| c.ends_with("$metadata#groups(id)")),
            "{v}"
        );
        let items = v["value"].as_array().cloned().expect("value");
        for g in &items {
            let keys: BTreeSet<&str> = g
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, BTreeSet::from(["@odata.type", "id"]), "{g}");
        }
        pages.push(items.len());
        got.extend(ids(&items));
        match v["@odata.nextLink"].as_str() {
            Some(n) => {
                assert!(n.contains("$skiptoken="), "{n}");
                assert!(!n.contains("$top"), "query options live in the token: {n}");
                url = n.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, [3, 3, 1]);
    assert_eq!(got, want, "every group once, in a stable order");
    let counts = counts(&env);
    assert_eq!(
        counts
            .get("users/{id}/transitiveMemberOf/microsoft.graph.group")
            .copied(),
        Some(1)
    );
    assert_eq!(
        counts
            .get("users/{id}/transitiveMemberOf/microsoft.graph.group?skiptoken")
            .copied(),
        Some(2)
    );

    // Default page size is 100: one page here. $top above 999 is capped, 0 refused.
    let all = get(
        &env,
        &format!("{}/users/{user}/transitiveMemberOf", env.graph()),
        &token,
        &[],
    )
    .await
    .json();
    assert_eq!(all["value"].as_array().map(Vec::len), Some(7));
    let zero = get(
        &env,
        &format!("{}/users/{user}/transitiveMemberOf?$top=0", env.graph()),
        &token,
        &[],
    )
    .await;
    assert_eq!(zero.status, StatusCode::BAD_REQUEST);

    // A skiptoken is bound to its user.
    let other = new_user(&env, "idle@contoso.example");
    let first = get(&env, &start, &token, &[]).await.json();
    let next = first["@odata.nextLink"].as_str().expect("next");
    let stolen = next.replace(&user, &other);
    let r = get(&env, &stolen, &token, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let garbage = format!(
        "{}/users/{user}/transitiveMemberOf?$skiptoken=not-a-token",
        env.graph()
    );
    assert_eq!(
        get(&env, &garbage, &token, &[]).await.status,
        StatusCode::BAD_REQUEST
    );
}
