//! Support requests in the portal: the signed-in user's list (the whole company's for a
//! portal admin), raising one, the thread with reply and close. Another user's or another
//! company's request answers 404, like one that does not exist.

use super::session::{PortalForm, PortalUser};
use crate::domain::DomainError;
use crate::domain::requests::Requester;
use crate::model::{NewRequest, ReplyBody, RequestStatus, SupportRequest};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::ids::Id;
use crate::web::pager::{ListParams, Pager};
use crate::web::respond::{NoticeQuery, render, see_other};
use crate::web::views::portal::PortalChrome;
use crate::web::views::requests::{
    PortalNewRequestPage, PortalRequestPage, PortalRequestsPage, RequestRow, badge, thread,
};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `new` before `{id}` so it is not read as an id.
    cfg.route("/portal/{slug}/requests", web::get().to(list_get))
        .route("/portal/{slug}/requests/new", web::get().to(new_get))
        .route("/portal/{slug}/requests/new", web::post().to(new_post))
        .route("/portal/{slug}/requests/{id}", web::get().to(detail_get))
        .route(
            "/portal/{slug}/requests/{id}/reply",
            web::post().to(reply_post),
        )
        .route(
            "/portal/{slug}/requests/{id}/close",
            web::post().to(close_post),
        );
}

#[derive(Deserialize)]
struct ListQ {
    notice: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

async fn list_get(
    user: PortalUser,
    st: web::Data<AppState>,
    q: web::Query<ListQ>,
) -> Result<PortalRequestsPage, WebError> {
    let who = Requester::from(&user.0);
    let query = q.list.query();
    let page = st.services.portal_requests(&who, query.clone()).await?;
    let pager = Pager::new(&format!("/portal/{}/requests", user.slug()), &query, &page);
    Ok(PortalRequestsPage {
        portal: PortalChrome::new(&user.0, "requests", q.notice.as_deref()),
        rows: page
            .items
            .iter()
            .map(|r| RequestRow::new(r, String::new(), true))
            .collect(),
        pager,
        show_contact: user.is_portal_admin(),
    })
}

#[derive(Deserialize)]
struct NewForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
}

fn new_page(user: &PortalUser, f: NewForm, error: String) -> PortalNewRequestPage {
    PortalNewRequestPage {
        portal: PortalChrome::new(&user.0, "requests", None),
        subject: f.subject,
        description: f.description,
        error,
    }
}

async fn new_get(user: PortalUser) -> PortalNewRequestPage {
    new_page(
        &user,
        NewForm {
            subject: String::new(),
            description: String::new(),
        },
        String::new(),
    )
}

async fn new_post(
    st: web::Data<AppState>,
    form: PortalForm<NewForm>,
) -> Result<HttpResponse, WebError> {
    let PortalForm { user, form: f } = form;
    let input = match NewRequest::parse(&f.subject, &f.description) {
        Ok(i) => i,
        Err(e) => {
            return render(
                new_page(&user, f, e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            );
        }
    };
    let r = st
        .services
        .create_request(&Requester::from(&user.0), input)
        .await?;
    Ok(see_other(&format!(
        "/portal/{}/requests/{}?notice=request_created",
        user.slug(),
        r.id
    )))
}

fn detail_page(
    user: &PortalUser,
    r: &SupportRequest,
    notice: Option<&str>,
    body: String,
    error: String,
) -> PortalRequestPage {
    PortalRequestPage {
        portal: PortalChrome::new(&user.0, "requests", notice),
        id: r.id,
        subject: r.subject.clone(),
        contact_name: r.contact_name.clone(),
        status_label: r.status.portal_label(),
        badge: badge(r.status),
        messages: thread(r),
        can_reply: r.status != RequestStatus::Closed,
        can_close: r.status != RequestStatus::Closed && r.contact_id == user.contact_id(),
        body,
        error,
    }
}

async fn detail_get(
    user: PortalUser,
    st: web::Data<AppState>,
    path: web::Path<(String, Id)>,
    q: web::Query<NoticeQuery>,
) -> Result<PortalRequestPage, WebError> {
    let r = st
        .services
        .portal_request(&Requester::from(&user.0), path.1.get())
        .await?;
    Ok(detail_page(
        &user,
        &r,
        q.notice.as_deref(),
        String::new(),
        String::new(),
    ))
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    body: String,
}

async fn reply_post(
    st: web::Data<AppState>,
    path: web::Path<(String, Id)>,
    form: PortalForm<ReplyForm>,
) -> Result<HttpResponse, WebError> {
    let PortalForm { user, form: f } = form;
    let who = Requester::from(&user.0);
    let id = path.1.get();
    let refused = |r: &SupportRequest, body: String, error: String, status| {
        render(detail_page(&user, r, None, body, error), status, None)
    };
    let body = match ReplyBody::parse(&f.body) {
        Ok(b) => b,
        Err(e) => {
            let r = st.services.portal_request(&who, id).await?;
            return refused(&r, f.body, e.to_string(), StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match st.services.portal_reply(&who, id, body).await {
        Ok(_) => Ok(see_other(&format!(
            "/portal/{}/requests/{id}?notice=reply_sent",
            user.slug()
        ))),
        // A closed request: show the thread again with the reason and the text kept.
        Err(DomainError::Conflict(m)) => {
            let r = st.services.portal_request(&who, id).await?;
            refused(&r, f.body, m, StatusCode::CONFLICT)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn close_post(
    st: web::Data<AppState>,
    path: web::Path<(String, Id)>,
    form: PortalForm<Empty>,
) -> Result<HttpResponse, WebError> {
    let user = form.user;
    st.services
        .portal_close(&Requester::from(&user.0), path.1.get())
        .await?;
    Ok(see_other(&format!(
        "/portal/{}/requests/{}?notice=request_closed",
        user.slug(),
        path.1.get()
    )))
}
