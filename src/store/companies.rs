//! Companies.

use super::Window;
use super::codec::{dec, enc};
use super::index::keys::{self, company_scope, kind};
use super::index::{self, entries};
use super::index::{ListSpec, Listed};
use super::tables::{COMPANIES, COMPANY_TENANTS, DEFAULT_SLUGS};
use super::{ReadTables, StoreError, Txn, Writer};
use crate::model::{Company, CompanySort};
use redb::ReadableTable;

impl<Tx: ReadTables> Txn<Tx> {
    pub fn company(&self, id: u64) -> Result<Option<Company>, StoreError> {
        let t = self.table(COMPANIES)?;
        t.get(id)?.map(|g| dec(g.value())).transpose()
    }
    /// A company's name alone (a list's company column): only the name is decoded.
    pub fn company_name(&self, id: u64) -> Result<Option<String>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Named {
            name: String,
        }
        let t = self.table(COMPANIES)?;
        Ok(t.get(id)?
            .map(|g| dec::<Named>(g.value()))
            .transpose()?
            .map(|n| n.name))
    }
    /// One page of companies (active, archived, or all when `archived` is None) and the total.
    pub fn company_page(
        &self,
        archived: Option<bool>,
        sort: CompanySort,
        w: Window<'_>,
    ) -> Result<Listed<Company>, StoreError> {
        let t = self.table(COMPANIES)?;
        let which = match archived {
            None => company_scope::ALL,
            Some(false) => company_scope::ACTIVE,
            Some(true) => company_scope::ARCHIVED,
        };
        let spec = ListSpec {
            scope: keys::scope(kind::COMPANY, &[which]),
            parts: Vec::new(),
            word_scopes: crate::store::index::WordScopes::Listed(vec![keys::scope(
                kind::COMPANY,
                &[company_scope::ALL],
            )]),
            order: entries::company_order(sort),
            desc: w.desc,
            fetch: &|id, _| t.get(id)?.map(|g| dec(g.value())).transpose(),
            sort_key: &|c: &Company| entries::company_key(c, sort),
            texts: &|c: &Company| entries::company_texts(c).to_vec(),
            keep: &|c: &Company| archived.is_none_or(|a| c.is_archived() == a),
            filtered: archived.is_some(),
            id: &|x| x.id,
            below: None,
            word_lists: None,
        };
        self.list_page(&spec, w)
    }

    /// Ids of the companies linked to `tenant_id` (connected or not); one, unless data from
    /// before the uniqueness check says otherwise.
    pub fn companies_with_tenant(&self, tenant_id: &str) -> Result<Vec<u64>, StoreError> {
        self.table(COMPANY_TENANTS)?
            .range((tenant_id, 0)..=(tenant_id, u64::MAX))?
            .map(|r| Ok(r?.0.value().1))
            .collect()
    }

    /// Every company linked to a tenant, by id.
    pub fn linked_company_ids(&self) -> Result<Vec<u64>, StoreError> {
        let mut ids: Vec<u64> = self
            .table(COMPANY_TENANTS)?
            .iter()?
            .map(|r| Ok(r?.0.value().1))
            .collect::<Result<_, StoreError>>()?;
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Ids of the companies whose name gives the portal slug `slug`, by id.
    pub fn companies_with_default_slug(&self, slug: &str) -> Result<Vec<u64>, StoreError> {
        self.table(DEFAULT_SLUGS)?
            .range((slug, 0)..=(slug, u64::MAX))?
            .map(|r| Ok(r?.0.value().1))
            .collect()
    }

    pub fn all_companies(&self) -> Result<Vec<Company>, StoreError> {
        let t = self.table(COMPANIES)?;
        t.iter()?.map(|r| dec(r?.1.value())).collect()
    }
}

impl Writer {
    /// Save a company and move its indexes (lists, tenant, default portal slug) with it.
    pub fn put_company(&mut self, c: &Company) -> Result<(), StoreError> {
        let old: Option<Company> = self
            .txn
            .open_table(COMPANIES)?
            .insert(c.id, enc(c)?.as_slice())?
            .map(|g| dec(g.value()))
            .transpose()?;
        index::reindex_company(&self.txn, old.as_ref(), Some(c))?;
        index::reindex(
            &self.txn,
            self.pending.as_deref_mut(),
            old.as_ref().map(entries::company),
            Some(entries::company(c)),
        )
    }
}
