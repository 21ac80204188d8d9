//! Search through the per-word lists (`index::search`): the same rows as the full scan at
//! every cap and budget, a total that is exact below the cap and a lower bound above it, the
//! page's records read and no others.

use super::lists::{cursor_walk, old_contacts, query, window};
use super::*;
use crate::model::{ContactSort, SearchQuery};
use crate::store::codec::dec;
use crate::store::index::search::{TEST_COUNT_CAP, TEST_LISTS_BUDGET};
use crate::store::index::{ListSpec, WordScopes, entries, keys};
use crate::store::tables::CONTACTS;
use crate::store::{Listed, Window};
use std::cell::Cell;

/// Searches by name with a driver word that starts one word or several, across one word or
/// several, rare and broad.
const SEARCHES: &[&str] = &[
    "a",
    "ada",
    "smith a",
    "a smith",
    "zo",
    "ÉMI",
    "ång",
    "c1",
    "sales ada",
    "lead z",
    "lovelace@c1",
    "u1 a",
    "nobody",
    "ada zed lead",
];

/// (cap, word-list budget) settings: the defaults, a cap every search reaches, a cap at a
/// page's edge, and a budget of 0 or 1 list (so the page is found by the list walk).
const SETTINGS: &[(Option<usize>, Option<usize>)] = &[
    (None, None),
    (Some(1), None),
    (Some(7), None),
    (Some(40), None),
    (None, Some(0)),
    (Some(7), Some(1)),
    (None, Some(3)),
];

fn set(cap: Option<usize>, budget: Option<usize>) {
    TEST_COUNT_CAP.with(|c| c.set(cap));
    TEST_LISTS_BUDGET.with(|c| c.set(budget));
}

/// The total a capped count reports for `exact` matches when a page wants `want` rows.
fn capped(exact: usize, cap: Option<usize>, want: usize) -> (usize, bool) {
    let cap = cap
        .unwrap_or(crate::store::index::search::COUNT_CAP)
        .max(want);
    if exact > cap {
        (cap, true)
    } else {
        (exact, false)
    }
}

#[test]
fn a_search_by_name_equals_the_full_scan_at_every_cap_and_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(23);
    s.write_blocking(|w| seed(w, &mut g, &[260, 80, 0, 30]))
        .expect("seed");
    let mut lower_bounds = 0;
    let mut pages = 0;
    for &(cap, budget) in SETTINGS {
        s.read_blocking(|r| {
            set(cap, budget);
            for company in [Some(1), Some(2), Some(3), None] {
                for desc in [false, true] {
                    for search in SEARCHES {
                        for (page, per_page) in [(1, 7), (2, 7), (5, 13), (1, 500), (90, 3)] {
                            let q = query(page, per_page, "name", desc, search);
                            let sq = q.search_query();
                            let got = r.contact_page(
                                company,
                                ContactSort::Name,
                                window(&q, sq.as_ref()),
                            )?;
                            let old = old_contacts(r, company, &q);
                            let what = format!(
                                "{company:?} desc={desc} q={search:?} page={page}/{per_page} cap={cap:?} budget={budget:?}"
                            );
                            assert_eq!(got.rows, old.items, "{what}");
                            let want = q.offset() + per_page;
                            assert_eq!(
                                (got.total, got.total_is_lower_bound),
                                capped(old.total, cap, want),
                                "{what}"
                            );
                            lower_bounds += usize::from(got.total_is_lower_bound);
                            pages += 1;
                        }
                        // Keyset paging visits every match once, in order, past the cap.
                        let (walked, ids) = cursor_walk(r, company, desc, search, 9);
                        assert_eq!(walked, ids, "cursor {company:?} {desc} {search:?} {cap:?}");
                    }
                }
            }
            set(None, None);
            Ok::<_, StoreError>(())
        })
        .expect("read");
    }
    // The settings reached both sides of the cap, on many pages.
    assert!(
        lower_bounds > 100 && pages > 2000,
        "{lower_bounds} / {pages}"
    );
}

/// Filters, other orders and the other lists keep the exact total (they rank their
/// candidates): the cap applies to the word-list path only.
#[test]
fn other_orders_keep_an_exact_total() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(5);
    s.write_blocking(|w| seed(w, &mut g, &[120, 40]))
        .expect("seed");
    s.read_blocking(|r| {
        set(Some(2), None);
        for company in [Some(1), None] {
            for sort in ["email", "updated", "status"] {
                let q = query(1, 5, sort, false, "a");
                let sq = q.search_query();
                let got =
                    r.contact_page(company, ContactSort::parse(sort), window(&q, sq.as_ref()))?;
                let old = old_contacts(r, company, &q);
                assert!(old.total > 2);
                assert_eq!((got.total, got.total_is_lower_bound), (old.total, false));
                assert_eq!(got.rows, old.items);
            }
        }
        set(None, None);
        Ok::<_, StoreError>(())
    })
    .expect("read");
}

