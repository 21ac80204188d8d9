//! A company's assets from Intune and Level.io: the review queue (Merge / Keep apart) and
//! Unmerge with its confirmation page. The two gap reports are the asset list filtered by
//! sources (`?tab=assets&sources=no_agent|level_only`), so they page, sort and export like it.
//!
//! WHY these routes are registered before `directory`'s: `/companies/{id}/assets/review` would
//! otherwise match `/companies/{id}/assets/{aid}` first and answer 404 for the id "review".

use super::see_other;
use crate::domain::DomainError;
use crate::web::AppState;
use crate::web::csrf::StaffForm;
use crate::web::error::WebError;
use crate::web::ids::Id;
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::confirm::ConfirmActionPage;
use crate::web::views::directory::ReviewPage;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/companies/{id}/assets/review", web::get().to(review_get))
        .route("/companies/{id}/assets/merge", web::post().to(merge_post))
        .route(
            "/companies/{id}/assets/keep-apart",
            web::post().to(keep_apart_post),
        )
        .route(
            "/companies/{id}/assets/{aid}/unmerge",
            web::get().to(unmerge_get),
        )
        .route(
            "/companies/{id}/assets/{aid}/unmerge",
            web::post().to(unmerge_post),
        );
}

/// Pairs per page of the review queue.
const REVIEW_PER_PAGE: usize = 50;

/// Company → Assets → Review: the open pairs, by key, a page at a time (`cursor`: the last
/// pair of the page before).
async fn review_get(
    staff: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ReviewQ>,
) -> Result<ReviewPage, WebError> {
    let company = st.services.company(id.get()).await?;
    let cursor = q.cursor.clone().filter(|c| !c.trim().is_empty());
    let page = st
        .services
        .asset_review_page(company.id, cursor.clone(), REVIEW_PER_PAGE)
        .await?;
    let counts = st.services.asset_gap_counts(company.id).await?;
    let base = format!("/companies/{}/assets/review", company.id);
    let enc = |k: &str| -> String { url::form_urlencoded::byte_serialize(k.as_bytes()).collect() };
    Ok(ReviewPage {
        chrome: Chrome::new(&staff, "psa", q.notice.as_deref()),
        counts,
        sub: "review",
        total: page.total,
        first_url: cursor.is_some().then(|| base.clone()),
        next_url: page
            .next
            .as_deref()
            .map(|k| format!("{base}?cursor={}", enc(k))),
        rows: page.items,
        company,
    })
}

#[derive(Deserialize)]
struct ReviewQ {
    notice: Option<String>,
    cursor: Option<String>,
}

/// The review pair a form names: `<intune id>|<level id>` (`OpenReview::key`).
#[derive(Deserialize)]
struct PairForm {
    #[serde(default)]
    pair: String,
}

impl PairForm {
    fn ids(&self) -> Result<(String, String), WebError> {
        Ok(crate::domain::assets::views::parse_pair_key(&self.pair)?)
    }
}

async fn merge_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: StaffForm<PairForm>,
) -> Result<HttpResponse, WebError> {
    let (intune_id, level_id) = form.form.ids()?;
    let m = st
        .services
        .merge_review_pair(form.staff.actor(), id.get(), &intune_id, &level_id)
        .await?;
    Ok(see_other(&format!(
        "/companies/{}/assets/{}?notice=assets_merged",
        id.get(),
        m.asset_id
    )))
}

async fn keep_apart_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: StaffForm<PairForm>,
) -> Result<HttpResponse, WebError> {
    let (intune_id, level_id) = form.form.ids()?;
    st.services
        .keep_assets_apart(form.staff.actor(), id.get(), &intune_id, &level_id)
        .await?;
    Ok(see_other(&format!(
        "/companies/{}/assets/review?notice=assets_kept_apart",
        id.get()
    )))
}

/// "Unmerge HOST?": what splits, what is remembered. Only for an active asset with both
/// records; anything else is refused here with the reason rather than after the button.
async fn unmerge_get(
    staff: Staff,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
) -> Result<ConfirmActionPage, WebError> {
    let (company_id, asset_id) = path.into_inner();
    let company = st.services.company(company_id.get()).await?;
    if company.is_archived() {
        return Err(DomainError::Conflict(format!(
            "{} is archived: restore it first to unmerge its assets.",
            company.name
        ))
        .into());
    }
    let a = st
        .services
        .asset_detail(company.id, asset_id.get())
        .await?
        .asset;
    let id_of = |kind: crate::model::SourceKind| {
        a.sources
            .iter()
            .find(|s| s.source == kind.as_str())
            .map(|s| s.external_id.clone())
    };
    let (Some(intune), Some(level)) = (
        id_of(crate::model::SourceKind::Intune),
        id_of(crate::model::SourceKind::Level),
    ) else {
        return Err(DomainError::Conflict(format!(
            "{} is not merged: it has one source, so there is nothing to split.",
            a.hostname
        ))
        .into());
    };
    if !a.active {
        return Err(DomainError::Conflict(format!(
            "{} is inactive: no source sees it now.",
            a.hostname
        ))
        .into());
    }
    Ok(ConfirmActionPage {
        chrome: Chrome::new(&staff, "psa", None),
        title: format!("Unmerge {}?", a.hostname),
        happens: format!(
            "The asset splits back into its two records: this asset keeps the Intune device \
             {intune}, and the Level device {level} becomes an asset of its own. The pair is \
             remembered as kept apart, so no sync merges it again."
        ),
        kept: "Both records, their history and the audit log. Merging the two assets again \
               (from the API, or when the pair reaches the review queue) undoes this."
            .into(),
        warning: String::new(),
        action: format!("/companies/{}/assets/{}/unmerge", company.id, a.id),
        button: "Unmerge",
        cancel: format!("/companies/{}/assets/{}", company.id, a.id),
    })
}

#[derive(Deserialize)]
struct Empty {}

async fn unmerge_post(
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, WebError> {
    let (company_id, asset_id) = path.into_inner();
    let u = st
        .services
        .unmerge_asset(form.staff.actor(), company_id.get(), asset_id.get())
        .await?;
    Ok(see_other(&format!(
        "/companies/{}/assets/{}?notice=asset_unmerged",
        company_id.get(),
        u.intune_asset
    )))
}
