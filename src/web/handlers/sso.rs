//! "Sign in with Microsoft": the start (staff and portal share the callback) and the callback.
//!
//! The start seals the pending sign-in (state, nonce, PKCE verifier, flow) into a short-lived
//! cookie; the callback opens it and requires its state to equal the one Microsoft echoes.
//! Without that binding an attacker could send a victim a callback link carrying the
//! attacker's own code and state (login CSRF) and have the victim's browser signed in as the
//! attacker.

use super::see_other;
use crate::domain::DomainError;
use crate::domain::sso::{SignInCallback, SignedInVia};
use crate::web::AppState;
use crate::web::client::client_ip;
use crate::web::csrf::PublicForm;
use crate::web::error::WebError;
use crate::web::portal::session::portal_cookie;
use crate::web::redirect::LocalPath;
use crate::web::session::{build_cookie, cookie_name, removal_cookie, session_cookie};
use actix_web::cookie::time::Duration;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

const SIGNIN_STATE: &str = "tenantry_signin";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/microsoft", web::post().to(staff_start))
        .route("/auth/callback", web::get().to(callback));
}

/// Redirect the browser to Microsoft, giving it the sealed pending sign-in as a cookie
/// (HttpOnly; SameSite=Lax so Microsoft's top-level redirect back carries it; it expires with
/// the sign-in, after ten minutes).
pub(crate) fn to_microsoft(st: &AppState, url: &str, sealed: String) -> HttpResponse {
    let secure = st.config.secure_cookies;
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(build_cookie(
            &cookie_name(SIGNIN_STATE, secure),
            sealed,
            secure,
            Some(Duration::minutes(10)),
        ))
        .finish()
}

#[derive(Deserialize)]
struct StartForm {
    #[serde(default)]
    next: String,
}

async fn staff_start(
    req: HttpRequest,
    st: web::Data<AppState>,
    form: PublicForm<StartForm>,
) -> Result<HttpResponse, WebError> {
    let next = LocalPath::or_default(&form.0.next).into_string();
    match st
        .services
        .begin_staff_sign_in(&next, None, &client_ip(&req))
        .await
    {
        Ok((url, sealed)) => Ok(to_microsoft(&st, &url, sealed)),
        Err(DomainError::Conflict(msg)) => {
            super::auth::login_page(&req, &st, next, String::new(), msg, StatusCode::CONFLICT).await
        }
        Err(DomainError::RateLimited { retry_after_secs }) => {
            let page = super::auth::login_page(
                &req,
                &st,
                next,
                String::new(),
                too_many_starts(retry_after_secs),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await?;
            Ok(with_retry_after(page, retry_after_secs))
        }
        Err(e) => Err(e.into()),
    }
}

/// What the sign-in page says when this client started too many sign-ins.
pub(crate) fn too_many_starts(retry_after_secs: u64) -> String {
    format!(
        "Too many sign-ins were started from your network just now. Wait {retry_after_secs} seconds, then try again."
    )
}

/// A sign-in page answering 429, with the `Retry-After` that goes with it.
pub(crate) fn with_retry_after(mut page: HttpResponse, retry_after_secs: u64) -> HttpResponse {
    *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    page.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(retry_after_secs),
    );
    page
}

async fn callback(
    req: HttpRequest,
    st: web::Data<AppState>,
    q: web::Query<SignInCallback>,
) -> Result<HttpResponse, WebError> {
    let secure = st.config.secure_cookies;
    let name = cookie_name(SIGNIN_STATE, secure);
    let sealed = req
        .cookie(&name)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    // Cleared whatever the outcome, errors included: a sealed sign-in is good for one callback.
    let mut resp = match finish(&req, &st, q.into_inner(), &sealed).await {
        Ok(r) => r,
        Err(e) => actix_web::ResponseError::error_response(&e),
    };
    resp.add_removal_cookie(&removal_cookie(&name, secure))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(resp)
}

async fn finish(
    req: &HttpRequest,
    st: &web::Data<AppState>,
    q: SignInCallback,
    sealed: &str,
) -> Result<HttpResponse, WebError> {
    let result = st
        .services
        .finish_sign_in(q, sealed, &client_ip(req))
        .await?;
    Ok(match result {
        Ok(SignedInVia::Staff { cookie, next }) => {
            let mut r = see_other(&next);
            r.add_cookie(&session_cookie(st, cookie))
                .map_err(|e| WebError::Internal(e.to_string()))?;
            r
        }
        Ok(SignedInVia::Portal { cookie, slug }) => {
            let mut r = see_other(&format!("/portal/{slug}"));
            r.add_cookie(&portal_cookie(st.config.secure_cookies, cookie))
                .map_err(|e| WebError::Internal(e.to_string()))?;
            r
        }
        Err(refused) => match refused.portal_slug {
            Some(slug) => {
                crate::web::portal::signin_refused(req, st, &slug, refused.message).await?
            }
            None => {
                super::auth::login_page(
                    req,
                    st,
                    "/companies".into(),
                    String::new(),
                    refused.message,
                    StatusCode::FORBIDDEN,
                )
                .await?
            }
        },
    })
}
