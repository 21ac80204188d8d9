//! The filtered lists (assets by compliance / OS / stale check-in, contacts by active / guest /
//! group) against the full scan they replace, before and after changes, and the compliance
//! counters against a count of the records.

use super::*;
use crate::model::{AssetFilter, AssetSort, ContactFilter, ContactSort, SearchQuery};
use crate::store::index::entries::ASSET_FILTER_SORTS;
use crate::store::{Listed, Window};
use std::cmp::Ordering;

fn w(desc: bool, offset: usize, limit: usize, search: Option<&SearchQuery>) -> Window<'_> {
    Window {
        desc,
        search,
        after: None,
        offset,
        limit,
    }
}

/// The full scan's order of two assets in `sort` (then by id), as the old in-memory sort.
fn asset_cmp(x: &Asset, y: &Asset, sort: AssetSort) -> Ordering {
    let by = match sort {
        AssetSort::Hostname => x.hostname.to_lowercase().cmp(&y.hostname.to_lowercase()),
        AssetSort::Os => x.os.to_lowercase().cmp(&y.os.to_lowercase()),
        AssetSort::Serial => x
            .serial_number
            .to_lowercase()
            .cmp(&y.serial_number.to_lowercase()),
        AssetSort::Compliance => x.compliance_state.cmp(&y.compliance_state),
        AssetSort::LastCheckIn => x.last_check_in.cmp(&y.last_check_in),
    };
    by.then(x.id.cmp(&y.id))
}

/// The full scan's order of two contacts in `sort` (then by id).
fn contact_cmp(x: &Contact, y: &Contact, sort: ContactSort) -> Ordering {
    let text = |a: &str, b: &str| a.to_lowercase().cmp(&b.to_lowercase());
    let by = match sort {
        ContactSort::Name => text(&x.display_name, &y.display_name),
        ContactSort::Email => text(&x.email, &y.email),
        ContactSort::Department => text(&x.department, &y.department),
        ContactSort::JobTitle => text(&x.job_title, &y.job_title),
        ContactSort::Status => (!x.active).cmp(&!y.active),
        ContactSort::Updated => x.updated_at.cmp(&y.updated_at),
    };
    by.then(x.id.cmp(&y.id))
}

fn check_assets(s: &Store, company: Option<u64>) -> usize {
    let mut checked = 0;
    s.read_blocking(|r| {
        let all = match company {
            Some(c) => r.assets_of(c)?,
            None => r.all_assets()?,
        };
        let search = SearchQuery::parse("a");
        for compliance in [None, Some("compliant"), Some("noncompliant"), Some("")] {
            for os in [None, Some("windows"), Some("iOS")] {
                for stale in [None, Some(time(10))] {
                    let f = AssetFilter {
                        compliance: compliance.map(str::to_string),
                        os: os.map(str::to_string),
                        checked_in_before: stale,
                        sources: None,
                    };
                    let want: Vec<&Asset> = all
                        .iter()
                        .filter(|a| compliance.is_none_or(|c| a.compliance_state == c))
                        .filter(|a| os.is_none_or(|o| a.os.eq_ignore_ascii_case(o)))
                        .filter(|a| stale.is_none_or(|t| a.last_check_in.is_none_or(|l| l < t)))
                        .collect();
                    let narrowed = compliance.is_some() || os.is_some();
                    // Every asked order: a stale filter reads the check-in order; compliance
                    // or OS keep hostname and check-in and fall back to hostname; none keeps
                    // the asked order. Across companies too (schema v15: one list).
                    for asked in AssetSort::ALL {
                        let sort = match (stale, narrowed) {
                            (Some(_), _) => AssetSort::LastCheckIn,
                            (None, true) if !ASSET_FILTER_SORTS.contains(&asked) => {
                                AssetSort::Hostname
                            }
                            _ => asked,
                        };
                        let mut want = want.clone();
                        want.sort_by(|x, y| asset_cmp(x, y, sort));
                        for desc in [false, true] {
                            let mut want = want.clone();
                            if desc {
                                want.reverse();
                            }
                            for (offset, limit) in [(0, 5), (5, 5), (0, 1000)] {
                                let Listed { rows, total, .. } = r.asset_page_filtered(
                                    company,
                                    asked,
                                    &f,
                                    w(desc, offset, limit, None),
                                )?;
                                let ids: Vec<u64> = rows.iter().map(|a| a.id).collect();
                                let expect: Vec<u64> =
                                    want.iter().skip(offset).take(limit).map(|a| a.id).collect();
                                assert_eq!(
                                    (ids, total),
                                    (expect, want.len()),
                                    "{company:?} {f:?} {asked:?} desc={desc} {offset}"
                                );
                                checked += 1;
                            }
                        }
                    }
                    // With a search: the filter applies to the search's matches.
                    {
                        let q = &search;
                        let Listed { rows, total, .. } = r.asset_page_filtered(
                            company,
                            AssetSort::Hostname,
                            &f,
                            w(false, 0, 1000, Some(q)),
                        )?;
                        let expect = want
                            .iter()
                            .filter(|a| q.matches(crate::store::index::entries::asset_texts(a)))
                            .count();
                        assert_eq!((rows.len(), total), (expect, expect), "{f:?} searched");
                    }
                }
            }
        }
        // The compliance bar's counters equal a count of the records.
        let states = ["compliant", "noncompliant", "inGracePeriod"];
        for (state, n) in r.compliance_counts(company, &states)? {
            let want = all.iter().filter(|a| a.compliance_state == state).count() as u64;
            assert_eq!(n, want, "{state}");
        }
        assert_eq!(r.asset_count(company)?, all.len() as u64);
        Ok::<_, StoreError>(())
    })
    .expect("read");
    checked
}

