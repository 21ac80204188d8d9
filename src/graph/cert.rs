//! Certificate credentials (`private_key_jwt`): the app proves its identity with a JWT signed
//! by the private key of a certificate uploaded to the app registration, instead of a secret.
//!
//! What we send (Microsoft identity platform "certificate credentials" page, current version):
//!
//! * header: `alg` = `PS256` (RSASSA-PSS, SHA-256, 32-byte salt), `typ` = `JWT`,
//!   `x5t#S256` = base64url SHA-256 thumbprint of the certificate's DER. The page recommends
//!   exactly this today; its older versions (and MSAL for years) used `RS256` + `x5t`
//!   (base64url SHA-1 thumbprint), which Entra still accepts. We also send `x5t`: it costs
//!   nothing, and it lets a verifier that only knows SHA-1 thumbprints find the certificate.
//! * claims: `aud` = the token endpoint URL the request is posted to
//!   (`{login}/{tenant}/oauth2/v2.0/token`), `iss` = `sub` = the client id, `jti` = a fresh
//!   UUID, `iat` = `nbf` = now, `exp` = now + 10 minutes (the page's advice is 5–10 minutes
//!   after `nbf`; a token request never takes that long, and the margin covers clock skew).
//!
//! The key is parsed once ([`ClientCertificate::from_pem`]) and never printed: `Debug` shows
//! the thumbprint only, and errors never quote key material.

use std::fmt;

use base64::Engine;
use chrono::{DateTime, Utc};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};

use super::Credential;

/// `client_assertion_type` for a JWT client assertion (RFC 7523).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid.
const ASSERTION_LIFETIME_SECS: i64 = 600;

/// RSA keys shorter than this are refused (Entra and every current guideline want 2048+).
const MIN_KEY_BITS: usize = 2048;

/// rsaEncryption, the algorithm of an RSA public or PKCS#8 private key.
const RSA_OID: &str = "1.2.840.113549.1.1.1";

/// Why a certificate credential was refused. Messages are for the operator and never quote
/// key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("the certificate is not a PEM certificate (expected -----BEGIN CERTIFICATE-----): {0}")]
    CertificatePem(String),
    #[error("the certificate cannot be read: {0}")]
    Certificate(String),
    #[error(
        "the private key is not a PEM private key (expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----): {0}"
    )]
    KeyPem(String),
    #[error(
        "the private key is encrypted; store it unencrypted (openssl pkey -in key.pem -out key-plain.pem) and protect the file instead"
    )]
    EncryptedKey,
    #[error("the {0} is not an RSA key; Entra certificate credentials need RSA")]
    NotRsa(&'static str),
    #[error("the RSA key has {0} bits; at least 2048 are needed")]
    KeyTooSmall(usize),
    #[error("the private key does not belong to the certificate (their public keys differ)")]
    Mismatch,
    #[error("signing the client assertion failed: {0}")]
    Sign(String),
}

/// A certificate and its private key, parsed and checked once.
#[derive(Clone)]
pub struct ClientCertificate {
    key: RsaPrivateKey,
    cert_der: Vec<u8>,
    x5t: String,
    x5t_s256: String,
    thumbprint_hex: String,
    subject: String,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
}

impl PartialEq for ClientCertificate {
    fn eq(&self, other: &Self) -> bool {
        self.cert_der == other.cert_der && self.key == other.key
    }
}

impl Eq for ClientCertificate {}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("thumbprint", &self.thumbprint_hex)
            .field("subject", &self.subject)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The first PEM block of `pem` whose label is one of `labels`, as (label, DER). A chain file
/// (leaf first, then intermediates) yields the leaf.
fn first_pem_block(pem: &str, labels: &[&str]) -> Result<Option<(String, Vec<u8>)>, String> {
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let label_end = block["-----BEGIN ".len()..]
            .find("-----")
            .ok_or("unterminated BEGIN line")?;
        let label = &block["-----BEGIN ".len().."-----BEGIN ".len() + label_end];
        let end_marker = format!("-----END {label}-----");
        let end = block
            .find(&end_marker)
            .ok_or_else(|| format!("no -----END {label}----- line"))?;
        let one = &block[..end + end_marker.len()];
        rest = &block[end + end_marker.len()..];
        if labels.contains(&label) {
            // Windows line endings and indentation from a pasted textarea are common.
            let clean: String = one
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            let (_, der) = x509_cert::der::pem::decode_vec(clean.as_bytes())
                .map_err(|e| format!("bad base64 in the {label} block: {e}"))?;
            return Ok(Some((label.to_string(), der)));
        }
    }
    Ok(None)
}

/// What a PEM certificate says about itself (thumbprints, subject, validity); no key needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Base64url SHA-1 of the DER (`x5t`).
    pub x5t: String,
    /// Base64url SHA-256 of the DER (`x5t#S256`).
    pub x5t_s256: String,
    /// Upper-case hex SHA-1, as the Entra admin center shows it under Certificates & secrets.
    pub thumbprint_hex: String,
    pub subject: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// Parse a PEM certificate (the first one, if the file holds a chain) into its DER, public key
