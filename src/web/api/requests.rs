//! `/api/v1/requests` and `/api/v1/companies/{id}/requests`: support requests raised in the
//! client portals. Lists carry no replies (`reply_count` instead); one request carries them
//! all. A request id under another company is 404, like one that does not exist. Staff work
//! (assignee, internal notes) goes through here as through the PSA's forms: the API is staff
//! only, so it shows the notes the portal never does.

use super::audit::{list_query, parse_num};
use super::types::page;
use super::types::requests::{
    NoteBodyJson, ReplyBodyJson, RequestPatch, RequestSummary, SupportRequest,
};
use super::{ApiCaller, ApiError, ApiPage, ApiResult};
use crate::domain::DomainError;
use crate::domain::requests::{RequestChange, RequestFilter, StaffAuthor};
use crate::model::{ReplyBody, RequestStatus};
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/requests", web::get().to(list))
        .route("/companies/{id}/requests", web::get().to(company_list))
        .route("/companies/{id}/requests/{rid}", web::get().to(get))
        .route("/companies/{id}/requests/{rid}", web::patch().to(update))
        .route(
            "/companies/{id}/requests/{rid}/replies",
            web::post().to(reply),
        )
        .route(
            "/companies/{id}/requests/{rid}/notes",
            web::post().to(add_note),
        );
}

/// `status`, `company_id`, `page`, `per_page`, `sort` (subject, status, contact, created,
/// updated; default newest update first), `dir`, `q` (subject or contact name), `cursor`.
#[derive(Debug, Deserialize)]
struct RequestQuery {
    status: Option<String>,
    company_id: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

fn status_of(v: Option<&str>) -> ApiResult<Option<RequestStatus>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Ok(Some(RequestStatus::parse(s).map_err(DomainError::from)?)),
    }
}

async fn page_of(
    st: &AppState,
    q: &RequestQuery,
    company_id: Option<u64>,
) -> ApiResult<ApiPage<RequestSummary>> {
    let filter = RequestFilter {
        status: status_of(q.status.as_deref())?,
        company_id,
    };
    let list = list_query(
        q.page.as_deref(),
        q.per_page.as_deref(),
        q.sort.as_deref(),
        q.dir.as_deref(),
        q.q.as_deref(),
    )?;
    let list = super::with_cursor(list, q.cursor.as_deref())?;
    Ok(page(st.services.requests(filter, list).await?))
}

async fn list(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<RequestQuery>,
) -> ApiResult<web::Json<ApiPage<RequestSummary>>> {
    let company = parse_num("company_id", q.company_id.as_deref())?;
    Ok(web::Json(page_of(&st, &q, company).await?))
}

async fn company_list(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<RequestQuery>,
) -> ApiResult<web::Json<ApiPage<RequestSummary>>> {
    if q.company_id.is_some() {
        return Err(ApiError::bad_request(
            "company_id is given by the path here".into(),
        ));
    }
    Ok(web::Json(page_of(&st, &q, Some(id.get())).await?))
}

async fn get(
    _: ApiCaller,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
) -> ApiResult<web::Json<SupportRequest>> {
    let (company_id, id) = path.into_inner();
    let (company_id, id) = (company_id.get(), id.get());
    Ok(web::Json(st.services.request(company_id, id).await?.into()))
}

async fn reply(
    who: ApiCaller,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    body: web::Json<ReplyBodyJson>,
) -> ApiResult<HttpResponse> {
    let (company_id, id) = path.into_inner();
    let (company_id, id) = (company_id.get(), id.get());
    let status = status_of(body.status.as_deref())?;
    let text = ReplyBody::parse(&body.body).map_err(DomainError::from)?;
    let author = StaffAuthor {
        actor: who.actor(),
        name: who.0.name.clone(),
    };
    let r = st
        .services
        .staff_reply(author, company_id, id, text, status)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/api/v1/companies/{company_id}/requests/{id}"),
        ))
        .json(SupportRequest::from(r)))
}

async fn update(
    who: ApiCaller,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    body: web::Json<RequestPatch>,
) -> ApiResult<web::Json<SupportRequest>> {
    let (company_id, id) = path.into_inner();
    let (company_id, id) = (company_id.get(), id.get());
    let body = body.into_inner();
    if body.status.is_none() && body.assignee_id.is_none() {
        return Err(ApiError::bad_request(
            "give status, assignee_id or both".into(),
        ));
    }
    let status = match body.status.as_deref() {
        Some(s) => Some(RequestStatus::parse(s).map_err(DomainError::from)?),
        None => None,
    };
    let change = RequestChange {
        status,
        assignee: body.assignee_id,
    };
    Ok(web::Json(
        st.services
            .update_request(who.actor(), company_id, id, change)
            .await?
            .into(),
    ))
}

/// A staff-only note, signed with the token's name. The request's activity time does not move.
async fn add_note(
    who: ApiCaller,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    body: web::Json<NoteBodyJson>,
) -> ApiResult<HttpResponse> {
    let (company_id, id) = path.into_inner();
    let (company_id, id) = (company_id.get(), id.get());
    let author = StaffAuthor {
        actor: who.actor(),
        name: who.0.name.clone(),
    };
    let r = st
        .services
        .add_internal_note(author, company_id, id, &body.body)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/api/v1/companies/{company_id}/requests/{id}"),
        ))
        .json(SupportRequest::from(r)))
}
