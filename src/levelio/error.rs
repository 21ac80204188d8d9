//! What can go wrong talking to Level, typed so the sync can tell the user what to do.

/// A failed Level call. Messages never contain the API key.
#[derive(Debug, thiserror::Error)]
pub enum LevelError {
    /// 401/403: the key is wrong, revoked, or cannot read this resource.
    #[error("Level rejected the API key (HTTP {status}): {body}")]
    KeyRejected { status: u16, body: String },
    /// Still throttled or busy after the bounded retries, or asked to wait longer than the cap.
    #[error("Level is throttling requests (HTTP {status}); retry after {retry_after_secs:?} s")]
    Throttled {
        status: u16,
        retry_after_secs: Option<u64>,
    },
    /// Any other non-success answer (after retries for 5xx).
    #[error("Level answered HTTP {status} for {path}: {body}")]
    Http {
        status: u16,
        path: String,
        body: String,
    },
    /// No answer: connection refused, DNS, TLS, or the request timed out.
    #[error("could not reach Level at {path}: {message}")]
    Transport { path: String, message: String },
    /// The answer was not the JSON we expect.
    #[error("Level sent an unreadable answer for {path}: {message}")]
    Decode { path: String, message: String },
}

impl LevelError {
    /// HTTP status, when Level answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            LevelError::KeyRejected { status, .. }
            | LevelError::Throttled { status, .. }
            | LevelError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The body Level sent with an error, for the audit log.
    pub fn body(&self) -> &str {
        match self {
            LevelError::KeyRejected { body, .. } | LevelError::Http { body, .. } => body,
            _ => "",
        }
    }
}
