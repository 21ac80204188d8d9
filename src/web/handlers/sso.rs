//! "Sign in with Microsoft": the start (staff and portal share the callback) and the callback.
//!
//! The state Microsoft echoes is also kept in a short-lived cookie set when the sign-in
//! starts; the callback requires both to match. Without that binding an attacker could send a
//! victim a callback link carrying the attacker's own code and state (login CSRF) and have the
//! victim's browser signed in as the attacker.

use super::see_other;
use crate::domain::DomainError;
use crate::domain::sso::{SignInCallback, SignedInVia};
use crate::web::AppState;
use crate::web::client::client_ip;
use crate::web::csrf::PublicForm;
use crate::web::error::WebError;
use crate::web::portal::session::portal_cookie;
use crate::web::redirect::LocalPath;
use crate::web::session::{build_cookie, removal_cookie, session_cookie};
use actix_web::cookie::time::Duration;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

const SIGNIN_STATE: &str = "tenantry_signin";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/microsoft", web::post().to(staff_start))
        .route("/auth/callback", web::get().to(callback));
}

/// Redirect the browser to Microsoft, binding the state to it with a cookie.
pub(crate) fn to_microsoft(st: &AppState, url: &str, state: String) -> HttpResponse {
    let secure = st.config.secure_cookies;
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(build_cookie(
            SIGNIN_STATE,
            state,
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
    match st.services.begin_staff_sign_in(&next, None).await {
        Ok((url, state)) => Ok(to_microsoft(&st, &url, state)),
        Err(DomainError::Conflict(msg)) => {
            super::auth::login_page(&req, &st, next, String::new(), msg, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn callback(
    req: HttpRequest,
    st: web::Data<AppState>,
    q: web::Query<SignInCallback>,
) -> Result<HttpResponse, WebError> {
    let bound = req
        .cookie(SIGNIN_STATE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let secure = st.config.secure_cookies;
    let clear = removal_cookie(SIGNIN_STATE, secure);
    let result = st
        .services
        .finish_sign_in(q.into_inner(), &bound, &client_ip(&req))
        .await?;
    let mut resp = match result {
        Ok(SignedInVia::Staff { cookie, next }) => {
            let mut r = see_other(&next);
            r.add_cookie(&session_cookie(&st, cookie))
                .map_err(|e| WebError::Internal(e.to_string()))?;
            r
        }
        Ok(SignedInVia::Portal { cookie, slug }) => {
            let mut r = see_other(&format!("/portal/{slug}"));
            r.add_cookie(&portal_cookie(secure, cookie))
                .map_err(|e| WebError::Internal(e.to_string()))?;
            r
        }
        Err(refused) => match refused.portal_slug {
            Some(slug) => {
                crate::web::portal::signin_refused(&req, &st, &slug, refused.message).await?
            }
            None => {
                super::auth::login_page(
                    &req,
                    &st,
                    "/companies".into(),
                    String::new(),
                    refused.message,
                    StatusCode::FORBIDDEN,
                )
                .await?
            }
        },
    };
    resp.add_removal_cookie(&clear)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(resp)
}
