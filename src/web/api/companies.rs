//! `/api/v1/companies`: list, create, read, edit, archive, restore, and each company's
//! contacts, contact groups and assets.

use super::types::companies::{Company, CompanyBody, CompanyDetail, CompanyPatch};
use super::types::directory::{Asset, Contact, ContactGroup};
use super::types::page;
use super::{ApiCaller, ApiPage, ApiResult, ListParams};
use crate::domain::DomainError;
use crate::domain::companies::CompanyFilter;
use crate::model::CompanyInput;
use crate::web::AppState;
use crate::web::filters::{AssetFilterParams, ContactFilterParams};
use crate::web::ids::Id;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/companies", web::get().to(list))
        .route("/companies", web::post().to(create))
        .route("/companies/{id}", web::get().to(get))
        .route("/companies/{id}", web::patch().to(update))
        .route("/companies/{id}/archive", web::post().to(archive))
        .route("/companies/{id}/restore", web::post().to(restore))
        .route("/companies/{id}/contacts", web::get().to(contacts))
        .route("/companies/{id}/contact-groups", web::get().to(groups))
        .route("/companies/{id}/assets", web::get().to(assets));
}

#[derive(Debug, Deserialize)]
struct CompanyQuery {
    /// active (default), archived or all
    status: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

async fn list(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<CompanyQuery>,
) -> ApiResult<super::Json<ApiPage<Company>>> {
    let filter = match q.status.as_deref() {
        None | Some("active") => CompanyFilter::Active,
        Some("archived") => CompanyFilter::Archived,
        Some("all") => CompanyFilter::All,
        Some(other) => {
            return Err(super::ApiError::bad_request(format!(
                "status {other:?} is not one of active, archived, all"
            )));
        }
    };
    Ok(super::Json(page(
        st.services.companies(filter, q.list.query()?).await?,
    )))
}

async fn create(
    who: ApiCaller,
    st: web::Data<AppState>,
    body: web::Json<CompanyBody>,
) -> ApiResult<HttpResponse> {
    let input = CompanyInput::parse(&body.name, &body.domain, &body.notes)
        .map_err(crate::domain::DomainError::from)?;
    let c = st.services.create_company(who.actor(), input).await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/api/v1/companies/{}", c.id)))
        .json(Company::from(c)))
}

async fn get(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<CompanyDetail>> {
    let company = st.services.company(id.get()).await?;
    let last_sync = st.services.sync_report(company.id).await?;
    let active_sync = st.services.active_sync_job(company.id).await?;
    Ok(web::Json(CompanyDetail {
        company: company.into(),
        last_sync: last_sync.map(Into::into),
        active_sync: active_sync.map(Into::into),
    }))
}

async fn update(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    body: web::Json<CompanyPatch>,
) -> ApiResult<web::Json<Company>> {
    let cur = st.services.company(id.get()).await?;
    let b = body.into_inner();
    let input = CompanyInput::parse(
        b.name.as_deref().unwrap_or(&cur.name),
        b.domain.as_deref().unwrap_or(&cur.domain),
        b.notes.as_deref().unwrap_or(&cur.notes),
    )
    .map_err(crate::domain::DomainError::from)?;
    let mut updated = st
        .services
        .update_company(who.actor(), id.get(), input)
        .await?;
    if let Some(exclude) = b.exclude_guests {
        updated = st
            .services
            .set_guest_policy(who.actor(), id.get(), exclude)
            .await?;
    }
    Ok(web::Json(updated.into()))
}

async fn archive(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<Company>> {
    Ok(web::Json(
        st.services
            .archive_company(who.actor(), id.get())
            .await?
            .into(),
    ))
}

async fn restore(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<Company>> {
    Ok(web::Json(
        st.services
            .restore_company(who.actor(), id.get())
            .await?
            .into(),
    ))
}

async fn contacts(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ListParams>,
    f: web::Query<ContactFilterParams>,
) -> ApiResult<super::Json<ApiPage<Contact>>> {
    let f = f.filter().map_err(DomainError::from)?;
    let listed = st
        .services
        .contacts_with_group_ids(Some(id.get()), q.query()?, f)
        .await?;
    Ok(super::Json(super::group_members::with_group_ids(listed)))
}

async fn groups(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ListParams>,
) -> ApiResult<super::Json<ApiPage<ContactGroup>>> {
    Ok(super::Json(page(
        st.services.contact_groups(id.get(), q.query()?).await?,
    )))
}

async fn assets(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ListParams>,
    f: web::Query<AssetFilterParams>,
) -> ApiResult<super::Json<ApiPage<Asset>>> {
    let f = f.filter(st.services.now()).map_err(DomainError::from)?;
    Ok(super::Json(page(
        st.services
            .assets_filtered(Some(id.get()), q.query()?, f)
            .await?,
    )))
}
