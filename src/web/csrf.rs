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

/// The form decoder replaces bytes that are not UTF-8 with U+FFFD, which would store "��"
/// in place of what the user typed. Refuse such a form instead, as the JSON API does.
fn check_utf8(bytes: &[u8]) -> Result<(), WebError> {
    for field in bytes.split(|b| *b == b'&') {
        let decoded: Vec<u8> = percent_encoding::percent_decode(field).collect();
        if std::str::from_utf8(&decoded).is_err() {
            return Err(WebError::BadRequest(
                "The form could not be read: it is not valid UTF-8 text.".into(),
            ));
        }
    }
    Ok(())
}

pub(crate) fn parse_checked<T: DeserializeOwned>(
    bytes: &[u8],
    expected: &str,
) -> Result<T, WebError> {
    check_utf8(bytes)?;
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

/// The key that signs pre-session form tokens.
const PRE_SESSION_PURPOSE: &str = "pre-session-form-token";

/// A pre-session token: a random nonce and its HMAC under a key derived from the appliance
/// key. Double-submit alone accepts any value an attacker manages to put in both the cookie
/// and the form; with the MAC only tokens this server minted pass.
fn mint_pre_session(key: &crate::crypto::SecretBox) -> String {
    let nonce = random_token(24);
    let mac = key.mac(&nonce);
    format!("{nonce}.{mac}")
}

fn pre_session_valid(key: &crate::crypto::SecretBox, token: &str) -> bool {
    token
        .split_once('.')
        .is_some_and(|(nonce, mac)| !nonce.is_empty() && key.verify_mac(nonce, mac))
}

/// For forms shown before sign-in: reuse the visitor's token cookie if this server minted
/// it, or mint one.
pub fn pre_session_token(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    let Ok(st) = state(req) else {
        // No application state means no key: an unusable token, refused on submit.
        return (String::new(), None);
    };
    let secure = st.config.secure_cookies;
    let key = st.services.purpose_key(PRE_SESSION_PURPOSE);
    let name = cookie_name(PRE_SESSION, secure);
    if let Some(c) = req
        .cookie(&name)
        .filter(|c| pre_session_valid(&key, c.value()))
    {
        return (c.value().to_string(), None);
    }
    let token = mint_pre_session(&key);
    (
        token.clone(),
        Some(build_cookie(&name, token, secure, None)),
    )
}

/// A pre-session form whose hidden `csrf` field matches the visitor's token cookie, and
/// whose token this server minted.
pub struct PublicForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for PublicForm<T> {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let cookie = state(req).ok().and_then(|st| {
            let key = st.services.purpose_key(PRE_SESSION_PURPOSE);
            req.cookie(&cookie_name(PRE_SESSION, st.config.secure_cookies))
                .map(|c| c.value().to_string())
                .filter(|v| pre_session_valid(&key, v))
        });
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| WebError::from_payload(&e))?;
            let Some(cookie) = cookie else {
                return Err(WebError::Csrf);
            };
            Ok(PublicForm(parse_checked(&bytes, &cookie)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::check_utf8;

    #[test]
    fn only_minted_pre_session_tokens_are_valid() {
        let key = crate::crypto::SecretBox::from_key([9; 32]);
        let t = super::mint_pre_session(&key);
        assert!(super::pre_session_valid(&key, &t));
        let other = crate::crypto::SecretBox::from_key([8; 32]);
        assert!(!super::pre_session_valid(&other, &t));
        for forged in [
            "",
            ".",
            "a".repeat(43).as_str(),
            "abc.def",
            &format!("{t}x"),
        ] {
            assert!(!super::pre_session_valid(&key, forged), "{forged:?}");
        }
    }

    #[test]
    fn forms_that_are_not_utf8_are_refused() {
        assert!(check_utf8(b"a=caf%C3%A9&b=+x").is_ok());
        assert!(check_utf8("a=café".as_bytes()).is_ok());
        assert!(check_utf8(b"a=%FF%FE").is_err());
        assert!(check_utf8(b"a=ok&b=%C3").is_err());
        assert!(check_utf8(&[b'a', b'=', 0xff]).is_err());
    }
}
