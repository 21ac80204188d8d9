//! Certificates uploaded to simulated app registrations (the public part only): what the
//! token endpoint checks client assertions against. Data and parsing only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};

/// A certificate uploaded to an app registration (the public part only).
#[derive(Clone, Debug)]
pub struct AppCertificate {
    /// Base64url SHA-1 of the DER.
    pub x5t: String,
    /// Base64url SHA-256 of the DER.
    pub x5t_s256: String,
    pub public_key: RsaPublicKey,
    pub info: CertificateView,
}

/// What the control API shows about a registered certificate.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CertificateView {
    /// Upper-case hex SHA-1, as the Entra admin center shows it.
    pub thumbprint: String,
    pub x5t: String,
    #[serde(rename = "x5t#S256")]
    pub x5t_s256: String,
    pub subject: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

impl AppCertificate {
    /// Parse a PEM certificate (the first one if there are several). Only RSA keys are
    /// accepted, like Entra's certificate upload.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let start = pem
            .find("-----BEGIN CERTIFICATE-----")
            .ok_or("no -----BEGIN CERTIFICATE----- block")?;
        let end_marker = "-----END CERTIFICATE-----";
        let end = pem[start..]
            .find(end_marker)
            .ok_or("no -----END CERTIFICATE----- line")?;
        let block: String = pem[start..start + end + end_marker.len()]
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let (_, der) =
            x509_cert::der::pem::decode_vec(block.as_bytes()).map_err(|e| e.to_string())?;
        let cert = x509_cert::Certificate::from_der(&der).map_err(|e| e.to_string())?;
        let tbs = &cert.tbs_certificate;
        let spki = tbs
            .subject_public_key_info
            .to_der()
            .map_err(|e| e.to_string())?;
        let public_key = RsaPublicKey::from_public_key_der(&spki)
            .map_err(|e| format!("the certificate's key is not RSA: {e}"))?;
        let time = |t: x509_cert::time::Time| {
            DateTime::<Utc>::from_timestamp(t.to_unix_duration().as_secs() as i64, 0)
                .unwrap_or_default()
        };
        let sha1 = Sha1::digest(&der);
        let x5t = URL_SAFE_NO_PAD.encode(sha1);
        let x5t_s256 = URL_SAFE_NO_PAD.encode(Sha256::digest(&der));
        Ok(Self {
            info: CertificateView {
                thumbprint: hex::encode_upper(sha1),
                x5t: x5t.clone(),
                x5t_s256: x5t_s256.clone(),
                subject: tbs.subject.to_string(),
                not_before: time(tbs.validity.not_before),
                not_after: time(tbs.validity.not_after),
            },
            x5t,
            x5t_s256,
            public_key,
        })
    }
}
