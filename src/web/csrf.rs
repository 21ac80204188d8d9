//! CSRF defences in layers: SameSite cookies, a cross-site guard on unsafe methods
//! (`middleware::cross_site_guard`), and a per-session token in every state-changing form,
//! checked here by the [`StaffForm`] extractor so a handler cannot forget it.
//! The sign-in and setup forms have no session yet: they use a double-submit cookie.

use super::error::WebError;
use super::session::{Admin, Staff, build_cookie, cookie_name, state};
use crate::crypto::{ct_eq, random_token};
use actix_web::cookie::Cookie;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

const PRE_SESSION: &str = "tenantry_form";

/// A state-changing form from a signed-in staff member, with its CSRF token checked.
pub struct StaffForm<T> {
    pub staff: Staff,
    pub form: T,
}

/// The same, for admins only.
pub struct AdminForm<T> {
    pub staff: Staff,
    pub form: T,
}

pub(crate) fn parse_checked<T: DeserializeOwned>(
    bytes: &[u8],
    expected: &str,
) -> Result<T, WebError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| WebError::BadRequest(format!("The form could not be read: {e}")))?;
    let token = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if token.is_empty() || !ct_eq(token, expected) {
        return Err(WebError::Csrf);
    }
    serde_urlencoded::from_bytes(bytes)
        .map_err(|e| WebError::BadRequest(format!("The form could not be read: {e}")))
}

impl<T: DeserializeOwned + 'static> FromRequest for StaffForm<T> {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let staff = Staff::load(&req).await?;
            let bytes = body.await.map_err(|e| WebError::from_payload(&e))?;
            let form = parse_checked(&bytes, staff.csrf())?;
            Ok(StaffForm { staff, form })
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for AdminForm<T> {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let Admin(staff) = Admin::from_request(&req, &mut Payload::None).await?;
            let bytes = body.await.map_err(|e| WebError::from_payload(&e))?;
            let form = parse_checked(&bytes, staff.csrf())?;
            Ok(AdminForm { staff, form })
        })
    }
}

/// For forms shown before sign-in: reuse the visitor's token cookie or mint one.
pub fn pre_session_token(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    let secure = state(req).map(|s| s.config.secure_cookies).unwrap_or(false);
    let name = cookie_name(PRE_SESSION, secure);
    if let Some(c) = req.cookie(&name).filter(|c| c.value().len() >= 32) {
        return (c.value().to_string(), None);
    }
    let token = random_token(32);
    (
        token.clone(),
        Some(build_cookie(&name, token, secure, None)),
    )
}

/// A pre-session form whose hidden `csrf` field matches the visitor's token cookie.
pub struct PublicForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for PublicForm<T> {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let secure = state(req).map(|s| s.config.secure_cookies).unwrap_or(false);
        let cookie = req
            .cookie(&cookie_name(PRE_SESSION, secure))
            .map(|c| c.value().to_string())
            .unwrap_or_default();
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| WebError::from_payload(&e))?;
            if cookie.is_empty() {
                return Err(WebError::Csrf);
            }
            Ok(PublicForm(parse_checked(&bytes, &cookie)?))
        })
    }
}
