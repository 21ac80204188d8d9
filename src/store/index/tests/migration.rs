//! An existing (v4) database builds its indexes at start, saying so in the log.

use super::*;
use crate::store::index::blocks;
use crate::store::{Window, meta, tables};
use std::sync::{Arc, Mutex};

/// A tracing writer into a buffer, for this test's log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Open the store under the caller's scoped subscriber, its events' interest rebuilt first.
///
/// WHY: tracing caches per event site whether any subscriber wants it. Another test thread
/// that reaches the same site (the rebuild's log lines) with no subscriber of its own, while
/// this test's subscriber is being registered, can leave the site cached as unwanted, and the
/// line this test looks for is then never written (seen once in a loaded parallel run).
/// Rebuilt here, the cache counts this thread's subscriber.
fn store_logged(dir: &std::path::Path) -> Store {
    tracing::callsite::rebuild_interest_cache();
    store(dir)
}

/// Make `path` look as a v4 binary left it: records written, then the v5 tables dropped and
/// the schema version set back to 4.
fn as_v4(path: &std::path::Path) {
    let db = redb::Database::open(path).expect("open");
    let txn = db.begin_write().expect("write");
    txn.delete_table(tables::LIST_BLOCKS).expect("drop");
    txn.delete_table(tables::LIST_COUNTS).expect("drop");
    txn.delete_table(tables::WORD_BLOCKS).expect("drop");
    txn.delete_table(tables::AUDIT_INDEX).expect("drop");
    txn.delete_table(tables::MEMBER_OF).expect("drop");
    txn.delete_table(tables::COMPANY_TENANTS).expect("drop");
    txn.delete_table(tables::DEFAULT_SLUGS).expect("drop");
    meta::set_schema_version(&txn, 4).expect("version");
    txn.commit().expect("commit");
}

#[test]
fn a_v4_database_builds_its_indexes_at_start_and_logs_progress() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.redb");
    let mut g = Gen::new(7);
    let (before, total) = {
        let s = store(dir.path());
        s.write_blocking(|w| seed(w, &mut g, &[12_000, 500, 40]))
            .expect("seed");
        let q = Window {
            desc: true,
            search: None,
            after: None,
            offset: 10,
            limit: 20,
        };
        let before = s
            .read_blocking(|r| r.contact_page(Some(1), crate::model::ContactSort::Email, q))
            .expect("read");
        let total = s
            .read_blocking(|r| Ok::<_, StoreError>(r.all_contacts()?.len()))
            .expect("all");
        (before, total)
    };
    as_v4(&path);
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer({
            let log = log.clone();
            move || log.clone()
        })
        .finish();
    let s = tracing::subscriber::with_default(subscriber, || store_logged(dir.path()));
    let text = String::from_utf8_lossy(&log.0.lock().expect("log")).into_owned();
    assert!(
        text.contains("building list indexes (schema v5): ")
            && text.contains(" records indexed so far"),
        "a progress line: {text}"
    );
    assert!(
        text.contains("list indexes built (schema v5)")
            && text.contains(&format!("{total} contacts")),
        "a final line with counts: {text}"
    );
    let check = s.verify_indexes().expect("verify");
    assert!(check.is_ok(), "{:#?}", check.problems);
    let q = Window {
        desc: true,
        search: None,
        after: None,
        offset: 10,
        limit: 20,
    };
    let after = s
        .read_blocking(|r| r.contact_page(Some(1), crate::model::ContactSort::Email, q))
        .expect("read");
    assert_eq!(
        after, before,
        "the same page as before the indexes were rebuilt"
    );
    let version = s
        .read_blocking(|r| r.meta::<u32>(crate::store::keys::meta::SCHEMA_VERSION))
        .expect("version");
    assert_eq!(version, Some(crate::store::SCHEMA_VERSION));
    drop(s);
    // Opened again: nothing to build.
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer({
            let log = log.clone();
            move || log.clone()
        })
        .finish();
    let _s = tracing::subscriber::with_default(subscriber, || store_logged(dir.path()));
    let text = String::from_utf8_lossy(&log.0.lock().expect("log")).into_owned();
    assert!(!text.contains("list indexes"), "built once: {text}");
}

