//! OpenID Connect relying party for Microsoft Entra sign-in (staff and support portal).
//!
//! Knows nothing of storage or actix: callers keep the pending [`AuthRequest`] between the
//! redirect to Microsoft and the callback, and decide what a verified [`Identity`] may do.
//!
//! WHY tenant-specific authorities only: a tenant's discovery document names its own issuer
//! (`…/{tid}/v2.0`), so `openidconnect` can check the issuer exactly. The `organizations`
//! document carries a `{tenantid}` template that no token matches; accepting it would mean
//! hand-rolling issuer checks, and would let any Entra tenant reach the token endpoint.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse,
};
use serde::Deserialize;

/// Signs a client assertion for the token endpoint URL it is given.
pub type AssertionSigner = std::sync::Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

/// How Tenantry proves who it is at the token endpoint.
#[derive(Clone)]
pub enum ClientAuth {
    Secret(String),
    /// A signed client assertion (`private_key_jwt`), made fresh for each token request by
    /// the caller-supplied function from the token endpoint URL.
    Assertion(AssertionSigner),
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClientAuth::Secret(_) => "Secret(..)",
            ClientAuth::Assertion(_) => "Assertion(..)",
        })
    }
}

/// The app registration and where Microsoft's login host is.
#[derive(Clone, Debug)]
pub struct RelyingParty {
    /// `https://login.microsoftonline.com` (or the simulator), without a trailing slash.
    pub login_url: String,
    pub client_id: String,
    pub auth: ClientAuth,
}

/// What must be kept (server-side) between the redirect and the callback.
#[derive(Clone, Debug)]
pub struct AuthRequest {
    /// Where to send the browser.
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub tenant_id: String,
}

/// A verified sign-in: signature, issuer, audience, expiry, nonce and tenant all checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Entra object id of the user in `tid`.
    pub oid: String,
    pub tid: String,
    pub name: String,
    pub preferred_username: String,
    /// Only present when the tenant has a mail address for the user; Entra does not verify
    /// it, so it is shown, never trusted for matching unless the caller decides otherwise.
    pub email: Option<String>,
}

/// Why a sign-in failed; `Display` is a sentence for the user, details go to the audit log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("Microsoft's sign-in settings for this organisation could not be read: {0}")]
    Discovery(String),
    #[error("Microsoft did not accept the sign-in: {0}")]
    TokenEndpoint(String),
    #[error("Microsoft's answer had no ID token.")]
    NoIdToken,
    #[error("The sign-in has expired. Please sign in again.")]
    Expired,
    #[error("The sign-in was issued for another application.")]
    WrongAudience,
    #[error("The sign-in came from another organisation than the one this page signs in to.")]
    WrongTenant,
    #[error(
        "The sign-in could not be verified: it was not signed by Microsoft's keys for this organisation."
    )]
    BadSignature,
    #[error(
        "The sign-in does not belong to this browser session (nonce mismatch). Please sign in again."
    )]
    NonceMismatch,
    #[error("The sign-in could not be verified: {0}")]
    Invalid(String),
}

impl OidcError {
    /// A stable code for audit details and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::Discovery(_) => "discovery_failed",
            OidcError::TokenEndpoint(_) => "token_endpoint_error",
            OidcError::NoIdToken => "no_id_token",
            OidcError::Expired => "id_token_expired",
            OidcError::WrongAudience => "wrong_audience",
            OidcError::WrongTenant => "wrong_tenant",
            OidcError::BadSignature => "bad_signature",
            OidcError::NonceMismatch => "nonce_mismatch",
            OidcError::Invalid(_) => "invalid_id_token",
        }
    }
}

/// Discovery documents (with their JWKS) per tenant. Fetched on first use and again when a
/// token names a key we do not have: Entra rotates signing keys without notice.
pub struct OidcClient {
    http: reqwest::Client,
    providers: Mutex<HashMap<String, CoreProviderMetadata>>,
}

