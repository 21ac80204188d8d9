//! `/api/v1/jobs`: recent runs (newest first, optionally of one `company`) and one job.

use super::audit::{check_paging, parse_num};
use super::types::jobs::Job;
use super::{ApiCaller, ApiPage, ApiResult};
use crate::model::ListQuery;
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::web;
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/jobs", web::get().to(list))
        .route("/jobs/{id}", web::get().to(get));
}

#[derive(Debug, Deserialize)]
struct JobsQuery {
    company: Option<String>,
    state: Option<String>,
    kind: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    /// A previous page's `next_cursor` (keyset paging; `page` is then ignored).
    cursor: Option<String>,
}

async fn list(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<JobsQuery>,
) -> ApiResult<web::Json<ApiPage<Job>>> {
    let company = parse_num::<u64>("company", q.company.as_deref())?;
    let filter =
        crate::model::JobFilter::parse(q.company.as_deref(), q.state.as_deref(), q.kind.as_deref())
            .map_err(super::ApiError::bad_request)?;
    let page = parse_num("page", q.page.as_deref())?.unwrap_or(1);
    let per_page =
        parse_num("per_page", q.per_page.as_deref())?.unwrap_or(ListQuery::DEFAULT_PER_PAGE);
    check_paging(page, per_page)?;
    if let Some(id) = company {
        st.services.company(id).await?;
    }
    let q = super::with_cursor(
        ListQuery::new(Some(page), Some(per_page), None, None, None),
        q.cursor.as_deref(),
    )?;
    Ok(web::Json(super::types::page(
        st.services.jobs_list(filter, q).await?,
    )))
}

async fn get(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<Job>> {
    Ok(web::Json(st.services.job(id.get()).await?.into()))
}