/// and [`CertificateInfo`].
pub fn parse_certificate(
    certificate_pem: &str,
) -> Result<(Vec<u8>, RsaPublicKey, CertificateInfo), CertificateError> {
    let (_, der) = first_pem_block(certificate_pem, &["CERTIFICATE"])
        .map_err(CertificateError::CertificatePem)?
        .ok_or_else(|| CertificateError::CertificatePem("no CERTIFICATE block found".into()))?;
    let cert = x509_cert::Certificate::from_der(&der)
        .map_err(|e| CertificateError::Certificate(e.to_string()))?;
    let tbs = &cert.tbs_certificate;
    let spki = &tbs.subject_public_key_info;
    if spki.algorithm.oid.to_string() != RSA_OID {
        return Err(CertificateError::NotRsa("certificate's public key"));
    }
    let spki_der = spki
        .to_der()
        .map_err(|e| CertificateError::Certificate(e.to_string()))?;
    let public = RsaPublicKey::from_public_key_der(&spki_der)
        .map_err(|e| CertificateError::Certificate(e.to_string()))?;
    let time = |t: x509_cert::time::Time| {
        DateTime::<Utc>::from_timestamp(t.to_unix_duration().as_secs() as i64, 0)
            .unwrap_or_default()
    };
    let sha1 = Sha1::digest(&der);
    let info = CertificateInfo {
        x5t: b64url(&sha1),
        x5t_s256: b64url(&Sha256::digest(&der)),
        thumbprint_hex: hex::encode_upper(sha1),
        subject: tbs.subject.to_string(),
        not_before: time(tbs.validity.not_before),
        not_after: time(tbs.validity.not_after),
    };
    Ok((der, public, info))
}

/// Parse an unencrypted PEM RSA private key: PKCS#8 (`BEGIN PRIVATE KEY`, what
/// `openssl req -newkey` writes) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
fn parse_private_key(pem: &str) -> Result<RsaPrivateKey, CertificateError> {
    let block = first_pem_block(
        pem,
        &[
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "EC PRIVATE KEY",
        ],
    )
    .map_err(CertificateError::KeyPem)?
    .ok_or_else(|| CertificateError::KeyPem("no PRIVATE KEY block found".into()))?;
    match block.0.as_str() {
        "PRIVATE KEY" => {
            let info = rsa::pkcs8::PrivateKeyInfo::from_der(&block.1)
                .map_err(|e| CertificateError::KeyPem(e.to_string()))?;
            if info.algorithm.oid.to_string() != RSA_OID {
                return Err(CertificateError::NotRsa("private key"));
            }
            RsaPrivateKey::from_pkcs8_der(&block.1)
                .map_err(|e| CertificateError::KeyPem(e.to_string()))
        }
        "RSA PRIVATE KEY" => RsaPrivateKey::from_pkcs1_der(&block.1)
            .map_err(|e| CertificateError::KeyPem(e.to_string())),
        "ENCRYPTED PRIVATE KEY" => Err(CertificateError::EncryptedKey),
        _ => Err(CertificateError::NotRsa("private key")),
    }
}

impl ClientCertificate {
    /// Parse and check a private key and its certificate: both PEM, RSA, 2048 bits or more,
    /// and the key must be the certificate's. An expired certificate is accepted here (Entra
    /// decides; the settings page shows the expiry).
    pub fn from_pem(
        private_key_pem: &str,
        certificate_pem: &str,
    ) -> Result<Self, CertificateError> {
        let (cert_der, public, info) = parse_certificate(certificate_pem)?;
        let key = parse_private_key(private_key_pem)?;
        let bits = key.size() * 8;
        if bits < MIN_KEY_BITS {
            return Err(CertificateError::KeyTooSmall(bits));
        }
        if RsaPublicKey::from(&key) != public {
            return Err(CertificateError::Mismatch);
        }
        Ok(Self {
            key,
            cert_der,
            x5t: info.x5t,
            x5t_s256: info.x5t_s256,
            thumbprint_hex: info.thumbprint_hex,
            subject: info.subject,
            not_before: info.not_before,
            not_after: info.not_after,
        })
    }

    /// Base64url SHA-1 thumbprint (`x5t`).
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// Base64url SHA-256 thumbprint (`x5t#S256`).
    pub fn x5t_s256(&self) -> &str {
        &self.x5t_s256
    }

