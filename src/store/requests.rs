//! Support requests, keyed by company first so one company's requests are one range and a
//! request id looked up under the wrong company simply is not there.

use super::Window;
use super::codec::{dec, enc};
use super::index::keys::{self, kind};
use super::index::{self, entries};
use super::index::{ListSpec, Listed};
use super::tables::SUPPORT_REQUESTS;
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{RequestSort, RequestStatus, SupportRequest};
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
    /// One page of requests and the total. `company` None spans every company; `status`
    /// filters; `raised_by` (with a company) lists one contact's own requests, any status.
    /// `sort` None is newest activity first, whatever the direction says.
    pub fn request_page(
        &self,
        company: Option<u64>,
        status: Option<RequestStatus>,
        raised_by: Option<u64>,
        sort: Option<RequestSort>,
        w: Window<'_>,
    ) -> Result<Listed<SupportRequest>, StoreError> {
        let t = self.table(SUPPORT_REQUESTS)?;
        let c = company.unwrap_or(keys::ALL_COMPANIES);
        let (scope, status) = match raised_by {
            Some(contact) => (keys::scope(kind::REQUEST_BY_CONTACT, &[c, contact]), None),
            None => (keys::request_scope(c, status), status),
        };
        let (sort, desc) = match sort {
            Some(s) => (s, w.desc),
            None => (RequestSort::Updated, true),
        };
        let spec = ListSpec {
            scope,
            parts: Vec::new(),
            word_scopes: crate::store::index::WordScopes::Listed(vec![keys::request_scope(
                c, None,
            )]),
            order: entries::request_order(sort),
            desc,
            fetch: &|id, owner| t.get((owner, id))?.map(|g| dec(g.value())).transpose(),
            sort_key: &|r: &SupportRequest| entries::request_key(r, sort),
            texts: &|r: &SupportRequest| entries::request_texts(r).to_vec(),
            keep: &|r: &SupportRequest| {
                status.is_none_or(|s| r.status == s) && raised_by.is_none_or(|c| r.contact_id == c)
            },
            filtered: status.is_some() || raised_by.is_some(),
            id: &|x| x.id,
            below: None,
            word_lists: None,
        };
        self.list_page(&spec, w)
    }

    /// Requests across every company that still need the MSP (open, in progress, waiting
    /// on the customer): three counter reads.
    pub fn unfinished_request_count(&self) -> Result<u64, StoreError> {
        let mut n = 0;
        for s in RequestStatus::ALL.into_iter().filter(|s| !s.is_done()) {
            n += self.count(&keys::request_scope(keys::ALL_COMPANIES, Some(s)))?;
        }
        Ok(n)
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
        let old: Option<SupportRequest> = self
            .txn
            .open_table(SUPPORT_REQUESTS)?
            .insert((r.company_id, r.id), enc(r)?.as_slice())?
            .map(|g| dec(g.value()))
            .transpose()?;
        index::reindex(
            &self.txn,
            self.pending.as_deref_mut(),
            old.as_ref().map(entries::request),
            Some(entries::request(r)),
        )
    }
}
