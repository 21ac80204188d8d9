//! `/api/v1/companies/{id}/assets/…` for the Intune + Level merge: the review queue, Merge,
//! Keep apart, Unmerge and the gap counts — the twins of the Review tab's forms and of the
//! asset page's Unmerge. The gap lists themselves are `GET /companies/{id}/assets` with
//! `sources=no_agent` or `sources=level_only`.

use super::audit::parse_num;
use super::types::asset_merge::{
    AssetGaps, KeepApartBody, MergeBody, MergeResult, ReviewPair, UnmergeResult,
};
use super::{ApiCaller, ApiError, ApiPage, ApiResult};
use crate::domain::assets::views::REVIEW_PAGE_MAX;
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::web;
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/companies/{id}/assets/review", web::get().to(review))
        .route("/companies/{id}/assets/gaps", web::get().to(gaps))
        .route("/companies/{id}/assets/merge", web::post().to(merge))
        .route(
            "/companies/{id}/assets/keep-apart",
            web::post().to(keep_apart),
        )
        .route(
            "/companies/{id}/assets/{aid}/unmerge",
            web::post().to(unmerge),
        );
}

/// `per_page` (1–200, default 50) and `cursor` (a page's `next_cursor`: the key of its last
/// pair). The queue is read by key, so `page` is not taken.
#[derive(Debug, Deserialize)]
struct ReviewQuery {
    per_page: Option<String>,
    cursor: Option<String>,
}

async fn review(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ReviewQuery>,
) -> ApiResult<web::Json<ApiPage<ReviewPair>>> {
    let per_page = parse_num::<usize>("per_page", q.per_page.as_deref())?.unwrap_or(50);
    if !(1..=REVIEW_PAGE_MAX).contains(&per_page) {
        return Err(ApiError::bad_request(format!(
            "per_page: {per_page} is not from 1 to {REVIEW_PAGE_MAX}"
        )));
    }
    let cursor = q.cursor.clone().filter(|c| !c.trim().is_empty());
    let p = st
        .services
        .asset_review_page(id.get(), cursor, per_page)
        .await?;
    Ok(web::Json(ApiPage {
        items: p.items.into_iter().map(ReviewPair::from).collect(),
        total: usize::try_from(p.total).unwrap_or(usize::MAX),
        page: 1,
        per_page,
        next_cursor: p.next,
        total_is_lower_bound: false,
    }))
}

async fn gaps(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<AssetGaps>> {
    let company = st.services.company(id.get()).await?;
    let g = st.services.asset_gap_counts(company.id).await?;
    Ok(web::Json(AssetGaps::new(company.id, g)))
}

async fn merge(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    body: web::Json<MergeBody>,
) -> ApiResult<web::Json<MergeResult>> {
    let [a, b] = body.asset_ids[..] else {
        return Err(ApiError::bad_request(
            "asset_ids: give exactly two asset ids".into(),
        ));
    };
    let m = st
        .services
        .merge_assets(who.actor(), id.get(), a, b)
        .await?;
    Ok(web::Json(MergeResult {
        asset_id: m.asset_id,
        absorbed_asset_id: m.absorbed,
    }))
}

async fn keep_apart(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    body: web::Json<KeepApartBody>,
) -> ApiResult<actix_web::HttpResponse> {
    st.services
        .keep_assets_apart(who.actor(), id.get(), &body.intune_id, &body.level_id)
        .await?;
    Ok(actix_web::HttpResponse::NoContent().finish())
}

async fn unmerge(
    who: ApiCaller,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
) -> ApiResult<web::Json<UnmergeResult>> {
    let (company_id, asset_id) = path.into_inner();
    let u = st
        .services
        .unmerge_asset(who.actor(), company_id.get(), asset_id.get())
        .await?;
    Ok(web::Json(UnmergeResult {
        intune_asset_id: u.intune_asset,
        level_asset_id: u.level_asset,
    }))
}
