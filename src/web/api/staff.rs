//! `/api/v1/users` and `/api/v1/tokens` (admin tokens only), and `/api/v1/schedules`
//! (any token).

use super::{AdminCaller, AdminJson, ApiCaller, ApiError, ApiResult};
use crate::domain::DomainError;
use crate::domain::staff::NewStaff;
use crate::model::{ApiToken, Role, StaffUser};
use crate::web::AppState;
use crate::web::ids::Id;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// A whole (unpaged) list.
#[derive(Debug, Serialize)]
struct ApiList<T: Serialize> {
    items: Vec<T>,
    total: usize,
}

impl<T: Serialize> From<Vec<T>> for ApiList<T> {
    fn from(items: Vec<T>) -> Self {
        Self {
            total: items.len(),
            items,
        }
    }
}

/// A staff account as the API shows it: never the password hash.
#[derive(Debug, Serialize)]
struct UserView {
    id: u64,
    email: String,
    display_name: String,
    role: Role,
    disabled: bool,
    /// Whether a password is set (accounts may sign in with Microsoft only).
    has_password: bool,
    created_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
}

impl From<StaffUser> for UserView {
    fn from(u: StaffUser) -> Self {
        Self {
            id: u.id,
            email: u.email.to_string(),
            display_name: u.display_name,
            role: u.role,
            disabled: u.disabled,
            has_password: u.password_hash.is_some(),
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

async fn users(
    _admin: AdminCaller,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<ApiList<UserView>>> {
    let all = st.services.staff_users().await?;
    Ok(web::Json(
        all.into_iter()
            .map(UserView::from)
            .collect::<Vec<_>>()
            .into(),
    ))
}

async fn user(
    _admin: AdminCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<UserView>> {
    Ok(web::Json(st.services.staff_user(id.get()).await?.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    email: String,
    #[serde(default)]
    display_name: String,
    role: String,
    password: Option<String>,
}

async fn create_user(
    admin: AdminJson<NewUserBody>,
    st: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let AdminJson { caller: who, body } = admin;
    let b = body;
    let new = NewStaff::parse(&b.email, &b.display_name, &b.role, b.password.as_deref())
        .map_err(DomainError::from)?;
    let u = st.services.create_staff(who.actor(), new).await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/api/v1/users/{}", u.id)))
        .json(UserView::from(u)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    role: Option<String>,
    disabled: Option<bool>,
}

async fn update_user(
    admin: AdminJson<UserPatch>,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<UserView>> {
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
            who.actor(),
            id.get(),
            role.unwrap_or(cur.role),
            b.disabled.unwrap_or(cur.disabled),
        )
        .await?;
    Ok(web::Json(u.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
}

/// Set a new password; the user's sessions end.
async fn set_password(
    admin: AdminJson<PasswordBody>,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<UserView>> {
    let AdminJson { caller: who, body } = admin;
    let cur = st.services.staff_user(id.get()).await?;
    let u = st
        .services
        .reset_password(who.actor(), cur.email.as_str(), &body.password)
        .await?;
    Ok(web::Json(u.into()))
}

async fn tokens(
    _admin: AdminCaller,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<ApiList<ApiToken>>> {
    Ok(web::Json(st.services.api_tokens().await?.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTokenBody {
    name: String,
    /// admin or technician (default)
    role: Option<String>,
}

/// A new token: the plain `token` is in this answer and never again.
#[derive(Debug, Serialize)]
struct CreatedToken {
    token: String,
    #[serde(flatten)]
    record: ApiToken,
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
        .create_api_token(who.actor(), &body.name, role)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(CreatedToken { token, record }))
}

async fn revoke_token(
    who: AdminCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<ApiToken>> {
    Ok(web::Json(
        st.services.revoke_api_token(who.actor(), id.get()).await?,
    ))
}

#[derive(Debug, Serialize)]
struct ScheduleView {
    name: &'static str,
    job_kind: &'static str,
    cron: String,
    timezone: String,
    last_fired: Option<DateTime<Utc>>,
    next_run: Option<DateTime<Utc>>,
}

async fn schedules(
    _: ApiCaller,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<ApiList<ScheduleView>>> {
    let now = st.services.now();
    let mut out = Vec::with_capacity(st.schedules.len());
    for s in st.schedules.iter() {
        out.push(ScheduleView {
            name: s.name,
            job_kind: s.job_kind,
            cron: s.cron.source().to_string(),
            timezone: s.tz.name().to_string(),
            last_fired: st.services.schedule_last_fired(s.name).await?,
            next_run: s.next_after(now),
        });
    }
    Ok(web::Json(out.into()))
}
