//! Paging and delta: next links followed verbatim, every item once, the delta link handed
//! back, `@removed` decoded, and a group's `members@delta` merged across pages.

use tenantry::graph::groups::{GroupRound, MemberType};
use tenantry::graph::users::{DeltaUser, USER_SELECT};
use tenantry::graph::wire::RemovedReason;
use tenantry::graph::{GraphErrorKind, Page};

use crate::fake::{Canned, Fake, TENANT};

fn user(id: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "displayName": name, "mail": format!("{id}@example.com"),
        "userPrincipalName": format!("{id}@example.com"), "department": "Ops",
        "jobTitle": "Tech", "accountEnabled": true, "userType": "Member"
    })
}

/// Script a three-page users round: two users, an empty page, then a user, a removal and
/// the delta link.
fn script_users_round(fake: &Fake) -> String {
    let start = format!("/v1.0/users/delta?$select={USER_SELECT}");
    let page1 = serde_json::json!({
        "@odata.nextLink": fake.url("/v1.0/users/delta?$skiptoken=p2"),
        "value": [user("u1", "One"), user("u2", "Two")]
    });
    let page2 = serde_json::json!({
        "@odata.nextLink": fake.url("/v1.0/users/delta?$skiptoken=p3"),
        "value": []
    });
    let page3 = serde_json::json!({
        "@odata.deltaLink": fake.url("/v1.0/users/delta?$deltatoken=d1"),
        "value": [
            user("u3", "Three"),
            {"id": "u4", "@removed": {"reason": "deleted"}},
            {"id": "u5", "@removed": {"reason": "changed"}}
        ]
    });
    fake.script(&start, vec![Canned::ok(page1.to_string())]);
    fake.script(
        "/v1.0/users/delta?$skiptoken=p2",
        vec![Canned::ok(page2.to_string())],
    );
    fake.script(
        "/v1.0/users/delta?$skiptoken=p3",
        vec![Canned::ok(page3.to_string())],
    );
    start
}

#[tokio::test]
async fn three_pages_return_every_item_once_and_the_delta_link() {
    let fake = Fake::start().await;
    script_users_round(&fake);
    let client = fake.client();

    // Page by page, as the sync does it.
    let mut ids = Vec::new();
    let mut link: Option<String> = None;
    let mut pages = 0;
    let delta_link = loop {
        let page: Page<DeltaUser> = client
            .users_delta_page(TENANT, link.as_deref())
            .await
            .expect("page");
        pages += 1;
        ids.extend(page.items.iter().map(|u| u.id.clone()));
        match (page.next_link, page.delta_link) {
            (Some(next), None) => link = Some(next),
            (None, Some(delta)) => break delta,
            other => panic!("a page has exactly one link: {other:?}"),
        }
    };
    assert_eq!(pages, 3);
    assert_eq!(ids, ["u1", "u2", "u3", "u4", "u5"]);
    assert_eq!(delta_link, fake.url("/v1.0/users/delta?$deltatoken=d1"));

    // All at once gives the same.
    let all = client
        .get_all::<DeltaUser>(TENANT, &client.users_delta_start_url())
        .await
        .expect("all");
    assert_eq!(all.items.len(), 5);
    assert_eq!(all.delta_link.as_deref(), Some(delta_link.as_str()));
    assert!(all.next_link.is_none());
    fake.stop().await;
}

#[tokio::test]
async fn removed_users_are_decoded_with_their_reason() {
    let fake = Fake::start().await;
    script_users_round(&fake);
    let client = fake.client();
    let all = client
        .get_all::<DeltaUser>(TENANT, &client.users_delta_start_url())
        .await
        .expect("all");
    let by_id = |id: &str| all.items.iter().find(|u| u.id == id).expect("present");

    let u1 = by_id("u1");
    assert!(!u1.is_removed());
    assert_eq!(u1.display_name.as_deref(), Some("One"));
    assert_eq!(u1.account_enabled, Some(true));

    let u4 = by_id("u4");
    assert!(u4.is_removed());
    assert_eq!(
        u4.display_name, None,
        "a removal carries only id and @removed"
    );
    let reason = u4.removed.as_ref().and_then(|r| r.reason.clone());
    assert_eq!(reason, Some(RemovedReason::Deleted));
    let reason = by_id("u5").removed.as_ref().and_then(|r| r.reason.clone());
    assert_eq!(reason, Some(RemovedReason::Changed));
    fake.stop().await;
}

