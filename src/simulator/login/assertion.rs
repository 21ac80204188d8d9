//! Certificate credentials: registered certificates and the check of a `client_assertion`
//! (`private_key_jwt`), done the way Entra does it.
//!
//! Accepted: `alg` RS256 or PS256; the certificate found by `x5t#S256` (SHA-256) or `x5t`
//! (SHA-1) among the app's registered certificates; `iss` = `sub` = `client_id`; `aud` = the
//! token endpoint of the same tenant (`{login}/{tenant}/oauth2/v2.0/token`, the GUID or a
//! verified domain; the v1 `/oauth2/token` form is accepted too); `nbf` ≤ now and `exp` > now,
//! each with five minutes of clock skew.
//!
//! AADSTS codes (docs/microsoft.md#token-errors and Microsoft's "troubleshoot
//! ClientCertificateCredential / ClientAssertionCredential" table; messages abridged from real
//! responses):
//! * 900144 (400 invalid_request): `client_assertion_type` missing.
//! * 90011 (400 invalid_request): `client_assertion_type` is not the jwt-bearer URN [OBS: only
//!   seen in public issue reports].
//! * 50027 (400 invalid_request): the JWT does not parse, or lacks `exp`/`iss`/`sub`/`aud`.
//!   Also used for an `alg` other than RS256/PS256: Entra's exact code for that case is not
//!   documented (AADSTS5002730 is reported for a key/algorithm mismatch), so the generic
//!   malformed-token code stands in.
//! * 700027 (401 invalid_client): no registered certificate has that thumbprint, the signature
//!   does not verify, or the registered certificate has expired.
//! * 50048 (401 invalid_client): `sub` differs from `iss`.
//! * 700021 (401 invalid_client): `iss`/`sub` differ from the `client_id` parameter.
//! * 700023 (401 invalid_client): `aud` is not this tenant's token endpoint.
//! * 700024 (401 invalid_client): outside `nbf`..`exp`.

pub use crate::simulator::state::certificates::{AppCertificate, CertificateView};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rsa::signature::Verifier;
use serde_json::Value;
use sha2::Sha256;

/// The URN a JWT client assertion is announced with.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew allowed on `nbf` and `exp`.
const SKEW_SECS: i64 = 300;

/// A refused assertion: HTTP status, OAuth error, AADSTS code, description.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub error: &'static str,
    pub code: u32,
    pub desc: String,
}

fn refuse(status: u16, error: &'static str, code: u32, desc: impl Into<String>) -> Refusal {
    Refusal {
        status,
        error,
        code,
        desc: desc.into(),
    }
}

fn malformed() -> Refusal {
    refuse(
        400,
        "invalid_request",
        50027,
        "JWT token is invalid or malformed.",
    )
}

const DOC: &str = "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .";

/// The request being authenticated.
pub struct Request<'a> {
    pub client_id: &'a str,
    pub assertion_type: Option<&'a str>,
    pub assertion: &'a str,
    /// Accepted audiences (token endpoint URLs of the tenant the request was posted to).
    pub audiences: &'a [String],
    pub now: DateTime<Utc>,
}

fn part(s: &str) -> Result<Value, Refusal> {
    let raw = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| malformed())?;
    serde_json::from_slice(&raw).map_err(|_| malformed())
}

fn hex_of_thumbprint(b64: &str) -> String {
    URL_SAFE_NO_PAD
        .decode(b64.trim_end_matches('='))
        .map(hex::encode_upper)
        .unwrap_or_else(|_| b64.to_string())
}

