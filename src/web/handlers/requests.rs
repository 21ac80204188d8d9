//! PSA → Requests: every company's support requests (filter by status, search, paged), each
//! company's Requests tab, and the thread with the reply and status forms.

use super::{render, see_other};
use crate::domain::requests::{RequestFilter, StaffAuthor};
use crate::model::{Company, ReplyBody, RequestSort, RequestStatus, SupportRequest};
use crate::web::AppState;
use crate::web::csrf::StaffForm;
use crate::web::error::WebError;
use crate::web::handlers::NoticeQuery;
use crate::web::ids::Id;
use crate::web::pager::{self, ListParams, Pager};
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::requests::{
    CompanyRequestsPage, RequestPage, RequestRow, RequestsPage, badge, status_options, thread,
};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/requests", web::get().to(list_get))
        .route("/companies/{id}/requests", web::get().to(company_get))
        .route("/companies/{id}/requests/{rid}", web::get().to(detail_get))
        .route(
            "/companies/{id}/requests/{rid}/reply",
            web::post().to(reply_post),
        )
        .route(
            "/companies/{id}/requests/{rid}/status",
            web::post().to(status_post),
        )
        .route(
            "/companies/{id}/requests/{rid}/assignee",
            web::post().to(assignee_post),
        )
        .route(
            "/companies/{id}/requests/{rid}/notes",
            web::post().to(note_post),
        );
}

#[derive(Deserialize)]
struct AssigneeForm {
    /// A staff id; empty: unassigned.
    #[serde(default)]
    assignee: String,
}

async fn assignee_post(
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    form: StaffForm<AssigneeForm>,
) -> Result<HttpResponse, WebError> {
    let StaffForm { staff, form: f } = form;
    let (company_id, id) = path.into_inner();
    let (company_id, id) = (company_id.get(), id.get());
    let assignee = match f.assignee.trim() {
        "" => None,
        v => Some(
            v.parse::<u64>()
                .map_err(|_| WebError::BadRequest(format!("{v:?} is not a staff member")))?,
        ),
    };
    st.services
        .assign_request(staff.actor(), company_id, id, assignee)
        .await?;
    Ok(see_other(&format!(
        "/companies/{company_id}/requests/{id}?notice=request_assigned"
    )))
}

#[derive(Deserialize)]
struct NoteForm {
    #[serde(default)]
    note: String,
}

async fn note_post(
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    form: StaffForm<NoteForm>,
) -> Result<HttpResponse, WebError> {
    let StaffForm { staff, form: f } = form;
    let (company_id, id) = path.into_inner();
    let (company_id, id) = (company_id.get(), id.get());
    st.services
        .add_internal_note(staff_author(&staff), company_id, id, &f.note)
        .await?;
    Ok(see_other(&format!(
        "/companies/{company_id}/requests/{id}?notice=request_note_added"
    )))
}

/// How staff are named on their replies: their name, else their e-mail.
pub fn staff_author(staff: &Staff) -> StaffAuthor {
    let name = staff.0.user.display_name.trim();
    StaffAuthor {
        actor: staff.actor(),
        name: if name.is_empty() {
            staff.email().to_string()
        } else {
            name.to_string()
        },
    }
}

/// An empty value means "any" (the filter's first option).
fn parse_status(v: Option<&str>) -> Result<Option<RequestStatus>, WebError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => RequestStatus::parse(s)
            .map(Some)
            .map_err(|e| WebError::BadRequest(e.to_string())),
    }
}

#[derive(Deserialize)]
struct ListQ {
    status: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

/// The rows and pager of a (company's or every company's) request list.
async fn table(
    st: &AppState,
    company: Option<u64>,
    q: &ListQ,
    path: &str,
) -> Result<(Vec<RequestRow>, Pager, Option<RequestStatus>), WebError> {
    let status = parse_status(q.status.as_deref())?;
    // The default order (newest activity first) named, so a Previous link can read it the
    // other way round: the store reads an unnamed order newest first whatever `dir` says.
    let mut list = q.list.clone();
    if RequestSort::parse(list.sort.as_deref().unwrap_or("")).is_none() {
        list.sort = Some("updated".into());
        list.dir = Some("desc".into());
    }
    let services = &st.services;
    let filter = RequestFilter {
        status,
        company_id: company,
    };
    let (query, page, cursors) = pager::fetch(&list, move |q| services.requests(filter, q)).await?;
    let base = match status {
        Some(s) => format!("{path}?status={}", s.as_str()),
        None => path.to_string(),
    };
    let pager = Pager::new(&base, &query, &page).with(&cursors);
    let names = st
        .services
        .company_names(page.items.iter().map(|r| r.company_id))
        .await?;
    let rows = page
        .items
        .iter()
        .map(|r| {
            RequestRow::new(
                r,
                names.get(&r.company_id).cloned().unwrap_or_default(),
                false,
            )
        })
        .collect();
    Ok((rows, pager, status))
}

async fn list_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<ListQ>,
) -> Result<RequestsPage, WebError> {
    let (rows, pager, status) = table(&st, None, &q, "/requests").await?;
    Ok(RequestsPage {
        chrome: Chrome::new(&staff, "psa", None),
        rows,
        pager,
        statuses: status_options(status),
        show_company: true,
    })
}

