//! The session cookie (one factory for every cookie we set) and the signed-in extractors.

use super::AppState;
use super::error::WebError;
use crate::domain::staff::SignedIn;
use crate::model::Role;
use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use std::future::Future;
use std::pin::Pin;

const SESSION: &str = "tenantry_session";
/// With https the `__Host-` prefix makes browsers refuse the cookie unless it is Secure,
/// host-only and path `/`, so a sibling subdomain cannot plant or shadow it.
const SESSION_SECURE: &str = "__Host-tenantry_session";

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { SESSION_SECURE } else { SESSION }
}

/// The sealed pending "Sign in with Microsoft" (see `web::signin_callback`).
pub const SIGNIN_STATE: &str = "tenantry_signin";

/// The cookie that carries a sealed pending sign-in to Microsoft and back (HttpOnly;
/// SameSite=Lax so Microsoft's top-level redirect back carries it; it expires with the
/// sign-in, after ten minutes).
pub fn signin_state_cookie(secure: bool, sealed: String) -> Cookie<'static> {
    build_cookie(
        &cookie_name(SIGNIN_STATE, secure),
        sealed,
        secure,
        Some(Duration::minutes(10)),
    )
}

/// The name of one of our cookies: `__Host-` + `base` under https (see [`SESSION_SECURE`]).
pub fn cookie_name(base: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// Build a cookie the way every cookie of ours is built: HttpOnly, SameSite=Lax (Lax so the
/// top-level redirect back from Microsoft sign-in carries it), Path=/, Secure behind https.
pub fn build_cookie(
    name: &str,
    value: String,
    secure: bool,
    max_age: Option<Duration>,
) -> Cookie<'static> {
    let mut c = Cookie::build(name.to_string(), value)
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure)
        .finish();
    if let Some(age) = max_age {
        c.set_max_age(age);
    }
    c
}

pub fn removal_cookie(name: &str, secure: bool) -> Cookie<'static> {
    let mut c = build_cookie(name, String::new(), secure, Some(Duration::ZERO));
    c.make_removal();
    c
}

pub fn session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    let secure = state.config.secure_cookies;
    build_cookie(
        session_cookie_name(secure),
        value,
        secure,
        Some(Duration::hours(i64::from(state.config.session_hours))),
    )
}

pub fn state(req: &HttpRequest) -> Result<web::Data<AppState>, WebError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| WebError::Internal(anyhow::anyhow!("application state missing")))
}

/// A signed-in staff member.
#[derive(Debug, Clone)]
pub struct Staff(pub SignedIn, pub OpenRequests);

/// How many requests still need the MSP, for the nav's badge (read with the session: three
/// counters).
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenRequests(pub u64);

impl Staff {
    pub fn email(&self) -> &str {
        self.0.user.email.as_str()
    }
    pub fn is_admin(&self) -> bool {
        self.0.user.role == Role::Admin
    }
    pub fn csrf(&self) -> &str {
        &self.0.session.csrf_token
    }
    pub fn open_requests(&self) -> u64 {
        self.1.0
    }
    pub fn actor(&self) -> crate::model::Actor {
        crate::model::Actor::staff(self.email())
    }
    /// This staff member as an admin, for admin-only use-cases (refused for a technician).
    pub fn admin_actor(&self) -> Result<crate::domain::authority::AdminActor, WebError> {
        Ok(crate::domain::authority::AdminActor::new(
            self.actor(),
            self.0.user.role,
        )?)
    }

    pub async fn load(req: &HttpRequest) -> Result<Staff, WebError> {
        let st = state(req)?;
        let name = session_cookie_name(st.config.secure_cookies);
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into());
        let Some(cookie) = req.cookie(name) else {
            return Err(WebError::SignInRequired { next });
        };
        match st
            .services
            .session_with_open_requests(cookie.value())
            .await?
        {
            Some((s, open)) => {
                let staff = Staff(s, OpenRequests(open));
                super::request_scope::remember_nav(super::request_scope::NavBar {
                    email: staff.email().to_string(),
                    is_admin: staff.is_admin(),
                    csrf: staff.csrf().to_string(),
                    open_requests: open,
                    section: "",
                });
                Ok(staff)
            }
            None => Err(WebError::SignInRequired { next }),
        }
    }
}

impl FromRequest for Staff {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Staff::load(&req).await })
    }
}

/// A signed-in admin; technicians get a 403 that says why.
#[derive(Debug, Clone)]
pub struct Admin(pub Staff);

impl FromRequest for Admin {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let staff = Staff::load(&req).await?;
            if !staff.is_admin() {
                return Err(WebError::Forbidden(
                    "Only admins can change settings, staff accounts and API tokens.".into(),
                ));
            }
            Ok(Admin(staff))
        })
    }
}
