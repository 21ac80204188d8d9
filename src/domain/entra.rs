//! The Entra app registration (client id and secret) and the shared Graph client built from it.
//!
//! The registration can come from configuration (`[microsoft] client_id`, `client_secret`)
//! or from Settings / the API, where the secret is stored sealed with the data key. Settings
//! win over configuration, so an MSP can rotate a secret without editing files.

use super::{DomainError, DomainResult, Services};
use crate::graph::{ClientSecret, Credential, GraphClient, GraphError};
use crate::model::{Actor, NewAuditEvent, clean_text};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const SETTING_APP: &str = "entra_app";
const SETTING_SECRET: &str = "entra_client_secret";

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
    ("Policy.Read.All", "conditional access policies (evidence)"),
    ("AuditLog.Read.All", "MFA registration report (evidence)"),
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
}

/// Where the Microsoft endpoints are, plus a registration from configuration (if any).
#[derive(Debug, Clone, Default)]
pub struct MicrosoftConfig {
    pub login_url: String,
    pub graph_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// Where Microsoft sends the admin back after consent (`<public url>/connect/callback`).
    pub redirect_uri: String,
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
        return Err(crate::model::ValidationError::new(
            "client_id",
            "must be the Application (client) ID, a GUID like 7c1a3f0e-5b2d-4e8a-9c6f-1d2e3f4a5b6c",
        )
        .into());
    }
    Ok(v.to_lowercase())
}

impl Services {
    /// The effective app registration (secret never returned).
    pub async fn entra_app(&self) -> DomainResult<EntraAppView> {
        let (app, secret) = self.entra_credentials().await?;
        let source = if app.is_none() {
            "none"
        } else if self
            .store
            .read(|r| r.setting::<EntraApp>(SETTING_APP))
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
        })
    }

    async fn entra_credentials(&self) -> DomainResult<(Option<EntraApp>, Option<String>)> {
        let (stored, secret) = self
            .store
            .read(|r| {
                Ok::<_, DomainError>((
                    r.setting::<EntraApp>(SETTING_APP)?,
                    r.secret_setting(SETTING_SECRET)?,
                ))
            })
            .await?;
        let cfg = &self.microsoft;
        let app = stored.or_else(|| {
            (!cfg.client_id.is_empty()).then(|| EntraApp {
                client_id: cfg.client_id.clone(),
            })
        });
        let secret =
            secret.or_else(|| (!cfg.client_secret.is_empty()).then(|| cfg.client_secret.clone()));
        Ok((app, secret))
    }

    /// Save the app registration. An empty secret keeps the stored one.
    pub async fn set_entra_app(
        &self,
        actor: Actor,
        client_id: &str,
        client_secret: &str,
    ) -> DomainResult<EntraAppView> {
        let client_id = check_client_id(client_id)?;
        let secret = client_secret.trim().to_string();
        if secret.len() > 500 {
            return Err(crate::model::ValidationError::new("client_secret", "is too long").into());
        }
        let now = self.now();
        self.store
            .write(move |w| {
                let had_secret = w.secret_setting(SETTING_SECRET)?.is_some();
                w.set_setting(
                    SETTING_APP,
                    &EntraApp {
                        client_id: client_id.clone(),
                    },
                )?;
                if !secret.is_empty() {
                    w.set_secret_setting(SETTING_SECRET, Some(&secret))?;
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
        let (app, secret) = self.entra_credentials().await?;
        let (Some(app), Some(secret)) = (app, secret) else {
            return Err(DomainError::Conflict(
                "The Microsoft Entra app registration is not configured: add the client id and secret under Settings → Integrations → Microsoft Entra ID.".into(),
            ));
        };
        let key = crate::crypto::digest_hex(&format!("{}\n{}", app.client_id, secret));
        let mut guard = self.graph.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, c)) = guard.as_ref().filter(|(k, _)| *k == key) {
            return Ok(c.clone());
        }
        let http = crate::http_client::default_client()
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        let client = Arc::new(
            GraphClient::new(
                http,
                app.client_id,
                Credential::ClientSecret(ClientSecret::new(secret)),
            )
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
