//! A staff desk's work on a support request beyond replies and status, as the request page
//! does it: assign it (`PUT …/assignee`) and add a staff-only note (`POST …/notes`). Any API
//! token may, like any signed-in staff member on the page.

use super::types::requests::{AssigneeBody, NoteBody, SupportRequest};
use super::{ApiCaller, ApiResult};
use crate::domain::requests::StaffAuthor;
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::{HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/companies/{id}/requests/{rid}/assignee",
        web::put().to(assign),
    )
    .route("/companies/{id}/requests/{rid}/notes", web::post().to(note));
}

/// 200 with the request; `staff_id: null` unassigns. 404 for an unknown request or staff id.
async fn assign(
    who: ApiCaller,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    body: web::Json<AssigneeBody>,
) -> ApiResult<web::Json<SupportRequest>> {
    let (company_id, id) = path.into_inner();
    let r = st
        .services
        .assign_request(who.actor(), company_id.get(), id.get(), body.staff_id)
        .await?;
    Ok(web::Json(SupportRequest::from(r)))
}

/// 201 with the request, its new note last.
async fn note(
    who: ApiCaller,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    body: web::Json<NoteBody>,
) -> ApiResult<HttpResponse> {
    let (company_id, id) = path.into_inner();
    let (company_id, id) = (company_id.get(), id.get());
    let author = StaffAuthor {
        actor: who.actor(),
        name: who.0.name.clone(),
    };
    let r = st
        .services
        .add_internal_note(author, company_id, id, &body.note)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/api/v1/companies/{company_id}/requests/{id}"),
        ))
        .json(SupportRequest::from(r)))
}
