//! Sign-in, sign-out and the one-time first-admin setup.

use super::{render, see_other};
use crate::domain::DomainError;
use crate::domain::staff::NewStaff;
use crate::web::AppState;
use crate::web::csrf::{PublicForm, StaffForm, pre_session_token};
use crate::web::error::WebError;
use crate::web::redirect::LocalPath;
use crate::web::session::{Staff, removal_cookie, session_cookie, session_cookie_name};
use crate::web::views::password_sign_in::{LoginPage, SetupPage};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_get))
        .route("/login", web::post().to(login_post))
        .route("/logout", web::post().to(logout_post))
        .route("/setup", web::get().to(setup_get))
        .route("/setup", web::post().to(setup_post));
}

use crate::web::client::{client_addr, client_ip, peer_is_trusted_proxy};

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_get(req: HttpRequest, q: web::Query<NextQuery>) -> Result<HttpResponse, WebError> {
    let next = LocalPath::or_default(q.next.as_deref().unwrap_or_default());
    if Staff::load(&req).await.is_ok() {
        return Ok(see_other(next.as_str()));
    }
    let st = crate::web::session::state(&req)?;
    let next = next.into_string();
    login_page(
        &req,
        &st,
        next,
        String::new(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// May this request use the password form? With "password sign-in only from this machine"
/// the client must be on loopback. When the peer is a trusted proxy, that is the client the
/// proxy reports. Otherwise the peer must be loopback and the request carry no proxy
/// header: behind a reverse proxy on the same host that is not in `server.trusted_proxies`
/// every peer is loopback, but the proxy adds `X-Forwarded-For`/`Forwarded`.
fn password_allowed(req: &HttpRequest, loopback_only: bool) -> bool {
    if !loopback_only {
        return true;
    }
    if peer_is_trusted_proxy(req) {
        return client_addr(req).is_some_and(|c| c.is_loopback());
    }
    let local = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
    let proxied =
        req.headers().contains_key("x-forwarded-for") || req.headers().contains_key("forwarded");
    local && !proxied
}

/// The sign-in page: the password form (unless limited to this machine) and, when staff
/// sign-in with Microsoft is on, its button.
pub(crate) async fn login_page(
    req: &HttpRequest,
    st: &AppState,
    next: String,
    email: String,
    error: String,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let sso = st.services.staff_sso().await?;
    let (csrf, cookie) = pre_session_token(req);
    let page = LoginPage {
        csrf,
        next,
        email,
        error,
        sso_enabled: sso.enabled,
        password_allowed: password_allowed(req, sso.local_login_loopback_only),
    };
    render(page, status, cookie)
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_post(
    req: HttpRequest,
    st: web::Data<AppState>,
    form: PublicForm<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let f = form.0;
    // Checked before anything else happens, so the answer cannot fail after a session exists.
    let next = LocalPath::or_default(&f.next);
    let ip = client_ip(&req);
    let sso = st.services.staff_sso().await?;
    if !password_allowed(&req, sso.local_login_loopback_only) {
        st.services
            .record(
                crate::model::NewAuditEvent::new(
                    st.services.now(),
                    crate::model::Actor::anonymous(&ip),
                    "staff.sign_in",
                    format!(
                        "Password sign-in refused for {}: only allowed from this machine",
                        f.email.trim()
                    ),
                )
                .failed(),
            )
            .await?;
        return login_page(
            &req,
            &st,
            next.into_string(),
            String::new(),
            "Password sign-in is only allowed from this machine. Use Sign in with Microsoft."
                .into(),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    match st.services.sign_in(&f.email, &f.password, &ip).await {
        Ok((_, cookie_value)) => {
            // A fresh session id at every sign-in (no fixation): the old cookie, if any, is replaced.
            Ok(HttpResponse::SeeOther()
                .insert_header(("location", next.into_string()))
                .cookie(session_cookie(&st, cookie_value))
                .finish())
        }
        Err(DomainError::Unauthorized(msg)) => {
            login_page(
                &req,
                &st,
                next.into_string(),
                f.email,
                msg,
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
        // Refused before the password was checked: the form again, saying why and when to
        // try again, with the status and `Retry-After` a script can act on.
        Err(
            e @ (DomainError::RateLimited { retry_after_secs }
            | DomainError::Busy { retry_after_secs }),
        ) => {
            let msg = match e {
                DomainError::Busy { .. } => format!(
                    "Tenantry is busy checking other sign-ins. Try again in {}.",
                    wait_text(retry_after_secs)
                ),
                _ => format!(
                    "Too many sign-in attempts. Try again in {}.",
                    wait_text(retry_after_secs)
                ),
            };
            let mut page = login_page(
                &req,
                &st,
                next.into_string(),
                f.email,
                msg,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await?;
            page.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after_secs),
            );
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

/// "1 second", "40 seconds", "1 minute", "15 minutes" (minutes rounded up).
fn wait_text(secs: u64) -> String {
    match (secs, secs.div_ceil(60)) {
        (1, _) => "1 second".into(),
        (0..60, _) => format!("{secs} seconds"),
        (_, 1) => "1 minute".into(),
        (_, minutes) => format!("{minutes} minutes"),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn logout_post(
    st: web::Data<AppState>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, WebError> {
    st.services.sign_out(&form.staff.0).await?;
    let secure = st.config.secure_cookies;
    Ok(HttpResponse::SeeOther()
        .insert_header(("location", "/login"))
        .cookie(removal_cookie(session_cookie_name(secure), secure))
        .finish())
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn setup_get(
    req: HttpRequest,
    st: web::Data<AppState>,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, WebError> {
    if st.services.staff_count().await? > 0 {
        return Ok(see_other("/login"));
    }
    let (csrf, cookie) = pre_session_token(&req);
    let page = SetupPage {
        csrf,
        token: q.token.clone().unwrap_or_default(),
        email: String::new(),
        display_name: String::new(),
        error: String::new(),
    };
    render(page, actix_web::http::StatusCode::OK, cookie)
}

#[derive(Deserialize)]
struct SetupForm {
    token: String,
    email: String,
    #[serde(default)]
    display_name: String,
    password: String,
}

async fn setup_post(
    req: HttpRequest,
    st: web::Data<AppState>,
    form: PublicForm<SetupForm>,
) -> Result<HttpResponse, WebError> {
    let f = form.0;
    let result = match NewStaff::parse(&f.email, &f.display_name, "admin", Some(&f.password)) {
        Ok(new) => st.services.complete_setup(&f.token, new).await,
        Err(v) => Err(v.into()),
    };
    match result {
        Ok(user) => {
            let cookie = st
                .services
                .start_session(user, &client_ip(&req), "setup")
                .await?;
            Ok(HttpResponse::SeeOther()
                .insert_header(("location", "/companies"))
                .cookie(session_cookie(&st, cookie))
                .finish())
        }
        Err(DomainError::Validation(v)) => {
            let (csrf, cookie) = pre_session_token(&req);
            let page = SetupPage {
                csrf,
                token: f.token,
                email: f.email,
                display_name: f.display_name,
                error: v.to_string(),
            };
            render(
                page,
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                cookie,
            )
        }
        Err(e) => Err(e.into()),
    }
}
