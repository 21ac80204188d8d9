//! Removing many old rows (jobs, evidence snapshots, audit entries) without holding the
//! writer: one bounded write transaction at a time, so syncs and staff writes interleave.

use super::{DomainResult, Services};
use crate::store::{StoreError, Writer};

impl Services {
    /// Run `step` (one write transaction that removes at most `batch` rows and says how many
    /// it removed) until a step removes fewer than `batch`; returns how many went in all.
    pub(super) async fn remove_in_batches<F>(&self, batch: u64, step: F) -> DomainResult<u64>
    where
        F: Fn(&mut Writer) -> Result<u64, StoreError> + Clone + Send + 'static,
    {
        let mut removed = 0;
        loop {
            let n = self.store.write(step.clone()).await?;
            removed += n;
            if n < batch {
                return Ok(removed);
            }
        }
    }
}
