//! Domain errors: expected ones (validation, not found, forbidden, conflict) carry a message
//! people can act on; unexpected ones carry their cause for the log.

use crate::model::ValidationError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0}")]
    Validation(#[from] ValidationError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// Too much work of one kind at once (password hashing): refused instead of queued.
    #[error(
        "the appliance is busy checking other passwords; try again in {retry_after_secs} seconds"
    )]
    Busy { retry_after_secs: u64 },
    /// The appliance as a whole has more work in flight than it takes on (the web layer's
    /// bound on requests, or a domain limit such as expensive searches): answered 503 with
    /// `Retry-After`, the same for every cause, so a client has one thing to handle.
    #[error("Tenantry is busy with other requests; try again in {retry_after_secs} seconds")]
    Overloaded { retry_after_secs: u64 },
    /// Unexpected: the cause is kept (with its chain) for the log, never shown to people.
    #[error("internal error: {0:#}")]
    Internal(#[source] anyhow::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError {
    /// A stable, machine-readable code (the JSON API's `code`).
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Validation(_) => "invalid_input",
            DomainError::NotFound(_) => "not_found",
            DomainError::Forbidden(_) => "forbidden",
            DomainError::Unauthorized(_) => "unauthorized",
            DomainError::Conflict(_) => "conflict",
            DomainError::RateLimited { .. } => "rate_limited",
            DomainError::Busy { .. } => "busy",
            DomainError::Overloaded { .. } => "overloaded",
            DomainError::Internal(_) | DomainError::Store(_) => "internal",
        }
    }
}

impl DomainError {
    /// An unexpected failure with its cause, and what we were doing when it happened.
    pub fn internal<E>(context: &str, cause: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        DomainError::Internal(anyhow::Error::new(cause).context(context.to_string()))
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
