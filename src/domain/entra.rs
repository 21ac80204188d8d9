//! The Entra app registration (client id plus a certificate and/or a secret) and the shared
//! Graph client built from it.
//!
//! The registration can come from configuration (`[microsoft] client_id`, `client_secret`,
//! `certificate_file` + `private_key_file`) or from Settings / the API, where the secret and
//! the certificate with its private key are stored sealed with the data key. Settings win over
//! configuration, so an MSP can rotate a credential without editing files. When a certificate
//! is available it is used and the secret is ignored: Microsoft recommends certificates for
//! production (a secret is a shared password; a certificate's key never leaves this machine).

use super::{DomainError, DomainResult, Services};
use crate::domain::authority::AdminActor;
use crate::graph::{ClientCertificate, ClientSecret, Credential, GraphClient, GraphError};
use crate::model::{Actor, NewAuditEvent, ValidationError, clean_text};
use crate::store::keys;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Largest accepted PEM text (a 4096-bit key is about 3.3 KB; a chain of three certificates
/// about 6 KB).
const MAX_PEM_LEN: usize = 32 * 1024;

/// A certificate credential as stored (sealed as a whole: the key must never be readable).
#[derive(Clone, Serialize, Deserialize)]
struct StoredCertificate {
    certificate_pem: String,
    private_key_pem: String,
}

/// The read-only application permissions Tenantry asks each tenant for (shown for copy-paste).
pub const PERMISSIONS: &[(&str, &str)] = &[
    ("User.Read.All", "users → contacts"),
    ("Group.Read.All", "groups and memberships → contact groups"),
    ("GroupMember.Read.All", "group memberships"),
    ("Device.Read.All", "Entra device records"),
    (
        "DeviceManagementManagedDevices.Read.All",
        "Intune devices → assets",
    ),
    (
        "DeviceManagementConfiguration.Read.All",
        "compliance policies (evidence)",
    ),
    (
        "Policy.Read.All",
        "conditional access policies, security defaults (evidence)",
    ),
    ("AuditLog.Read.All", "MFA registration report (evidence)"),
    (
        "RoleManagement.Read.Directory",
        "directory role assignments: who is an administrator (evidence)",
    ),
    (
        "UserAuthenticationMethod.Read.All",
        "administrators' MFA methods without Entra ID P1 (evidence)",
    ),
    ("Organization.Read.All", "tenant name and domains"),
];

/// What is stored (the secret is kept apart, sealed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntraApp {
    pub client_id: String,
}

/// The effective registration and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct EntraAppView {
    pub client_id: String,
    pub has_secret: bool,
    /// `settings`, `config`, or `none`.
    pub source: &'static str,
    /// The certificate credential, if one is stored or configured (its key is never shown).
    pub certificate: Option<CertificateSummary>,
    /// What token requests use: `certificate`, `secret`, or `none`.
    pub credential: &'static str,
}

/// What the settings page and the API show about the certificate credential.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertificateSummary {
    /// Upper-case hex SHA-1 thumbprint, as the Entra admin center lists it.
    pub thumbprint: String,
    pub subject: String,
    /// notAfter, `YYYY-MM-DD HH:MM UTC`.
    pub expires: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub expired: bool,
    /// `settings` or `config`.
    pub source: &'static str,
}

/// The effective credentials: app, secret, certificate (with its source).
struct Credentials {
    app: Option<EntraApp>,
    secret: Option<String>,
    certificate: Option<(StoredCertificate, &'static str)>,
}

fn check_pem(field: &'static str, v: &str) -> DomainResult<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(ValidationError::new(field, "is required").into());
    }
    if v.len() > MAX_PEM_LEN {
        return Err(ValidationError::new(field, "is too long").into());
    }
    Ok(format!("{v}\n"))
}

/// What the appliance was started with for Microsoft: where the endpoints are, the app
/// registration from configuration files (if any) and our redirect URIs. Built once at start
/// from [`crate::config::MicrosoftConfig`] (the file's shape, with paths) by
/// `app::microsoft_setup` (contents read, secrets wrapped).
#[derive(Debug, Clone, Default)]
pub struct MicrosoftSetup {
    pub login_url: String,
    pub graph_url: String,
    pub client_id: String,
    pub client_secret: crate::model::Secret,
    /// PEM certificate and its private key (read from `certificate_file` / `private_key_file`
    /// at start); both empty when not configured.
    pub certificate_pem: String,
    pub private_key_pem: crate::model::Secret,
    /// Where Microsoft sends the admin back after consent (`<public url>/connect/callback`).
    pub redirect_uri: String,
    /// Where Microsoft sends a user back after sign-in (`<public url>/auth/callback`), for
    /// staff and portal alike.
    pub signin_redirect_uri: String,
}

