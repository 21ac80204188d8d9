//! Level.io v2 REST client (docs/levelio.md#api): raw-key auth, cursor paging, include flags,
//! bounded retries honouring `Retry-After`, typed errors.
//!
//! Self-contained like `graph`: it takes a `reqwest::Client` (built by `http_client`, with its
//! timeouts) and returns its own wire types, so it can be tested against any server that speaks
//! Level (the simulator in `tests/levelio_client`). It never logs the key, headers or bodies.

mod error;
mod retry;
pub mod wire;

use std::fmt;

use serde::de::DeserializeOwned;

pub use error::LevelError;
pub use retry::{LevelRetry, parse_retry_after};
pub use wire::{CustomField, CustomFieldValue, Device, Group, Tag};

/// Level's public API root; `[level] api_url` overrides it.
pub const DEFAULT_API_URL: &str = "https://api.level.io/v2";

/// Largest page Level serves (`limit` 1–100).
pub const PAGE_SIZE: u32 = 100;

/// Every include flag `GET /devices` knows: a sync asks for all of them at once.
pub const DEVICE_INCLUDES: [&str; 6] = [
    "include_operating_system",
    "include_cpus",
    "include_memory",
    "include_disks",
    "include_network_interfaces",
    "include_security",
];

/// The API key; its `Debug` never prints it.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into().trim().to_string())
    }

    /// The last four characters, the only part ever shown again.
    pub fn last4(&self) -> String {
        let n = self.0.chars().count();
        self.0.chars().skip(n.saturating_sub(4)).collect()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey(…{})", self.last4())
    }
}

/// A Level API client for one key.
#[derive(Clone, Debug)]
pub struct LevelClient {
    http: reqwest::Client,
    base: String,
    key: ApiKey,
    retry: LevelRetry,
}

