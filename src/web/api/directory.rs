//! `/api/v1/contacts` and `/api/v1/assets` across companies (optionally one, with `company`).

use super::audit::{list_query, parse_num};
use super::types::directory::{Asset, Contact};
use super::types::page;
use super::{ApiCaller, ApiPage, ApiResult};
use crate::domain::DomainError;
use crate::web::AppState;
use crate::web::filters::{AssetFilterParams, ContactFilterParams};
use actix_web::web;
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts", web::get().to(contacts))
        .route("/assets", web::get().to(assets));
}

/// `company`, `page`, `per_page`, `sort`, `dir`, `q`, `cursor`. Every value is read as text and checked
/// here, so a bad one gets a 400 that names the parameter.
#[derive(Debug, Deserialize)]
pub(super) struct DirectoryQuery {
    company: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

impl DirectoryQuery {
    fn company(&self) -> ApiResult<Option<u64>> {
        parse_num("company", self.company.as_deref())
    }
    fn list(&self) -> ApiResult<crate::model::ListQuery> {
        let q = list_query(
            self.page.as_deref(),
            self.per_page.as_deref(),
            self.sort.as_deref(),
            self.dir.as_deref(),
            self.q.as_deref(),
        )?;
        super::with_cursor(q, self.cursor.as_deref())
    }
}

async fn contacts(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<DirectoryQuery>,
    f: web::Query<ContactFilterParams>,
) -> ApiResult<super::Json<ApiPage<Contact>>> {
    let (company, list) = (q.company()?, q.list()?);
    let f = f.filter().map_err(DomainError::from)?;
    let listed = st
        .services
        .contacts_with_group_ids(company, list, f)
        .await?;
    Ok(super::Json(super::group_members::with_group_ids(listed)))
}

async fn assets(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<DirectoryQuery>,
    f: web::Query<AssetFilterParams>,
) -> ApiResult<super::Json<ApiPage<Asset>>> {
    let (company, list) = (q.company()?, q.list()?);
    let f = f.filter(st.services.now()).map_err(DomainError::from)?;
    Ok(super::Json(page(
        st.services.assets_filtered(company, list, f).await?,
    )))
}