/// Make `path` look as a v8 binary left it: every contact's and asset's search words also
/// kept in the across-companies scope, and the schema version 8.
fn as_v8(path: &std::path::Path) -> usize {
    use crate::store::index::{entries, keys};
    let db = redb::Database::open(path).expect("open");
    let txn = db.begin_write().expect("write");
    let mut added = 0;
    let mut ops: Vec<(Vec<u8>, String, u64, u64)> = Vec::new();
    {
        let contacts = txn.open_table(tables::CONTACTS).expect("contacts");
        let assets = txn.open_table(tables::ASSETS).expect("assets");
        let mut copy = |kind: u8, texts: Vec<&str>, id: u64, owner: u64| {
            let mut ws: Vec<String> = texts
                .into_iter()
                .flat_map(crate::model::search_words)
                .collect();
            ws.sort();
            ws.dedup();
            let scope = keys::scope(kind, &[keys::ALL_COMPANIES]);
            for w in ws {
                ops.push((scope.clone(), w, id, owner));
                added += 1;
            }
        };
        for r in contacts.iter().expect("iter") {
            let (_, v) = r.expect("row");
            let c: crate::model::Contact = crate::store::codec::dec(v.value()).expect("dec");
            copy(
                keys::kind::CONTACT,
                entries::contact_texts(&c).to_vec(),
                c.id,
                c.company_id,
            );
        }
        for r in assets.iter().expect("iter") {
            let (_, v) = r.expect("row");
            let a: crate::model::Asset = crate::store::codec::dec(v.value()).expect("dec");
            copy(
                keys::kind::ASSET,
                entries::asset_texts(&a).to_vec(),
                a.id,
                a.company_id,
            );
        }
    }
    ops.sort();
    {
        let mut words = txn.open_table(tables::WORD_BLOCKS).expect("words");
        for chunk in ops.chunk_by(|a, b| a.0 == b.0) {
            let edits: Vec<blocks::Op<'_>> = chunk
                .iter()
                .map(|(_, w, id, owner)| blocks::Op {
                    key: w.as_bytes(),
                    id: *id,
                    owner: Some(*owner),
                })
                .collect();
            blocks::apply(&mut words, &chunk[0].0, &edits).expect("insert");
        }
    }
    meta::set_schema_version(&txn, 8).expect("version");
    txn.commit().expect("commit");
    added
}

#[test]
fn a_v8_database_drops_its_search_words_across_companies_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.redb");
    let mut g = Gen::new(11);
    let search = crate::model::SearchQuery::parse("a");
    let q = Window {
        desc: false,
        search: Some(&search),
        after: None,
        offset: 0,
        limit: 30,
    };
    let (before, words_before) = {
        let s = store(dir.path());
        s.write_blocking(|w| seed(w, &mut g, &[800, 300, 50]))
            .expect("seed");
        let page = s
            .read_blocking(|r| r.contact_page(None, crate::model::ContactSort::Name, q))
            .expect("read");
        let words = s.read_blocking(word_entries).expect("count");
        (page, words)
    };
    assert!(
        before.total > 0,
        "the search finds contacts across companies"
    );
    let copies = as_v8(&path);
    assert!(copies > 0);
    let s = store(dir.path());
    let check = s.verify_indexes().expect("verify");
    assert!(check.is_ok(), "{:#?}", check.problems);
    let words_after = s.read_blocking(word_entries).expect("count");
    assert_eq!(
        words_after, words_before,
        "the copies across companies are gone"
    );
    let after = s
        .read_blocking(|r| r.contact_page(None, crate::model::ContactSort::Name, q))
        .expect("read");
    assert_eq!(after, before, "the same search page across companies");
    let version = s
        .read_blocking(|r| r.meta::<u32>(crate::store::keys::meta::SCHEMA_VERSION))
        .expect("version");
    assert_eq!(version, Some(crate::store::SCHEMA_VERSION));
}

