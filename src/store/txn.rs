//! The two kinds of transaction the store hands out, and the one seam between them.
//!
//! A read method (`company`, `contacts_of`, ...) must work in a read snapshot and inside a
//! write transaction alike: a write often reads what it is about to change, and must see its
//! own earlier writes, which a separate snapshot would not. redb gives the two transactions
//! different table types (`ReadOnlyTable` and `Table`, both `ReadableTable`), so the store
//! names the difference once, in [`ReadTables`], and writes every read once, in an
//! `impl<Tx: ReadTables> Txn<Tx>` block next to its table. Write methods live in
//! `impl Writer` blocks, which only a write transaction has.
//!
//! WHY a generic struct with inherent methods, not read methods on a trait: call sites keep
//! reading `r.company(id)` and `w.contacts_of(id)` with no trait to import, and `Reader` and
//! `Writer` stay plain names in signatures. `read_table` returns `impl ReadableTable`, each
//! transaction's own table type, so there is no enum or trait object to dispatch through.

use super::StoreError;
use super::tables::SEQ;
use crate::crypto::SecretBox;
use redb::{Key, ReadTransaction, ReadableTable, TableDefinition, Value, WriteTransaction};

/// A transaction over the store's tables: a [`Reader`] or a [`Writer`].
pub struct Txn<T> {
    pub(super) txn: T,
    pub(super) secrets: SecretBox,
    /// Index changes a writer has deferred to its commit (see `index/pending.rs`); None when
    /// each put writes its entries at once (the default, and always for a reader).
    pub(super) pending: Option<Box<super::index::Pending>>,
    /// The store's list prebuilds (`index/prebuild/`): a writer tells them which lists
    /// are deferred and which records it wrote again. None for a reader.
    pub(super) prebuilds: Option<std::sync::Arc<super::index::prebuild::Prebuilds>>,
}

/// A read snapshot.
pub type Reader = Txn<ReadTransaction>;

/// A write transaction; committed when the closure given to [`super::Store::write`] returns
/// Ok. It reads its own uncommitted writes.
pub type Writer = Txn<WriteTransaction>;

/// Open a table for reading, in whichever transaction this is. Implemented by redb's two
/// transaction types; only the store can build a [`Txn`] around one.
pub trait ReadTables {
    /// The table `def`, or an error when it cannot be opened (every table exists once the
    /// store has migrated, so that is a storage fault).
    fn read_table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<impl ReadableTable<K, V>, StoreError>;
}

impl ReadTables for ReadTransaction {
    fn read_table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<impl ReadableTable<K, V>, StoreError> {
        Ok(self.open_table(def)?)
    }
}

impl ReadTables for WriteTransaction {
    /// A writable table handle, used only for reading. redb refuses to open a table twice at
    /// once in one write transaction, so a read method holds no table across a call to
    /// another method that opens the same one.
    fn read_table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<impl ReadableTable<K, V>, StoreError> {
        Ok(self.open_table(def)?)
    }
}

impl<Tx: ReadTables> Txn<Tx> {
    /// The key box of this appliance (sealing and opening secret settings).
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// Refuse to read an index while this writer holds entries it has not written yet.
    pub(super) fn index_current(&self) -> Result<(), StoreError> {
        match &self.pending {
            Some(p) if !p.is_empty() => Err(StoreError::IndexPending),
            _ => Ok(()),
        }
    }

    /// Open `def` for reading in this transaction.
    pub(super) fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<impl ReadableTable<K, V>, StoreError> {
        self.txn.read_table(def)
    }
}

impl Writer {
    /// Next id of a named sequence (ids are never reused).
    pub fn next_id(&mut self, name: &str) -> Result<u64, StoreError> {
        let mut t = self.txn.open_table(SEQ)?;
        let next = t.get(name)?.map(|v| v.value()).unwrap_or(0) + 1;
        t.insert(name, next)?;
        Ok(next)
    }
}

impl Writer {
    /// From here to the commit, keep the indexes of the records this transaction puts in
    /// memory and write them, netted and in key order, just before it commits (see
    /// `index/pending.rs`). For a writer that puts many records and reads no list.
    pub fn defer_index_upkeep(&mut self) {
        self.pending.get_or_insert_with(Box::default);
    }

    /// Write the deferred index changes now (the commit does it too).
    pub fn flush_index_upkeep(&mut self) -> Result<(), StoreError> {
        match self.pending.as_mut() {
            Some(p) => p.flush(&self.txn),
            None => Ok(()),
        }
    }
}
