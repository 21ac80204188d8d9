//! The JSON API under `/api/v1`: what the UI can do, scripts can do. Bearer API tokens;
//! errors are `{"code": "...", "message": "..."}` with a stable `code`.

mod asset_merge;
mod audit;
mod bulk;
mod companies;
mod compliance;
mod directory;
mod entra_tenant;
pub(super) mod evidence_pack;
mod group_members;
mod jobs;
mod level;
mod metrics;
mod notifications;
mod requests;
mod sso;
mod staff;
mod sync;
mod types;

use super::session::state;
use crate::model::{ApiToken, Role};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;

pub use metrics::MetricsEndpoint;

pub fn routes(cfg: &mut web::ServiceConfig) {
    metrics::register(cfg);
    cfg.service(
        web::scope("/api/v1")
            .configure(asset_merge::routes)
            .configure(bulk::routes)
            .configure(companies::routes)
            .configure(compliance::routes)
            .configure(directory::routes)
            .configure(entra_tenant::routes)
            .configure(group_members::routes)
            .configure(audit::routes)
            .configure(jobs::routes)
            .configure(level::routes)
            .configure(notifications::routes)
            .configure(requests::routes)
            .configure(sso::routes)
            .configure(staff::routes)
            .configure(sync::routes),
    );
}

pub use crate::web::error::ApiError;

pub type ApiResult<T> = Result<T, ApiError>;

/// A request authenticated by an API token.
#[derive(Debug, Clone)]
pub struct ApiCaller(pub ApiToken);

impl ApiCaller {
    pub fn actor(&self) -> crate::model::Actor {
        crate::model::Actor::token(&self.0.name)
    }
}

/// A request authenticated by an admin API token. Admin-only endpoints take this instead of
/// [`ApiCaller`], so an endpoint cannot forget the check: a technician token gets 403 before
/// the handler runs.
#[derive(Debug, Clone)]
pub struct AdminCaller(pub ApiCaller);

impl AdminCaller {
    pub fn actor(&self) -> crate::model::Actor {
        self.0.actor()
    }
    /// The caller as an admin, for admin-only use-cases.
    pub fn admin_actor(&self) -> ApiResult<crate::domain::authority::AdminActor> {
        Ok(crate::domain::authority::AdminActor::new(
            self.actor(),
            self.0.0.role,
        )?)
    }
}

impl FromRequest for AdminCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = ApiCaller::from_request(req, payload);
        Box::pin(async move {
            let caller = caller.await?;
            if caller.0.role != Role::Admin {
                return Err(ApiError::new(
                    403,
                    "forbidden",
                    "this endpoint needs an admin API token",
                ));
            }
            Ok(AdminCaller(caller))
        })
    }
}

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let st = state(&req)
                .map_err(|_| ApiError::new(500, "internal", "application state missing"))?;
            let header = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            // The scheme name is case-insensitive (RFC 7235).
            let token = header
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim());
            let Some(token) = token.filter(|t| !t.is_empty()) else {
                return Err(ApiError::unauthorized(
                    "send an API token as `Authorization: Bearer <token>` (create one under Settings → API tokens)",
                ));
            };
            match st.services.api_token_for(token).await? {
                Some(t) => Ok(ApiCaller(t)),
                None => Err(ApiError::unauthorized(
                    "the API token is not valid or was revoked",
                )),
            }
        })
    }
}

/// An admin's request with a JSON body. The caller is checked *before* the body is read:
/// with separate `AdminCaller` and `Json` extractors actix polls both, and a body error could
/// answer before the 403 a technician token deserves (and tell them about the body).
pub struct AdminJson<T> {
    pub caller: AdminCaller,
    pub body: T,
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for AdminJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = AdminCaller::from_request(req, &mut Payload::None);
        let json = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let caller = caller.await?;
            let bytes = body.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::too_large()
                } else {
                    ApiError::bad_request(format!("The request body could not be read: {e}"))
                }
            })?;
            if !json {
                return Err(ApiError::bad_request(
                    "The JSON body could not be read: send it with Content-Type: application/json"
                        .into(),
                ));
            }
            let body = serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::bad_request(format!("The JSON body could not be read: {e}"))
            })?;
            Ok(AdminJson { caller, body })
        })
    }
}

