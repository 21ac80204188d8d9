//! Errors of the JSON API: a status, a stable machine-readable `code`, a message for people,
//! and the request id to quote.

use crate::domain::DomainError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// An API error with a stable machine-readable code.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Seconds for the `Retry-After` header of a 429.
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }
    pub fn bad_request(message: String) -> Self {
        Self::new(400, "invalid_input", message)
    }
    pub fn not_found(message: String) -> Self {
        Self::new(404, "not_found", message)
    }
    pub fn too_large() -> Self {
        Self::new(413, "payload_too_large", "the request body is too large")
    }
    pub fn unauthorized(message: &str) -> Self {
        Self::new(401, "unauthorized", message)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let status = match &e {
            DomainError::Validation(_) => 400,
            DomainError::NotFound(_) => 404,
            DomainError::Forbidden(_) => 403,
            DomainError::Unauthorized(_) => 401,
            DomainError::Conflict(_) => 409,
            DomainError::RateLimited { .. } | DomainError::Busy { .. } => 429,
            DomainError::Overloaded { .. } => 503,
            DomainError::Internal(_) | DomainError::Store(_) => 500,
        };
        let retry_after_secs = match &e {
            DomainError::RateLimited { retry_after_secs }
            | DomainError::Busy { retry_after_secs }
            | DomainError::Overloaded { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        if status == 500 {
            tracing::error!(error = %e, "API request failed");
            return ApiError::new(500, e.code(), "internal error; see the service log");
        }
        ApiError {
            retry_after_secs,
            ..ApiError::new(status, e.code(), e.to_string())
        }
    }
}

/// An error as sent: the code and message, and the request id to quote.
#[derive(Serialize)]
struct ApiErrorBody<'a> {
    #[serde(flatten)]
    error: &'a ApiError,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status_code());
        if self.status == 401 {
            r.insert_header(("www-authenticate", "Bearer realm=\"tenantry\""));
        }
        if let Some(secs) = self.retry_after_secs {
            r.insert_header((actix_web::http::header::RETRY_AFTER, secs.to_string()));
        }
        r.json(ApiErrorBody {
            error: self,
            request_id: crate::web::request_scope::current_id(),
        })
    }
}