fn check_contacts(s: &Store, company: Option<u64>, groups: &[u64]) {
    s.read_blocking(|r| {
        let all = match company {
            Some(c) => r.contacts_of(c)?,
            None => r.all_contacts()?,
        };
        let mut group_choices: Vec<Option<u64>> = vec![None];
        if company.is_some() {
            group_choices.extend(groups.iter().map(|g| Some(*g)));
        }
        let members = match company {
            Some(c) => r.memberships_of(c)?,
            None => Vec::new(),
        };
        for active in [None, Some(true), Some(false)] {
            for guest in [None, Some(true), Some(false)] {
                for group in &group_choices {
                    let f = ContactFilter {
                        active,
                        guest,
                        group: *group,
                    };
                    let want: Vec<&Contact> = all
                        .iter()
                        .filter(|c| active.is_none_or(|a| a == c.active))
                        .filter(|c| guest.is_none_or(|g| g == c.is_guest))
                        .filter(|c| {
                            group.is_none_or(|g| {
                                members
                                    .iter()
                                    .any(|m| m.group_id == g && m.contact_id == c.id)
                            })
                        })
                        .collect();
                    // Every asked order, both ways: a group lists members in member order;
                    // active or guest fall back to name; no filter keeps the asked order.
                    // Across companies too (schema v15: one list, not a merge).
                    for asked in ContactSort::ALL {
                        let mut want = want.clone();
                        if group.is_some() {
                            want.sort_by_key(|c| c.id);
                        } else if f.is_empty() {
                            want.sort_by(|x, y| contact_cmp(x, y, asked));
                        } else {
                            want.sort_by(|x, y| contact_cmp(x, y, ContactSort::Name));
                        }
                        for desc in [false, true] {
                            let mut want = want.clone();
                            if desc {
                                want.reverse();
                            }
                            for (offset, limit) in [(0, 4), (4, 4), (0, 1000)] {
                                let Listed { rows, total, .. } = r.contact_page_filtered(
                                    company,
                                    asked,
                                    &f,
                                    w(desc, offset, limit, None),
                                )?;
                                let ids: Vec<u64> = rows.iter().map(|c| c.id).collect();
                                let expect: Vec<u64> =
                                    want.iter().skip(offset).take(limit).map(|c| c.id).collect();
                                assert_eq!(
                                    (ids, total),
                                    (expect, want.len()),
                                    "{company:?} {f:?} {asked:?} desc={desc} {offset}"
                                );
                            }
                        }
                    }
                }
            }
        }
        Ok::<_, StoreError>(())
    })
    .expect("read");
}