/// Check a client assertion against the app's registered certificates.
pub fn verify(req: &Request<'_>, certs: &[AppCertificate]) -> Result<(), Refusal> {
    match req.assertion_type {
        None | Some("") => {
            return Err(refuse(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_assertion_type'.",
            ));
        }
        Some(JWT_BEARER) => {}
        Some(_) => {
            return Err(refuse(
                400,
                "invalid_request",
                90011,
                "Unexpected client assertion type.",
            ));
        }
    }
    let parts: Vec<&str> = req.assertion.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return Err(malformed());
    };
    let header = part(h)?;
    let claims = part(c)?;
    let signature = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| malformed())?;
    let alg = header["alg"].as_str().unwrap_or_default();
    if alg != "RS256" && alg != "PS256" {
        return Err(malformed());
    }
    let s256 = header["x5t#S256"].as_str();
    let sha1 = header["x5t"].as_str();
    // Reported as hex, the SHA-1 one when the client sent it (what the portal lists).
    let thumb = sha1
        .map(hex_of_thumbprint)
        .or_else(|| s256.map(hex_of_thumbprint))
        .unwrap_or_default();
    let found = certs
        .iter()
        .find(|k| s256.is_some_and(|t| t == k.x5t_s256) || sha1.is_some_and(|t| t == k.x5t));
    let Some(cert) = found else {
        return Err(refuse(
            401,
            "invalid_client",
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{thumb}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]",
                req.client_id
            ),
        ));
    };
    let found_key = format!(
        "Found key 'Start={}, End={}'",
        cert.info.not_before.format("%m/%d/%Y %H:%M:%S"),
        cert.info.not_after.format("%m/%d/%Y %H:%M:%S")
    );
    let input = format!("{h}.{c}");
    let verified = if alg == "PS256" {
        rsa::pss::Signature::try_from(signature.as_slice())
            .ok()
            .is_some_and(|sig| {
                rsa::pss::VerifyingKey::<Sha256>::new(cert.public_key.clone())
                    .verify(input.as_bytes(), &sig)
                    .is_ok()
            })
    } else {
        rsa::pkcs1v15::Signature::try_from(signature.as_slice())
            .ok()
            .is_some_and(|sig| {
                rsa::pkcs1v15::VerifyingKey::<Sha256>::new(cert.public_key.clone())
                    .verify(input.as_bytes(), &sig)
                    .is_ok()
            })
    };
    if !verified {
        return Err(refuse(
            401,
            "invalid_client",
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{thumb}', {found_key}]"
            ),
        ));
    }
    if cert.info.not_after <= req.now {
        return Err(refuse(
            401,
            "invalid_client",
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '{thumb}', {found_key}]"
            ),
        ));
    }
    let text = |k: &str| claims[k].as_str().unwrap_or_default();
    let (iss, sub, aud) = (text("iss"), text("sub"), text("aud"));
    if iss.is_empty() || sub.is_empty() || aud.is_empty() {
        return Err(malformed());
    }
    if sub != iss {
        return Err(refuse(
            401,
            "invalid_client",
            50048,
            "Subject must match the issuer claim in the client assertion.",
        ));
    }
    if !iss.eq_ignore_ascii_case(req.client_id) {
        return Err(refuse(
            401,
            "invalid_client",
            700021,
            format!(
                "Client assertion application identifier doesn't match 'client_id' parameter. {DOC}"
            ),
        ));
    }
    if !req.audiences.iter().any(|a| a.eq_ignore_ascii_case(aud)) {
        return Err(refuse(
            401,
            "invalid_client",
            700023,
            format!("Client assertion audience claim does not match Realm issuer. {DOC}"),
        ));
    }
    let Some(exp) = claims["exp"].as_i64() else {
        return Err(malformed());
    };
    let nbf = claims["nbf"].as_i64().unwrap_or(0);
    let now = req.now.timestamp();
    if exp + SKEW_SECS <= now || nbf - SKEW_SECS > now {
        let t = |secs: i64| {
            DateTime::<Utc>::from_timestamp(secs, 0)
                .unwrap_or_default()
                // Entra prints seven fractional digits; our times are whole seconds.
                .format("%Y-%m-%dT%H:%M:%S.0000000Z")
                .to_string()
        };
        return Err(refuse(
            401,
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. {DOC}",
                t(now),
                t(nbf),
                t(exp)
            ),
        ));
    }
    Ok(())
}
