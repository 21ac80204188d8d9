//! Microsoft Graph client: app-only tokens per tenant, paging, delta, retries, typed errors.
//!
//! This module knows HTTP and Graph's wire format and nothing of storage or the domain: it
//! returns its own DTOs (one file per resource) and the domain maps them. It imports nothing
//! else from the crate, so it can be tested against any HTTP server that speaks Graph.
//!
//! Credentials: a client secret, or a certificate (`private_key_jwt`, Microsoft's recommended
//! option): [`cert`] signs a fresh client assertion for every token request, and
//! [`client_assertion`] offers the same to other flows that authenticate to the token endpoint
//! with this app registration (the OIDC sign-in code exchange).
//!
//! A call goes: token (cached) → GET with `client-request-id` → retry on 429/5xx per
//! [`RetryPolicy`] → one fresh token on 401 → decode, or a [`GraphError`] with status, Graph
//! code, message and request-id.

pub mod auth_methods;
pub mod batch;
pub mod cert;
pub mod compliance;
pub mod devices;
pub mod directory;
pub mod error;
pub mod groups;
pub mod hashed;
pub mod licences;
pub mod observe;
pub mod organization;
pub mod pace;
pub mod paging;
pub mod policies;
pub mod reports;
pub mod retry;
pub mod roles;
pub mod security_defaults;
pub mod token;
pub mod users;
pub mod wire;

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

pub use cert::{
    CLIENT_ASSERTION_TYPE, CertificateError, CertificateInfo, ClientCertificate, client_assertion,
};
pub use compliance::{ComplianceSummary, DeviceCompliancePolicy, DeviceStatusOverview};
pub use devices::{ComplianceState, ManagedDevice, OwnerType};
pub use error::{
    FailureReason, GraphError, GraphErrorInfo, GraphErrorKind, TokenError, TransportFailure,
};
pub use groups::{DeltaGroup, GroupRound, MemberChange, MemberType, MergedGroup};
pub use hashed::PayloadDigest;
pub use observe::{GraphObserver, Unobserved};
pub use organization::{AssignedPlan, Organization, VerifiedDomain};
pub use paging::Page;
pub use policies::{ConditionalAccessPolicy, GrantControls, PolicyState};
pub use reports::UserRegistrationDetails;
pub use retry::RetryPolicy;
pub use users::DeltaUser;
pub use wire::{Removed, RemovedReason};

use error::{GraphErrorBody, excerpt};
use retry::Sent;

/// Public-cloud login host.
pub const LOGIN_BASE_URL: &str = "https://login.microsoftonline.com";
/// Public-cloud Graph host (the API version is part of each path: `/v1.0/...`).
pub const GRAPH_BASE_URL: &str = "https://graph.microsoft.com";

/// A client secret. Kept out of `Debug` output so it cannot leak through a logged struct.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret value, for the token request only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(***)")
    }
}

/// How the app proves its identity to the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The secret *value* from the app registration (not its secret ID).
    ClientSecret(ClientSecret),
    /// A certificate uploaded to the app registration and its private key: token requests
    /// carry a signed client assertion instead of a secret.
    Certificate(Arc<ClientCertificate>),
}

/// A Graph client for one app registration, serving every tenant that consented to it.
/// Cheap to share behind an `Arc`; the token cache inside is shared by all its users.
#[derive(Debug)]
pub struct GraphClient {
    http: reqwest::Client,
    login_base_url: String,
    graph_base_url: String,
    client_id: String,
    credential: Credential,
    retry: RetryPolicy,
    tokens: token::TokenCache,
    /// Per-tenant pacing for Conditional Access and the reports (shared by every job).
    pacer: pace::Pacer,
    /// Signs assertions and reads `Retry-After` dates; the system clock unless a test sets one.
    clock: crate::clock::SharedClock,
    /// Told about every Graph attempt (metrics); nobody unless the appliance sets one.
    observer: Arc<dyn GraphObserver>,
}

impl GraphClient {
    /// A client for the public cloud. `http` should come from `http_client::build` (timeouts,
    /// user agent, no redirects).
    pub fn new(
        http: reqwest::Client,
        client_id: impl Into<String>,
        credential: Credential,
    ) -> Self {
        Self {
            http,
            login_base_url: LOGIN_BASE_URL.to_string(),
            graph_base_url: GRAPH_BASE_URL.to_string(),
            client_id: client_id.into(),
            credential,
            retry: RetryPolicy::default(),
            tokens: token::TokenCache::default(),
            pacer: pace::Pacer::default(),
            clock: std::sync::Arc::new(crate::clock::SystemClock),
            observer: Arc::new(Unobserved),
        }
    }

