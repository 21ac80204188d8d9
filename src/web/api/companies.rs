//! `/api/v1/companies`: list, create, read, edit, archive, restore, and each company's
//! contacts, contact groups and assets.

use super::{ApiCaller, ApiPage, ApiResult, ListParams};
use crate::domain::companies::CompanyFilter;
use crate::model::{Asset, Company, CompanyInput, Contact, ContactGroup};
use crate::web::AppState;
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
) -> ApiResult<web::Json<ApiPage<Company>>> {
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
    Ok(web::Json(
        st.services.companies(filter, q.list.query()).await?.into(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompanyBody {
    name: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    notes: String,
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
        .json(c))
}

/// A company with its Microsoft 365 sync state.
#[derive(serde::Serialize)]
struct CompanyDetail {
    #[serde(flatten)]
    company: Company,
    /// The last identity sync: when, whether it was clean, counts, and why devices are missing.
    last_sync: Option<crate::domain::sync::identity::SyncReport>,
    /// The sync queued or running now.
    active_sync: Option<crate::model::Job>,
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
        company,
        last_sync,
        active_sync,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompanyPatch {
    name: Option<String>,
    domain: Option<String>,
    notes: Option<String>,
    /// Exclude guest accounts from this company's contacts.
    exclude_guests: Option<bool>,
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
    Ok(web::Json(updated))
}

async fn archive(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<Company>> {
    Ok(web::Json(
        st.services.archive_company(who.actor(), id.get()).await?,
    ))
}

async fn restore(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<Company>> {
    Ok(web::Json(
        st.services.restore_company(who.actor(), id.get()).await?,
    ))
}

async fn contacts(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ListParams>,
) -> ApiResult<web::Json<ApiPage<Contact>>> {
    Ok(web::Json(
        st.services
            .contacts(Some(id.get()), q.query())
            .await?
            .into(),
    ))
}

async fn groups(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ListParams>,
) -> ApiResult<web::Json<ApiPage<ContactGroup>>> {
    Ok(web::Json(
        st.services
            .contact_groups(id.get(), q.query())
            .await?
            .into(),
    ))
}

async fn assets(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ListParams>,
) -> ApiResult<web::Json<ApiPage<Asset>>> {
    Ok(web::Json(
        st.services.assets(Some(id.get()), q.query()).await?.into(),
    ))
}
