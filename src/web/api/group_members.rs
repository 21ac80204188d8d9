//! A contact group's members (`GET /api/v1/companies/{id}/contact-groups/{gid}/members`) and
//! `group_ids` on every contact the API lists: portal access rules are written in groups, so a
//! script can check who gets in without reading the whole company.

use super::types::directory::Contact;
use super::{ApiCaller, ApiPage, ApiResult, ListParams};
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/companies/{id}/contact-groups/{gid}/members",
        web::get().to(members),
    );
}

async fn members(
    _: ApiCaller,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    q: web::Query<ListParams>,
) -> ApiResult<super::Json<ApiPage<Contact>>> {
    let (company, group) = path.into_inner();
    let listed = st
        .services
        .group_members(company.get(), group.get(), q.query()?)
        .await?;
    Ok(super::Json(with_group_ids(listed)))
}

/// A page of contacts in the API's shape, each with its `group_ids`.
pub(super) fn with_group_ids(
    listed: crate::model::Page<(crate::model::Contact, Vec<u64>)>,
) -> ApiPage<Contact> {
    listed
        .map(|(c, group_ids)| Contact {
            group_ids,
            ..Contact::from(c)
        })
        .into()
}
