//! Building the indexes of a database written before schema v5, and checking indexes against
//! the records.
//!
//! The build clears the index tables, then walks each record table in batches, one write
//! transaction per batch, so a large database does not hold one huge transaction. The schema
//! version moves to 5 only after the last batch: a build that is interrupted (a crash, a
//! restart) starts again from the beginning on the next start.

use super::keys::kind;
use super::{Entries, Pending, blocks, entries};
use crate::model::{Asset, AuditEvent, Company, Contact, ContactGroup, SupportRequest};
use crate::store::codec::{dec, dec_view};
use crate::store::tables::{
    ASSETS, AUDIT, AUDIT_INDEX, COMPANIES, COMPANY_TENANTS, CONTACT_GROUPS, CONTACTS,
    DEFAULT_SLUGS, LIST_BLOCKS, LIST_COUNTS, LIST_INDEX, LISTS_TO_BUILD, MEMBER_OF, MEMBERSHIPS,
    SEARCH_WORDS, SUPPORT_REQUESTS, WORD_BLOCKS,
};
use crate::store::{ReadTables, StoreError, Txn};
use redb::{Database, ReadableTable, ReadableTableMetadata, WriteTransaction};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// Records per write transaction while building.
const BATCH: usize = 10_000;
/// A progress line every this many records.
const PROGRESS_EVERY: u64 = 25_000;

