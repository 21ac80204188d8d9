//! Configuration: typed defaults < TOML file < `TENANTRY_<SECTION>_<KEY>` environment < CLI flags.
//!
//! The file is strict (`deny_unknown_fields`) so a typo is refused at start with the key
//! name, instead of silently running with a default. Every key can be overridden from the
//! environment; the list of overridable keys is derived from the defaults themselves, so a
//! new key is overridable without further code. `check-config` prints where each effective
//! value came from.

mod validate;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use validate::ValidatedSchedule;

/// Where the installed appliance looks for its configuration when `--config` is not given.
pub const SYSTEM_CONFIG_PATH: &str = "/etc/tenantry/tenantry.toml";

/// Environment variables that are not config keys but are still ours (so we don't warn).
const KNOWN_NON_KEY_ENV: &[&str] = &[
    "TENANTRY_CONFIG",
    "TENANTRY_ADMIN_EMAIL",
    "TENANTRY_ADMIN_PASSWORD",
    "TENANTRY_LOG",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub schedule: ScheduleConfig,
    pub jobs: JobsConfig,
    pub audit: AuditConfig,
    pub evidence: EvidenceConfig,
    pub store: StoreConfig,
    pub microsoft: MicrosoftConfig,
    pub secrets: SecretsConfig,
    pub metrics: MetricsConfig,
    pub level: LevelConfig,
}

/// Level.io RMM (docs/levelio.md). The key can also be set in Settings → Integrations →
/// Level.io, where it is stored encrypted; a key stored there wins.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LevelConfig {
    /// API root; empty = Level's public API (`https://api.level.io/v2`).
    pub api_url: String,
    /// File holding a Level API key (e.g. a systemd credential).
    pub api_key_file: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the web UI and API listen on.
    pub listen: String,
    /// The URL people and Microsoft use to reach us (redirect URIs are built from it).
    /// Empty means `http://<listen>`.
    pub public_url: String,
    /// Directory holding the database (and the secret key when `secrets.key_file` is empty).
    pub data_dir: String,
    /// tracing filter: `error`, `warn`, `info`, `debug`, `trace` or a directive list.
    pub log_level: String,
    /// `text` (journald-friendly) or `json`.
    pub log_format: String,
    /// PEM certificate chain; with `tls_key`, the appliance serves HTTPS itself.
    pub tls_cert: String,
    /// PEM private key for `tls_cert`.
    pub tls_key: String,
    /// Staff session lifetime in hours.
    pub session_hours: u32,
    /// Largest accepted request body in KiB.
    pub max_body_kib: u32,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` / `Forwarded`
    /// header names the client. Empty: the TCP peer is the client, headers are ignored.
    pub trusted_proxies: Vec<String>,
    /// How many password hashes (argon2id, 19 MiB each) run at once; 0 = one per CPU core.
    pub password_hash_concurrency: u32,
    /// Requests served at once; past it a request waits `overload_wait_ms` for a turn, then
    /// gets 503 with `Retry-After` (static files and health checks are never held back).
    pub max_in_flight: u32,
    /// How long a request past `max_in_flight` waits for a turn before its 503, in ms.
    pub overload_wait_ms: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Identity sync (users, groups, devices), 6-field cron: sec min hour day month weekday.
    pub identity: String,
    /// Evidence sync (CA policies, MFA registration, compliance).
    pub evidence: String,
    /// IANA time zone the schedules are read in.
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// How many jobs run at once (tenants sync in parallel up to this bound). A sync waits on
    /// Graph far more than it computes, so this is sized for I/O, not for cores; it is also
    /// the ceiling on Graph requests in flight, since an identity sync sends one at a time.
    pub workers: u32,
    /// Attempts before a job is marked failed.
    pub max_attempts: u32,
    /// First retry delay in seconds; doubles on every further attempt.
    pub backoff_seconds: u32,
    /// Seconds a graceful shutdown waits for running jobs before requeueing them.
    pub shutdown_grace_seconds: u32,
    /// Finished jobs older than this many days are removed by the daily prune (each
    /// company's newest job of each kind stays).
    pub keep_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Entries older than this many days are removed by the daily prune.
    pub retention_days: u32,
    /// Above this many entries the daily prune removes the oldest.
    pub max_entries: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceConfig {
    /// Evidence snapshots older than this many days are removed by the daily prune (each
    /// company's latest snapshot is always kept).
    pub retention_days: u32,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        Self {
            retention_days: 400,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// MiB of memory the cached database pages may take (the allocator's share counted in,
    /// `store::handle::cache_bytes`). redb's own default (1 GiB) lets the process grow with
    /// the database; a small VM wants a bound.
    pub cache_mb: u32,
    /// Store reads run at once on the blocking pool; the others wait their turn, first come
    /// first served (`store::reads`). 0: twice the CPUs.
    pub concurrent_reads: u32,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MicrosoftConfig {
    /// Microsoft identity platform host (national clouds and the simulator change it).
    pub login_url: String,
    /// Microsoft Graph host.
    pub graph_url: String,
    /// Application (client) id of Tenantry's Entra app registration; empty = set it in the UI.
    pub client_id: String,
    /// Client secret of the app registration. Prefer `client_secret_file` or the UI (stored encrypted).
    pub client_secret: String,
    /// File holding the client secret (e.g. a systemd credential).
    pub client_secret_file: String,
    /// PEM certificate uploaded to the app registration (Certificates & secrets). With
    /// `private_key_file`, token requests use a signed client assertion instead of the secret
    /// (Microsoft's recommended option). Read at start; the UI can store one instead.
    pub certificate_file: String,
    /// PEM RSA private key (unencrypted PKCS#8 or PKCS#1) of `certificate_file`.
    pub private_key_file: String,
}

/// By hand, so `{:?}` of the configuration never shows the client secret.
impl std::fmt::Debug for MicrosoftConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MicrosoftConfig")
            .field("login_url", &self.login_url)
            .field("graph_url", &self.graph_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &crate::model::Secret::new(self.client_secret.clone()),
            )
            .field("client_secret_file", &self.client_secret_file)
            .field("certificate_file", &self.certificate_file)
            .field("private_key_file", &self.private_key_file)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// File with the 32-byte key that encrypts secrets at rest. Empty means
    /// `$CREDENTIALS_DIRECTORY/secret-key` under systemd, else `<data_dir>/secret.key`
    /// (created on first start with mode 0600).
    pub key_file: String,
}

/// `GET /metrics` (Prometheus text format). Off by default; when on, a scrape is answered if
/// the TCP peer is in `allow_from` **or** it presents `Authorization: Bearer <token>`.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `/metrics` at all.
    pub enabled: bool,
    /// Addresses or CIDR blocks that may scrape without a token (the TCP peer, never a
    /// forwarded header). Loopback only by default; empty = token only.
    pub allow_from: Vec<String>,
    /// Bearer token a scraper may present instead (at least 24 characters). Prefer `token_file`.
    pub token: String,
    /// File holding the bearer token (e.g. a systemd credential).
    pub token_file: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            allow_from: vec!["127.0.0.0/8".into(), "::1".into()],
            token: String::new(),
            token_file: String::new(),
        }
    }
}

/// By hand, so `{:?}` of the configuration never shows the scrape token.
impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig")
            .field("enabled", &self.enabled)
            .field("allow_from", &self.allow_from)
            .field("token", &crate::model::Secret::new(self.token.clone()))
            .field("token_file", &self.token_file)
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            data_dir: "./data".into(),
            log_level: "info".into(),
            log_format: "text".into(),
            tls_cert: String::new(),
            tls_key: String::new(),
            session_hours: 12,
            max_body_kib: 256,
            trusted_proxies: Vec::new(),
            password_hash_concurrency: 0,
            max_in_flight: 32,
            overload_wait_ms: 1_000,
        }
    }
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            identity: "0 0 */4 * * *".into(),
            evidence: "0 15 */6 * * *".into(),
            timezone: "UTC".into(),
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            workers: 16,
            max_attempts: 5,
            backoff_seconds: 30,
            shutdown_grace_seconds: 30,
            keep_days: 30,
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            cache_mb: 64,
            concurrent_reads: 0,
        }
    }
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            retention_days: 400,
            max_entries: 1_000_000,
        }
    }
}

impl Default for MicrosoftConfig {
    fn default() -> Self {
        Self {
            login_url: "https://login.microsoftonline.com".into(),
            graph_url: "https://graph.microsoft.com".into(),
            client_id: String::new(),
            client_secret: String::new(),
            client_secret_file: String::new(),
            certificate_file: String::new(),
            private_key_file: String::new(),
        }
    }
}

/// Where an effective value came from (printed by `check-config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    Env,
    Cli,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Env => "env",
            Source::Cli => "cli",
        })
    }
}