async fn company_get(
    staff: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ListQ>,
) -> Result<CompanyRequestsPage, WebError> {
    let company = st.services.company(id.get()).await?;
    let path = format!("/companies/{}/requests", company.id);
    let (rows, pager, status) = table(&st, Some(company.id), &q, &path).await?;
    Ok(CompanyRequestsPage {
        chrome: Chrome::new(&staff, "psa", None),
        company,
        tab: "requests",
        rows,
        pager,
        statuses: status_options(status),
        show_company: false,
    })
}

/// Active staff as (id, name) for the assignee choice.
async fn staff_choices(st: &AppState) -> Result<Vec<(u64, String)>, WebError> {
    Ok(st
        .services
        .staff_users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| {
            let name = if u.display_name.trim().is_empty() {
                u.email.as_str().to_string()
            } else {
                u.display_name.clone()
            };
            (u.id, name)
        })
        .collect())
}

fn detail_page(
    staff: &Staff,
    company: Company,
    request: SupportRequest,
    notice: Option<&str>,
    body: String,
    error: String,
    choices: Vec<(u64, String)>,
) -> RequestPage {
    RequestPage {
        staff: choices,
        chrome: Chrome::new(staff, "psa", notice),
        status_label: request.status.label(),
        badge: badge(request.status),
        messages: thread(&request),
        statuses: status_options(Some(request.status)),
        reply_statuses: status_options(Some(RequestStatus::WaitingOnCustomer)),
        company,
        request,
        body,
        error,
    }
}

async fn detail_get(
    staff: Staff,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    q: web::Query<NoticeQuery>,
) -> Result<RequestPage, WebError> {
    let (company_id, id) = path.into_inner();
    let (company_id, id) = (company_id.get(), id.get());
    let company = st.services.company(company_id).await?;
    let request = st.services.request(company_id, id).await?;
    Ok(detail_page(
        &staff,
        company,
        request,
        q.notice.as_deref(),
        String::new(),
        String::new(),
        staff_choices(&st).await?,
    ))
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    status: Option<String>,
}

async fn reply_post(
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    form: StaffForm<ReplyForm>,
) -> Result<HttpResponse, WebError> {
    let StaffForm { staff, form: f } = form;
    let (company_id, id) = path.into_inner();
    let (company_id, id) = (company_id.get(), id.get());
    let status = parse_status(f.status.as_deref())?;
    let body = match ReplyBody::parse(&f.body) {
        Ok(b) => b,
        Err(e) => {
            let company = st.services.company(company_id).await?;
            let request = st.services.request(company_id, id).await?;
            return render(
                detail_page(
                    &staff,
                    company,
                    request,
                    None,
                    f.body,
                    e.to_string(),
                    staff_choices(&st).await?,
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            );
        }
    };
    st.services
        .staff_reply(staff_author(&staff), company_id, id, body, status)
        .await?;
    Ok(see_other(&format!(
        "/companies/{company_id}/requests/{id}?notice=request_reply_sent"
    )))
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
}

async fn status_post(
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    form: StaffForm<StatusForm>,
) -> Result<HttpResponse, WebError> {
    let StaffForm { staff, form: f } = form;
    let (company_id, id) = path.into_inner();
    let (company_id, id) = (company_id.get(), id.get());
    let status =
        RequestStatus::parse(&f.status).map_err(|e| WebError::BadRequest(e.to_string()))?;
    st.services
        .set_request_status(staff.actor(), company_id, id, status)
        .await?;
    Ok(see_other(&format!(
        "/companies/{company_id}/requests/{id}?notice=request_status_saved"
    )))
}
