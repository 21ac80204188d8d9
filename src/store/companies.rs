//! Companies.

use super::codec::{dec, enc};
use super::tables::COMPANIES;
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::Company;
use redb::ReadableTable;

impl<Tx: ReadTables> Txn<Tx> {
    pub fn company(&self, id: u64) -> Result<Option<Company>, StoreError> {
        let t = self.table(COMPANIES)?;
        t.get(id)?.map(|g| dec(g.value())).transpose()
    }
    pub fn all_companies(&self) -> Result<Vec<Company>, StoreError> {
        let t = self.table(COMPANIES)?;
        t.iter()?.map(|r| dec(r?.1.value())).collect()
    }
}

impl Writer {
    pub fn put_company(&mut self, c: &Company) -> Result<(), StoreError> {
        self.txn
            .open_table(COMPANIES)?
            .insert(c.id, enc(c)?.as_slice())?;
        Ok(())
    }
}