fn check_client_id(v: &str) -> DomainResult<String> {
    let v = clean_text("client_id", v, 100, true)?;
    let ok = v.len() == 36
        && v.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if !ok {
        return Err(ValidationError::new(
            "client_id",
            "must be the Application (client) ID, a GUID like 7c1a3f0e-5b2d-4e8a-9c6f-1d2e3f4a5b6c",
        )
        .into());
    }
    Ok(v.to_lowercase())
}

impl Services {
    /// The effective app registration (secret and private key never returned).
    pub async fn entra_app(&self) -> DomainResult<EntraAppView> {
        let Credentials {
            app,
            secret,
            certificate,
        } = self.entra_credentials().await?;
        let now = self.now();
        let certificate = certificate.and_then(|(c, source)| {
            // Stored and configured certificates were checked when saved / at start.
            let (_, _, info) = crate::graph::cert::parse_certificate(&c.certificate_pem).ok()?;
            Some(CertificateSummary {
                thumbprint: info.thumbprint_hex,
                subject: info.subject,
                expires: info.not_after.format("%Y-%m-%d %H:%M UTC").to_string(),
                expires_at: info.not_after,
                expired: info.not_after <= now,
                source,
            })
        });
        let credential = if certificate.is_some() {
            "certificate"
        } else if secret.is_some() {
            "secret"
        } else {
            "none"
        };
        let source = if app.is_none() {
            "none"
        } else if self
            .store
            .read(|r| r.setting::<EntraApp>(keys::settings::ENTRA_APP))
            .await?
            .is_some()
        {
            "settings"
        } else {
            "config"
        };
        Ok(EntraAppView {
            client_id: app.map(|a| a.client_id).unwrap_or_default(),
            has_secret: secret.is_some(),
            source,
            certificate,
            credential,
        })
    }

    async fn entra_credentials(&self) -> DomainResult<Credentials> {
        let (stored, secret, certificate) = self
            .store
            .read(|r| {
                Ok::<_, DomainError>((
                    r.setting::<EntraApp>(keys::settings::ENTRA_APP)?,
                    r.secret_setting(keys::settings::ENTRA_CLIENT_SECRET)?,
                    r.secret_setting(keys::settings::ENTRA_CERTIFICATE)?,
                ))
            })
            .await?;
        let cfg = &self.microsoft;
        let app = stored.or_else(|| {
            (!cfg.client_id.is_empty()).then(|| EntraApp {
                client_id: cfg.client_id.clone(),
            })
        });
        let secret = secret.or_else(|| {
            (!cfg.client_secret.is_empty()).then(|| cfg.client_secret.expose().to_string())
        });
        let stored_cert = certificate
            .map(|json| {
                serde_json::from_str::<StoredCertificate>(&json)
                    .map_err(|e| DomainError::internal("reading the stored certificate", e))
            })
            .transpose()?
            .map(|c| (c, "settings"));
        let certificate = stored_cert.or_else(|| {
            (!cfg.certificate_pem.is_empty() && !cfg.private_key_pem.is_empty()).then(|| {
                (
                    StoredCertificate {
                        certificate_pem: cfg.certificate_pem.clone(),
                        private_key_pem: cfg.private_key_pem.expose().to_string(),
                    },
                    "config",
                )
            })
        });
        Ok(Credentials {
            app,
            secret,
            certificate,
        })
    }

    /// Store a certificate credential (the PEM certificate uploaded to the app registration and
    /// its PEM private key), sealed. It is checked first: PEM, RSA, 2048 bits or more, and the
    /// key must belong to the certificate. From now on token requests use it, not the secret.
    /// Would [`Services::set_entra_certificate`] accept this pair? Checked before anything is
    /// saved when an app and its certificate change together, so a bad pair changes nothing.
    pub fn check_entra_certificate(
        &self,
        private_key_pem: &str,
        certificate_pem: &str,
    ) -> DomainResult<()> {
        let private_key_pem = check_pem("private_key_pem", private_key_pem)?;
        let certificate_pem = check_pem("certificate_pem", certificate_pem)?;
        ClientCertificate::from_pem(&private_key_pem, &certificate_pem)
            .map_err(|e| ValidationError::new("certificate", e.to_string()))?;
        Ok(())
    }