    /// Point at other hosts (a simulator, a test server, a national cloud). Trailing slashes
    /// are ignored.
    pub fn with_base_urls(mut self, login_base_url: &str, graph_base_url: &str) -> Self {
        self.login_base_url = login_base_url.trim_end_matches('/').to_string();
        self.graph_base_url = graph_base_url.trim_end_matches('/').to_string();
        self
    }

    /// Replace the retry policy.
    /// Use `clock` for assertion lifetimes and `Retry-After` dates (the appliance passes its
    /// own, so tests can fix the time).
    pub fn with_clock(mut self, clock: crate::clock::SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Tell `observer` about every Graph attempt (the appliance's metrics).
    pub fn with_observer(mut self, observer: Arc<dyn GraphObserver>) -> Self {
        self.observer = observer;
        self
    }

    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How this client authenticates, so another flow of the same registration (the OIDC
    /// code exchange) can authenticate the same way.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn graph_base_url(&self) -> &str {
        &self.graph_base_url
    }

    pub fn login_base_url(&self) -> &str {
        &self.login_base_url
    }

    /// An absolute URL for a Graph path such as `/v1.0/organization`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.graph_base_url)
    }

    /// GET an absolute Graph URL for `tenant` and decode the JSON body as `T`.
    ///
    /// The URL must be on the configured Graph host: next and delta links come from responses,
    /// and following one elsewhere would hand that host our bearer token.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        tenant: &str,
        url: &str,
    ) -> Result<T, GraphError> {
        let raw = self
            .request_raw(tenant, reqwest::Method::GET, url, None)
            .await?;
        raw.decode()
    }

    /// Send one request (retried, paced, one fresh token on 401) and return the 2xx body as
    /// received, with its status and `request-id`: evidence hashes the exact bytes Microsoft
    /// sent. A non-2xx answer is a [`GraphError`]. `body` is sent as JSON.
    pub async fn request_raw(
        &self,
        tenant: &str,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<RawResponse, GraphError> {
        let path = self.check_link(url)?;
        let pace = pace::limit_for(&path).map(|l| (&self.pacer, l));
        let mut refreshed = false;
        loop {
            let token = self.access_token(tenant).await?;
            let client_request_id = uuid::Uuid::new_v4().to_string();
            let sent = retry::send(
                &self.retry,
                self.clock.as_ref(),
                self.observer.as_ref(),
                &path,
                tenant,
                pace,
                || {
                    let mut b = self
                        .http
                        .request(method.clone(), url)
                        .bearer_auth(&token)
                        .header(reqwest::header::ACCEPT, "application/json")
                        .header("client-request-id", &client_request_id);
                    if let Some(json) = body {
                        b = b.json(json);
                    }
                    b
                },
            )
            .await;
            let (response, attempts, retry_after) = match sent {
                Sent::Response {
                    response,
                    attempts,
                    retry_after,
                } => (response, attempts, retry_after),
                Sent::Transport { error, attempts } => {
                    let mut e = transport_error(&error, attempts, &path).into_info();
                    e.client_request_id = Some(client_request_id);
                    return Err(GraphError::new(e));
                }
            };
            let status = response.status().as_u16();
            // A 401 means the token was revoked or expired early: one fresh token, one retry.
            if status == 401 && !refreshed {
                refreshed = true;
                self.forget_token(tenant).await;
                tracing::warn!(tenant, call = %path, "Graph answered 401; requesting a new token");
                continue;
            }
            let meta = Meta {
                status,
                request_id: retry::header(&response, "request-id"),
                client_request_id: retry::header(&response, "client-request-id")
                    .or(Some(client_request_id)),
                date: retry::header(&response, "date"),
                location: retry::header(&response, "location"),
                attempts,
                retry_after,
                path: path.clone(),
            };
            let body = match response.bytes().await {
                Ok(b) => b,
                Err(e) => return Err(transport_error(&e, attempts, &path)),
            };
            if !(200..300).contains(&status) {
                return Err(http_error(meta, &body));
            }
            return Ok(RawResponse {
                body: body.to_vec(),
                meta,
            });
        }
    }

    /// Refuse URLs outside the Graph base (scheme, host and port must match); return the path
    /// for logs.
    fn check_link(&self, link: &str) -> Result<String, GraphError> {
        let parsed = url::Url::parse(link).ok();
        let base = url::Url::parse(&self.graph_base_url).ok();
        match (parsed, base) {
            (Some(l), Some(b))
                if l.scheme() == b.scheme()
                    && l.host_str() == b.host_str()
                    && l.port_or_known_default() == b.port_or_known_default() =>
            {
                Ok(l.path().to_string())
            }
            _ => {
                let mut info = GraphError::blank(GraphErrorKind::Decode);
                info.detail = Some(format!(
                    "refusing to follow a link outside {}",
                    self.graph_base_url
                ));
                info.body_excerpt = Some(excerpt(link.as_bytes()));
                Err(GraphError::new(info))
            }
        }
    }
}

/// A 2xx answer as received: the body bytes and what the headers said.
#[derive(Debug)]
pub struct RawResponse {
    pub body: Vec<u8>,
    meta: Meta,
}

impl RawResponse {
    pub fn status(&self) -> u16 {
        self.meta.status
    }

