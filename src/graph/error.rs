//! Typed failures of the Graph client.
//!
//! One error type for every call, because the sync job and the audit log need the same facts
//! whatever went wrong: the HTTP status, Graph's error code and message, and Microsoft's
//! request-id (the only thing Microsoft support can trace a failure by). `Display` renders all
//! of it on one line so an audit entry can show the error as-is.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use serde::Deserialize;

/// How many characters of an error body are kept: a whole Graph or STS error body (a few
/// hundred characters), the start of an HTML error page, and still small for an audit row.
const EXCERPT_CHARS: usize = 2000;

/// What kind of failure this was; decides what the caller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphErrorKind {
    /// The token endpoint refused us (AADSTS error): wrong or expired secret, app not consented
    /// in that tenant, tenant not found. Retrying does not help; an admin must act.
    Auth(TokenError),
    /// Graph answered with an error status (its error JSON is in `code` / `message`).
    Http,
    /// No HTTP answer: connect failure, TLS failure or timeout (after the retries).
    Transport(TransportFailure),
    /// A 2xx answer whose body is not the JSON we expected; `body_excerpt` shows its start.
    Decode,
    /// Still throttled (429) or unavailable (503/504) when the retry budget ran out, or told to
    /// wait longer than the policy allows; `retry_after` says how long Microsoft asked for.
    Throttled,
    /// The delta link is no longer usable (expired after 7 days, or the service reset the sync
    /// state): drop it and run a full round. `location` is the fresh start URL a 410 may carry.
    DeltaExpired { location: Option<String> },
}

/// Why a request never got an HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    Timeout,
    Connect,
    Other,
}

/// The details of a failed call. Reached through [`GraphError`], which boxes it so `Result`s
/// stay small on the happy path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphErrorInfo {
    pub kind: GraphErrorKind,
    /// HTTP status of the last response, if there was one.
    pub status: Option<u16>,
    /// Graph `error.code`, or the OAuth `error` for [`GraphErrorKind::Auth`].
    pub code: Option<String>,
    /// The most specific nested `innerError.code`, when Graph sent one (docs: inner errors may
    /// nest and carry a more precise code than the outer one).
    pub inner_code: Option<String>,
    pub message: Option<String>,
    /// Graph's `request-id` (response header, else `innerError`), or the STS `trace_id`.
    pub request_id: Option<String>,
    /// Our `client-request-id`, echoed by Graph; or the STS `correlation_id`.
    pub client_request_id: Option<String>,
    /// `innerError.date` or the `Date` header: when Microsoft saw the request.
    pub date: Option<String>,
    /// The error body as Microsoft sent it (bounded), whether or not it could be parsed.
    pub body_excerpt: Option<String>,
    /// The last `Retry-After` Microsoft sent, if any.
    pub retry_after: Option<Duration>,
    /// How many HTTP attempts were made.
    pub attempts: u32,
    /// Method-less description of what was called (path only: query strings carry skip and
    /// delta tokens, which do not belong in logs).
    pub path: Option<String>,
    /// The underlying transport or decode message, for `Transport` and `Decode`.
    pub detail: Option<String>,
}

/// A failed Graph or token call. Derefs to [`GraphErrorInfo`] for the fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError(Box<GraphErrorInfo>);

impl Deref for GraphError {
    type Target = GraphErrorInfo;
    fn deref(&self) -> &GraphErrorInfo {
        &self.0
    }
}

impl std::error::Error for GraphError {}

/// A coarse reading of an error for the sync and the UI: what happened in words an MSP admin
/// can act on. Built from status and codes, never from message text (Microsoft changes those),
/// except Intune's "not applicable" answer, whose code is the generic `BadRequest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// Client secret wrong, expired, or the secret ID was sent instead of its value.
    CredentialsRejected,
    /// The app is not (or no longer) consented in that tenant: run admin consent again.
    ConsentMissing,
    /// Tenant id or domain unknown to Entra.
    TenantNotFound,
    /// A permission the call needs was not granted (403 `Authorization_RequestDenied`).
    PermissionDenied,
    /// The tenant lacks the licence (Entra P1/P2) this API needs.
    NotLicensed,
    /// Intune is not set up or licensed in this tenant.
    IntuneNotAvailable,
    /// Full resync needed.
    DeltaExpired,
    /// Throttled or unavailable; try again later.
    Throttled,
    /// Network trouble.
    Transport,
    /// Anything else.
    Other,
}

impl GraphError {
    pub(crate) fn new(info: GraphErrorInfo) -> Self {
        Self(Box::new(info))
    }

    /// An empty record of the given kind, to be filled in by the caller.
    pub(crate) fn blank(kind: GraphErrorKind) -> GraphErrorInfo {
        GraphErrorInfo {
            kind,
            status: None,
            code: None,
            inner_code: None,
            message: None,
            request_id: None,
            client_request_id: None,
            date: None,
            body_excerpt: None,
            retry_after: None,
            attempts: 0,
            path: None,
            detail: None,
        }
    }

