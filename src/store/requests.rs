//! Support requests, keyed by company first so one company's requests are one range and a
//! request id looked up under the wrong company simply is not there.

use super::codec::{dec, enc};
use super::tables::SUPPORT_REQUESTS;
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::SupportRequest;
use redb::ReadableTable;

impl<Tx: ReadTables> Txn<Tx> {
    pub fn support_request(
        &self,
        company_id: u64,
        id: u64,
    ) -> Result<Option<SupportRequest>, StoreError> {
        let t = self.table(SUPPORT_REQUESTS)?;
        t.get((company_id, id))?.map(|g| dec(g.value())).transpose()
    }
    pub fn requests_of(&self, company_id: u64) -> Result<Vec<SupportRequest>, StoreError> {
        let t = self.table(SUPPORT_REQUESTS)?;
        t.range((company_id, 0)..=(company_id, u64::MAX))?
            .map(|r| dec(r?.1.value()))
            .collect()
    }
    pub fn all_requests(&self) -> Result<Vec<SupportRequest>, StoreError> {
        let t = self.table(SUPPORT_REQUESTS)?;
        t.iter()?.map(|r| dec(r?.1.value())).collect()
    }
}

impl Writer {
    pub fn put_request(&mut self, r: &SupportRequest) -> Result<(), StoreError> {
        self.txn
            .open_table(SUPPORT_REQUESTS)?
            .insert((r.company_id, r.id), enc(r)?.as_slice())?;
        Ok(())
    }
}
