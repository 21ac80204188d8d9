//! `/api/v1/users` and `/api/v1/tokens` (admin tokens only), and `/api/v1/schedules`
//! (any token).

use super::types::List;
use super::types::jobs::Schedule;
use super::types::staff::{
    ApiToken, CreatedToken, NewTokenBody, NewUserBody, PasswordBody, User, UserPatch,
};
use super::{AdminCaller, AdminJson, ApiCaller, ApiError, ApiResult};
use crate::domain::DomainError;
use crate::domain::staff::NewStaff;
use crate::model::Role;
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::{HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(users))
        .route("/users", web::post().to(create_user))
        .route("/users/{id}", web::get().to(user))
        .route("/users/{id}", web::patch().to(update_user))
        .route("/users/{id}/password", web::post().to(set_password))
        .route("/tokens", web::get().to(tokens))
        .route("/tokens", web::post().to(create_token))
        .route("/tokens/{id}", web::delete().to(revoke_token))
        .route("/schedules", web::get().to(schedules));
}

async fn users(_admin: AdminCaller, st: web::Data<AppState>) -> ApiResult<web::Json<List<User>>> {
    let all = st.services.staff_users().await?;
    Ok(web::Json(all.into_iter().collect()))
}

async fn user(
    _admin: AdminCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<User>> {
    Ok(web::Json(st.services.staff_user(id.get()).await?.into()))
}

async fn create_user(
    admin: AdminJson<NewUserBody>,
    st: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let AdminJson { caller: who, body } = admin;
    let b = body;
    let new = NewStaff::parse(&b.email, &b.display_name, &b.role, b.password.as_deref())
        .map_err(DomainError::from)?;
    let u = st.services.create_staff(who.admin_actor()?, new).await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/api/v1/users/{}", u.id)))
        .json(User::from(u)))
}

async fn update_user(
    admin: AdminJson<UserPatch>,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<User>> {
    let AdminJson { caller: who, body } = admin;
    let b = body;
    if b.role.is_none() && b.disabled.is_none() {
        return Err(ApiError::bad_request(
            "nothing to change: send `role` (admin or technician) and/or `disabled` (true or false)"
                .into(),
        ));
    }
    let role = b
        .role
        .as_deref()
        .map(Role::parse)
        .transpose()
        .map_err(DomainError::from)?;
    let cur = st.services.staff_user(id.get()).await?;
    let u = st
        .services
        .update_staff(
            who.admin_actor()?,
            id.get(),
            role.unwrap_or(cur.role),
            b.disabled.unwrap_or(cur.disabled),
        )
        .await?;
    Ok(web::Json(u.into()))
}

/// Set a new password; the user's sessions end.
async fn set_password(
    admin: AdminJson<PasswordBody>,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<User>> {
    let AdminJson { caller: who, body } = admin;
    let cur = st.services.staff_user(id.get()).await?;
    let u = st
        .services
        .reset_password(who.admin_actor()?, cur.email.as_str(), &body.password)
        .await?;
    Ok(web::Json(u.into()))
}

async fn tokens(
    _admin: AdminCaller,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<List<ApiToken>>> {
    Ok(web::Json(
        st.services.api_tokens().await?.into_iter().collect(),
    ))
}

async fn create_token(
    admin: AdminJson<NewTokenBody>,
    st: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let AdminJson { caller: who, body } = admin;
    let role =
        Role::parse(body.role.as_deref().unwrap_or("technician")).map_err(DomainError::from)?;
    let (token, record) = st
        .services
        .create_api_token(who.admin_actor()?, &body.name, role)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(CreatedToken {
            token,
            record: record.into(),
        }))
}

async fn revoke_token(
    who: AdminCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<ApiToken>> {
    Ok(web::Json(
        st.services
            .revoke_api_token(who.admin_actor()?, id.get())
            .await?
            .into(),
    ))
}

async fn schedules(_: ApiCaller, st: web::Data<AppState>) -> ApiResult<web::Json<List<Schedule>>> {
    let now = st.services.now();
    let mut out = Vec::with_capacity(st.schedules.len());
    for s in st.schedules.iter() {
        out.push(Schedule {
            name: s.name,
            job_kind: s.job_kind,
            cron: s.cron.source().to_string(),
            timezone: s.tz.name().to_string(),
            last_fired: st.services.schedule_last_fired(s.name).await?,
            next_run: s.next_after(now),
        });
    }
    Ok(web::Json(out.into_iter().collect()))
}