impl OidcClient {
    /// `http` must not follow redirects (a redirected token request would re-send the
    /// credentials elsewhere); `crate::http_client::build` makes such a client.
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            providers: Mutex::new(HashMap::new()),
        }
    }

    /// With the shared HTTP settings (timeouts, no redirects, our user agent).
    pub fn with_default_http() -> Self {
        let http = crate::http_client::default_client().unwrap_or_else(|e| {
            tracing::error!(error = %e, "HTTP client for sign-in could not be built; using reqwest defaults without redirects");
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default()
        });
        Self::new(http)
    }

    fn cached(&self, tenant: &str) -> Option<CoreProviderMetadata> {
        self.providers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(tenant)
            .cloned()
    }

    async fn discover(
        &self,
        rp: &RelyingParty,
        tenant: &str,
        refresh: bool,
    ) -> Result<CoreProviderMetadata, OidcError> {
        if !refresh && let Some(m) = self.cached(tenant) {
            return Ok(m);
        }
        if !valid_tenant(tenant) {
            return Err(OidcError::Discovery(format!(
                "{tenant:?} is not a tenant id"
            )));
        }
        let issuer = IssuerUrl::new(format!("{}/{tenant}/v2.0", rp.login_url))
            .map_err(|e| OidcError::Discovery(e.to_string()))?;
        let meta = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OidcError::Discovery(error_chain(&e)))?;
        self.providers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(tenant.to_string(), meta.clone());
        Ok(meta)
    }

    /// Start a sign-in against `tenant_id`'s authority: state, nonce and a PKCE (S256) pair.
    pub async fn begin(
        &self,
        rp: &RelyingParty,
        tenant_id: &str,
        redirect_uri: &str,
        login_hint: Option<&str>,
    ) -> Result<AuthRequest, OidcError> {
        let tenant = tenant_id.to_ascii_lowercase();
        let meta = self.discover(rp, &tenant, false).await?;
        let client = client_for(rp, meta, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .add_extra_param("response_mode", "query");
        if let Some(h) = login_hint.filter(|h| !h.is_empty()) {
            req = req.add_extra_param("login_hint", h.to_string());
        }
        let (url, state, nonce) = req.url();
        Ok(AuthRequest {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            tenant_id: tenant,
        })
    }

    /// Redeem the code (with the PKCE verifier) and verify the ID token completely.
    pub async fn finish(
        &self,
        rp: &RelyingParty,
        pending: &AuthRequest,
        redirect_uri: &str,
        code: &str,
    ) -> Result<Identity, OidcError> {
        let meta = self.discover(rp, &pending.tenant_id, false).await?;
        let client = client_for(rp, meta, redirect_uri)?;
        let mut req = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::TokenEndpoint(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
        if let ClientAuth::Assertion(make) = &rp.auth {
            let token_url = format!("{}/{}/oauth2/v2.0/token", rp.login_url, pending.tenant_id);
            let assertion = make(&token_url).map_err(OidcError::TokenEndpoint)?;
            req = req
                .add_extra_param(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .add_extra_param("client_assertion", assertion);
        }
        let resp = req.request_async(&self.http).await.map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => OidcError::TokenEndpoint(format!(
                "{}{}",
                r.error().as_ref(),
                r.error_description()
                    .map(|d| format!(": {}", first_line(d)))
                    .unwrap_or_default()
            )),
            other => OidcError::TokenEndpoint(error_chain(&other)),
        })?;
        let id_token = resp.id_token().ok_or(OidcError::NoIdToken)?.clone();
        let nonce = Nonce::new(pending.nonce.clone());
        let verified = {
            let verifier = client.id_token_verifier();
            id_token.claims(&verifier, &nonce).map(|_| ())
        };
        match verified {
            Ok(()) => {}
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // A key we have not seen: Entra may have rotated. Refetch once, then decide.
                let meta = self.discover(rp, &pending.tenant_id, true).await?;
                let client = client_for(rp, meta, redirect_uri)?;
                let verifier = client.id_token_verifier();
                id_token
                    .claims(&verifier, &nonce)
                    .map_err(|e| classify(&e, &pending.tenant_id, &id_token.to_string()))?;
            }
            Err(e) => return Err(classify(&e, &pending.tenant_id, &id_token.to_string())),
        }
        let claims = payload(&id_token.to_string())?;
        if !claims.tid.eq_ignore_ascii_case(&pending.tenant_id) {
            return Err(OidcError::WrongTenant);
        }
        if claims.oid.is_empty() {
            return Err(OidcError::Invalid(
                "the ID token has no object id (oid)".into(),
            ));
        }
        Ok(Identity {
            oid: claims.oid.to_ascii_lowercase(),
            tid: claims.tid.to_ascii_lowercase(),
            name: claims.name.unwrap_or_default(),
            preferred_username: claims.preferred_username.unwrap_or_default(),
            email: claims.email.filter(|e| !e.is_empty()),
        })
    }
}

fn client_for(
    rp: &RelyingParty,
    meta: CoreProviderMetadata,
    redirect_uri: &str,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    OidcError,
> {
    let secret = match &rp.auth {
        ClientAuth::Secret(s) => Some(ClientSecret::new(s.clone())),
        ClientAuth::Assertion(_) => None,
    };
    let redirect = RedirectUrl::new(redirect_uri.to_string())
        .map_err(|e| OidcError::Invalid(e.to_string()))?;
    Ok(
        CoreClient::from_provider_metadata(meta, ClientId::new(rp.client_id.clone()), secret)
            .set_redirect_uri(redirect)
            // Entra accepts both; the body keeps the secret out of a header some proxies log.
            .set_auth_type(AuthType::RequestBody),
    )
}

/// The Entra-specific claims read after the token is verified.
#[derive(Deserialize)]
struct EntraClaims {
    #[serde(default)]
    tid: String,
    #[serde(default)]
    oid: String,
    name: Option<String>,
    preferred_username: Option<String>,
    email: Option<String>,
}

fn payload(jwt: &str) -> Result<EntraClaims, OidcError> {
    let part = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| OidcError::Invalid("the ID token is not a JWT".into()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| OidcError::Invalid("the ID token payload is not base64url".into()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| OidcError::Invalid(format!("the ID token payload is not valid: {e}")))
}

/// Map a verification failure to what the user is told. The unverified `tid` is read only to
/// choose the message for a token of another organisation, never to accept anything.
fn classify(e: &ClaimsVerificationError, tenant: &str, jwt: &str) -> OidcError {
    match e {
        ClaimsVerificationError::Expired(_) => OidcError::Expired,
        ClaimsVerificationError::InvalidAudience(_) => OidcError::WrongAudience,
        ClaimsVerificationError::InvalidNonce(_) => OidcError::NonceMismatch,
        ClaimsVerificationError::InvalidIssuer(_) => {
            let other = payload(jwt).is_ok_and(|c| !c.tid.eq_ignore_ascii_case(tenant));
            if other {
                OidcError::WrongTenant
            } else {
                OidcError::Invalid("the issuer is not this organisation's".into())
            }
        }
        ClaimsVerificationError::SignatureVerification(_) => OidcError::BadSignature,
        other => OidcError::Invalid(other.to_string()),
    }
}

fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 253
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}
