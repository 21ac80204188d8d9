//! Every order, both directions, searches and pages, against the old full-scan code.

use super::*;
use crate::model::{
    AssetSort, AuditFilter, CompanySort, ContactSort, GroupSort, ListQuery, Page, RequestSort,
    SearchQuery, SortDir,
};
use crate::store::{Listed, Reader, Window};

const SEARCHES: &[&str] = &[
    "",
    "a",
    "zo",
    "ÉMI",
    "smith a",
    "ång",
    "c1",
    "laptop 01",
    "sn1",
    "@@",
    "li",
];

pub(super) fn query(page: usize, per_page: usize, sort: &str, desc: bool, q: &str) -> ListQuery {
    ListQuery::new(
        Some(page),
        Some(per_page),
        Some(sort),
        Some(if desc { "desc" } else { "asc" }),
        Some(q),
    )
}

pub(super) fn window<'a>(q: &ListQuery, s: Option<&'a SearchQuery>) -> Window<'a> {
    Window {
        desc: q.dir == SortDir::Desc,
        search: s,
        after: None,
        offset: q.offset(),
        limit: q.per_page,
    }
}

/// Every contact a name-ordered search finds, walked by cursor `per_page` at a time, and the
/// ids the old full-scan code finds: keyset paging must visit every match once, in order.
pub(super) fn cursor_walk(
    r: &Reader,
    company: Option<u64>,
    desc: bool,
    search: &str,
    per_page: usize,
) -> (Vec<u64>, Vec<u64>) {
    let all = old_contacts(r, company, &query(1, 1000, "name", desc, search));
    let mut walked = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let q = query(1, per_page, "name", desc, search);
        let sq = q.search_query();
        let w = Window {
            after: after.as_deref(),
            ..window(&q, sq.as_ref())
        };
        let page = r.contact_page(company, ContactSort::Name, w).expect("page");
        walked.extend(page.rows.iter().map(|c| c.id));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    (walked, all.items.iter().map(|c| c.id).collect())
}

/// The old code's filter: keep what the search matches (word prefixes now, as the index).
fn searched<T>(items: Vec<T>, q: &ListQuery, texts: impl Fn(&T) -> Vec<String>) -> Vec<T> {
    let s = q.search_query();
    items
        .into_iter()
        .filter(|x| {
            s.as_ref()
                .is_none_or(|s| s.matches(texts(x).iter().map(String::as_str)))
        })
        .collect()
}

/// The old contacts list: every contact of the scope, filtered, sorted in memory, cut.
pub(super) fn old_contacts(r: &Reader, company: Option<u64>, q: &ListQuery) -> Page<Contact> {
    let all = match company {
        Some(id) => r.contacts_of(id),
        None => r.all_contacts(),
    }
    .expect("read");
    let items = searched(all, q, |c| {
        vec![
            c.display_name.clone(),
            c.email.clone(),
            c.upn.clone(),
            c.department.clone(),
            c.job_title.clone(),
        ]
    });
    match q.sort.as_str() {
        "email" => q.apply(items, |c| (c.email.to_lowercase(), c.id)),
        "department" => q.apply(items, |c| (c.department.to_lowercase(), c.id)),
        "job_title" => q.apply(items, |c| (c.job_title.to_lowercase(), c.id)),
        "status" => q.apply(items, |c| (!c.active, c.id)),
        "updated" => q.apply(items, |c| (c.updated_at, c.id)),
        _ => q.apply(items, |c| (c.display_name.to_lowercase(), c.id)),
    }
}

fn old_assets(r: &Reader, company: Option<u64>, q: &ListQuery) -> Page<Asset> {
    let all = match company {
        Some(id) => r.assets_of(id),
        None => r.all_assets(),
    }
    .expect("read");
    let items = searched(all, q, |a| {
        vec![a.hostname.clone(), a.serial_number.clone(), a.os.clone()]
    });
    match q.sort.as_str() {
        "os" => q.apply(items, |a| (a.os.to_lowercase(), a.id)),
        "serial" => q.apply(items, |a| (a.serial_number.to_lowercase(), a.id)),
        "compliance" => q.apply(items, |a| (a.compliance_state.clone(), a.id)),
        "last_check_in" => q.apply(items, |a| (a.last_check_in, a.id)),
        _ => q.apply(items, |a| (a.hostname.to_lowercase(), a.id)),
    }
}