    /// Upper-case hex SHA-1 thumbprint, as the Entra admin center lists it.
    pub fn thumbprint_hex(&self) -> &str {
        &self.thumbprint_hex
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn not_before(&self) -> DateTime<Utc> {
        self.not_before
    }

    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    /// The certificate's DER encoding.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The public key, PEM (SPKI) — safe to show or log.
    pub fn public_key_pem(&self) -> Option<String> {
        RsaPublicKey::from(&self.key)
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .ok()
    }

    /// A signed client assertion for `audience` (the token endpoint URL), valid from `now` for
    /// ten minutes. See the module documentation for the header and claims.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<String, CertificateError> {
        let header = serde_json::json!({
            "alg": "PS256",
            "typ": "JWT",
            "x5t": self.x5t,
            "x5t#S256": self.x5t_s256,
        });
        let iat = now.timestamp();
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": iat,
            "nbf": iat,
            "exp": iat + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let signer = rsa::pss::BlindedSigningKey::<Sha256>::new(self.key.clone());
        let signature = signer
            .try_sign_with_rng(&mut rsa::rand_core::OsRng, signing_input.as_bytes())
            .map_err(|e| CertificateError::Sign(e.to_string()))?;
        Ok(format!("{signing_input}.{}", b64url(&signature.to_vec())))
    }
}

/// The `client_assertion` to add to a token request posted to `token_url`, or `None` when the
/// credential is a client secret (send `client_secret` then).
///
/// For other flows that authenticate to the same token endpoint with the same app
/// registration (the OIDC sign-in code exchange): when this returns `Some(jwt)`, add
/// `client_assertion_type` = [`CLIENT_ASSERTION_TYPE`] and `client_assertion` = `jwt` to the
/// form instead of `client_secret`. `token_url` must be the exact URL posted to (Entra checks
/// `aud` against it). Build a fresh one per request: each carries a unique `jti`.
pub fn client_assertion(
    credential: &Credential,
    client_id: &str,
    token_url: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, CertificateError> {
    match credential {
        Credential::ClientSecret(_) => Ok(None),
        Credential::Certificate(cert) => cert.assertion(client_id, token_url, now).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = include_str!("../../tests/fixtures/certs/test-only-cert.pem");
    const KEY: &str = include_str!("../../tests/fixtures/certs/test-only-key.pem");
    const OTHER_KEY: &str = include_str!("../../tests/fixtures/certs/test-only-other-key.pem");
    const EC_KEY: &str = include_str!("../../tests/fixtures/certs/test-only-ec-key.pem");

    #[test]
    fn thumbprints_match_openssl() {
        let c = ClientCertificate::from_pem(KEY, CERT).expect("valid pair");
        // From `openssl x509 -fingerprint -sha1` / `-sha256` (tests/fixtures/certs/README.md).
        assert_eq!(
            c.thumbprint_hex(),
            "8367F828B44B05A221D250AFAED16ACDA292C090"
        );
        assert_eq!(c.x5t(), "g2f4KLRLBaIh0lCvrtFqzaKSwJA");
        assert_eq!(c.x5t_s256(), "XXmkWbe8KZXFfDE2ruogSFkHLdOUtue4iEWxSZoZ1CQ");
        assert_eq!(c.subject(), "CN=tenantry-test");
        assert_eq!(c.not_after().to_rfc3339(), "2036-11-23T09:21:45+00:00");
    }

    #[test]
    fn refuses_a_key_that_is_not_the_certificates() {
        assert_eq!(
            ClientCertificate::from_pem(OTHER_KEY, CERT).unwrap_err(),
            CertificateError::Mismatch
        );
    }

    #[test]
    fn refuses_non_rsa_keys_and_bad_pem() {
        assert_eq!(
            ClientCertificate::from_pem(EC_KEY, CERT).unwrap_err(),
            CertificateError::NotRsa("private key")
        );
        assert!(matches!(
            ClientCertificate::from_pem(KEY, "not a certificate").unwrap_err(),
            CertificateError::CertificatePem(_)
        ));
        assert!(matches!(
            ClientCertificate::from_pem(CERT, CERT).unwrap_err(),
            CertificateError::KeyPem(_)
        ));
        // Swapped fields: the key pasted as the certificate.
        assert!(matches!(
            ClientCertificate::from_pem(KEY, KEY).unwrap_err(),
            CertificateError::CertificatePem(_)
        ));
    }

    #[test]
    fn accepts_crlf_and_indented_paste() {
        let messy_cert = CERT.replace('\n', "\r\n  ");
        let messy_key = format!("\n\n{}", KEY.replace('\n', "\r\n"));
        let c = ClientCertificate::from_pem(&messy_key, &messy_cert).expect("tolerant");
        assert_eq!(c.x5t(), "g2f4KLRLBaIh0lCvrtFqzaKSwJA");
    }

    #[test]
    fn debug_never_prints_the_key() {
        let c = ClientCertificate::from_pem(KEY, CERT).expect("valid pair");
        let d = format!("{c:?}");
        assert!(d.contains("8367F828"), "{d}");
        assert!(!d.contains("PRIVATE") && d.len() < 300, "{d}");
    }
}
