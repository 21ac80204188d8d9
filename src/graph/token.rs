//! App-only access tokens (OAuth client-credentials grant), one per client tenant.
//!
//! Every Graph call needs a bearer token for the tenant it reads. Asking Entra for one per
//! call would double the request count and run into STS throttling, so tokens are cached per
//! tenant and reused until shortly before `expires_in` runs out (Microsoft randomises lifetimes
//! between 60 and 90 minutes, so the constant is never assumed). Concurrent callers for the
//! same tenant wait on one request instead of racing several. Tokens are opaque to us: they are
//! not parsed, logged or stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use super::cert::CLIENT_ASSERTION_TYPE;
use super::error::{GraphError, GraphErrorKind, TokenError, excerpt};
use super::retry::{self, Sent};
use super::{Credential, GraphClient, transport_error};

/// The only scope the client-credentials grant takes for Graph: everything the admin
/// consented to, as one `.default` scope.
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Refresh this long before expiry (or at half the lifetime, for very short tokens), so a
/// token never expires between being handed out and reaching Graph.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A cached bearer token. `Debug` never prints it.
#[derive(Clone)]
struct CachedToken {
    value: String,
    refresh_at: Instant,
}

/// Per-tenant slots; each slot's async mutex is held while its token is fetched, so one
/// request serves everyone waiting for that tenant.
#[derive(Default)]
pub(crate) struct TokenCache {
    tenants: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<CachedToken>>>>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCache { .. }")
    }
}

impl TokenCache {
    fn slot(&self, tenant: &str) -> Arc<tokio::sync::Mutex<Option<CachedToken>>> {
        // A poisoned lock only means another thread panicked while inserting a slot; the map
        // itself is still valid.
        let mut map = self
            .tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(tenant.to_ascii_lowercase()).or_default().clone()
    }
}

/// The token endpoint's success body. `expires_in` is a number on the v2.0 endpoint, but the
/// v1 endpoint (and some proxies) send it as a string; accept both.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
}

