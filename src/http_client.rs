//! The one place outbound HTTP clients are built.
//!
//! Every call the appliance makes to Microsoft (token endpoint, Graph) goes through a
//! `reqwest::Client` built here, so timeouts, the user agent, TLS and the redirect policy are
//! decided once instead of per call site. The client is cheap to clone (it is an `Arc` around a
//! connection pool): build it once at start and hand clones to whoever needs one.
//!
//! Secrets: reqwest never logs headers, and the `Authorization` header set through
//! `bearer_auth` is marked sensitive (its `Debug` prints `Sensitive`). Nothing in this module
//! logs requests at all; callers log method, path, status and request ids, never headers,
//! bodies of token requests, or query strings that carry tokens.

use std::time::Duration;

/// `Tenantry/<version>`: Microsoft support asks for the client's user agent when tracing a
/// request, and a versioned one tells them which build sent it.
pub fn user_agent() -> String {
    format!("Tenantry/{}", env!("CARGO_PKG_VERSION"))
}

/// The knobs that differ between callers. The defaults suit Microsoft Graph and Entra.
#[derive(Debug, Clone)]
pub struct HttpClientOptions {
    /// Time to establish TCP + TLS. Short: a host that cannot be reached in 10 s is down, and
    /// waiting longer only delays the retry.
    pub connect_timeout: Duration,
    /// Whole-request deadline (connect, send, headers and body). Graph pages of 1000 Intune
    /// devices take a few seconds; a minute is generous but still ends a hung request.
    pub request_timeout: Duration,
    /// Never follow redirects unless a caller explicitly needs it. A token endpoint that
    /// redirects would make reqwest re-send the form (with the client secret) to wherever the
    /// `Location` points, and Graph list endpoints do not redirect, so a 3xx is surfaced to the
    /// caller as an error instead.
    pub follow_redirects: bool,
}

impl Default for HttpClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            follow_redirects: false,
        }
    }
}

/// Building the client failed (in practice only if the TLS backend cannot initialise).
#[derive(Debug, thiserror::Error)]
#[error("could not build the HTTP client: {0}")]
pub struct HttpClientError(#[from] reqwest::Error);

/// Build a client with the given options.
///
/// TLS is rustls with the bundled Mozilla roots and the ring provider that reqwest 0.12's
/// `rustls-tls` feature configures itself (Cargo.toml), so no process-wide crypto provider has
/// to be installed first; the test below checks that. HTTP/2 is not compiled in; Graph works
/// over HTTP/1.1.
pub fn build(options: &HttpClientOptions) -> Result<reqwest::Client, HttpClientError> {
    let redirect = if options.follow_redirects {
        reqwest::redirect::Policy::limited(5)
    } else {
        reqwest::redirect::Policy::none()
    };
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent(user_agent())
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        .redirect(redirect)
        // Idle pooled connections to a tenant's Graph front end are reused across pages, but
        // not kept forever: the 6-hourly sync would otherwise hold sockets Microsoft has long
        // closed.
        .pool_idle_timeout(Duration::from_secs(90))
        .build()?;
    Ok(client)
}

/// A client with the default options.
pub fn default_client() -> Result<reqwest::Client, HttpClientError> {
    build(&HttpClientOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_names_the_product_and_version() {
        let ua = user_agent();
        assert!(ua.starts_with("Tenantry/"));
        assert_eq!(ua, format!("Tenantry/{}", env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn default_client_builds_without_a_global_crypto_provider() {
        assert!(default_client().is_ok());
    }
}