/// A group filter's pages walked by cursor meet every member once, forwards in member
/// order and backwards (as a Previous link reads them) in reverse.
fn walk_group(s: &Store, company: u64, group: u64) {
    let want: Vec<u64> = s
        .read_blocking(|r| r.memberships_of(company))
        .expect("members")
        .into_iter()
        .filter(|m| m.group_id == group)
        .map(|m| m.contact_id)
        .collect();
    for desc in [false, true] {
        let (mut seen, mut after): (Vec<u64>, Option<Vec<u8>>) = (Vec::new(), None);
        loop {
            let f = ContactFilter {
                group: Some(group),
                ..Default::default()
            };
            let page = s
                .read_blocking(|r| {
                    r.contact_page_filtered(
                        Some(company),
                        ContactSort::Name,
                        &f,
                        Window {
                            after: after.as_deref(),
                            ..w(desc, 0, 3, None)
                        },
                    )
                })
                .expect("page");
            assert_eq!(page.total, want.len());
            seen.extend(page.rows.iter().map(|c| c.id));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let mut want = want.clone();
        if desc {
            want.reverse();
        }
        assert_eq!(seen, want, "desc={desc}");
    }
}

/// The inactive contacts across companies (one list since schema v15) walked by cursor,
/// both ways, meet the same rows in the same order as one page holding them all.
fn walk_inactive_across(s: &Store) {
    let f = ContactFilter {
        active: Some(false),
        ..Default::default()
    };
    for desc in [false, true] {
        let whole = s
            .read_blocking(|r| {
                r.contact_page_filtered(None, ContactSort::Name, &f, w(desc, 0, 10_000, None))
            })
            .expect("whole");
        assert!(whole.total > 3, "enough rows to walk");
        let (mut seen, mut after): (Vec<u64>, Option<Vec<u8>>) = (Vec::new(), None);
        loop {
            let page = s
                .read_blocking(|r| {
                    r.contact_page_filtered(
                        None,
                        ContactSort::Name,
                        &f,
                        Window {
                            after: after.as_deref(),
                            ..w(desc, 0, 3, None)
                        },
                    )
                })
                .expect("page");
            assert_eq!(page.total, whole.total);
            seen.extend(page.rows.iter().map(|c| c.id));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let want: Vec<u64> = whole.rows.iter().map(|c| c.id).collect();
        assert_eq!(seen, want, "desc={desc}");
    }
}

/// A filtered asset list across companies (one list since schema v15) walked by cursor, both
/// ways, meets the same rows in the same order as its pages by offset.
fn walk_across(s: &Store) {
    let f = AssetFilter {
        compliance: Some("noncompliant".into()),
        ..Default::default()
    };
    for desc in [false, true] {
        let whole = s
            .read_blocking(|r| {
                r.asset_page_filtered(None, AssetSort::Hostname, &f, w(desc, 0, 10_000, None))
            })
            .expect("whole");
        assert!(whole.total > 3, "enough rows to walk");
        let (mut seen, mut after): (Vec<u64>, Option<Vec<u8>>) = (Vec::new(), None);
        loop {
            let page = s
                .read_blocking(|r| {
                    r.asset_page_filtered(
                        None,
                        AssetSort::Hostname,
                        &f,
                        Window {
                            after: after.as_deref(),
                            ..w(desc, 0, 3, None)
                        },
                    )
                })
                .expect("page");
            assert_eq!(page.total, whole.total);
            seen.extend(page.rows.iter().map(|a| a.id));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let want: Vec<u64> = whole.rows.iter().map(|a| a.id).collect();
        assert_eq!(seen, want, "desc={desc}");
    }
}

#[test]
fn filtered_lists_equal_the_full_scan_and_follow_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(23);
    let world = s
        .write_blocking(|w| seed(w, &mut g, &[60, 25, 0]))
        .expect("seed");
    let groups: Vec<u64> = s
        .read_blocking(|r| r.groups_of(1))
        .expect("groups")
        .into_iter()
        .map(|g| g.id)
        .collect();
    for round in 0..2 {
        // Change some records (guests, states, OS) so entries move between filtered lists.
        s.write_blocking(|w| {
            for (company, id) in &world.contacts {
                if let Some(mut c) = w.contact(*company, *id)?
                    && g.chance(30)
                {
                    c.is_guest = !c.is_guest;
                    c.active = g.chance(70);
                    w.put_contact(&c)?;
                }
            }
            for (company, id) in &world.assets {
                if let Some(mut a) = w.asset(*company, *id)?
                    && g.chance(30)
                {
                    a.compliance_state =
                        ["compliant", "noncompliant", "inGracePeriod"][g.below(3) as usize].into();
                    a.os = ["Windows", "iOS"][g.below(2) as usize].into();
                    a.last_check_in = (round == 0).then(|| time(g.below(20)));
                    w.put_asset(&a)?;
                }
            }
            Ok::<_, StoreError>(())
        })
        .expect("change");
        assert!(s.verify_indexes().expect("verify").is_ok());
        for company in [Some(1), Some(3), None] {
            assert!(check_assets(&s, company) > 0 || company == Some(3));
            check_contacts(&s, company, &groups);
        }
        for grp in &groups {
            walk_group(&s, 1, *grp);
        }
        walk_across(&s);
        walk_inactive_across(&s);
    }
}

/// The group filter's choices (ids and names through the group name list, names alone
/// decoded) are the company's groups by name as the full scan sorts them, cut at the limit;
/// and a company's name read alone is the record's.
#[test]
fn group_choices_and_company_names_equal_the_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(31);
    s.write_blocking(|w| seed(w, &mut g, &[40, 25, 0]))
        .expect("seed");
    s.read_blocking(|r| {
        for company in [1, 2, 3, 99] {
            let mut groups = r.groups_of(company)?;
            groups.sort_by(|x, y| {
                (x.display_name.to_lowercase(), x.id).cmp(&(y.display_name.to_lowercase(), y.id))
            });
            let want: Vec<(u64, String)> =
                groups.into_iter().map(|g| (g.id, g.display_name)).collect();
            assert!(
                company > 2 || want.len() > 1,
                "the seed gives companies 1 and 2 groups"
            );
            assert_eq!(
                r.group_choices(company, usize::MAX)?,
                want,
                "company {company}"
            );
            let cut = want.len().min(2);
            assert_eq!(r.group_choices(company, cut)?, want[..cut].to_vec());
            assert_eq!(
                r.company_name(company)?,
                r.company(company)?.map(|c| c.name),
                "company {company}"
            );
        }
        Ok::<_, StoreError>(())
    })
    .expect("read");
}