    /// The details, owned.
    pub fn into_info(self) -> GraphErrorInfo {
        *self.0
    }

    /// True when the sync must drop its delta link and start a full round.
    pub fn is_delta_expired(&self) -> bool {
        matches!(self.kind, GraphErrorKind::DeltaExpired { .. })
    }

    /// The token endpoint's error, for [`GraphErrorKind::Auth`].
    pub fn token_error(&self) -> Option<&TokenError> {
        match &self.kind {
            GraphErrorKind::Auth(t) => Some(t),
            _ => None,
        }
    }

    /// Does `code` or the nested inner code equal `wanted` (case-insensitively: Graph workloads
    /// do not agree on casing)?
    pub fn has_code(&self, wanted: &str) -> bool {
        [&self.code, &self.inner_code]
            .into_iter()
            .flatten()
            .any(|c| c.eq_ignore_ascii_case(wanted))
    }

    /// Classify for the operator; see [`FailureReason`].
    pub fn reason(&self) -> FailureReason {
        match &self.kind {
            GraphErrorKind::Auth(t) => t.reason(),
            GraphErrorKind::DeltaExpired { .. } => FailureReason::DeltaExpired,
            GraphErrorKind::Throttled => FailureReason::Throttled,
            GraphErrorKind::Transport(_) => FailureReason::Transport,
            GraphErrorKind::Decode => FailureReason::Other,
            GraphErrorKind::Http => {
                if self.has_code("Authentication_RequestFromNonPremiumTenantOrB2CTenant") {
                    FailureReason::NotLicensed
                } else if self.has_code("Authorization_RequestDenied")
                    || self.has_code("accessDenied")
                {
                    FailureReason::PermissionDenied
                } else if self.status == Some(400)
                    && self.message.as_deref().is_some_and(|m| {
                        m.to_ascii_lowercase()
                            .contains("not applicable to target tenant")
                    })
                {
                    FailureReason::IntuneNotAvailable
                } else {
                    FailureReason::Other
                }
            }
        }
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.0;
        let path = i.path.as_deref().unwrap_or("request");
        let host = if path.contains("/oauth2/") {
            "Token endpoint"
        } else {
            "Graph"
        };
        match &i.kind {
            // The token error carries its own ids (trace, correlation, timestamp).
            GraphErrorKind::Auth(t) => {
                write!(f, "{t}")?;
                if let Some(s) = i.status {
                    write!(f, " (HTTP {s})")?;
                }
                return Ok(());
            }
            GraphErrorKind::Http => write!(f, "{host} {path} failed")?,
            GraphErrorKind::Transport(kind) => {
                let what = match kind {
                    TransportFailure::Timeout => "timed out",
                    TransportFailure::Connect => "could not connect",
                    TransportFailure::Other => "failed in transport",
                };
                write!(f, "{host} {path} {what}")?;
            }
            GraphErrorKind::Decode => {
                write!(f, "{host} {path}: unreadable or unexpected response")?
            }
            GraphErrorKind::Throttled => write!(f, "{host} {path} still throttled")?,
            GraphErrorKind::DeltaExpired { .. } => {
                write!(f, "{host} {path}: delta link expired, full resync needed")?
            }
        }
        if let Some(s) = i.status {
            write!(f, ": HTTP {s}")?;
        }
        match (&i.code, &i.message) {
            (Some(c), Some(m)) if !c.is_empty() => write!(f, " {c}: {m}")?,
            (_, Some(m)) => write!(f, " {m}")?,
            (Some(c), None) if !c.is_empty() => write!(f, " {c}")?,
            _ => {}
        }
        if let Some(inner) = &i.inner_code {
            write!(f, " (inner code {inner})")?;
        }
        if let Some(d) = &i.detail {
            write!(f, " ({d})")?;
        }
        if i.attempts > 1 {
            write!(f, "; {} attempts", i.attempts)?;
        }
        if let Some(r) = i.retry_after {
            write!(f, "; Retry-After {:.3}s", r.as_secs_f64())?;
        }
        let mut ids = Vec::new();
        if let Some(r) = &i.request_id {
            ids.push(format!("request-id {r}"));
        }
        if let Some(c) = &i.client_request_id {
            ids.push(format!("client-request-id {c}"));
        }
        if let Some(d) = &i.date {
            ids.push(format!("date {d}"));
        }
        if !ids.is_empty() {
            write!(f, " [{}]", ids.join(", "))?;
        }
        // The body is always kept; in the one-line message only when it is all we know.
        if let Some(b) = i.body_excerpt.as_ref().filter(|_| i.message.is_none()) {
            write!(f, "; body: {b}")?;
        }
        Ok(())
    }
}

