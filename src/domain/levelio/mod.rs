//! Level.io connection: the API key (sealed at rest, shown only by its last four characters),
//! the API root, a test that reports what the key can read, and disconnect (data kept). Every
//! change is audited (docs/levelio.md#connect).

mod groups;
pub mod records;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::authority::AdminActor;
use super::{DomainError, DomainResult, Services};
use crate::levelio::{ApiKey, DEFAULT_API_URL, LevelClient, LevelError};
use crate::model::{Actor, NewAuditEvent, ValidationError};
use crate::store::levelio as keys;

pub use groups::{GroupRow, GroupTree};

/// Level settings from configuration (`[level] api_url`, `[level] api_key_file`).
#[derive(Clone, Default)]
pub struct LevelSetup {
    /// Empty: Level's public API.
    pub api_url: String,
    /// Read from `api_key_file` at start.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for LevelSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LevelSetup")
            .field("api_url", &self.api_url)
            .field(
                "api_key",
                &self.api_key.as_ref().map(|k| ApiKey::new(k.clone())),
            )
            .finish()
    }
}

/// What is stored (the key is kept apart, sealed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LevelConnection {
    /// Empty: the configured or default API root.
    pub api_url: String,
    pub key_last4: String,
    pub connected_at: Option<DateTime<Utc>>,
    /// Name of the Level custom field that holds the warranty end date (empty: none).
    pub warranty_field: String,
    /// Read `03/04/2027` as 3 April (day first) rather than 4 March.
    pub day_first: bool,
    pub last_test: Option<LevelTest>,
}

/// What the last "Test connection" found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelTest {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub message: String,
    pub groups: usize,
    pub devices: usize,
    pub custom_fields: usize,
}

/// The effective connection as pages and the API show it (never the key).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelView {
    pub connected: bool,
    /// `settings`, `config` or `none`: where the key comes from.
    pub source: &'static str,
    pub api_url: String,
    pub key_last4: String,
    pub connected_at: Option<DateTime<Utc>>,
    pub warranty_field: String,
    pub day_first: bool,
    pub last_test: Option<LevelTest>,
}

/// A change to the connection. An empty key keeps the stored one.
#[derive(Debug, Clone, Default)]
pub struct LevelInput {
    pub api_key: String,
    pub api_url: String,
    pub warranty_field: String,
    pub day_first: bool,
}

fn check_url(v: &str) -> DomainResult<String> {
    let v = v.trim().trim_end_matches('/').to_string();
    if v.is_empty() {
        return Ok(v);
    }
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() <= 300
        && !v.chars().any(char::is_whitespace);
    if ok {
        Ok(v)
    } else {
        Err(ValidationError::new(
            "api_url",
            "must be an http(s) URL such as https://api.level.io/v2",
        )
        .into())
    }
}

/// A message for people, with what to do.
pub fn describe_level_error(e: &LevelError) -> String {
    match e {
        LevelError::KeyRejected { status, .. } => format!(
            "Level rejected the API key (HTTP {status}). Create a key under Settings → API keys in Level and paste it here."
        ),
        LevelError::Throttled { .. } => {
            "Level is throttling requests; the next sync tries again.".to_string()
        }
        LevelError::Http { status, .. } => format!("Level answered HTTP {status}."),
        LevelError::Transport { message, .. } => format!("Could not reach Level: {message}."),
        LevelError::Decode { .. } => "Level sent an answer Tenantry could not read.".to_string(),
    }
}

impl Services {
    async fn level_stored(&self) -> DomainResult<(LevelConnection, Option<String>)> {
        self.store
            .read(|r| {
                Ok::<_, DomainError>((
                    r.level_setting::<LevelConnection>(keys::LEVEL_CONNECTION)?
                        .unwrap_or_default(),
                    r.level_api_key()?,
                ))
            })
            .await
    }

    fn level_api_url(&self, c: &LevelConnection) -> String {
        if !c.api_url.is_empty() {
            c.api_url.clone()
        } else if !self.level.api_url.is_empty() {
            self.level.api_url.clone()
        } else {
            DEFAULT_API_URL.to_string()
        }
    }

    /// The effective Level connection.
    pub async fn level_view(&self) -> DomainResult<LevelView> {
        let (c, stored_key) = self.level_stored().await?;
        let (source, last4) = match (&stored_key, &self.level.api_key) {
            (Some(k), _) => ("settings", ApiKey::new(k.clone()).last4()),
            (None, Some(k)) => ("config", ApiKey::new(k.clone()).last4()),
            (None, None) => ("none", String::new()),
        };
        Ok(LevelView {
            connected: source != "none",
            source,
            api_url: self.level_api_url(&c),
            key_last4: last4,
            connected_at: c.connected_at,
            warranty_field: c.warranty_field.clone(),
            day_first: c.day_first,
            last_test: c.last_test.clone(),
        })
    }

