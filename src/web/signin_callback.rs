//! The one redirect URI of "Sign in with Microsoft" (`/auth/callback`), for staff and portal
//! sign-ins alike: the sealed pending sign-in in this browser's cookie says which it was.
//!
//! The start sealed the pending sign-in (state, nonce, PKCE verifier, flow) into a short-lived
//! cookie; the callback opens it and requires its state to equal the one Microsoft echoes.
//! Without that binding an attacker could send a victim a callback link carrying the
//! attacker's own code and state (login CSRF) and have the victim's browser signed in as the
//! attacker.

use crate::domain::sso::{SignInCallback, SignedInVia};
use crate::web::AppState;
use crate::web::client::client_ip;
use crate::web::error::WebError;
use crate::web::portal::session::portal_cookie;
use crate::web::respond::see_other;
use crate::web::session::{SIGNIN_STATE, cookie_name, removal_cookie, session_cookie};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/callback", web::get().to(callback));
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
        .map_err(|e| WebError::internal("setting a cookie", e))?;
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
                .map_err(|e| WebError::internal("setting a cookie", e))?;
            r
        }
        Ok(SignedInVia::Portal { cookie, slug }) => {
            let mut r = see_other(&format!("/portal/{slug}"));
            r.add_cookie(&portal_cookie(st.config.secure_cookies, cookie))
                .map_err(|e| WebError::internal("setting a cookie", e))?;
            r
        }
        Err(refused) => match refused.portal_slug {
            Some(slug) => {
                crate::web::portal::signin_refused(req, st, &slug, refused.message).await?
            }
            None => {
                crate::web::handlers::login_page(
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
