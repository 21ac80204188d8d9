//! The portal session cookie and the signed-in portal user extractors.
//!
//! WHY a separate cookie: portal users are a client's employees, not MSP staff. Their
//! session must never open a staff page (or the staff API), and a staff session must never
//! be mistaken for a portal user; distinct cookies and tables make that structural.

use crate::domain::portal::PortalSignedIn;
use crate::web::csrf::parse_checked;
use crate::web::error::WebError;
use crate::web::session::{build_cookie, state};
use actix_web::cookie::{Cookie, time::Duration};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

const PORTAL: &str = "tenantry_portal";
const PORTAL_SECURE: &str = "__Host-tenantry_portal";

pub fn portal_cookie_name(secure: bool) -> &'static str {
    if secure { PORTAL_SECURE } else { PORTAL }
}

pub fn portal_cookie(secure: bool, value: String) -> Cookie<'static> {
    build_cookie(
        portal_cookie_name(secure),
        value,
        secure,
        Some(Duration::hours(crate::domain::portal::PORTAL_SESSION_HOURS)),
    )
}

/// The `{slug}` segment of a portal URL.
pub fn slug_of(req: &HttpRequest) -> String {
    req.match_info()
        .get("slug")
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// A client employee signed in to the portal named by the URL's `{slug}`. A session from
/// another company's portal does not count: it is sent to this portal's sign-in page.
#[derive(Debug, Clone)]
pub struct PortalUser(pub PortalSignedIn);

impl PortalUser {
    pub fn contact_id(&self) -> u64 {
        self.0.contact.id
    }
    pub fn slug(&self) -> &str {
        &self.0.settings.slug
    }
    pub fn csrf(&self) -> &str {
        &self.0.session.csrf_token
    }
    pub fn is_portal_admin(&self) -> bool {
        self.0.is_portal_admin
    }

    pub async fn load(req: &HttpRequest) -> Result<PortalUser, WebError> {
        let st = state(req)?;
        let slug = slug_of(req);
        let name = portal_cookie_name(st.config.secure_cookies);
        let Some(cookie) = req.cookie(name) else {
            return Err(WebError::PortalSignInRequired { slug });
        };
        match st.services.portal_session(&slug, cookie.value()).await? {
            Some(s) => Ok(PortalUser(s)),
            None => Err(WebError::PortalSignInRequired { slug }),
        }
    }
}

impl FromRequest for PortalUser {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { PortalUser::load(&req).await })
    }
}

/// A state-changing portal form with its CSRF token (the portal session's) checked.
pub struct PortalForm<T> {
    pub user: PortalUser,
    pub form: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for PortalForm<T> {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let user = PortalUser::load(&req).await?;
            let bytes = body.await.map_err(|e| WebError::from_payload(&e))?;
            let form = parse_checked(&bytes, user.csrf())?;
            Ok(PortalForm { user, form })
        })
    }
}
