//! Level.io on assets (schema v12): Level device → asset links, the pair decisions staff made
//! (keep apart, merge) and the open review pairs with their per-company counter. The Level
//! phase of the identity job reads a company's links and decisions whole (a company has as
//! many as it has devices and decisions); the Review tab pages through the review range by key.

use super::codec::{dec, enc};
use super::tables::{
    ASSET_DECISIONS, ASSET_DEVICES, ASSET_REVIEW, ASSET_REVIEW_COUNTS, LEVEL_DEVICES,
};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{OpenReview, StoredDecision};
use redb::ReadableTable;

/// A remembered decision with its pair: ((Intune device id, Level device id), decision).
pub type PairDecisionRow = ((String, String), StoredDecision);

impl<Tx: ReadTables> Txn<Tx> {
    /// (Level device id, asset id) for every Level device a company's assets ever held.
    pub fn level_devices(&self, company_id: u64) -> Result<Vec<(String, u64)>, StoreError> {
        let t = self.table(LEVEL_DEVICES)?;
        t.range((company_id, "")..(company_id + 1, ""))?
            .map(|r| {
                let (k, v) = r?;
                Ok((k.value().1.to_string(), v.value()))
            })
            .collect()
    }

    /// The asset a Level device is linked to.
    pub fn asset_id_by_level_device(
        &self,
        company_id: u64,
        level_id: &str,
    ) -> Result<Option<u64>, StoreError> {
        Ok(self
            .table(LEVEL_DEVICES)?
            .get((company_id, level_id))?
            .map(|g| g.value()))
    }

    /// Every remembered decision of a company: ((Intune id, Level id), decision).
    pub fn pair_decisions(&self, company_id: u64) -> Result<Vec<PairDecisionRow>, StoreError> {
        let t = self.table(ASSET_DECISIONS)?;
        t.range((company_id, "", "")..(company_id + 1, "", ""))?
            .map(|r| {
                let (k, v) = r?;
                let (_, i, l) = k.value();
                Ok(((i.to_string(), l.to_string()), dec(v.value())?))
            })
            .collect()
    }

    /// One open review pair.
    pub fn review_item(
        &self,
        company_id: u64,
        intune_id: &str,
        level_id: &str,
    ) -> Result<Option<OpenReview>, StoreError> {
        self.table(ASSET_REVIEW)?
            .get((company_id, intune_id, level_id))?
            .map(|g| dec(g.value()))
            .transpose()
    }

    /// Up to `limit` open review pairs of a company in (Intune id, Level id) order, starting
    /// after the pair `after` names: reads the page's rows only.
    pub fn review_page(
        &self,
        company_id: u64,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<OpenReview>, StoreError> {
        use std::ops::Bound::{Excluded, Included};
        let t = self.table(ASSET_REVIEW)?;
        let hi = (company_id + 1, "", "");
        let range = match after {
            Some((i, l)) => {
                t.range::<(u64, &str, &str)>((Excluded((company_id, i, l)), Excluded(hi)))?
            }
            None => t.range::<(u64, &str, &str)>((Included((company_id, "", "")), Excluded(hi)))?,
        };
        range.take(limit).map(|r| dec(r?.1.value())).collect()
    }

    /// Every open review pair of a company (the Level phase replaces them at each merge).
    pub fn review_items(&self, company_id: u64) -> Result<Vec<OpenReview>, StoreError> {
        self.review_page(company_id, None, usize::MAX)
    }

    /// How many review pairs a company has open: one counter read.
    pub fn review_count(&self, company_id: u64) -> Result<u64, StoreError> {
        Ok(self
            .table(ASSET_REVIEW_COUNTS)?
            .get(company_id)?
            .map(|g| g.value())
            .unwrap_or(0))
    }
}

impl Writer {
    /// Link a Level device to an asset (rule 0).
    pub fn link_level_device(
        &mut self,
        company_id: u64,
        level_id: &str,
        asset_id: u64,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(LEVEL_DEVICES)?
            .insert((company_id, level_id), asset_id)?;
        Ok(())
    }

    /// Point an Intune device at another asset (its asset was absorbed or split).
    pub fn link_intune_device(
        &mut self,
        company_id: u64,
        device_id: &str,
        asset_id: u64,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(ASSET_DEVICES)?
            .insert((company_id, device_id), asset_id)?;
        Ok(())
    }

    pub fn put_pair_decision(
        &mut self,
        company_id: u64,
        intune_id: &str,
        level_id: &str,
        d: &StoredDecision,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(ASSET_DECISIONS)?
            .insert((company_id, intune_id, level_id), enc(d)?.as_slice())?;
        Ok(())
    }

    /// Open or refresh a review pair; the counter follows.
    pub fn put_review_item(&mut self, r: &OpenReview) -> Result<(), StoreError> {
        let fresh = self
            .txn
            .open_table(ASSET_REVIEW)?
            .insert(
                (r.company_id, r.intune_id.as_str(), r.level_id.as_str()),
                enc(r)?.as_slice(),
            )?
            .is_none();
        if fresh {
            self.bump_review_count(r.company_id, 1)?;
        }
        Ok(())
    }

    /// Close a review pair (decided, or no longer ambiguous); true when it was open.
    pub fn remove_review_item(
        &mut self,
        company_id: u64,
        intune_id: &str,
        level_id: &str,
    ) -> Result<bool, StoreError> {
        let gone = self
            .txn
            .open_table(ASSET_REVIEW)?
            .remove((company_id, intune_id, level_id))?
            .is_some();
        if gone {
            self.bump_review_count(company_id, -1)?;
        }
        Ok(gone)
    }

    fn bump_review_count(&mut self, company_id: u64, by: i64) -> Result<(), StoreError> {
        let mut t = self.txn.open_table(ASSET_REVIEW_COUNTS)?;
        let n = t.get(company_id)?.map(|g| g.value()).unwrap_or(0);
        let n = n.saturating_add_signed(by);
        if n == 0 {
            t.remove(company_id)?;
        } else {
            t.insert(company_id, n)?;
        }
        Ok(())
    }
}
