//! Figures about the job queue for monitoring (`GET /metrics`). Each is O(1) or one key:
//! redb keeps every table's length in its header, and the queue is ordered by due time.

use super::tables::JOB_QUEUE;
use super::{ReadTables, StoreError, Txn};
use redb::ReadableTableMetadata;

impl<Tx: ReadTables> Txn<Tx> {
    /// How many jobs are queued (due now or later).
    pub fn queued_job_count(&self) -> Result<u64, StoreError> {
        Ok(self.table(JOB_QUEUE)?.len()?)
    }
}
