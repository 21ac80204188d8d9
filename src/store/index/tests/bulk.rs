//! The initial sync's bulk path (`bulk.rs`): a company whose lists are deferred answers every
//! list exactly as the full scan does (alone and merged into the lists across companies),
//! the check accepts it, and once built (by a writer, or at the next start) its lists are
//! the lists the ordinary upkeep would have written, and later changes keep them so.

use super::lists::{
    assert_consistent, churn, compare_contact_details, compare_cursor_walks, compare_directory,
};
use super::*;
use crate::model::{Asset, GroupSort};
use crate::store::index::keys;
use crate::store::{ListKind, Window};

const NEW: u64 = 5;

/// Company `NEW` written as a first sync writes it: marks first, then records, no entries.
fn first_sync(s: &Store, g: &mut Gen, world: &mut World) {
    s.write_blocking(|w| {
        w.defer_index_upkeep();
        w.put_company(&company(g, NEW))?;
        for kind in [ListKind::Contacts, ListKind::Assets, ListKind::Groups] {
            assert!(
                w.defer_lists_if_empty(NEW, kind)?,
                "{kind:?}: no records yet"
            );
            // A company with records keeps its ordinary upkeep.
            assert!(
                !w.defer_lists_if_empty(1, kind)?,
                "{kind:?}: company 1 has records"
            );
        }
        let mut ids = Vec::new();
        for id in 50_001..50_121 {
            w.put_contact(&contact(g, NEW, id))?;
            ids.push(id);
            world.contacts.push((NEW, id));
        }
        // A record put twice in the round (Graph replays objects): still one record.
        w.put_contact(&contact(g, NEW, 50_001))?;
        for id in 60_001..60_121 {
            w.put_asset(&asset(g, NEW, id, &ids))?;
            world.assets.push((NEW, id));
        }
        for id in 70_001..70_009 {
            w.put_group(&group(g, NEW, id))?;
        }
        Ok::<_, StoreError>(())
    })
    .expect("first sync");
    world.companies = NEW;
}

/// Groups, counts and a few single reads against the records.
fn compare_counts_and_groups(s: &Store) {
    s.read_blocking(|r| {
        for company in [Some(NEW), Some(1), None] {
            let assets: Vec<Asset> = match company {
                Some(c) => r.assets_of(c)?,
                None => r.all_assets()?,
            };
            assert_eq!(r.asset_count(company)?, assets.len() as u64, "{company:?}");
            let contacts = match company {
                Some(c) => r.contacts_of(c)?.len(),
                None => r.all_contacts()?.len(),
            };
            assert_eq!(r.contact_count(company)?, contacts as u64, "{company:?}");
            let states = ["compliant", "noncompliant", ""];
            for (state, n) in r.compliance_counts(company, &states)? {
                let want = assets
                    .iter()
                    .filter(|a| a.compliance_state == state)
                    .count();
                assert_eq!(n, want as u64, "{company:?} {state:?}");
            }
        }
        let mut want: Vec<ContactGroup> = r.groups_of(NEW)?;
        want.sort_by(|a, b| {
            (a.display_name.to_lowercase(), a.id).cmp(&(b.display_name.to_lowercase(), b.id))
        });
        let w = Window {
            desc: false,
            search: None,
            after: None,
            offset: 2,
            limit: 3,
        };
        let page = r.group_page(NEW, GroupSort::Name, w)?;
        assert_eq!(page.total, want.len());
        let got: Vec<u64> = page.rows.iter().map(|g| g.id).collect();
        let want: Vec<u64> = want.iter().skip(2).take(3).map(|g| g.id).collect();
        assert_eq!(got, want);
        Ok::<_, StoreError>(())
    })
    .expect("read");
}

fn pending(s: &Store) -> Vec<(u64, ListKind)> {
    s.read_blocking(|r| r.all_lists_pending()).expect("marks")
}

#[test]
fn a_company_whose_lists_are_deferred_lists_as_the_full_scan_until_and_after_its_build() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(17);
    let mut world = s
        .write_blocking(|w| seed(w, &mut g, &[240, 90, 0, 15]))
        .expect("seed");
    first_sync(&s, &mut g, &mut world);
    assert_eq!(pending(&s).len(), 3);
    // The check expects no entry for the pending company's records, and finds none.
    assert_consistent(&s);
    let no_entries = s
        .read_blocking(|r| r.count(&keys::scope(keys::kind::CONTACT, &[NEW])))
        .expect("count");
    assert_eq!(no_entries, 0, "nothing indexed before the build");
    // Pending: the company's pages and the pages across companies equal the full scan.
    let scopes = [Some(NEW), Some(1), None];
    assert!(compare_directory(&s, &scopes) > 1000);
    compare_contact_details(&s, &world);
    compare_cursor_walks(&s);
    compare_counts_and_groups(&s);

    // The contacts built by a writer (as the users round's last batch does).
    let n = s
        .write_blocking(|w| {
            w.defer_index_upkeep();
            w.build_deferred_lists(NEW, ListKind::Contacts)
        })
        .expect("build");
    assert_eq!(n, 120);
    assert_eq!(pending(&s).len(), 2);
    assert_consistent(&s);
    compare_cursor_walks(&s);

    // The rest at the next start (a sync that stopped before its round's end).
    drop(s);
    let s = store(dir.path());
    assert!(pending(&s).is_empty(), "built at start");
    assert_consistent(&s);
    compare_directory(&s, &scopes);
    compare_contact_details(&s, &world);
    compare_counts_and_groups(&s);
    // Built: the next sync's changes keep the lists by the ordinary upkeep.
    let again = s
        .write_blocking(|w| w.defer_lists_if_empty(NEW, ListKind::Contacts))
        .expect("defer");
    assert!(!again, "a company with contacts is not deferred again");
    churn(&s, &mut g, &world, 1, true);
    assert_consistent(&s);
    compare_directory(&s, &scopes);
    compare_contact_details(&s, &world);
}

#[test]
fn building_lists_nobody_deferred_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(23);
    s.write_blocking(|w| seed(w, &mut g, &[30])).expect("seed");
    let n = s
        .write_blocking(|w| w.build_deferred_lists(1, ListKind::Contacts))
        .expect("build");
    assert_eq!(n, 0);
    assert_consistent(&s);
}

#[test]
fn a_build_that_meets_an_unreadable_record_fails_and_keeps_its_mark() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(29);
    let mut world = s.write_blocking(|w| seed(w, &mut g, &[20])).expect("seed");
    first_sync(&s, &mut g, &mut world);
    // A record half-way through the build (its helper thread decodes it several chunks in).
    s.write_blocking(|w| {
        w.txn
            .open_table(crate::store::tables::CONTACTS)?
            .insert((NEW, 50_070), b"not a contact".as_slice())?;
        Ok::<_, StoreError>(())
    })
    .expect("corrupt");
    let built = s.write_blocking(|w| {
        w.defer_index_upkeep();
        w.build_deferred_lists(NEW, ListKind::Contacts)
    });
    assert!(built.is_err(), "{built:?}");
    // Nothing of the failed build committed: the mark still says the lists are to build.
    assert!(pending(&s).contains(&(NEW, ListKind::Contacts)));
    let no_entries = s
        .read_blocking(|r| r.count(&keys::scope(keys::kind::CONTACT, &[NEW])))
        .expect("count");
    assert_eq!(no_entries, 0);
}