    /// The client for the current key, or why there is none.
    pub async fn level_client(&self) -> DomainResult<LevelClient> {
        let (c, stored_key) = self.level_stored().await?;
        let key = stored_key.or_else(|| self.level.api_key.clone()).ok_or_else(|| {
            DomainError::Conflict(
                "Level.io is not connected: add an API key under Settings → Integrations → Level.io."
                    .into(),
            )
        })?;
        let http = crate::http_client::default_client()
            .map_err(|e| DomainError::internal("building the HTTP client", e))?;
        Ok(LevelClient::new(
            http,
            &self.level_api_url(&c),
            ApiKey::new(key),
        ))
    }

    /// Saves the connection (key sealed; an empty key keeps the stored one).
    pub async fn connect_level(
        &self,
        admin: AdminActor,
        input: LevelInput,
    ) -> DomainResult<LevelView> {
        let actor: Actor = admin.into();
        let api_url = check_url(&input.api_url)?;
        let key = input.api_key.trim().to_string();
        if key.len() > 500 || key.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ValidationError::new("api_key", "is not a Level API key").into());
        }
        let field = input.warranty_field.trim().to_string();
        if field.chars().count() > 200 {
            return Err(ValidationError::new("warranty_field", "is too long").into());
        }
        let now = self.now();
        let had_config_key = self.level.api_key.is_some();
        self.store
            .write(move |w| {
                let mut c: LevelConnection =
                    w.level_setting(keys::LEVEL_CONNECTION)?.unwrap_or_default();
                let had_key = w.level_api_key()?.is_some();
                if key.is_empty() && !had_key && !had_config_key {
                    return Err(ValidationError::new("api_key", "is required to connect").into());
                }
                if !key.is_empty() {
                    w.set_level_api_key(Some(&key))?;
                    c.key_last4 = ApiKey::new(key.clone()).last4();
                    c.connected_at = Some(now);
                    c.last_test = None;
                }
                c.api_url = api_url.clone();
                c.warranty_field = field.clone();
                c.day_first = input.day_first;
                w.set_level_setting(keys::LEVEL_CONNECTION, &c)?;
                let what = if key.is_empty() {
                    "settings changed, key unchanged".to_string()
                } else {
                    format!("new API key …{}", c.key_last4)
                };
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        actor,
                        "settings.level",
                        format!("Level.io connection saved ({what})"),
                    )
                    .details(serde_json::json!({
                        "api_url": api_url, "warranty_field": field, "day_first": input.day_first,
                    })),
                )?;
                Ok::<_, DomainError>(())
            })
            .await?;
        self.level_view().await
    }

    /// Reads the group tree, the devices and the custom fields with the current key, and says
    /// what it could read. The answer is kept for the settings page and audited.
    pub async fn test_level(&self, admin: AdminActor) -> DomainResult<LevelTest> {
        let actor: Actor = admin.into();
        let client = self.level_client().await?;
        let now = self.now();
        let result = async {
            let groups = client.groups().await?;
            let devices = client.devices().await?;
            let fields = client.custom_fields().await?;
            Ok::<_, LevelError>((groups, devices.len(), fields.len()))
        }
        .await;
        let (test, event) = match result {
            Ok((groups, devices, fields)) => {
                let test = LevelTest {
                    at: now,
                    ok: true,
                    message: format!(
                        "The key can read {} groups, {devices} devices and {fields} custom fields.",
                        groups.len()
                    ),
                    groups: groups.len(),
                    devices,
                    custom_fields: fields,
                };
                let event =
                    NewAuditEvent::new(now, actor, "settings.level_test", test.message.clone());
                self.remember_level_groups(&groups).await?;
                (test, event)
            }
            Err(e) => {
                let test = LevelTest {
                    at: now,
                    ok: false,
                    message: describe_level_error(&e),
                    groups: 0,
                    devices: 0,
                    custom_fields: 0,
                };
                let event = NewAuditEvent::new(
                    now,
                    actor,
                    "settings.level_test",
                    format!("Level.io connection test failed: {}", test.message),
                )
                .failed()
                .details(serde_json::json!({"status": e.status(), "body": e.body()}));
                (test, event)
            }
        };
        let saved = test.clone();
        self.store
            .write(move |w| {
                let mut c: LevelConnection =
                    w.level_setting(keys::LEVEL_CONNECTION)?.unwrap_or_default();
                c.last_test = Some(saved);
                w.set_level_setting(keys::LEVEL_CONNECTION, &c)?;
                w.append_audit(event)?;
                Ok::<_, DomainError>(())
            })
            .await?;
        Ok(test)
    }

    /// Forgets the stored key. Synced assets, group mappings and history stay.
    pub async fn disconnect_level(&self, admin: AdminActor) -> DomainResult<LevelView> {
        let actor: Actor = admin.into();
        let now = self.now();
        self.store
            .write(move |w| {
                let mut c: LevelConnection =
                    w.level_setting(keys::LEVEL_CONNECTION)?.unwrap_or_default();
                let last4 = std::mem::take(&mut c.key_last4);
                c.connected_at = None;
                c.last_test = None;
                w.set_level_api_key(None)?;
                w.set_level_setting(keys::LEVEL_CONNECTION, &c)?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    actor,
                    "settings.level",
                    format!("Level.io disconnected (key …{last4} forgotten; synced data kept)"),
                ))?;
                Ok::<_, DomainError>(())
            })
            .await?;
        self.level_view().await
    }
}
