//! Settings → Integrations (any staff may look), Users and API tokens (admins only: the
//! [`Admin`] extractor and [`AdminForm`] refuse technicians with a 403 that says why).

use super::{render, see_other};
use crate::domain::DomainError;
use crate::domain::staff::NewStaff;
use crate::model::{AuditFilter, Role};
use crate::web::AppState;
use crate::web::csrf::AdminForm;
use crate::web::error::WebError;
use crate::web::handlers::NoticeQuery;
use crate::web::ids::Id;
use crate::web::session::{Admin, Staff};
use crate::web::views::Chrome;
use crate::web::views::settings::{
    IntegrationsPage, ScheduleRow, TokenCreatedPage, TokensPage, UserPage, UsersPage,
};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/settings",
        web::get().to(|| async { see_other("/settings/integrations") }),
    )
    .route("/settings/integrations", web::get().to(integrations_get))
    .route("/settings/users", web::get().to(users_get))
    .route("/settings/users", web::post().to(users_post))
    .route("/settings/users/{id}", web::get().to(user_get))
    .route("/settings/users/{id}", web::post().to(user_post))
    .route(
        "/settings/users/{id}/password",
        web::post().to(user_password_post),
    )
    .route("/settings/tokens", web::get().to(tokens_get))
    .route("/settings/tokens", web::post().to(tokens_post))
    .route(
        "/settings/tokens/{id}/revoke",
        web::post().to(token_revoke_post),
    );
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

// ---------------------------------------------------------------- Integrations

async fn integrations_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<NoticeQuery>,
) -> Result<IntegrationsPage, WebError> {
    let now = st.services.now();
    let mut schedules = Vec::with_capacity(st.schedules.len());
    for s in st.schedules.iter() {
        // The stored slot is also set on first start without firing, so the last real firing
        // comes from the schedule's own audit events.
        let fired = st
            .services
            .audit_page(
                AuditFilter {
                    kind: Some(format!("schedule.{}", s.name)),
                    ..Default::default()
                },
                1,
                1,
            )
            .await?
            .items
            .into_iter()
            .next()
            .map(|e| e.at);
        let counting_from = match fired {
            Some(_) => None,
            None => st.services.schedule_last_fired(s.name).await?,
        };
        let utc_zone = s.tz == chrono_tz::UTC;
        let next = s.next_after(now);
        let later = s
            .upcoming(now, 4)
            .into_iter()
            .skip(1)
            .map(|t| {
                let u = t.format("%Y-%m-%d %H:%M UTC").to_string();
                if utc_zone {
                    u
                } else {
                    format!("{u} ({})", t.with_timezone(&s.tz).format("%H:%M %Z"))
                }
            })
            .collect();
        schedules.push(ScheduleRow {
            name: s.name,
            job_kind: s.job_kind,
            cron: s.cron.to_string(),
            timezone: s.tz.name(),
            last_fired: fired.map(utc),
            counting_from: counting_from.map(utc),
            next_run: next.map(utc),
            next_run_iso: next.map(|t| t.to_rfc3339()),
            next_run_local: next.filter(|_| !utc_zone).map(|t| {
                t.with_timezone(&s.tz)
                    .format("%Y-%m-%d %H:%M %Z")
                    .to_string()
            }),
            later,
            idle: st.config.idle_job_kinds.iter().any(|k| k == s.job_kind),
        });
    }
    let msp = st.services.msp_tenant().await?;
    let app = st.services.entra_app().await?;
    let connected_companies = st.services.company_tenants().await?;
    Ok(IntegrationsPage {
        msp_tenant: msp.map(|t| format!("{} ({})", t.tenant_name, t.tenant_id)),
        app_configured: !app.client_id.is_empty() && app.has_secret,
        connected_companies,
        chrome: Chrome::new(&staff, "settings", q.notice.as_deref()),
        login_url: st.config.microsoft_login_url.clone(),
        graph_url: st.config.microsoft_graph_url.clone(),
        now: utc(now),
        schedules,
        config_summary: st.config.config_summary.clone(),
    })
}

// ---------------------------------------------------------------- Users

#[derive(Deserialize, Default)]
struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

async fn users_page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    form: NewUserForm,
    error: String,
) -> Result<UsersPage, WebError> {
    Ok(UsersPage {
        chrome: Chrome::new(staff, "settings", notice),
        users: st.services.staff_users().await?,
        email: form.email,
        display_name: form.display_name,
        role: if form.role.is_empty() {
            "technician".into()
        } else {
            form.role
        },
        error,
    })
}

async fn users_get(
    Admin(staff): Admin,
    st: web::Data<AppState>,
    q: web::Query<NoticeQuery>,
) -> Result<UsersPage, WebError> {
    users_page(
        &st,
        &staff,
        q.notice.as_deref(),
        NewUserForm::default(),
        String::new(),
    )
    .await
}

async fn users_post(
    st: web::Data<AppState>,
    form: AdminForm<NewUserForm>,
) -> Result<HttpResponse, WebError> {
    let AdminForm { staff, form: f } = form;
    let parsed = if f.password.is_empty() {
        // Accounts without a password can only sign in with Microsoft, which is not here yet.
        Err("password: an initial password is required (at least 12 characters)".to_string())
    } else {
        NewStaff::parse(&f.email, &f.display_name, &f.role, Some(&f.password))
            .map_err(|e| e.to_string())
    };
    let new = match parsed {
        Ok(n) => n,
        Err(e) => return refuse_user_form(&st, &staff, f, e).await,
    };
    match st.services.create_staff(staff.admin_actor()?, new).await {
        Ok(u) => Ok(see_other(&format!(
            "/settings/users/{}?notice=user_created",
            u.id
        ))),
        Err(DomainError::Conflict(m)) => refuse_user_form(&st, &staff, f, m).await,
        Err(e) => Err(e.into()),
    }
}