/// A search page by name reads the records of its own rows and no other: the words are
/// checked by id in the word index, and the total is counted from it.
#[test]
fn a_search_page_by_name_reads_only_its_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(9);
    s.write_blocking(|w| seed(w, &mut g, &[400, 300, 200]))
        .expect("seed");
    s.read_blocking(|r| {
        for company in [Some(1), None] {
            for (search, desc) in [("smith a", false), ("ada", true), ("a lovelace", false)] {
                let t = r.table(CONTACTS)?;
                let fetched = Cell::new(0usize);
                let fetch = |id: u64, owner: u64| {
                    fetched.set(fetched.get() + 1);
                    t.get((owner, id))?.map(|g| dec(g.value())).transpose()
                };
                let word_scopes = match company {
                    Some(c) => vec![keys::scope(keys::kind::CONTACT, &[c])],
                    None => (1..=3)
                        .map(|c| keys::scope(keys::kind::CONTACT, &[c]))
                        .collect(),
                };
                let spec = ListSpec {
                    scope: keys::scope(
                        keys::kind::CONTACT,
                        &[company.unwrap_or(keys::ALL_COMPANIES)],
                    ),
                    parts: Vec::new(),
                    order: entries::contact_order(ContactSort::Name),
                    desc,
                    word_scopes: WordScopes::Listed(word_scopes),
                    fetch: &fetch,
                    sort_key: &|c: &Contact| entries::contact_key(c, ContactSort::Name),
                    texts: &|c: &Contact| entries::contact_texts(c).to_vec(),
                    keep: &|_| true,
                    filtered: false,
                    id: &|c: &Contact| c.id,
                    below: None,
                    word_lists: Some(keys::kind::CONTACT_WORD),
                };
                let sq = SearchQuery::parse(search);
                let w = Window {
                    desc,
                    search: Some(&sq),
                    after: None,
                    offset: 10,
                    limit: 10,
                };
                let Listed { rows, total, .. } = r.list_page(&spec, w)?;
                let old = old_contacts(r, company, &query(2, 10, "name", desc, search));
                assert!(old.total >= 20, "{search}: {}", old.total);
                assert_eq!((rows, total), (old.items, old.total), "{search}");
                assert_eq!(fetched.get(), 10, "{company:?} {search}: records read");
            }
        }
        Ok::<_, StoreError>(())
    })
    .expect("read");
}

/// The domain asks, before its read, whether a contact search ranks (and so waits for a
/// turn): by name through the word lists, or a group's members, it does not; filtered or in
/// another order, it does (`read.rs` ranks whenever `search_by_word_lists` declines).
#[test]
fn the_store_says_before_the_read_which_contact_searches_rank() {
    use crate::model::ContactFilter;
    use crate::store::contact_search_ranks;
    let by = |active: Option<bool>, guest: Option<bool>, group: Option<u64>| ContactFilter {
        active,
        guest,
        group,
    };
    for (sort, filter, company, ranks) in [
        (ContactSort::Name, by(None, None, None), Some(1), false),
        (ContactSort::Name, by(None, None, None), None, false),
        (ContactSort::Name, by(Some(true), None, None), Some(1), true),
        (ContactSort::Name, by(None, Some(false), None), None, true),
        (ContactSort::Email, by(None, None, None), Some(1), true),
        (ContactSort::Updated, by(None, None, None), None, true),
        (ContactSort::Email, by(None, None, Some(4)), Some(1), false),
        // A group filter needs a company (the domain refuses it without one).
        (ContactSort::Email, by(None, None, Some(4)), None, true),
    ] {
        assert_eq!(
            contact_search_ranks(sort, &filter, company),
            ranks,
            "{sort:?} {filter:?} {company:?}"
        );
    }
}

/// A driver that starts more words than the walk's budget, with few matches: the page is
/// ranked from the counted matches (a record each, plus the page's), not found by reading
/// the list's records until the page is full (which read the whole list for a rare search).
#[test]
fn a_rare_search_past_the_word_list_budget_reads_its_matches_not_the_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(9);
    s.write_blocking(|w| seed(w, &mut g, &[400])).expect("seed");
    s.read_blocking(|r| {
        set(None, Some(0));
        let t = r.table(CONTACTS)?;
        let mut ranked = 0;
        for (search, desc) in [
            ("ada", false),
            ("smith a", true),
            ("lovelace@c1", false),
            ("sales ada", false),
            ("lead z", true),
        ] {
            let fetched = Cell::new(0usize);
            let fetch = |id: u64, owner: u64| {
                fetched.set(fetched.get() + 1);
                t.get((owner, id))?.map(|g| dec(g.value())).transpose()
            };
            let spec = ListSpec {
                scope: keys::scope(keys::kind::CONTACT, &[1]),
                parts: Vec::new(),
                order: entries::contact_order(ContactSort::Name),
                desc,
                word_scopes: WordScopes::Listed(vec![keys::scope(keys::kind::CONTACT, &[1])]),
                fetch: &fetch,
                sort_key: &|c: &Contact| entries::contact_key(c, ContactSort::Name),
                texts: &|c: &Contact| entries::contact_texts(c).to_vec(),
                keep: &|_| true,
                filtered: false,
                id: &|c: &Contact| c.id,
                below: None,
                word_lists: Some(keys::kind::CONTACT_WORD),
            };
            let sq = SearchQuery::parse(search);
            let w = Window {
                desc,
                search: Some(&sq),
                after: None,
                offset: 0,
                limit: 5,
            };
            let got = r.list_page(&spec, w)?;
            let old = old_contacts(r, Some(1), &query(1, 5, "name", desc, search));
            assert_eq!((&got.rows, got.total), (&old.items, old.total), "{search}");
            assert!(old.total > 0 && old.total < 200, "{search}: {}", old.total);
            // Rare (see `search::rare`): ranked from the counted matches.
            if old.total * old.total <= 4 * 5 * 400 {
                ranked += 1;
                assert_eq!(
                    fetched.get(),
                    old.total + got.rows.len(),
                    "{search}: a record per match and per page row, not the list's 400"
                );
            } else {
                assert!(fetched.get() < 400, "{search}: {}", fetched.get());
            }
        }
        assert!(ranked >= 2, "the rare searches were ranked: {ranked}");
        set(None, None);
        Ok::<_, StoreError>(())
    })
    .expect("read");
}