/// Make `path` look as a v11 binary left it: the filtered lists (active / guest, compliance /
/// OS) listed per company only, counted across companies, and the schema version 11.
fn as_v11(path: &std::path::Path) -> usize {
    use crate::store::index::keys;
    let db = redb::Database::open(path).expect("open");
    let txn = db.begin_write().expect("write");
    let removed;
    {
        let mut lists = txn.open_table(tables::LIST_BLOCKS).expect("lists");
        let across: Vec<Vec<u8>> = [keys::kind::CONTACT_FILTER, keys::kind::ASSET_FILTER]
            .iter()
            .map(|k| keys::scope(*k, &[keys::ALL_COMPANIES]))
            .collect();
        let mut doomed: Vec<(Vec<u8>, Vec<u8>, u64)> = Vec::new();
        blocks::check(
            &lists,
            "list index",
            |p| panic!("{p}"),
            |list, e| {
                if across.iter().any(|a| list.starts_with(a)) {
                    doomed.push((list.to_vec(), e.key.clone(), e.id));
                }
            },
        )
        .expect("walk");
        for chunk in doomed.chunk_by(|a, b| a.0 == b.0) {
            let edits: Vec<blocks::Op<'_>> = chunk
                .iter()
                .map(|(_, key, id)| blocks::Op {
                    key,
                    id: *id,
                    owner: None,
                })
                .collect();
            blocks::apply(&mut lists, &chunk[0].0, &edits).expect("remove");
        }
        removed = doomed.len();
    }
    meta::set_schema_version(&txn, 11).expect("version");
    txn.commit().expect("commit");
    removed
}

#[test]
fn a_v11_database_lists_its_filtered_lists_across_companies_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.redb");
    let mut g = Gen::new(15);
    let page = Window {
        desc: false,
        search: None,
        after: None,
        offset: 0,
        limit: 1_000,
    };
    let inactive = crate::model::ContactFilter {
        active: Some(false),
        ..Default::default()
    };
    let noncompliant = crate::model::AssetFilter {
        compliance: Some("noncompliant".into()),
        ..Default::default()
    };
    let read = |s: &Store| {
        s.read_blocking(|r| {
            Ok::<_, StoreError>((
                r.contact_page_filtered(None, crate::model::ContactSort::Name, &inactive, page)?,
                r.asset_page_filtered(
                    None,
                    crate::model::AssetSort::Hostname,
                    &noncompliant,
                    page,
                )?,
            ))
        })
        .expect("read")
    };
    let before = {
        let s = store(dir.path());
        s.write_blocking(|w| seed(w, &mut g, &[300, 120, 40]))
            .expect("seed");
        read(&s)
    };
    assert!(before.0.total > 0 && before.1.total > 0, "rows to list");
    assert!(as_v11(&path) > 0, "the copies across companies were there");
    let s = store(dir.path());
    let check = s.verify_indexes().expect("verify");
    assert!(check.is_ok(), "{:#?}", check.problems);
    assert_eq!(read(&s), before, "the same filtered pages across companies");
    let version = s
        .read_blocking(|r| r.meta::<u32>(crate::store::keys::meta::SCHEMA_VERSION))
        .expect("version");
    assert_eq!(version, Some(crate::store::SCHEMA_VERSION));
}

/// Word entries in the word index (summed from the blocks).
fn word_entries(r: &crate::store::Reader) -> Result<u64, StoreError> {
    blocks::check(
        &r.table(tables::WORD_BLOCKS)?,
        "search words",
        |_| {},
        |_, _| {},
    )
}