/// A refused configuration: which key, and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("config file {path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: String },
}

impl ConfigError {
    pub fn invalid(key: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// The loaded configuration, the file it came from, where each key came from, and warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
    pub sources: BTreeMap<String, Source>,
    pub warnings: Vec<String>,
}

/// Command-line overrides (highest precedence).
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub listen: Option<String>,
    pub data_dir: Option<String>,
}

/// Which file to read: `--config`, else `$TENANTRY_CONFIG`, else the system path when it
/// exists (an installed appliance), else none (a checkout: built-in defaults).
pub fn resolve_path(cli: Option<&Path>, env: &BTreeMap<String, String>) -> Option<PathBuf> {
    if let Some(p) = cli {
        return Some(p.to_path_buf());
    }
    if let Some(p) = env.get("TENANTRY_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let system = Path::new(SYSTEM_CONFIG_PATH);
    system.exists().then(|| system.to_path_buf())
}

/// Load from an optional file, the given environment and CLI overrides, then validate.
pub fn load(
    path: Option<&Path>,
    env: &BTreeMap<String, String>,
    cli: &CliOverrides,
) -> Result<Loaded, ConfigError> {
    let defaults = toml::Table::try_from(Config::default()).map_err(|e| ConfigError::Parse {
        path: "<defaults>".into(),
        reason: e.to_string(),
    })?;
    let mut merged = defaults.clone();
    let mut sources: BTreeMap<String, Source> = BTreeMap::new();
    for (section, keys) in &defaults {
        if let Some(keys) = keys.as_table() {
            for key in keys.keys() {
                sources.insert(format!("{section}.{key}"), Source::Default);
            }
        }
    }

    if let Some(path) = path {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let file: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        for (section, value) in file {
            let Some(dst) = merged.get_mut(&section).and_then(|v| v.as_table_mut()) else {
                return Err(ConfigError::invalid(&section, "unknown section"));
            };
            let Some(keys) = value.as_table() else {
                return Err(ConfigError::invalid(&section, "must be a [section] table"));
            };
            for (key, v) in keys {
                if !dst.contains_key(key) {
                    return Err(ConfigError::invalid(
                        &format!("{section}.{key}"),
                        "unknown key",
                    ));
                }
                dst.insert(key.clone(), v.clone());
                sources.insert(format!("{section}.{key}"), Source::File);
            }
        }
    }

    let mut warnings = Vec::new();
    let mut known_env: Vec<String> = KNOWN_NON_KEY_ENV.iter().map(|s| s.to_string()).collect();
    for (section, keys) in &defaults {
        let Some(keys) = keys.as_table() else {
            continue;
        };
        for (key, default) in keys {
            let name = env_name(section, key);
            known_env.push(name.clone());
            let Some(raw) = env.get(&name) else { continue };
            let value = parse_env_value(default, raw).map_err(|reason| {
                ConfigError::invalid(&format!("{section}.{key} (from {name})"), reason)
            })?;
            if let Some(dst) = merged.get_mut(section).and_then(|v| v.as_table_mut()) {
                dst.insert(key.clone(), value);
            }
            sources.insert(format!("{section}.{key}"), Source::Env);
        }
    }
    for name in env.keys() {
        if name.starts_with("TENANTRY_") && !known_env.contains(name) {
            warnings.push(format!("unknown environment variable {name} is ignored"));
        }
    }

    let mut config: Config =
        toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
                path: path
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "<environment>".into()),
                reason: e.to_string(),
            })?;
    if let Some(listen) = &cli.listen {
        config.server.listen = listen.clone();
        sources.insert("server.listen".into(), Source::Cli);
    }
    if let Some(dir) = &cli.data_dir {
        config.server.data_dir = dir.clone();
        sources.insert("server.data_dir".into(), Source::Cli);
    }
    validate::validate(&config)?;
    Ok(Loaded {
        config,
        path: path.map(Path::to_path_buf),
        sources,
        warnings,
    })
}