async fn refuse_user_form(
    st: &AppState,
    staff: &Staff,
    mut f: NewUserForm,
    error: String,
) -> Result<HttpResponse, WebError> {
    // Never echo a password back into the page.
    f.password.clear();
    let page = users_page(st, staff, None, f, error).await?;
    render(page, StatusCode::UNPROCESSABLE_ENTITY, None)
}

async fn user_page(
    st: &AppState,
    staff: &Staff,
    id: u64,
    notice: Option<&str>,
    error: String,
) -> Result<UserPage, WebError> {
    let user = st.services.staff_user(id).await?;
    Ok(UserPage {
        chrome: Chrome::new(staff, "settings", notice),
        is_self: user.email.as_str() == staff.email(),
        user,
        error,
    })
}

async fn user_get(
    Admin(staff): Admin,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<NoticeQuery>,
) -> Result<UserPage, WebError> {
    user_page(&st, &staff, id.get(), q.notice.as_deref(), String::new()).await
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    status: String,
}

async fn user_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: AdminForm<UserForm>,
) -> Result<HttpResponse, WebError> {
    let AdminForm { staff, form: f } = form;
    let id = id.get();
    let role = Role::parse(&f.role).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let disabled = match f.status.as_str() {
        "enabled" => false,
        "disabled" => true,
        other => {
            return Err(WebError::BadRequest(format!(
                "status: {other:?} is not enabled or disabled"
            )));
        }
    };
    match st
        .services
        .update_staff(staff.admin_actor()?, id, role, disabled)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/settings/users/{id}?notice=user_saved"
        ))),
        Err(DomainError::Conflict(m)) => {
            let page = user_page(&st, &staff, id, None, capitalise(&m)).await?;
            render(page, StatusCode::CONFLICT, None)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn user_password_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: AdminForm<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let AdminForm { staff, form: f } = form;
    let id = id.get();
    let user = st.services.staff_user(id).await?;
    match st
        .services
        .reset_password(staff.admin_actor()?, user.email.as_str(), &f.password)
        .await
    {
        Ok(_) if user.email.as_str() == staff.email() => {
            // Resetting one's own password ends one's own session too.
            Ok(see_other("/login"))
        }
        Ok(_) => Ok(see_other(&format!(
            "/settings/users/{id}?notice=password_reset"
        ))),
        Err(DomainError::Validation(v)) => {
            let page = user_page(&st, &staff, id, None, v.to_string()).await?;
            render(page, StatusCode::UNPROCESSABLE_ENTITY, None)
        }
        Err(e) => Err(e.into()),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => {
            let mut out: String = f.to_uppercase().collect();
            out.push_str(c.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

// ---------------------------------------------------------------- API tokens

#[derive(Deserialize, Default)]
struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

async fn tokens_page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    form: TokenForm,
    error: String,
) -> Result<TokensPage, WebError> {
    Ok(TokensPage {
        chrome: Chrome::new(staff, "settings", notice),
        tokens: st.services.api_tokens().await?,
        name: form.name,
        role: if form.role.is_empty() {
            "technician".into()
        } else {
            form.role
        },
        error,
    })
}

async fn tokens_get(
    Admin(staff): Admin,
    st: web::Data<AppState>,
    q: web::Query<NoticeQuery>,
) -> Result<TokensPage, WebError> {
    tokens_page(
        &st,
        &staff,
        q.notice.as_deref(),
        TokenForm::default(),
        String::new(),
    )
    .await
}

/// The new token is shown in the answer to the POST itself, once: it is never stored in
/// plain text, never put in a URL, and the page is sent with `Cache-Control: no-store`.
async fn tokens_post(
    st: web::Data<AppState>,
    form: AdminForm<TokenForm>,
) -> Result<HttpResponse, WebError> {
    let AdminForm { staff, form: f } = form;
    let role = match Role::parse(&f.role) {
        Ok(r) => r,
        Err(e) => {
            let page = tokens_page(&st, &staff, None, f, e.to_string()).await?;
            return render(page, StatusCode::UNPROCESSABLE_ENTITY, None);
        }
    };
    match st
        .services
        .create_api_token(staff.admin_actor()?, &f.name, role)
        .await
    {
        Ok((plain, token)) => {
            let base = st.config.public_url.trim_end_matches('/');
            render(
                TokenCreatedPage {
                    chrome: Chrome::new(&staff, "settings", None),
                    curl: format!(
                        "curl -H \"Authorization: Bearer {plain}\" {base}/api/v1/companies"
                    ),
                    plain,
                    token,
                },
                StatusCode::OK,
                None,
            )
        }
        Err(DomainError::Validation(v)) => {
            let page = tokens_page(&st, &staff, None, f, v.to_string()).await?;
            render(page, StatusCode::UNPROCESSABLE_ENTITY, None)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn token_revoke_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: AdminForm<Empty>,
) -> Result<HttpResponse, WebError> {
    st.services
        .revoke_api_token(form.staff.admin_actor()?, id.get())
        .await?;
    Ok(see_other("/settings/tokens?notice=token_revoked"))
}
