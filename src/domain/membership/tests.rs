//! Nesting links as sync applies them, and the transitive check the portal relies on.

use super::*;
use crate::clock::Clock as _;
use crate::crypto::SecretBox;
use crate::domain::sync::apply::{SyncPolicy, apply_groups, apply_users, finish_full_groups_round};
use crate::model::{Field, GroupDelta, UserDelta};
use crate::store::Store;

const COMPANY: u64 = 1;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open(&dir.path().join("t.redb"), SecretBox::from_key([4; 32])).expect("open");
    (dir, s)
}

fn users(s: &Store, oids: &[&str]) {
    let list = oids
        .iter()
        .map(|o| UserDelta {
            oid: (*o).into(),
            display_name: Field::Set((*o).into()),
            upn: Field::Set(format!("{o}@contoso.example")),
            account_enabled: Field::Set(true),
            ..Default::default()
        })
        .collect();
    s.write_blocking(|w| {
        apply_users(
            w,
            COMPANY,
            1,
            list,
            SyncPolicy::default(),
            crate::clock::SystemClock.now(),
        )
    })
    .expect("users");
}

/// A group as a full round reports it: its user members and its nested groups.
fn group(oid: &str, members: &[&str], nested: &[&str]) -> GroupDelta {
    GroupDelta {
        oid: oid.into(),
        display_name: Field::Set(oid.to_uppercase()),
        members_added: members.iter().map(|m| (*m).into()).collect(),
        groups_added: nested.iter().map(|g| (*g).into()).collect(),
        ..Default::default()
    }
}

fn apply(s: &Store, round: u64, groups: Vec<GroupDelta>, full: bool) {
    s.write_blocking(|w| {
        let now = crate::clock::SystemClock.now();
        apply_groups(w, COMPANY, round, groups, now)?;
        if full {
            finish_full_groups_round(w, COMPANY, round, now)?;
        }
        Ok::<_, StoreError>(())
    })
    .expect("groups");
}

/// Is user `user` a member of any of the groups `roots` (all by Entra object id), nesting included?
fn member(s: &Store, roots: &[&str], user: &str) -> bool {
    s.read_blocking(|r| {
        let contact = r.contact_by_oid(COMPANY, user)?.expect("contact").0.id;
        let mut ids = Vec::new();
        for root in roots {
            ids.push(r.group_by_oid(COMPANY, root)?.expect("group").0.id);
        }
        member_of_any(r, COMPANY, &ids, contact)
    })
    .expect("check")
}

#[test]
fn members_of_groups_nested_two_levels_deep_count_and_outsiders_do_not() {
    let (_d, s) = store();
    users(&s, &["direct", "deep", "outsider"]);
    // The parent comes before its children in the round: links are kept by object id.
    apply(
        &s,
        1,
        vec![
            group("a", &["direct"], &["b"]),
            group("b", &[], &["c"]),
            group("c", &["deep"], &[]),
            group("other", &["outsider"], &[]),
        ],
        true,
    );
    assert!(member(&s, &["a"], "direct"));
    assert!(member(&s, &["a"], "deep"), "a → b → c → deep");
    assert!(member(&s, &["b"], "deep"));
    assert!(!member(&s, &["c"], "direct"), "nesting is one way");
    assert!(!member(&s, &["a"], "outsider"));
    assert!(member(&s, &["c", "other"], "outsider"), "any of the roots");
}

#[test]
fn a_nesting_cycle_ends_and_still_grants_what_it_contains() {
    let (_d, s) = store();
    users(&s, &["in-b", "nowhere"]);
    apply(
        &s,
        1,
        vec![
            group("a", &[], &["b"]),
            group("b", &["in-b"], &["c"]),
            group("c", &[], &["a"]),
        ],
        true,
    );
    assert!(member(&s, &["a"], "in-b"));
    assert!(member(&s, &["c"], "in-b"), "c → a → b");
    assert!(!member(&s, &["a"], "nowhere"), "the walk ends");
}

#[test]
fn a_removed_link_or_a_deleted_child_group_passes_nothing_on() {
    let (_d, s) = store();
    users(&s, &["u", "v"]);
    apply(
        &s,
        1,
        vec![
            group("a", &[], &["b", "c"]),
            group("b", &["u"], &[]),
            group("c", &["v"], &[]),
        ],
        true,
    );
    assert!(member(&s, &["a"], "u") && member(&s, &["a"], "v"));
    // Incremental round: b taken out of a; c deleted in Entra.
    let out = GroupDelta {
        oid: "a".into(),
        groups_removed: vec!["b".into()],
        ..Default::default()
    };
    let deleted = GroupDelta {
        oid: "c".into(),
        removed: true,
        ..Default::default()
    };
    apply(&s, 2, vec![out, deleted], false);
    assert!(!member(&s, &["a"], "u"), "link removed");
    assert!(member(&s, &["b"], "u"), "b itself is untouched");
    assert!(!member(&s, &["a"], "v"), "a deleted group grants nothing");
    let left = s
        .read_blocking(|r| {
            let a = r.group_by_oid(COMPANY, "a")?.expect("a").0.id;
            r.nested_group_oids(COMPANY, a)
        })
        .expect("read");
    assert_eq!(left, vec!["c".to_string()]);
}

#[test]
fn a_full_round_drops_links_it_did_not_see() {
    let (_d, s) = store();
    users(&s, &["u", "w"]);
    apply(
        &s,
        1,
        vec![
            group("a", &[], &["b"]),
            group("b", &["u"], &[]),
            group("x", &["w"], &[]),
        ],
        true,
    );
    assert!(member(&s, &["a"], "u"));
    // Round 2 is full: a now holds x only; b's link was never reported as removed.
    apply(
        &s,
        2,
        vec![
            group("a", &[], &["x"]),
            group("b", &["u"], &[]),
            group("x", &["w"], &[]),
        ],
        true,
    );
    assert!(!member(&s, &["a"], "u"), "unseen link dropped");
    assert!(member(&s, &["a"], "w"), "the seen one kept");
}

#[test]
fn a_walk_past_the_bound_is_refused() {
    let (_d, s) = store();
    users(&s, &["bottom"]);
    // A chain g0 → g1 → … longer than the bound, the user at its far end.
    let n = MAX_GROUPS_WALKED + 1;
    let chain: Vec<GroupDelta> = (0..n)
        .map(|i| {
            let next = format!("g{}", i + 1);
            if i + 1 == n {
                group(&format!("g{i}"), &["bottom"], &[])
            } else {
                group(&format!("g{i}"), &[], &[next.as_str()])
            }
        })
        .collect();
    apply(&s, 1, chain, true);
    assert!(member(&s, &["g1"], "bottom"), "within the bound");
    assert!(!member(&s, &["g0"], "bottom"), "one group past it");
}