impl LevelClient {
    /// `base` is the API root including `/v2` (e.g. [`DEFAULT_API_URL`]).
    pub fn new(http: reqwest::Client, base: &str, key: ApiKey) -> Self {
        LevelClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            key,
            retry: LevelRetry::default(),
        }
    }

    pub fn with_retry(mut self, retry: LevelRetry) -> Self {
        self.retry = retry;
        self
    }

    /// The whole group tree.
    pub async fn groups(&self) -> Result<Vec<Group>, LevelError> {
        self.list("groups", &[]).await
    }

    /// Every device with every include flag set.
    pub async fn devices(&self) -> Result<Vec<Device>, LevelError> {
        let flags: Vec<(&str, &str)> = DEVICE_INCLUDES.iter().map(|f| (*f, "true")).collect();
        self.list("devices", &flags).await
    }

    /// Every device in the group `ancestor_group_id` and its whole subtree, with every include
    /// flag set: one company's mapped subtree instead of the whole estate.
    pub async fn devices_under(&self, ancestor_group_id: &str) -> Result<Vec<Device>, LevelError> {
        let mut q: Vec<(&str, &str)> = DEVICE_INCLUDES.iter().map(|f| (*f, "true")).collect();
        q.push(("ancestor_group_id", ancestor_group_id));
        self.list("devices", &q).await
    }

    pub async fn custom_fields(&self) -> Result<Vec<CustomField>, LevelError> {
        self.list("custom_fields", &[]).await
    }

    /// Every value of one custom field (organisation, group and device values in one listing,
    /// not a call per device).
    pub async fn custom_field_values(
        &self,
        custom_field_id: &str,
    ) -> Result<Vec<CustomFieldValue>, LevelError> {
        self.list(
            "custom_field_values",
            &[("custom_field_id", custom_field_id)],
        )
        .await
    }

    pub async fn tags(&self) -> Result<Vec<Tag>, LevelError> {
        self.list("tags", &[]).await
    }

    /// Follows `starting_after` from the first page until `has_more` is false or a page comes
    /// back empty (an empty page with `has_more: true` would otherwise loop forever).
    async fn list<T: DeserializeOwned + HasId>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, LevelError> {
        let mut out: Vec<T> = Vec::new();
        let limit = PAGE_SIZE.to_string();
        let mut after: Option<String> = None;
        loop {
            let mut q: Vec<(&str, &str)> = query.to_vec();
            q.push(("limit", &limit));
            if let Some(a) = &after {
                q.push(("starting_after", a));
            }
            let page: wire::Page<T> = self.get(path, &q).await?;
            let last = page.data.last().map(|d| d.id().to_string());
            let done = !page.has_more || page.data.is_empty();
            out.extend(page.data);
            if done {
                return Ok(out);
            }
            if last == after {
                // The cursor did not move: stop rather than loop on a misbehaving server.
                return Err(LevelError::Decode {
                    path: path.into(),
                    message: "paging cursor did not advance".into(),
                });
            }
            after = last;
        }
    }

    /// One GET with bounded retries on 429/5xx, waiting `Retry-After` when sent.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, LevelError> {
        let url = format!("{}/{path}", self.base);
        let mut attempt = 1;
        loop {
            let sent = self
                .http
                .get(&url)
                .query(query)
                .header(reqwest::header::AUTHORIZATION, self.auth_header())
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    if attempt < self.retry.max_attempts && (e.is_timeout() || e.is_connect()) {
                        tokio::time::sleep(self.retry.backoff(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(LevelError::Transport {
                        path: path.into(),
                        // reqwest's message names the URL without the key (the key is a header).
                        message: e.without_url().to_string(),
                    });
                }
            };
            let status = resp.status().as_u16();
            tracing::debug!(target: "levelio", path, status, attempt, "level request");
            if resp.status().is_success() {
                let bytes = resp.bytes().await.map_err(|e| LevelError::Transport {
                    path: path.into(),
                    message: e.without_url().to_string(),
                })?;
                return serde_json::from_slice(&bytes).map_err(|e| LevelError::Decode {
                    path: path.into(),
                    message: e.to_string(),
                });
            }
            let wait = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let body = body_excerpt(resp).await;
            match status {
                401 | 403 => return Err(LevelError::KeyRejected { status, body }),
                429 | 500 | 502 | 503 | 504 => {
                    let throttled = matches!(status, 429 | 503);
                    let too_long = wait.is_some_and(|w| w > self.retry.max_retry_after);
                    if attempt >= self.retry.max_attempts || too_long {
                        return Err(if throttled {
                            LevelError::Throttled {
                                status,
                                retry_after_secs: wait.map(|w| w.as_secs()),
                            }
                        } else {
                            LevelError::Http {
                                status,
                                path: path.into(),
                                body,
                            }
                        });
                    }
                    let delay = wait.unwrap_or_else(|| self.retry.backoff(attempt));
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                _ => {
                    return Err(LevelError::Http {
                        status,
                        path: path.into(),
                        body,
                    });
                }
            }
        }
    }

    fn auth_header(&self) -> reqwest::header::HeaderValue {
        // The raw key, no `Bearer` (docs/levelio.md#api). Marked sensitive so no debug output
        // of the request shows it; a key with characters a header cannot carry sends nothing
        // and Level answers 401, which tells the user the key is wrong.
        let mut v = reqwest::header::HeaderValue::from_str(&self.key.0)
            .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
        v.set_sensitive(true);
        v
    }
}

/// The first 500 characters of an error body, for the audit log.
async fn body_excerpt(resp: reqwest::Response) -> String {
    let text = resp.text().await.unwrap_or_default();
    text.chars().take(500).collect()
}

/// Items that page by their id.
pub trait HasId {
    fn id(&self) -> &str;
}

macro_rules! has_id {
    ($($t:ty),*) => {$(impl HasId for $t { fn id(&self) -> &str { &self.id } })*};
}
has_id!(Group, Device, CustomField, CustomFieldValue, Tag);
