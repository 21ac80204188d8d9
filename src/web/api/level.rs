//! `/api/v1/settings/level` (the Level.io connection), `/api/v1/settings/level/groups` (the
//! group tree with mappings) and `/api/v1/companies/{id}/level-groups`: the same as the
//! Settings → Integrations → Level.io pages, for scripts.

use super::types::level::{
    CompanyLevelGroups, LevelBody, LevelGroups, LevelGroupsBody, LevelSettings, LevelTestResult,
};
use super::{AdminCaller, AdminJson, ApiCaller, ApiResult};
use crate::domain::levelio::LevelInput;
use crate::model::ValidationError;
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/level", web::get().to(get))
        .route("/settings/level", web::put().to(put))
        .route("/settings/level", web::delete().to(disconnect))
        .route("/settings/level/test", web::post().to(test))
        .route("/settings/level/groups", web::get().to(groups))
        .route(
            "/companies/{id}/level-groups",
            web::get().to(company_groups),
        )
        .route(
            "/companies/{id}/level-groups",
            web::put().to(set_company_groups),
        );
}

async fn get(_admin: AdminCaller, st: web::Data<AppState>) -> ApiResult<web::Json<LevelSettings>> {
    Ok(web::Json(st.services.level_view().await?.into()))
}

async fn put(
    admin: AdminJson<LevelBody>,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<LevelSettings>> {
    let AdminJson { caller, body } = admin;
    let day_first = match body.date_order.as_deref() {
        None | Some("month_first") => false,
        Some("day_first") => true,
        Some(_) => {
            return Err(crate::domain::DomainError::from(ValidationError::new(
                "date_order",
                "must be day_first or month_first",
            ))
            .into());
        }
    };
    let view = st
        .services
        .connect_level(
            caller.admin_actor()?,
            LevelInput {
                api_key: body.api_key,
                api_url: body.api_url,
                warranty_field: body.warranty_field,
                day_first,
            },
        )
        .await?;
    Ok(web::Json(view.into()))
}

async fn disconnect(
    admin: AdminCaller,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<LevelSettings>> {
    let view = st.services.disconnect_level(admin.admin_actor()?).await?;
    Ok(web::Json(view.into()))
}

async fn test(
    admin: AdminCaller,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<LevelTestResult>> {
    let t = st.services.test_level(admin.admin_actor()?).await?;
    Ok(web::Json(t.into()))
}

async fn groups(_admin: AdminCaller, st: web::Data<AppState>) -> ApiResult<web::Json<LevelGroups>> {
    Ok(web::Json(st.services.level_groups().await?.into()))
}

async fn company_groups(
    _who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<CompanyLevelGroups>> {
    Ok(web::Json(CompanyLevelGroups {
        company_id: id.get(),
        group_ids: st.services.company_level_groups(id.get()).await?,
    }))
}

async fn set_company_groups(
    admin: AdminJson<LevelGroupsBody>,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<CompanyLevelGroups>> {
    let AdminJson { caller, body } = admin;
    let group_ids = st
        .services
        .set_company_level_groups(caller.admin_actor()?, id.get(), body.group_ids)
        .await?;
    Ok(web::Json(CompanyLevelGroups {
        company_id: id.get(),
        group_ids,
    }))
}
