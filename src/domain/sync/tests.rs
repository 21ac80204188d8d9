use super::apply::*;
use crate::clock::Clock as _;
use crate::crypto::SecretBox;
use crate::model::{Field, GroupDelta, UserDelta};
use crate::store::Store;

pub(super) fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open(&dir.path().join("t.redb"), SecretBox::from_key([3; 32])).expect("open");
    (dir, s)
}

pub(super) fn user(oid: &str, name: &str, mail: Option<&str>) -> UserDelta {
    UserDelta {
        oid: oid.into(),
        display_name: Field::Set(name.into()),
        mail: mail.map(|m| Field::Set(m.into())).unwrap_or(Field::Cleared),
        upn: Field::Set(format!("{oid}@contoso.com")),
        department: Field::Set("Sales".into()),
        job_title: Field::Cleared,
        account_enabled: Field::Set(true),
        user_type: Field::Set("Member".into()),
        ..Default::default()
    }
}

#[test]
fn users_are_created_updated_by_sent_fields_and_deactivated_never_deleted() {
    let (_d, s) = store();
    let now = crate::clock::SystemClock.now();
    let c = s
        .write_blocking(|w| {
            apply_users(
                w,
                1,
                1,
                vec![
                    user("a", "Ann", Some("ann@contoso.com")),
                    user("b", "Bob", None),
                ],
                SyncPolicy::default(),
                now,
            )
        })
        .expect("apply");
    assert_eq!((c.created, c.updated, c.deactivated), (2, 0, 0));
    let contacts = s.read_blocking(|r| r.contacts_of(1)).expect("read");
    let bob = contacts
        .iter()
        .find(|c| c.display_name == "Bob")
        .expect("bob");
    assert_eq!(bob.email, "b@contoso.com", "no mail: UPN is the e-mail");
    // A delta update carrying only the changed department keeps everything else.
    let change = UserDelta {
        oid: "a".into(),
        department: Field::Set("Finance".into()),
        ..Default::default()
    };
    let c = s
        .write_blocking(|w| apply_users(w, 1, 2, vec![change], SyncPolicy::default(), now))
        .expect("apply");
    assert_eq!((c.created, c.updated), (0, 1));
    let ann = s
        .read_blocking(|r| r.contact_by_oid(1, "a"))
        .expect("read")
        .expect("ann")
        .0;
    assert_eq!(
        (
            ann.department.as_str(),
            ann.display_name.as_str(),
            ann.email.as_str()
        ),
        ("Finance", "Ann", "ann@contoso.com")
    );
    // Disabled → inactive; removed → inactive; both kept.
    let disable = UserDelta {
        oid: "a".into(),
        account_enabled: Field::Set(false),
        ..Default::default()
    };
    let removed = UserDelta {
        oid: "b".into(),
        removed: true,
        ..Default::default()
    };
    let c = s
        .write_blocking(|w| {
            apply_users(w, 1, 3, vec![disable, removed], SyncPolicy::default(), now)
        })
        .expect("apply");
    assert_eq!(c.deactivated, 2);
    let contacts = s.read_blocking(|r| r.contacts_of(1)).expect("read");
    assert_eq!(contacts.len(), 2);
    assert!(contacts.iter().all(|c| !c.active));
}

#[test]
fn guests_are_marked_and_can_be_excluded() {
    let (_d, s) = store();
    let mut g = user("g", "Guest Person", Some("guest@fabrikam.com"));
    g.upn = Field::Set("guest_fabrikam.com#EXT#@contoso.onmicrosoft.com".into());
    g.user_type = Field::Set("Guest".into());
    s.write_blocking(|w| {
        apply_users(
            w,
            1,
            1,
            vec![g.clone()],
            SyncPolicy::default(),
            crate::clock::SystemClock.now(),
        )
    })
    .expect("apply");
    assert!(s.read_blocking(|r| r.contacts_of(1)).expect("read")[0].is_guest);
    let c = s
        .write_blocking(|w| {
            apply_users(
                w,
                2,
                1,
                vec![g],
                SyncPolicy {
                    exclude_guests: true,
                },
                crate::clock::SystemClock.now(),
            )
        })
        .expect("apply");
    assert_eq!(c.created, 0);
    assert!(
        s.read_blocking(|r| r.contacts_of(2))
            .expect("read")
            .is_empty()
    );
}

#[test]
fn a_full_round_deactivates_what_it_did_not_see() {
    let (_d, s) = store();
    let now = crate::clock::SystemClock.now();
    s.write_blocking(|w| {
        apply_users(
            w,
            1,
            1,
            vec![user("a", "A", None), user("b", "B", None)],
            SyncPolicy::default(),
            now,
        )
    })
    .expect("apply");
    let n = s
        .write_blocking(|w| {
            apply_users(
                w,
                1,
                2,
                vec![user("a", "A", None)],
                SyncPolicy::default(),
                now,
            )?;
            deactivate_unseen_contacts(w, 1, 2, now)
        })
        .expect("apply");
    assert_eq!(n, 1);
    assert!(
        !s.read_blocking(|r| r.contact_by_oid(1, "b"))
            .expect("read")
            .expect("b")
            .0
            .active
    );
}