/// `TENANTRY_<SECTION>_<KEY>`, upper case.
pub fn env_name(section: &str, key: &str) -> String {
    format!("TENANTRY_{}_{}", section.to_uppercase(), key.to_uppercase())
}

fn parse_env_value(default: &toml::Value, raw: &str) -> Result<toml::Value, String> {
    match default {
        toml::Value::Integer(_) => raw
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("expected a whole number, got {raw:?}")),
        toml::Value::Boolean(_) => match raw.trim() {
            "true" | "1" | "yes" => Ok(toml::Value::Boolean(true)),
            "false" | "0" | "no" => Ok(toml::Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {raw:?}")),
        },
        // Lists come comma-separated (`TENANTRY_SERVER_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8`);
        // an empty value is an empty list, so the environment can clear a file's list.
        toml::Value::Array(_) => Ok(toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        )),
        _ => Ok(toml::Value::String(raw.to_string())),
    }
}

impl Config {
    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}", self.server.listen)
        } else {
            self.server.public_url.trim_end_matches('/').to_string()
        }
    }

    /// Cookies get `Secure` when people reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url().starts_with("https://")
    }

    pub fn data_dir(&self) -> PathBuf {
        PathBuf::from(&self.server.data_dir)
    }

    /// `server.trusted_proxies`, parsed (validation has refused malformed entries).
    pub fn trusted_proxies(&self) -> Vec<crate::model::IpNet> {
        self.server
            .trusted_proxies
            .iter()
            .filter_map(|s| crate::model::IpNet::parse(s).ok())
            .collect()
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir().join("tenantry.redb")
    }

    /// The key file, resolved as documented on [`SecretsConfig::key_file`].
    pub fn key_file(&self, credentials_dir: Option<&Path>) -> PathBuf {
        if !self.secrets.key_file.is_empty() {
            return PathBuf::from(&self.secrets.key_file);
        }
        if let Some(dir) = credentials_dir {
            let p = dir.join("secret-key");
            if p.exists() {
                return p;
            }
        }
        self.data_dir().join("secret.key")
    }

    /// Effective configuration as TOML with secrets masked (for `check-config`).
    pub fn redacted_toml(&self) -> String {
        let mut c = self.clone();
        if !c.microsoft.client_secret.is_empty() {
            c.microsoft.client_secret = "********".into();
        }
        if !c.metrics.token.is_empty() {
            c.metrics.token = "********".into();
        }
        toml::to_string(&c).unwrap_or_default()
    }
}

/// The process environment as a map (only the `TENANTRY_*` part matters).
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("TENANTRY_"))
        .collect()
}

#[cfg(test)]
mod tests;