    pub async fn set_entra_certificate(
        &self,
        admin: AdminActor,
        private_key_pem: &str,
        certificate_pem: &str,
    ) -> DomainResult<EntraAppView> {
        let actor: Actor = admin.into();
        let private_key_pem = check_pem("private_key_pem", private_key_pem)?;
        let certificate_pem = check_pem("certificate_pem", certificate_pem)?;
        let parsed = ClientCertificate::from_pem(&private_key_pem, &certificate_pem)
            .map_err(|e| ValidationError::new("certificate", e.to_string()))?;
        let now = self.now();
        if parsed.not_after() <= now {
            return Err(ValidationError::new(
                "certificate_pem",
                format!(
                    "expired on {}; create a new certificate",
                    parsed.not_after().format("%Y-%m-%d")
                ),
            )
            .into());
        }
        let sealed = serde_json::to_string(&StoredCertificate {
            certificate_pem,
            private_key_pem,
        })
        .map_err(|e| DomainError::internal("encoding the certificate for storage", e))?;
        let summary = format!(
            "Entra app certificate set: thumbprint {}, {}, expires {}",
            parsed.thumbprint_hex(),
            parsed.subject(),
            parsed.not_after().format("%Y-%m-%d")
        );
        self.store
            .write(move |w| {
                w.set_secret_setting(keys::settings::ENTRA_CERTIFICATE, Some(&sealed))?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    actor,
                    "settings.entra_certificate",
                    summary,
                ))?;
                Ok::<_, DomainError>(())
            })
            .await?;
        *self.graph.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.entra_app().await
    }

    /// Remove the stored certificate credential (a configured one, from `certificate_file`,
    /// stays). Token requests fall back to the secret.
    pub async fn remove_entra_certificate(&self, admin: AdminActor) -> DomainResult<EntraAppView> {
        let actor: Actor = admin.into();
        let now = self.now();
        self.store
            .write(move |w| {
                let Some(json) = w.secret_setting(keys::settings::ENTRA_CERTIFICATE)? else {
                    return Err(DomainError::NotFound("stored certificate"));
                };
                let thumbprint = serde_json::from_str::<StoredCertificate>(&json)
                    .ok()
                    .and_then(|c| crate::graph::cert::parse_certificate(&c.certificate_pem).ok())
                    .map(|(_, _, i)| i.thumbprint_hex)
                    .unwrap_or_else(|| "unknown".into());
                w.set_secret_setting(keys::settings::ENTRA_CERTIFICATE, None)?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    actor,
                    "settings.entra_certificate",
                    format!("Entra app certificate removed: thumbprint {thumbprint}"),
                ))?;
                Ok(())
            })
            .await?;
        *self.graph.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.entra_app().await
    }

    /// Save the app registration. An empty secret keeps the stored one.
    pub async fn set_entra_app(
        &self,
        admin: AdminActor,
        client_id: &str,
        client_secret: &str,
    ) -> DomainResult<EntraAppView> {
        let actor: Actor = admin.into();
        let client_id = check_client_id(client_id)?;
        let secret = client_secret.trim().to_string();
        if secret.len() > 500 {
            return Err(ValidationError::new("client_secret", "is too long").into());
        }
        let now = self.now();
        self.store
            .write(move |w| {
                let had_secret = w
                    .secret_setting(keys::settings::ENTRA_CLIENT_SECRET)?
                    .is_some();
                w.set_setting(
                    keys::settings::ENTRA_APP,
                    &EntraApp {
                        client_id: client_id.clone(),
                    },
                )?;
                if !secret.is_empty() {
                    w.set_secret_setting(keys::settings::ENTRA_CLIENT_SECRET, Some(&secret))?;
                }
                let what = if secret.is_empty() {
                    if had_secret {
                        "secret unchanged"
                    } else {
                        "no secret yet"
                    }
                } else {
                    "new client secret"
                };
                w.append_audit(NewAuditEvent::new(
                    now,
                    actor,
                    "settings.entra_app",
                    format!("Entra app registration set to client id {client_id} ({what})"),
                ))?;
                Ok::<_, DomainError>(())
            })
            .await?;
        *self.graph.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.entra_app().await
    }

    /// The Graph client for the current registration (rebuilt when it changes).
    pub async fn graph_client(&self) -> DomainResult<Arc<GraphClient>> {
        let Credentials {
            app,
            secret,
            certificate,
        } = self.entra_credentials().await?;
        let not_configured = || {
            DomainError::Conflict(
                "The Microsoft Entra app registration is not configured: add the client id and a certificate (or a client secret) under Settings → Integrations → Microsoft Entra ID.".into(),
            )
        };
        let app = app.ok_or_else(not_configured)?;
        // The cache key covers everything the client is built from; a changed credential
        // builds a new client (and so a new token cache).
        let key = match (&certificate, &secret) {
            (Some((c, _)), _) => crate::crypto::digest_hex(&format!(
                "{}\ncert\n{}\n{}",
                app.client_id, c.certificate_pem, c.private_key_pem
            )),
            (None, Some(s)) => crate::crypto::digest_hex(&format!("{}\n{}", app.client_id, s)),
            (None, None) => return Err(not_configured()),
        };
        let mut guard = self.graph.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, c)) = guard.as_ref().filter(|(k, _)| *k == key) {
            return Ok(c.clone());
        }
        let credential = match (certificate, secret) {
            (Some((c, source)), _) => Credential::Certificate(Arc::new(
                ClientCertificate::from_pem(&c.private_key_pem, &c.certificate_pem).map_err(
                    |e| {
                        DomainError::Conflict(format!(
                            "The Entra app certificate (from {source}) cannot be used: {e}"
                        ))
                    },
                )?,
            )),
            (None, Some(s)) => Credential::ClientSecret(ClientSecret::new(s)),
            (None, None) => return Err(not_configured()),
        };
        let http = crate::http_client::default_client()
            .map_err(|e| DomainError::internal("building the HTTP client", e))?;
        let client = Arc::new(
            GraphClient::new(http, app.client_id, credential)
                .with_clock(self.clock.clone())
                .with_observer(self.graph_observer.clone())
                .with_base_urls(&self.microsoft.login_url, &self.microsoft.graph_url),
        );
        *guard = Some((key, client.clone()));
        Ok(client)
    }
}