#[test]
fn memberships_follow_adds_removes_and_full_rounds() {
    let (_d, s) = store();
    let now = crate::clock::SystemClock.now();
    s.write_blocking(|w| {
        apply_users(
            w,
            1,
            1,
            vec![user("a", "A", None), user("b", "B", None)],
            SyncPolicy::default(),
            now,
        )
    })
    .expect("users");
    let grp = GroupDelta {
        oid: "g".into(),
        display_name: Field::Set("Staff".into()),
        members_added: vec!["a".into(), "b".into(), "not-a-user".into()],
        ..Default::default()
    };
    s.write_blocking(|w| {
        apply_groups(w, 1, 1, vec![grp], now)?;
        recount_members(w, 1)
    })
    .expect("groups");
    assert_eq!(
        s.read_blocking(|r| r.groups_of(1)).expect("read")[0].member_count,
        2
    );
    let change = GroupDelta {
        oid: "g".into(),
        members_removed: vec!["b".into()],
        ..Default::default()
    };
    s.write_blocking(|w| {
        apply_groups(w, 1, 2, vec![change], now)?;
        // An incremental round recounts only the groups whose members changed.
        recount_members_of(w, 1, &["g".to_string()])
    })
    .expect("groups");
    assert_eq!(
        s.read_blocking(|r| r.memberships_of(1))
            .expect("read")
            .len(),
        1
    );
    assert_eq!(
        s.read_blocking(|r| r.groups_of(1)).expect("read")[0].member_count,
        1
    );
    // Full round 3 sees the group with only b: a's membership goes, b's comes back.
    let full = GroupDelta {
        oid: "g".into(),
        display_name: Field::Set("Staff".into()),
        members_added: vec!["b".into()],
        ..Default::default()
    };
    s.write_blocking(|w| {
        apply_groups(w, 1, 3, vec![full], now)?;
        finish_full_groups_round(w, 1, 3, now)?;
        recount_members(w, 1)
    })
    .expect("groups");
    let m = s.read_blocking(|r| r.memberships_of(1)).expect("read");
    let b = s
        .read_blocking(|r| r.contact_by_oid(1, "b"))
        .expect("read")
        .expect("b")
        .0;
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].contact_id, b.id);
}

#[test]
fn nested_groups_in_members_delta_become_links_and_untyped_removals_are_tried_as_both() {
    use crate::graph::groups::{DeltaGroup, GroupRound};
    let page: Vec<DeltaGroup> = serde_json::from_value(serde_json::json!([{
        "id": "parent",
        "displayName": "Parent",
        "members@delta": [
            {"@odata.type": "#microsoft.graph.user", "id": "u1"},
            {"@odata.type": "#microsoft.graph.group", "id": "child"},
            {"@odata.type": "#microsoft.graph.device", "id": "d1"},
            {"id": "untyped"},
            {"@odata.type": "#microsoft.graph.group", "id": "gone", "@removed": {"reason": "deleted"}},
            {"id": "unknown", "@removed": {"reason": "deleted"}}
        ]
    }]))
    .expect("page");
    let mut round = GroupRound::new();
    round.add_page(page);
    let d = super::convert::group_delta(round.finish().remove(0));
    assert_eq!(d.members_added, vec!["u1", "untyped"]);
    assert_eq!(d.groups_added, vec!["child"], "devices are neither");
    assert_eq!(d.members_removed, vec!["unknown"]);
    assert_eq!(d.groups_removed, vec!["gone", "unknown"]);
}

#[test]
fn a_batch_applies_its_deltas_in_order_though_it_writes_them_together() {
    let (_d, s) = store();
    let now = crate::clock::SystemClock.now();
    // A user created and then removed in one batch: stored once, inactive.
    let mut gone = user("c", "C", None);
    gone.removed = true;
    let c = s
        .write_blocking(|w| {
            apply_users(
                w,
                1,
                1,
                vec![user("a", "A", None), user("c", "C", None), gone],
                SyncPolicy::default(),
                now,
            )
        })
        .expect("users");
    assert_eq!((c.created, c.deactivated), (2, 1));
    let c_contact = s
        .read_blocking(|r| r.contact_by_oid(1, "c"))
        .expect("read")
        .expect("c")
        .0;
    assert!(!c_contact.active);
    assert_eq!(
        s.read_blocking(|r| r.contacts_of(1)).expect("read").len(),
        2
    );
    // A member added, then removed by a later delta of the same batch: gone; and added
    // again after that: back.
    let add = |m: &str| GroupDelta {
        oid: "g".into(),
        members_added: vec![m.into()],
        ..Default::default()
    };
    let remove = |m: &str| GroupDelta {
        oid: "g".into(),
        members_removed: vec![m.into()],
        ..Default::default()
    };
    s.write_blocking(|w| apply_groups(w, 1, 1, vec![add("a"), add("c"), remove("a")], now))
        .expect("groups");
    let members = |s: &Store| -> Vec<u64> {
        s.read_blocking(|r| r.memberships_of(1))
            .expect("read")
            .iter()
            .map(|m| m.contact_id)
            .collect()
    };
    assert_eq!(members(&s), vec![c_contact.id]);
    s.write_blocking(|w| apply_groups(w, 1, 2, vec![remove("c"), add("c")], now))
        .expect("groups");
    assert_eq!(members(&s), vec![c_contact.id]);
    let of_c = s
        .read_blocking(|r| r.groups_of_contact(1, c_contact.id))
        .expect("read");
    assert_eq!(of_c.len(), 1, "MEMBER_OF follows MEMBERSHIPS");
}
