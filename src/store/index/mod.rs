//! Secondary indexes, so a list page costs what the page shows: sorted lists with counters
//! (`LIST_BLOCKS`, `LIST_COUNTS`), word search (`WORD_BLOCKS`), both stored as blocks of
//! entries (`blocks.rs`), the audit log's filters
//! (`AUDIT_INDEX`), and the small lookups (`MEMBER_OF`, `COMPANY_TENANTS`, `DEFAULT_SLUGS`).
//!
//! Every index is written by the same `Writer` method that writes the record (`put_contact`,
//! `put_asset`, ...), in the same transaction, from the record's previous value (which the
//! insert returns) and its new one: a crash leaves both or neither. `entries.rs` says which
//! entries a record has; `build.rs` builds them for a database from before schema v5 and
//! checks them against the records (`Store::verify_indexes`).

mod block_walk;
pub(crate) mod blocks;
pub(crate) mod build;
pub(crate) mod bulk;
pub(crate) mod entries;
mod fallback;
pub(crate) mod fields;
mod id_set;
pub(crate) mod keys;
mod pending;
pub(crate) mod prebuild;
mod prefix_lists;
mod read;
mod search;
mod spill;

pub use build::IndexCheck;
pub use bulk::ListKind;
pub(crate) use entries::Entries;
pub(crate) use pending::Pending;
pub use read::Listed;
pub(crate) use read::{ListSpec, WordScopes};

use super::tables::LIST_COUNTS;
use super::{ReadTables, StoreError, Txn};
use redb::{ReadableTable, WriteTransaction};

/// Move a record's entries from `old` to `new` (None: the record did not exist, or is gone),
/// touching only what changed: now, or at the end of the transaction when the writer defers
/// its index upkeep (`pending`, see `pending.rs`, which copies each key once into its
/// list's buffer: an initial sync adds some 30 keys per record).
pub(crate) fn reindex(
    txn: &WriteTransaction,
    pending: Option<&mut Pending>,
    old: Option<Entries>,
    new: Option<Entries>,
) -> Result<(), StoreError> {
    match pending {
        Some(p) => {
            changes(old, new, p);
            if p.full() { p.flush(txn) } else { Ok(()) }
        }
        None => {
            let mut p = Pending::default();
            changes(old, new, &mut p);
            p.flush(txn)
        }
    }
}

/// The index changes that take a record's entries from `old` to `new`, into `p`.
pub(super) fn changes(old: Option<Entries>, new: Option<Entries>, p: &mut Pending) {
    // A row that changed company (never, today) moves every entry.
    let same_row = matches!((&old, &new), (Some(o), Some(n)) if o.owner == n.owner && o.id == n.id);
    let none = Entries::new(0, 0);
    let (o, n) = (old.as_ref().unwrap_or(&none), new.as_ref().unwrap_or(&none));
    if old.is_some() {
        for e in o
            .sorted
            .iter()
            .filter(|e| !(same_row && n.sorted.contains(e)))
        {
            p.list(&e.0, &e.1, o.id, None);
        }
        for (scope, word) in o
            .words
            .iter()
            .filter(|e| !(same_row && n.words.contains(e)))
        {
            p.word(scope, word, o.id, None);
        }
    }
    for s in o
        .scopes
        .iter()
        .filter(|s| !(same_row && n.scopes.contains(s)))
    {
        p.count(s, -1);
    }
    for s in n
        .scopes
        .iter()
        .filter(|s| !(same_row && o.scopes.contains(s)))
    {
        p.count(s, 1);
    }
    let Some(n) = new else {
        return;
    };
    let o = old.as_ref().filter(|_| same_row);
    let (id, owner) = (n.id, n.owner);
    for (list, key) in &n.sorted {
        if o.is_none_or(|o| !o.sorted.iter().any(|(l, k)| l == list && k == key)) {
            p.list(list, key, id, Some(owner));
        }
    }
    for (scope, word) in &n.words {
        if o.is_none_or(|o| !o.words.iter().any(|(s, w)| s == scope && w == word)) {
            p.word(scope, word, id, Some(owner));
        }
    }
}

/// Move a counter by `by`; a counter back at zero is removed (so an empty scope has no row).
pub(crate) fn add(
    t: &mut redb::Table<&[u8], u64>,
    scope: &[u8],
    by: i64,
) -> Result<(), StoreError> {
    let now = t.get(scope)?.map(|g| g.value()).unwrap_or(0);
    let next = now.saturating_add_signed(by);
    if next == 0 {
        t.remove(scope)?;
    } else {
        t.insert(scope, next)?;
    }
    Ok(())
}

impl<Tx: ReadTables> Txn<Tx> {
    /// Walk every index and counter and compare them with the records (tests and support).
    pub fn verify_indexes(&self) -> Result<IndexCheck, StoreError> {
        build::verify(self)
    }
}

/// Add (`new`) or remove (`old`) an audit event's index entries and counts.
pub(crate) fn reindex_audit(
    txn: &WriteTransaction,
    old: Option<&crate::model::AuditEvent>,
    new: Option<&crate::model::AuditEvent>,
) -> Result<(), StoreError> {
    let mut t = txn.open_table(super::tables::AUDIT_INDEX)?;
    let mut counts = txn.open_table(LIST_COUNTS)?;
    if let Some(e) = old {
        for s in entries::audit_scopes(e) {
            t.remove((s.as_slice(), e.id))?;
            add(&mut counts, &s, -1)?;
        }
    }
    if let Some(e) = new {
        let v = entries::audit_value(e);
        for s in entries::audit_scopes(e) {
            t.insert((s.as_slice(), e.id), v.as_slice())?;
            add(&mut counts, &s, 1)?;
        }
    }
    Ok(())
}

/// The per-company side indexes of a company row: its tenant and its default portal slug.
pub(crate) fn reindex_company(
    txn: &WriteTransaction,
    old: Option<&crate::model::Company>,
    new: Option<&crate::model::Company>,
) -> Result<(), StoreError> {
    let tenant = |c: &crate::model::Company| c.tenant.as_ref().map(|t| t.tenant_id.clone());
    let slug = |c: &crate::model::Company| crate::model::slug_from_name(&c.name, c.id);
    let mut tenants = txn.open_table(super::tables::COMPANY_TENANTS)?;
    let mut slugs = txn.open_table(super::tables::DEFAULT_SLUGS)?;
    if let Some(o) = old {
        if let Some(t) = tenant(o).filter(|t| new.and_then(tenant).as_ref() != Some(t)) {
            tenants.remove((t.as_str(), o.id))?;
        }
        let s = slug(o);
        if new.map(slug).as_ref() != Some(&s) {
            slugs.remove((s.as_str(), o.id))?;
        }
    }
    if let Some(n) = new {
        if let Some(t) = tenant(n) {
            tenants.insert((t.as_str(), n.id), ())?;
        }
        slugs.insert((slug(n).as_str(), n.id), ())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