/// A Graph failure as audit details: status, codes, message, request ids and body excerpt.
pub fn graph_error_details(e: &GraphError) -> serde_json::Value {
    serde_json::json!({
        "status": e.status,
        "code": e.code,
        "inner_code": e.inner_code,
        "message": e.message,
        "request_id": e.request_id,
        "client_request_id": e.client_request_id,
        "date": e.date,
        "path": e.path,
        "attempts": e.attempts,
        "retry_after_secs": e.retry_after.map(|d| d.as_secs_f64()),
        "body": e.body_excerpt,
        "error": e.to_string(),
    })
}

impl Services {
    /// The registration as an OpenID Connect relying party. Sign-in authenticates to the
    /// token endpoint with the same credential as Graph (the certificate when there is one),
    /// taken from the cached Graph client so both always agree.
    pub(crate) async fn relying_party(&self) -> DomainResult<crate::oidc::RelyingParty> {
        let graph = self.graph_client().await?;
        let client_id = graph.client_id().to_string();
        let auth = match graph.credential() {
            Credential::ClientSecret(s) => crate::oidc::ClientAuth::Secret(s.expose().to_string()),
            Credential::Certificate(cert) => {
                let (cert, id, clock) = (cert.clone(), client_id.clone(), self.clock.clone());
                crate::oidc::ClientAuth::Assertion(Arc::new(move |token_url: &str| {
                    cert.assertion(&id, token_url, clock.now())
                        .map_err(|e| e.to_string())
                }))
            }
        };
        Ok(crate::oidc::RelyingParty {
            login_url: self.microsoft.login_url.clone(),
            client_id,
            auth,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_output_of_the_microsoft_settings_never_shows_secrets() {
        let domain = super::MicrosoftSetup {
            client_secret: crate::model::Secret::new("very-secret-value"),
            private_key_pem: crate::model::Secret::new("-----BEGIN PRIVATE KEY-----"),
            ..Default::default()
        };
        let shown = format!("{domain:?}");
        assert!(
            !shown.contains("very-secret-value") && !shown.contains("PRIVATE KEY"),
            "{shown}"
        );
    }
}