fn expires_in_secs(v: Option<&serde_json::Value>) -> Option<u64> {
    match v? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A tenant must be a GUID or a domain name: it becomes a path segment of the token URL, so
/// anything else (slashes, `?`, `..`) is refused before a request is made.
fn valid_tenant(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= 253
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !tenant.starts_with('.')
        && !tenant.contains("..")
}

impl GraphClient {
    /// A valid access token for `tenant`, from the cache or freshly requested.
    pub(crate) async fn access_token(&self, tenant: &str) -> Result<String, GraphError> {
        let slot = self.tokens.slot(tenant);
        let mut cached = slot.lock().await;
        if let Some(t) = cached.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let (value, lifetime) = self.request_token(tenant).await?;
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        let token = CachedToken {
            value: value.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(margin),
        };
        *cached = Some(token);
        Ok(value)
    }

    /// Drop the cached token for `tenant` (Graph said 401: revoked, or the clock was off), so
    /// the next call requests a new one.
    pub async fn forget_token(&self, tenant: &str) {
        let slot = self.tokens.slot(tenant);
        *slot.lock().await = None;
    }

    /// POST the client-credentials grant to `{login}/{tenant}/oauth2/v2.0/token`.
    async fn request_token(&self, tenant: &str) -> Result<(String, Duration), GraphError> {
        let path = format!("/{tenant}/oauth2/v2.0/token");
        if !valid_tenant(tenant) {
            let mut info = GraphError::blank(GraphErrorKind::Auth(TokenError {
                error: "invalid_tenant".into(),
                error_description: Some(
                    "tenant must be a tenant GUID or verified domain (refused locally)".into(),
                ),
                error_codes: Vec::new(),
                timestamp: None,
                trace_id: None,
                correlation_id: None,
                error_uri: None,
            }));
            info.code = Some("invalid_tenant".into());
            return Err(GraphError::new(info));
        }
        let url = format!("{}{path}", self.login_base_url);
        // A certificate signs a fresh assertion per request: `aud` is this exact URL, and each
        // assertion carries its own `jti`.
        let assertion = match &self.credential {
            Credential::ClientSecret(_) => None,
            Credential::Certificate(cert) => {
                match cert.assertion(&self.client_id, &url, self.clock.now()) {
                    Ok(jwt) => Some(jwt),
                    Err(e) => {
                        let mut info = GraphError::blank(GraphErrorKind::Auth(TokenError {
                            error: "invalid_client".into(),
                            error_description: Some(format!(
                                "could not sign the client assertion (refused locally): {e}"
                            )),
                            error_codes: Vec::new(),
                            timestamp: None,
                            trace_id: None,
                            correlation_id: None,
                            error_uri: None,
                        }));
                        info.code = Some("invalid_client".into());
                        info.path = Some(path);
                        return Err(GraphError::new(info));
                    }
                }
            }
        };
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", self.client_id.as_str()),
            ("scope", GRAPH_DEFAULT_SCOPE),
        ];
        match (&self.credential, &assertion) {
            (_, Some(jwt)) => {
                form.push(("client_assertion_type", CLIENT_ASSERTION_TYPE));
                form.push(("client_assertion", jwt.as_str()));
            }
            (Credential::ClientSecret(secret), None) => {
                form.push(("client_secret", secret.expose()));
            }
            (Credential::Certificate(_), None) => {}
        }
        form.push(("grant_type", "client_credentials"));
        // Token requests go to the login host, not Graph: not counted as Graph requests.
        let sent = retry::send(
            &self.retry,
            self.clock.as_ref(),
            &super::Unobserved,
            "token",
            tenant,
            None,
            || {
                self.http
                    .post(&url)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .form(&form)
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
                return Err(transport_error(&error, attempts, &path));
            }
        };
        let status = response.status().as_u16();
        let date = retry::header(&response, "date");
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Err(transport_error(&e, attempts, &path)),
        };

        if (200..300).contains(&status) {
            let decoded = serde_json::from_slice::<TokenResponse>(&body);
            let parsed = decoded.as_ref().ok().and_then(|r| {
                let token = r.access_token.clone().filter(|t| !t.is_empty())?;
                let secs = expires_in_secs(r.expires_in.as_ref())?;
                Some((token, Duration::from_secs(secs)))
            });
            return parsed.ok_or_else(|| {
                let mut info = GraphError::blank(GraphErrorKind::Decode);
                info.status = Some(status);
                info.attempts = attempts;
                info.path = Some(path.clone());
                info.detail = Some(match decoded {
                    Err(e) => e.to_string(),
                    Ok(_) => "token response lacks access_token or expires_in".into(),
                });
                // Never excerpt a successful token body: it holds the token.
                GraphError::new(info)
            });
        }

        let token_error = serde_json::from_slice::<TokenError>(&body).ok();
        let kind = match (&token_error, retry::is_throttling(status)) {
            (_, true) => GraphErrorKind::Throttled,
            (Some(t), false) => GraphErrorKind::Auth(t.clone()),
            (None, false) => GraphErrorKind::Http,
        };
        let mut info = GraphError::blank(kind);
        info.status = Some(status);
        info.attempts = attempts;
        info.retry_after = retry_after;
        info.path = Some(path);
        info.body_excerpt = Some(excerpt(&body));
        match token_error {
            Some(t) => {
                info.code = Some(t.error.clone());
                info.message = Some(t.summary().to_string()).filter(|m| !m.is_empty());
                info.request_id = t.trace_id.clone();
                info.client_request_id = t.correlation_id.clone();
                info.date = t.timestamp.clone().or(date);
            }
            None => info.date = date,
        }
        Err(GraphError::new(info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_must_be_guids_or_domains() {
        assert!(valid_tenant("3f0c2b7e-5a1d-4c8e-9b2f-1d6e7a9c4b10"));
        assert!(valid_tenant("contoso.onmicrosoft.com"));
        assert!(!valid_tenant(""));
        assert!(!valid_tenant("common/oauth2"));
        assert!(!valid_tenant("../x"));
        assert!(!valid_tenant("a?b"));
    }

    #[test]
    fn expires_in_accepts_number_or_string() {
        assert_eq!(expires_in_secs(Some(&serde_json::json!(3599))), Some(3599));
        assert_eq!(
            expires_in_secs(Some(&serde_json::json!("3599"))),
            Some(3599)
        );
        assert_eq!(expires_in_secs(Some(&serde_json::json!(null))), None);
        assert_eq!(expires_in_secs(None), None);
    }
}