/// The token endpoint's error body (an AADSTS error), kept whole for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenError {
    /// OAuth error code (`invalid_client`, `unauthorized_client`, ...). Branch on this and on
    /// `error_codes`, never on the description.
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    /// AADSTS numbers, e.g. `[7000215]`.
    #[serde(default)]
    pub error_codes: Vec<i64>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub error_uri: Option<String>,
}

impl TokenError {
    /// The first AADSTS number, if any.
    pub fn aadsts(&self) -> Option<i64> {
        self.error_codes.first().copied()
    }

    /// The description's first line: the rest repeats trace id, correlation id and timestamp,
    /// which we show from their own fields.
    pub fn summary(&self) -> &str {
        self.error_description
            .as_deref()
            .and_then(|d| d.lines().next())
            .unwrap_or("")
    }

    /// What the operator should do about it. AADSTS numbers can change (Microsoft says so), so
    /// unknown ones fall back on the OAuth `error`.
    pub fn reason(&self) -> FailureReason {
        let has = |n: i64| self.error_codes.contains(&n);
        if has(7000215) || has(7000222) || has(700027) {
            FailureReason::CredentialsRejected
        } else if has(700016) || has(7000112) || has(65001) {
            FailureReason::ConsentMissing
        } else if has(90002) || has(900023) || self.error == "invalid_tenant" {
            FailureReason::TenantNotFound
        } else if has(90055) || has(90024) || has(90033) {
            FailureReason::Throttled
        } else if self.error == "invalid_client" {
            FailureReason::CredentialsRejected
        } else if self.error == "unauthorized_client" {
            FailureReason::ConsentMissing
        } else if self.error == "temporarily_unavailable" || self.error == "server_error" {
            FailureReason::Throttled
        } else {
            FailureReason::Other
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token request refused: {}", self.error)?;
        let summary = self.summary();
        if !summary.is_empty() {
            write!(f, ": {summary}")?;
        } else if let Some(n) = self.aadsts() {
            write!(f, ": AADSTS{n}")?;
        }
        let mut ids = Vec::new();
        if let Some(t) = &self.trace_id {
            ids.push(format!("trace-id {t}"));
        }
        if let Some(c) = &self.correlation_id {
            ids.push(format!("correlation-id {c}"));
        }
        if let Some(t) = &self.timestamp {
            ids.push(format!("timestamp {t}"));
        }
        if !ids.is_empty() {
            write!(f, " [{}]", ids.join(", "))?;
        }
        Ok(())
    }
}

/// Graph's error envelope: `{"error": {"code", "message", "innerError": {...}}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct GraphErrorBody {
    pub error: GraphErrorDetail,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GraphErrorDetail {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// Spelled `innerError` in responses and `innererror` in the docs' schema; accept both.
    #[serde(default, rename = "innerError", alias = "innererror")]
    pub inner_error: Option<InnerError>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct InnerError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default, rename = "request-id")]
    pub request_id: Option<String>,
    #[serde(default, rename = "client-request-id")]
    pub client_request_id: Option<String>,
    #[serde(default, rename = "innerError", alias = "innererror")]
    pub inner_error: Option<Box<InnerError>>,
}

impl GraphErrorDetail {
    /// The deepest non-empty `innerError.code`. Throttling bodies carry `"code": "429"` there,
    /// which says nothing the status does not, so purely numeric codes are skipped.
    pub fn deepest_inner_code(&self) -> Option<String> {
        let mut found = None;
        let mut next = self.inner_error.as_ref();
        while let Some(inner) = next {
            if let Some(c) = inner.code.as_deref()
                && !c.is_empty()
                && !c.chars().all(|ch| ch.is_ascii_digit())
            {
                found = Some(c.to_string());
            }
            next = inner.inner_error.as_deref();
        }
        found
    }
}

/// The first [`EXCERPT_CHARS`] characters of a body, lossily decoded, control characters
/// flattened so the excerpt stays on one log line.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_bounded_and_single_line() {
        let body = format!("line1\r\nline2{}", "x".repeat(3000));
        let e = excerpt(body.as_bytes());
        assert!(!e.contains('\n'));
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
    }

    #[test]
    fn numeric_inner_codes_are_not_codes() {
        let body: GraphErrorBody = serde_json::from_str(
            r#"{"error":{"code":"TooManyRequests","message":"m","innerError":{"code":"429"}}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body.error.deepest_inner_code(), None);
        let nested: GraphErrorBody = serde_json::from_str(
            r#"{"error":{"code":"activityLimitReached","innerError":{"code":"throttledRequest","innerError":{"code":"quota"}}}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(nested.error.deepest_inner_code().as_deref(), Some("quota"));
    }
}