    /// Graph's `request-id` header, for matching against Microsoft's logs.
    pub fn request_id(&self) -> Option<&str> {
        self.meta.request_id.as_deref()
    }

    /// Decode the body as `T`; an unexpected body is a `Decode` error showing its start.
    pub fn decode<T: DeserializeOwned>(self) -> Result<T, GraphError> {
        serde_json::from_slice::<T>(&self.body).map_err(|e| {
            let body = self.body;
            let mut info = self.meta.into_info(GraphErrorKind::Decode);
            info.detail = Some(e.to_string());
            info.body_excerpt = Some(excerpt(&body));
            GraphError::new(info)
        })
    }
}

/// What we know about a response before reading its body.
#[derive(Debug)]
struct Meta {
    status: u16,
    request_id: Option<String>,
    client_request_id: Option<String>,
    date: Option<String>,
    location: Option<String>,
    attempts: u32,
    retry_after: Option<std::time::Duration>,
    path: String,
}

impl Meta {
    fn into_info(self, kind: GraphErrorKind) -> GraphErrorInfo {
        let mut info = GraphError::blank(kind);
        info.status = Some(self.status);
        info.request_id = self.request_id;
        info.client_request_id = self.client_request_id;
        info.date = self.date;
        info.attempts = self.attempts;
        info.retry_after = self.retry_after;
        info.path = Some(self.path);
        info
    }
}

/// Codes that mean "this delta token is dead, start over" (Graph's generic list and the
/// directory delta blog); compared case-insensitively.
const DELTA_RESET_CODES: &[&str] = &["syncStateNotFound", "resyncRequired", "syncStateInvalid"];

/// Turn a non-2xx Graph answer into a [`GraphError`].
fn http_error(mut meta: Meta, body: &[u8]) -> GraphError {
    let parsed = serde_json::from_slice::<GraphErrorBody>(body).ok();
    let status = meta.status;
    let codes: Vec<String> = parsed
        .as_ref()
        .map(|p| {
            [p.error.code.clone(), p.error.deepest_inner_code()]
                .into_iter()
                .flatten()
                .collect()
        })
        .unwrap_or_default();
    let delta_reset = status == 410
        || ((400..500).contains(&status)
            && codes.iter().any(|c| {
                DELTA_RESET_CODES
                    .iter()
                    .any(|want| c.eq_ignore_ascii_case(want))
            }));
    let kind = if delta_reset {
        GraphErrorKind::DeltaExpired {
            location: meta.location.take(),
        }
    } else if retry::is_throttling(status) {
        GraphErrorKind::Throttled
    } else {
        GraphErrorKind::Http
    };
    let mut info = meta.into_info(kind);
    // Keep the body as Microsoft sent it, parsed or not: the audit log records it whole
    // (bounded), so nothing Graph said is lost to the operator.
    info.body_excerpt = Some(excerpt(body));
    if let Some(p) = parsed {
        info.inner_code = p.error.deepest_inner_code();
        info.code = p.error.code;
        info.message = p.error.message;
        if let Some(inner) = p.error.inner_error {
            info.request_id = info.request_id.or(inner.request_id);
            info.client_request_id = info.client_request_id.or(inner.client_request_id);
            // innerError.date is Graph's own timestamp; prefer it to the Date header.
            info.date = inner.date.or(info.date);
        }
    }
    GraphError::new(info)
}

/// A request that got no HTTP answer.
pub(crate) fn transport_error(error: &reqwest::Error, attempts: u32, path: &str) -> GraphError {
    let failure = if error.is_timeout() {
        TransportFailure::Timeout
    } else if error.is_connect() {
        TransportFailure::Connect
    } else {
        TransportFailure::Other
    };
    let mut info = GraphError::blank(GraphErrorKind::Transport(failure));
    info.attempts = attempts;
    info.path = Some(path.to_string());
    // reqwest's message names the URL; strip it so query tokens do not reach logs.
    info.detail = Some(error.without_url_ref().to_string());
    GraphError::new(info)
}

/// `reqwest::Error::without_url` consumes the error; this works on a reference.
trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(u) = self.url() {
            text = text.replace(u.as_str(), "<url>");
        }
        // Include the cause chain: "error sending request" alone says nothing.
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }
}