fn ids<T>(p: &Page<T>, id: impl Fn(&T) -> u64) -> (Vec<u64>, usize) {
    (p.items.iter().map(id).collect(), p.total)
}

/// Compare every order, both directions, every search, on several pages (and one past the end).
pub(super) fn compare_directory(s: &Store, companies: &[Option<u64>]) -> usize {
    let mut checked = 0;
    s.read_blocking(|r| {
        for company in companies {
            for desc in [false, true] {
                for search in SEARCHES {
                    for sort in ["name", "email", "department", "job_title", "status", "updated"] {
                        for (page, per_page) in [(1, 7), (2, 7), (5, 13), (1, 500), (400, 50)] {
                            let q = query(page, per_page, sort, desc, search);
                            let sq = q.search_query();
                            let Listed { rows: items, total, .. } = r
                                .contact_page(*company, ContactSort::parse(sort), window(&q, sq.as_ref()))?;
                            let old = old_contacts(r, *company, &q);
                            assert_eq!(
                                (items.iter().map(|c| c.id).collect::<Vec<_>>(), total),
                                ids(&old, |c| c.id),
                                "contacts {company:?} sort={sort} desc={desc} q={search:?} page={page}"
                            );
                            assert_eq!(items, old.items);
                            checked += 1;
                        }
                    }
                    for sort in ["hostname", "os", "serial", "compliance", "last_check_in"] {
                        for (page, per_page) in [(1, 7), (3, 11), (1, 500)] {
                            let q = query(page, per_page, sort, desc, search);
                            let sq = q.search_query();
                            let Listed { rows: items, total, .. } = r
                                .asset_page(*company, AssetSort::parse(sort), window(&q, sq.as_ref()))?;
                            let old = old_assets(r, *company, &q);
                            assert_eq!(
                                (items.iter().map(|a| a.id).collect::<Vec<_>>(), total),
                                ids(&old, |a| a.id),
                                "assets {company:?} sort={sort} desc={desc} q={search:?} page={page}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        Ok::<_, StoreError>(())
    })
    .expect("read");
    checked
}

fn compare_others(s: &Store, companies: u64) {
    s.read_blocking(|r| {
        for desc in [false, true] {
            for search in SEARCHES {
                for c in 1..=companies {
                    for sort in ["name", "members"] {
                        let q = query(1, 5, sort, desc, search);
                        let sq = q.search_query();
                        let Listed {
                            rows: items, total, ..
                        } = r.group_page(c, GroupSort::parse(sort), window(&q, sq.as_ref()))?;
                        let all = searched(r.groups_of(c)?, &q, |g| vec![g.display_name.clone()]);
                        let old = match sort {
                            "members" => q.apply(all, |g| (g.member_count, g.id)),
                            _ => q.apply(all, |g| (g.display_name.to_lowercase(), g.id)),
                        };
                        assert_eq!(
                            (items.iter().map(|g| g.id).collect(), total),
                            ids(&old, |g| g.id),
                            "groups {c} {sort} {desc} {search:?}"
                        );
                    }
                }
                for archived in [None, Some(false), Some(true)] {
                    for sort in ["name", "domain", "created", "updated"] {
                        let q = query(1, 3, sort, desc, search);
                        let sq = q.search_query();
                        let Listed {
                            rows: items, total, ..
                        } = r.company_page(
                            archived,
                            CompanySort::parse(sort),
                            window(&q, sq.as_ref()),
                        )?;
                        let all: Vec<Company> = r
                            .all_companies()?
                            .into_iter()
                            .filter(|c| archived.is_none_or(|a| c.is_archived() == a))
                            .collect();
                        let all = searched(all, &q, |c| vec![c.name.clone(), c.domain.clone()]);
                        let old = match sort {
                            "domain" => q.apply(all, |c| (c.domain.clone(), c.id)),
                            "created" => q.apply(all, |c| (c.created_at, c.id)),
                            "updated" => q.apply(all, |c| (c.updated_at, c.id)),
                            _ => q.apply(all, |c| (c.name.to_lowercase(), c.id)),
                        };
                        assert_eq!(
                            (items.iter().map(|c| c.id).collect(), total),
                            ids(&old, |c| c.id),
                            "companies {archived:?} {sort} {desc} {search:?}"
                        );
                    }
                }
                for company in [None, Some(1)] {
                    for status in [None, Some(RequestStatus::Open), Some(RequestStatus::Closed)] {
                        for sort in ["", "subject", "status", "contact", "created", "updated"] {
                            let q = query(2, 4, sort, desc, search);
                            let sq = q.search_query();
                            let Listed {
                                rows: items, total, ..
                            } = r.request_page(
                                company,
                                status,
                                None,
                                RequestSort::parse(sort),
                                window(&q, sq.as_ref()),
                            )?;
                            let all: Vec<SupportRequest> = match company {
                                Some(c) => r.requests_of(c)?,
                                None => r.all_requests()?,
                            }
                            .into_iter()
                            .filter(|x| status.is_none_or(|s| x.status == s))
                            .collect();
                            let all = searched(all, &q, |x| {
                                vec![x.subject.clone(), x.contact_name.clone()]
                            });
                            let old = match sort {
                                "subject" => q.apply(all, |x| (x.subject.to_lowercase(), x.id)),
                                "status" => q.apply(all, |x| (x.status, x.id)),
                                "contact" => {
                                    q.apply(all, |x| (x.contact_name.to_lowercase(), x.id))
                                }
                                "created" => q.apply(all, |x| (x.created_at, x.id)),
                                "updated" => q.apply(all, |x| (x.updated_at, x.id)),
                                _ => {
                                    let mut q = q.clone();
                                    q.dir = SortDir::Desc;
                                    q.apply(all, |x| (x.updated_at, x.id))
                                }
                            };
                            assert_eq!(
                                (items.iter().map(|x| x.id).collect(), total),
                                ids(&old, |x| x.id),
                                "requests {company:?} {status:?} {sort:?} {desc} {search:?}"
                            );
                        }
                    }
                }
            }
        }
        // A portal user's own requests.
        for x in r.requests_of(1)? {
            let Listed {
                rows: mine, total, ..
            } = r.request_page(
                Some(1),
                None,
                Some(x.contact_id),
                None,
                window(&query(1, 500, "", false, ""), None),
            )?;
            let old: Vec<u64> = {
                let mut v: Vec<SupportRequest> = r
                    .requests_of(1)?
                    .into_iter()
                    .filter(|y| y.contact_id == x.contact_id)
                    .collect();
                v.sort_by_key(|y| (y.updated_at, y.id));
                v.reverse();
                v.into_iter().map(|y| y.id).collect()
            };
            assert_eq!(
                (mine.iter().map(|y| y.id).collect::<Vec<_>>(), total),
                (old.clone(), old.len())
            );
        }
        Ok::<_, StoreError>(())
    })
    .expect("read");
}

/// The old audit page: every event newest first, filtered.
fn compare_audit(s: &Store, companies: u64) {
    let all = all_audit(s);
    let kinds = [
        None,
        Some("company"),
        Some("sync.identity"),
        Some("sync.identity.resync"),
        Some("staff"),
    ];
    s.read_blocking(|r| {
        for company in [None, Some(1), Some(companies)] {
            for kind in kinds {
                for outcome in [None, Some(Outcome::Failure)] {
                    for (from, to) in [
                        (None, None),
                        (Some(time(20)), None),
                        (None, Some(time(70))),
                        (Some(time(10)), Some(time(60))),
                    ] {
                        let f = AuditFilter {
                            company_id: company,
                            kind: kind.map(String::from),
                            outcome,
                            from,
                            to,
                        };
                        for (offset, limit) in [(0, 10), (7, 5), (1000, 10)] {
                            let (page, total) = r.audit_page(&f, offset, limit)?;
                            let matching: Vec<u64> = all
                                .iter()
                                .rev()
                                .filter(|e| f.matches(e))
                                .map(|e| e.id)
                                .collect();
                            let want: Vec<u64> =
                                matching.iter().skip(offset).take(limit).copied().collect();
                            assert_eq!(
                                (page.iter().map(|e| e.id).collect::<Vec<_>>(), total),
                                (want, matching.len()),
                                "{f:?} {offset}"
                            );
                        }
                        let mut each = Vec::new();
                        r.audit_each(&f, |e| each.push(e.id))?;
                        let want: Vec<u64> =
                            all.iter().filter(|e| f.matches(e)).map(|e| e.id).collect();
                        assert_eq!(each, want, "{f:?}");
                    }
                }
            }
        }
        Ok::<_, StoreError>(())
    })
    .expect("read");
}

/// A contact's devices and groups through their indexes, as the old scans found them.
pub(super) fn compare_contact_details(s: &Store, world: &World) {
    s.read_blocking(|r| {
        for (company, id) in world.contacts.iter().step_by(7) {
            let devices: Vec<u64> = r
                .assets_of_user(*company, *id)?
                .iter()
                .map(|a| a.id)
                .collect();
            let mut old: Vec<Asset> = r
                .assets_of(*company)?
                .into_iter()
                .filter(|a| a.primary_user_contact_id == Some(*id))
                .collect();
            old.sort_by(|a, b| a.hostname.cmp(&b.hostname));
            assert_eq!(
                devices,
                old.iter().map(|a| a.id).collect::<Vec<_>>(),
                "devices of {id}"
            );
            let mut groups: Vec<u64> = r
                .groups_of_contact(*company, *id)?
                .iter()
                .map(|g| g.id)
                .collect();
            groups.sort_unstable();
            let old: Vec<u64> = r
                .memberships_of(*company)?
                .into_iter()
                .filter(|m| m.contact_id == *id)
                .map(|m| m.group_id)
                .collect();
            assert_eq!(groups, old, "groups of {id}");
        }
        Ok::<_, StoreError>(())
    })
    .expect("read");
}

/// Walking a list by cursors (keyset paging) visits exactly the old order, page after page.
pub(super) fn compare_cursor_walks(s: &Store) {
    s.read_blocking(|r| {
        for company in [Some(1), None] {
            for sort in ["name", "updated", "status", "email"] {
                for desc in [false, true] {
                    for search in ["", "a", "smith"] {
                        let all = old_contacts(r, company, &query(1, 500, sort, desc, search));
                        let mut walked = Vec::new();
                        let mut after: Option<Vec<u8>> = None;
                        loop {
                            let q = query(1, 37, sort, desc, search);
                            let sq = q.search_query();
                            let w = Window {
                                after: after.as_deref(),
                                ..window(&q, sq.as_ref())
                            };
                            let page = r.contact_page(company, ContactSort::parse(sort), w)?;
                            assert_eq!(page.total, all.total);
                            walked.extend(page.rows.iter().map(|c| c.id));
                            match page.next {
                                Some(n) => after = Some(n),
                                None => break,
                            }
                        }
                        assert_eq!(
                            walked,
                            ids(&all, |c| c.id).0,
                            "{company:?} {sort} {desc} {search:?}"
                        );
                    }
                }
            }
        }
        Ok::<_, StoreError>(())
    })
    .expect("read");
}

pub(super) fn assert_consistent(s: &Store) {
    let check = s.verify_indexes().expect("verify");
    assert!(check.is_ok(), "{:#?}", check.problems);
    assert!(check.entries > 0);
}

/// Change a third of the contacts and assets (names, e-mails, status, times, primary users,
/// companies archived and restored, requests moved on, memberships dropped, old audit
/// entries pruned), in several transactions. `deferred`: as a sync batch writes, with the
/// index upkeep left to the commit and each changed contact put twice (the first version's
/// entries must not survive).
pub(super) fn churn(s: &Store, g: &mut Gen, world: &World, round: u64, deferred: bool) {
    s.write_blocking(|w| {
        if deferred {
            w.defer_index_upkeep();
        }
        for (company, id) in &world.contacts {
            if !g.chance(33) {
                continue;
            }
            if deferred {
                w.put_contact(&contact(g, *company, *id))?;
            }
            let mut c = contact(g, *company, *id);
            c.updated_at = time(100 + round);
            w.put_contact(&c)?;
        }
        let users: Vec<u64> = world.contacts.iter().map(|c| c.1).collect();
        for (company, id) in &world.assets {
            if !g.chance(33) {
                continue;
            }
            let users: Vec<u64> = users.iter().copied().filter(|_| g.chance(2)).collect();
            w.put_asset(&asset(g, *company, *id, &users))?;
        }
        for c in 1..=world.companies {
            if let Some(mut co) = w.company(c)? {
                co.status = if g.chance(50) {
                    CompanyStatus::Archived
                } else {
                    CompanyStatus::Active
                };
                co.name = format!("{} {round}", co.name);
                co.tenant = None;
                w.put_company(&co)?;
            }
            for mut x in w.requests_of(c)? {
                if !g.chance(40) {
                    continue;
                }
                x.status = RequestStatus::ALL[g.below(5) as usize];
                x.updated_at = time(50 + g.below(10));
                w.put_request(&x)?;
            }
            for m in w.memberships_of(c)? {
                if !g.chance(30) {
                    continue;
                }
                w.delete_membership(m)?;
            }
        }
        w.prune_audit(time(5), 250, 40)?;
        Ok::<_, StoreError>(())
    })
    .expect("churn");
}

#[test]
fn every_order_direction_and_search_equals_the_full_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(11);
    let world = s
        .write_blocking(|w| seed(w, &mut g, &[240, 90, 0, 15]))
        .expect("seed");
    assert_consistent(&s);
    let scopes = [Some(1), Some(3), None];
    assert!(compare_directory(&s, &scopes) > 1000);
    compare_others(&s, world.companies);
    compare_audit(&s, world.companies);
    compare_contact_details(&s, &world);
    compare_cursor_walks(&s);
    for round in 1..=3 {
        churn(&s, &mut g, &world, round, round >= 2);
        assert_consistent(&s);
        compare_directory(&s, &scopes);
        compare_others(&s, world.companies);
        compare_audit(&s, world.companies);
        compare_contact_details(&s, &world);
        compare_cursor_walks(&s);
    }
}

#[test]
fn the_check_finds_a_missing_entry_and_a_wrong_counter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(3);
    s.write_blocking(|w| seed(w, &mut g, &[20])).expect("seed");
    s.write_blocking(|w| {
        let mut t = w.txn.open_table(crate::store::tables::LIST_BLOCKS)?;
        let first = t.first()?.map(|(k, _)| {
            let (l, k, id) = k.value();
            (l.to_vec(), k.to_vec(), id)
        });
        if let Some((l, k, id)) = first {
            let op = crate::store::index::blocks::Op {
                key: &k,
                id,
                owner: None,
            };
            crate::store::index::blocks::apply(&mut t, &l, &[op])?;
        }
        drop(t);
        let mut c = w.txn.open_table(crate::store::tables::LIST_COUNTS)?;
        crate::store::index::add(&mut c, &crate::store::index::keys::scope(1, &[1]), 5)?;
        Ok::<_, StoreError>(())
    })
    .expect("damage");
    let check = s.verify_indexes().expect("verify");
    assert!(
        check.problems.iter().any(|p| p.contains("list entry")),
        "{check:#?}"
    );
    assert!(
        check.problems.iter().any(|p| p.contains("counter")),
        "{check:#?}"
    );
}

#[test]
fn a_writer_with_deferred_entries_refuses_to_read_a_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(5);
    let world = s.write_blocking(|w| seed(w, &mut g, &[20])).expect("seed");
    let (company, id) = world.contacts[0];
    let scope =
        crate::store::index::keys::scope(crate::store::index::keys::kind::CONTACT, &[company]);
    let read = s.write_blocking(|w| {
        w.defer_index_upkeep();
        let before = w.count(&scope);
        w.put_contact(&contact(&mut g, company, id))?;
        let during = w.count(&scope);
        w.flush_index_upkeep()?;
        let after = w.count(&scope);
        Ok::<_, StoreError>((before, during, after))
    });
    let (before, during, after) = read.expect("write");
    assert_eq!(before.expect("nothing pending yet"), 20);
    assert!(
        matches!(during, Err(StoreError::IndexPending)),
        "{during:?}"
    );
    assert_eq!(after.expect("flushed"), 20);
    assert_consistent(&s);
}