/// List parameters for paged endpoints (`page` ≥ 1, `per_page` 1–500, `sort`, `dir` asc or
/// desc, `q`), read as text and checked by [`ListParams::query`]: every list endpoint refuses
/// out-of-range paging with a 400 naming the parameter (the pages clamp instead; a script
/// should learn it asked for something else).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ListParams {
    pub page: Option<String>,
    pub per_page: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub q: Option<String>,
    /// A previous page's `next_cursor` (keyset paging; `page` is then ignored).
    pub cursor: Option<String>,
}

impl ListParams {
    pub fn query(&self) -> ApiResult<crate::model::ListQuery> {
        let q = audit::list_query(
            self.page.as_deref(),
            self.per_page.as_deref(),
            self.sort.as_deref(),
            self.dir.as_deref(),
            self.q.as_deref(),
        )?;
        with_cursor(q, self.cursor.as_deref())
    }
}

/// The deepest row a `page` number reaches: `(page − 1) × per_page` up to this. WHY: a page
/// by number walks every index key before it (page 1,500 of 50 walked 75,000 keys: 6 ms
/// alone, 650 ms p99 when 50 such requests share two cores), where a `cursor` page costs its
/// own rows at any depth. Past it the answer is 400 `page_too_deep`, naming `cursor`.
pub const MAX_PAGE_OFFSET: usize = 10_000;

/// Apply a `cursor` parameter (an empty one counts as absent); without one, refuse a `page`
/// past [`MAX_PAGE_OFFSET`].
pub(super) fn with_cursor(
    q: crate::model::ListQuery,
    cursor: Option<&str>,
) -> ApiResult<crate::model::ListQuery> {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None if q.offset() > MAX_PAGE_OFFSET => Err(ApiError::new(
            400,
            "page_too_deep",
            format!(
                "page {} starts {} rows into the list; `page` reaches the first {MAX_PAGE_OFFSET} \
                 rows: to go further, pass each page's `next_cursor` as `cursor` (the same \
                 pages, at any depth)",
                q.page,
                q.offset()
            ),
        )),
        None => Ok(q),
        Some(c) => q
            .with_cursor(c)
            .map_err(|e| ApiError::bad_request(e.to_string())),
    }
}

/// A JSON answer serialised into a pooled buffer (`web::body`), for the list endpoints: the
/// same body and `Content-Type` as actix's `web::Json`, without a fresh growing buffer per page.
pub struct Json<T>(pub T);

impl<T: Serialize> actix_web::Responder for Json<T> {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> actix_web::HttpResponse {
        match crate::web::body::json(&self.0) {
            Ok(body) => actix_web::HttpResponse::Ok()
                .content_type(actix_web::http::header::ContentType::json())
                .body(body),
            Err(e) => {
                tracing::error!(error = %e, "serialising an API answer");
                actix_web::ResponseError::error_response(&ApiError::new(
                    500,
                    "internal",
                    "internal error; see the service log",
                ))
            }
        }
    }
}

/// A page in the API's shape.
#[derive(Debug, Serialize)]
pub struct ApiPage<T: Serialize> {
    pub items: Vec<T>,
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    /// Lists with keyset paging: pass it as `cursor` for the next page (absent on the last).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Present (true) when a search stopped at its candidate cap: `total` is "at least".
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub total_is_lower_bound: bool,
}

impl<T: Serialize> From<crate::model::Page<T>> for ApiPage<T> {
    fn from(p: crate::model::Page<T>) -> Self {
        Self {
            items: p.items,
            total: p.total,
            page: p.page,
            per_page: p.per_page,
            next_cursor: p.next_cursor,
            total_is_lower_bound: p.total_is_lower_bound,
        }
    }
}