#[tokio::test]
async fn a_groups_members_spanning_two_pages_are_merged() {
    let fake = Fake::start().await;
    let client = fake.client();
    let start = client
        .groups_delta_start_url()
        .trim_start_matches(&fake.base)
        .to_string();
    let page1 = serde_json::json!({
        "@odata.nextLink": fake.url("/v1.0/groups/delta?$skiptoken=g2"),
        "value": [{
            "id": "big", "displayName": "All Staff", "description": null,
            "mailEnabled": true, "securityEnabled": false, "groupTypes": ["Unified"],
            "members@delta": [
                {"@odata.type": "#microsoft.graph.user", "id": "u1"},
                {"@odata.type": "#microsoft.graph.user", "id": "u2"}
            ]
        }, {
            "id": "small", "displayName": "Admins", "groupTypes": [],
            "mailEnabled": false, "securityEnabled": true,
            "members@delta": [{"@odata.type": "#microsoft.graph.user", "id": "u1"}]
        }]
    });
    let page2 = serde_json::json!({
        "@odata.deltaLink": fake.url("/v1.0/groups/delta?$deltatoken=gd"),
        "value": [{
            "id": "big",
            "members@delta": [
                {"@odata.type": "#microsoft.graph.user", "id": "u3"},
                {"@odata.type": "#microsoft.graph.group", "id": "nested"},
                {"@odata.type": "#microsoft.graph.user", "id": "u9", "@removed": {"reason": "deleted"}}
            ]
        }, {"id": "gone", "@removed": {"reason": "changed"}}]
    });
    fake.script(&start, vec![Canned::ok(page1.to_string())]);
    fake.script(
        "/v1.0/groups/delta?$skiptoken=g2",
        vec![Canned::ok(page2.to_string())],
    );

    let mut round = GroupRound::new();
    let mut link: Option<String> = None;
    let delta = loop {
        let page = client
            .groups_delta_page(TENANT, link.as_deref())
            .await
            .expect("page");
        round.add_page(page.items);
        match page.next_link {
            Some(next) => link = Some(next),
            None => break page.delta_link.expect("delta link on the last page"),
        }
    };
    assert_eq!(delta, fake.url("/v1.0/groups/delta?$deltatoken=gd"));
    assert_eq!(round.len(), 3);
    let merged = round.finish();
    let ids: Vec<_> = merged.iter().map(|g| g.group.id.as_str()).collect();
    assert_eq!(ids, ["big", "small", "gone"]);

    let big = &merged[0];
    assert_eq!(
        big.group.display_name.as_deref(),
        Some("All Staff"),
        "kept from page 1"
    );
    assert_eq!(
        big.group.group_types.as_deref(),
        Some(&["Unified".to_string()][..])
    );
    let added: Vec<_> = big.members_added.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(added, ["u1", "u2", "u3", "nested"]);
    assert_eq!(big.members_added[3].member_type, Some(MemberType::Group));
    let removed: Vec<_> = big.members_removed.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(removed, ["u9"]);

    assert_eq!(merged[1].members_added.len(), 1);
    assert!(merged[2].is_removed());
    fake.stop().await;
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    let fake = Fake::start().await;
    let page = serde_json::json!({
        "@odata.nextLink": "https://attacker.example/v1.0/users/delta?$skiptoken=x",
        "value": [user("u1", "One")]
    });
    fake.script(
        "/v1.0/users/delta?$skiptoken=start",
        vec![Canned::ok(page.to_string())],
    );
    let client = fake.client();
    let err = client
        .get_all::<DeltaUser>(TENANT, &fake.url("/v1.0/users/delta?$skiptoken=start"))
        .await
        .expect_err("refused");
    assert_eq!(err.kind, GraphErrorKind::Decode);
    assert!(err.to_string().contains("refusing to follow"), "{err}");
    fake.stop().await;
}