struct Progress {
    started: Instant,
    done: u64,
    next_line: u64,
    per_table: Vec<(&'static str, u64)>,
}

impl Progress {
    fn tick(&mut self, table: &'static str, n: u64) {
        self.done += n;
        match self.per_table.last_mut() {
            Some((t, c)) if *t == table => *c += n,
            _ => self.per_table.push((table, n)),
        }
        if self.done >= self.next_line {
            tracing::info!(
                records = self.done,
                table,
                "building list indexes (schema v5): {} records indexed so far",
                self.done
            );
            self.next_line = self.done + PROGRESS_EVERY;
        }
    }
}

fn clear(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write()?;
    // Deleting and re-creating a table is cheaper than removing its rows one by one.
    // The v5 to v17 tables (one row per entry) go; v18 keeps blocks (`blocks.rs`).
    txn.delete_table(LIST_INDEX)?;
    txn.delete_table(SEARCH_WORDS)?;
    txn.delete_table(LIST_BLOCKS)?;
    txn.delete_table(WORD_BLOCKS)?;
    txn.delete_table(LIST_COUNTS)?;
    txn.delete_table(AUDIT_INDEX)?;
    txn.delete_table(MEMBER_OF)?;
    txn.delete_table(COMPANY_TENANTS)?;
    txn.delete_table(DEFAULT_SLUGS)?;
    crate::store::tables::create_v5(&txn)?;
    crate::store::tables::create_v18(&txn)?;
    // Every record is indexed below: no list is left for a sync to build.
    txn.delete_table(LISTS_TO_BUILD)?;
    crate::store::tables::create_v14(&txn)?;
    txn.commit()?;
    Ok(())
}

/// Walk `$table` (keys of type `$key`, owned and `Copy`) in batches, calling `$apply(txn,
/// pending, key, value bytes)` for each row inside the batch's write transaction. A row's
/// list and word entries go to `pending`, written in key order before the batch commits (as a
/// sync batch's are, see `pending.rs`), rather than row by row.
macro_rules! in_batches {
    ($db:expr, $progress:expr, $name:expr, $table:expr, $key:ty, $apply:expr) => {{
        let mut after: Option<$key> = None;
        loop {
            let txn = $db.begin_write()?;
            let rows: Vec<($key, Vec<u8>)> = {
                let t = txn.open_table($table)?;
                let range = match after {
                    Some(k) => t.range(k..)?,
                    None => t.range::<$key>(..)?,
                };
                let mut rows = Vec::with_capacity(BATCH);
                for r in range {
                    let (k, v) = r?;
                    let k: $key = k.value();
                    if Some(k) == after {
                        continue;
                    }
                    rows.push((k, v.value().to_vec()));
                    if rows.len() >= BATCH {
                        break;
                    }
                }
                rows
            };
            let Some(last) = rows.last().map(|r| r.0) else {
                break;
            };
            let n = rows.len() as u64;
            let mut pending = Pending::default();
            for (k, v) in rows {
                $apply(&txn, &mut pending, k, v.as_slice())?;
            }
            pending.flush(&txn)?;
            txn.commit()?;
            $progress.tick($name, n);
            after = Some(last);
        }
    }};
}

fn add(txn: &WriteTransaction, pending: &mut Pending, e: Entries) -> Result<(), StoreError> {
    super::reindex(txn, Some(pending), None, Some(e))
}

/// Build every index from the records (schema v5 on an older database).
pub(crate) fn rebuild(db: &Database) -> Result<(), StoreError> {
    clear(db)?;
    let mut p = Progress {
        started: Instant::now(),
        done: 0,
        next_line: PROGRESS_EVERY,
        per_table: Vec::new(),
    };
    in_batches!(
        db,
        p,
        "companies",
        COMPANIES,
        u64,
        |txn: &WriteTransaction, pending: &mut Pending, _k: u64, v: &[u8]| {
            let c: Company = dec(v)?;
            super::reindex_company(txn, None, Some(&c))?;
            add(txn, pending, entries::company(&c))
        }
    );
    in_batches!(
        db,
        p,
        "contacts",
        CONTACTS,
        (u64, u64),
        |txn: &WriteTransaction, pending: &mut Pending, _k, v: &[u8]| {
            // Only the fields the entries use (`fields.rs`).
            add(txn, pending, entries::contact_of(&dec_view(v)?))
        }
    );
    in_batches!(
        db,
        p,
        "contact_groups",
        CONTACT_GROUPS,
        (u64, u64),
        |txn: &WriteTransaction, pending: &mut Pending, _k, v: &[u8]| {
            add(txn, pending, entries::group(&dec::<ContactGroup>(v)?))
        }
    );
    in_batches!(
        db,
        p,
        "assets",
        ASSETS,
        (u64, u64),
        |txn: &WriteTransaction, pending: &mut Pending, _k, v: &[u8]| {
            add(txn, pending, entries::asset_of(&dec_view(v)?))
        }
    );
    in_batches!(
        db,
        p,
        "support_requests",
        SUPPORT_REQUESTS,
        (u64, u64),
        |txn: &WriteTransaction, pending: &mut Pending, _k, v: &[u8]| {
            add(txn, pending, entries::request(&dec::<SupportRequest>(v)?))
        }
    );
    in_batches!(
        db,
        p,
        "audit",
        AUDIT,
        u64,
        |txn: &WriteTransaction, _pending: &mut Pending, _k, v: &[u8]| {
            super::reindex_audit(txn, None, Some(&dec::<AuditEvent>(v)?))
        }
    );
    // Memberships carry a round number, not a document: walked by key.
    let mut after: Option<(u64, u64, u64)> = None;
    loop {
        let txn = db.begin_write()?;
        let keys: Vec<(u64, u64, u64)> = {
            let t = txn.open_table(MEMBERSHIPS)?;
            let range = match after {
                Some(k) => t.range(k..)?,
                None => t.range::<(u64, u64, u64)>(..)?,
            };
            let mut out = Vec::with_capacity(BATCH);
            for r in range {
                let k = r?.0.value();
                if Some(k) != after {
                    out.push(k);
                }
                if out.len() >= BATCH {
                    break;
                }
            }
            out
        };
        let Some(last) = keys.last().copied() else {
            break;
        };
        {
            let mut t = txn.open_table(MEMBER_OF)?;
            for (c, g, m) in &keys {
                t.insert((*c, *m, *g), ())?;
            }
        }
        txn.commit()?;
        p.tick("memberships", keys.len() as u64);
        after = Some(last);
    }
    let counts: Vec<String> = p
        .per_table
        .iter()
        .map(|(t, n)| format!("{n} {t}"))
        .collect();
    tracing::info!(
        records = p.done,
        seconds = p.started.elapsed().as_secs_f64(),
        "list indexes built (schema v5): {} records ({}) in {:.1} s",
        p.done,
        if counts.is_empty() {
            "none".to_string()
        } else {
            counts.join(", ")
        },
        p.started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What [`Txn::verify_indexes`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexCheck {
    /// Records walked.
    pub records: u64,
    /// Index entries and counters that were expected (all present when `problems` is empty).
    pub entries: u64,
    /// Each disagreement, in words (the first 50).
    pub problems: Vec<String>,
}

impl IndexCheck {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
    fn problem(&mut self, p: String) {
        if self.problems.len() < 50 {
            self.problems.push(p);
        }
    }
}

/// Every record's expected entries are present with the right values, no index holds more
/// entries than the records call for, and every counter equals what it counts.
pub(crate) fn verify<Tx: ReadTables>(r: &Txn<Tx>) -> Result<IndexCheck, StoreError> {
    let mut check = IndexCheck::default();
    let list = r.table(LIST_BLOCKS)?;
    let words = r.table(WORD_BLOCKS)?;
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    let (mut n_sorted, mut n_words) = (0u64, 0u64);
    let mut expect = |check: &mut IndexCheck, what: &str, e: Entries| -> Result<(), StoreError> {
        check.records += 1;
        for (l, k) in &e.sorted {
            n_sorted += 1;
            match blocks::get(&list, l, k, e.id)? {
                Some(v) if v == e.owner => {}
                other => check.problem(format!(
                    "{what} {}: list entry {l:?}/{k:?} is {other:?}",
                    e.id,
                )),
            }
        }
        for (s, w) in &e.words {
            n_words += 1;
            if blocks::get(&words, s, w.as_bytes(), e.id)? != Some(e.owner) {
                check.problem(format!("{what} {}: search word {w:?} missing", e.id));
            }
        }
        for s in e.scopes {
            *counts.entry(s).or_default() += 1;
        }
        Ok(())
    };
    // A company whose lists of a kind are still to be built (its first sync, `bulk.rs`) has
    // no entry for those records: they are expected in no index.
    let pending: HashSet<(u64, u8)> = r
        .all_lists_pending()?
        .into_iter()
        .map(|(c, k)| (c, k.byte()))
        .collect();
    let deferred = |company: u64, k: u8| pending.contains(&(company, k));
    let mut companies = Vec::new();
    for row in r.table(COMPANIES)?.iter()? {
        let c: Company = dec(row?.1.value())?;
        expect(&mut check, "company", entries::company(&c))?;
        companies.push(c);
    }
    for row in r.table(CONTACTS)?.iter()? {
        let c: Contact = dec(row?.1.value())?;
        if !deferred(c.company_id, kind::CONTACT) {
            expect(&mut check, "contact", entries::contact(&c))?;
        }
    }
    for row in r.table(CONTACT_GROUPS)?.iter()? {
        let g: ContactGroup = dec(row?.1.value())?;
        if !deferred(g.company_id, kind::GROUP) {
            expect(&mut check, "group", entries::group(&g))?;
        }
    }
    for row in r.table(ASSETS)?.iter()? {
        let a: Asset = dec(row?.1.value())?;
        if !deferred(a.company_id, kind::ASSET) {
            expect(&mut check, "asset", entries::asset(&a))?;
        }
    }
    for row in r.table(SUPPORT_REQUESTS)?.iter()? {
        expect(
            &mut check,
            "request",
            entries::request(&dec(row?.1.value())?),
        )?;
    }
    // The audit log.
    let audit_index = r.table(AUDIT_INDEX)?;
    let mut n_audit = 0u64;
    for row in r.table(AUDIT)?.iter()? {
        let e: AuditEvent = dec(row?.1.value())?;
        check.records += 1;
        let v = entries::audit_value(&e);
        for s in entries::audit_scopes(&e) {
            n_audit += 1;
            match audit_index.get((s.as_slice(), e.id))? {
                Some(got) if got.value() == v.as_slice() => {}
                _ => check.problem(format!(
                    "audit event {}: entry {s:?} wrong or missing",
                    e.id
                )),
            }
            *counts.entry(s).or_default() += 1;
        }
    }
    // Memberships by contact.
    let member_of = r.table(MEMBER_OF)?;
    let mut n_members = 0u64;
    for row in r.table(MEMBERSHIPS)?.iter()? {
        let (c, g, m) = row?.0.value();
        n_members += 1;
        if member_of.get((c, m, g))?.is_none() {
            check.problem(format!("membership {c}/{g}/{m}: missing by contact"));
        }
    }
    // Tenants and default slugs.
    let tenants = r.table(COMPANY_TENANTS)?;
    let slugs = r.table(DEFAULT_SLUGS)?;
    let mut n_tenants = 0u64;
    for c in &companies {
        if let Some(t) = &c.tenant {
            n_tenants += 1;
            if tenants.get((t.tenant_id.as_str(), c.id))?.is_none() {
                check.problem(format!("company {}: tenant {} missing", c.id, t.tenant_id));
            }
        }
        let slug = crate::model::slug_from_name(&c.name, c.id);
        if slugs.get((slug.as_str(), c.id))?.is_none() {
            check.problem(format!("company {}: default slug {slug} missing", c.id));
        }
    }
    // The blocks' own invariants (ordered, keyed by their first entry, sizes within bounds),
    // and how many entries they hold.
    let mut block_problems = Vec::new();
    let n_list = blocks::check(&list, "list index", |p| block_problems.push(p), |_, _| {})?;
    let n_word = blocks::check(
        &words,
        "search words",
        |p| block_problems.push(p),
        |_, _| {},
    )?;
    for p in block_problems {
        check.problem(p);
    }
    let sizes = [
        ("list index", n_list, n_sorted),
        ("search words", n_word, n_words),
        ("audit index", audit_index.len()?, n_audit),
        ("memberships by contact", member_of.len()?, n_members),
        ("company tenants", tenants.len()?, n_tenants),
        ("default slugs", slugs.len()?, companies.len() as u64),
    ];
    for (what, found, expected) in sizes {
        check.entries += expected;
        if found != expected {
            check.problem(format!(
                "{what}: {found} entries, the records call for {expected}"
            ));
        }
    }
    // Counters: exactly the expected ones, with the expected values.
    let mut seen = 0usize;
    for row in r.table(LIST_COUNTS)?.iter()? {
        let (k, v) = row?;
        seen += 1;
        let want = counts.get(k.value()).copied().unwrap_or(0);
        if v.value() != want {
            check.problem(format!(
                "counter {:?} is {}, counts {want}",
                k.value(),
                v.value()
            ));
        }
    }
    check.entries += counts.len() as u64;
    if seen != counts.len() {
        check.problem(format!(
            "{seen} counters, the records call for {}",
            counts.len()
        ));
    }
    Ok(check)
}
