//! Search by name through the per-prefix word lists (schema v19, `index::prefix_lists`)
//! against the full scan, on names and e-mails built from shared starts (`han`, `hana`,
//! `hannah`, `okafor<n>`), one- and two-letter words, a name with a 0 byte, per company and
//! across companies, paging by offset and by cursor both ways, before and after renames.

use super::lists::{assert_consistent, cursor_walk, old_contacts, query, window};
use super::*;
use crate::model::ContactSort;

const STARTS: &[&str] = &[
    "han", "hana", "hannah", "hank", "ok", "oka", "okafor", "okapi", "a", "ab", "abe", "zé",
    "zéna", "li", "李",
];

/// A word of the generated world: a shared start, sometimes with more letters or digits.
fn word(g: &mut Gen) -> String {
    let mut w = g.pick(STARTS).to_string();
    match g.below(4) {
        0 => w.push_str(&g.below(60).to_string()),
        1 => w.push(char::from(b'a' + g.below(3) as u8)),
        _ => {}
    }
    w
}

fn prefix_contact(g: &mut Gen, company_id: u64, id: u64) -> Contact {
    let mut c = contact(g, company_id, id);
    c.display_name = match g.below(20) {
        // Ties on the name, and a name whose key holds a 0 byte.
        0 => "Hana Okafor".into(),
        1 => format!("{}\0{}", word(g), word(g)),
        _ => format!("{} {}", word(g), word(g)),
    };
    c.email = if g.chance(20) {
        String::new()
    } else {
        format!("{}.{}@c{company_id}.example", word(g), word(g))
    };
    c
}

/// Searches: generated from the same starts (one to three words, cut to one to six letters),
/// plus fixed ones.
fn searches(g: &mut Gen) -> Vec<String> {
    let mut out: Vec<String> = [
        "hana oka",
        "hana okafor4",
        "h",
        "ha o",
        "ok a",
        "z",
        "李",
        "c2 hank",
        "nobody",
    ]
    .map(String::from)
    .to_vec();
    for _ in 0..40 {
        let words: Vec<String> = (0..=g.below(3))
            .map(|_| {
                let w = word(g);
                w.chars().take(1 + g.below(6) as usize).collect()
            })
            .collect();
        out.push(words.join(" "));
    }
    out
}

fn compare(s: &Store, g: &mut Gen) -> usize {
    let searches = searches(g);
    s.read_blocking(|r| {
        let mut matched = 0;
        for company in [Some(1), Some(2), Some(3), None] {
            for desc in [false, true] {
                for search in &searches {
                    for (page, per_page) in [(1, 5), (3, 4), (1, 500)] {
                        let q = query(page, per_page, "name", desc, search);
                        let sq = q.search_query();
                        let got =
                            r.contact_page(company, ContactSort::Name, window(&q, sq.as_ref()))?;
                        let old = old_contacts(r, company, &q);
                        let what =
                            format!("{company:?} desc={desc} q={search:?} {page}/{per_page}");
                        assert_eq!(got.rows, old.items, "{what}");
                        assert_eq!(got.total.min(1000), old.total.min(1000), "{what}");
                        matched += old.total;
                    }
                    // Cursor paging visits every match once, in order.
                    let (walked, ids) = cursor_walk(r, company, desc, search, 4);
                    assert_eq!(walked, ids, "cursor {company:?} desc={desc} {search:?}");
                }
            }
        }
        Ok::<_, StoreError>(matched)
    })
    .expect("read")
}

#[test]
fn a_search_through_the_prefix_lists_equals_the_full_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let mut g = Gen::new(41);
    let mut all = Vec::new();
    s.write_blocking(|w| {
        let mut id = 5000;
        for (cid, n) in [(1u64, 220u64), (2, 90), (3, 30)] {
            w.put_company(&company(&mut g, cid))?;
            for _ in 0..n {
                id += 1;
                w.put_contact(&prefix_contact(&mut g, cid, id))?;
                all.push((cid, id));
            }
        }
        Ok::<_, StoreError>(())
    })
    .expect("seed");
    assert!(compare(&s, &mut g) > 1000, "the searches found matches");
    assert_consistent(&s);
    // Renames move a contact's prefix entries (the old words' entries must go).
    s.write_blocking(|w| {
        for &(cid, id) in &all {
            if g.chance(40) {
                w.put_contact(&prefix_contact(&mut g, cid, id))?;
            }
        }
        Ok::<_, StoreError>(())
    })
    .expect("rename");
    assert_consistent(&s);
    assert!(compare(&s, &mut g) > 1000);
}
