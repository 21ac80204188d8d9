//! Validation run at load: every refusal names the key and says why.

use super::{Config, ConfigError};
use std::str::FromStr;

/// A parsed schedule pair in its time zone.
#[derive(Debug, Clone)]
pub struct ValidatedSchedule {
    pub identity: cron::Schedule,
    pub evidence: cron::Schedule,
    pub timezone: chrono_tz::Tz,
}

impl ValidatedSchedule {
    pub fn from_config(c: &Config) -> Result<Self, ConfigError> {
        Ok(Self {
            identity: parse_cron("schedule.identity", &c.schedule.identity)?,
            evidence: parse_cron("schedule.evidence", &c.schedule.evidence)?,
            timezone: c.schedule.timezone.parse::<chrono_tz::Tz>().map_err(|_| {
                ConfigError::invalid(
                    "schedule.timezone",
                    format!(
                        "{:?} is not an IANA time zone (e.g. UTC, Europe/London)",
                        c.schedule.timezone
                    ),
                )
            })?,
        })
    }
}

fn parse_cron(key: &str, expr: &str) -> Result<cron::Schedule, ConfigError> {
    let fields = expr.split_whitespace().count();
    if fields == 5 {
        return Err(ConfigError::invalid(
            key,
            format!(
                "{expr:?} has 5 fields; use 6: sec min hour day-of-month month day-of-week (e.g. \"0 {expr}\")"
            ),
        ));
    }
    let schedule = cron::Schedule::from_str(expr).map_err(|e| {
        ConfigError::invalid(key, format!("{expr:?} is not a valid cron expression: {e}"))
    })?;
    if schedule.upcoming(chrono::Utc).next().is_none() {
        return Err(ConfigError::invalid(key, format!("{expr:?} never fires")));
    }
    Ok(schedule)
}

fn check_url(key: &str, value: &str) -> Result<(), ConfigError> {
    let url = url::Url::parse(value)
        .map_err(|e| ConfigError::invalid(key, format!("{value:?} is not a URL: {e}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ConfigError::invalid(
            key,
            format!("{value:?} must start with https:// (or http:// for localhost)"),
        ));
    }
    Ok(())
}

/// `[microsoft] certificate_file` + `private_key_file`: both or neither, readable, and a
/// usable pair (PEM, RSA, the key belongs to the certificate), so a bad pair is refused at
/// start and by `check-config` instead of at the first sync.
fn check_certificate_pair(c: &Config) -> Result<(), ConfigError> {
    let m = &c.microsoft;
    let (cert, key) = match (m.certificate_file.is_empty(), m.private_key_file.is_empty()) {
        (true, true) => return Ok(()),
        (false, false) => (&m.certificate_file, &m.private_key_file),
        _ => {
            return Err(ConfigError::invalid(
                "microsoft.certificate_file",
                "certificate_file and private_key_file must be set together",
            ));
        }
    };
    let read = |key: &str, path: &str| {
        std::fs::read_to_string(path)
            .map_err(|e| ConfigError::invalid(key, format!("cannot read {path}: {e}")))
    };
    let cert_pem = read("microsoft.certificate_file", cert)?;
    let key_pem = read("microsoft.private_key_file", key)?;
    crate::graph::ClientCertificate::from_pem(&key_pem, &cert_pem)
        .map_err(|e| ConfigError::invalid("microsoft.certificate_file", e.to_string()))?;
    Ok(())
}

pub(super) fn validate(c: &Config) -> Result<(), ConfigError> {
    c.server
        .listen
        .parse::<std::net::SocketAddr>()
        .map_err(|_| {
            ConfigError::invalid(
                "server.listen",
                format!(
                    "{:?} is not an address like 127.0.0.1:8080",
                    c.server.listen
                ),
            )
        })?;
    if !c.server.public_url.is_empty() {
        check_url("server.public_url", &c.server.public_url)?;
    }
    if c.server.data_dir.trim().is_empty() {
        return Err(ConfigError::invalid("server.data_dir", "must not be empty"));
    }
    tracing_subscriber::EnvFilter::try_new(&c.server.log_level).map_err(|e| {
        ConfigError::invalid("server.log_level", format!("{:?}: {e}", c.server.log_level))
    })?;
    if !matches!(c.server.log_format.as_str(), "text" | "json") {
        return Err(ConfigError::invalid(
            "server.log_format",
            "must be \"text\" or \"json\"",
        ));
    }
    match (c.server.tls_cert.is_empty(), c.server.tls_key.is_empty()) {
        (true, true) => {}
        (false, false) => {
            for (key, path) in [
                ("server.tls_cert", &c.server.tls_cert),
                ("server.tls_key", &c.server.tls_key),
            ] {
                std::fs::metadata(path)
                    .map_err(|e| ConfigError::invalid(key, format!("cannot read {path}: {e}")))?;
            }
        }
        _ => {
            return Err(ConfigError::invalid(
                "server.tls_cert",
                "tls_cert and tls_key must be set together",
            ));
        }
    }
    if c.server.session_hours == 0 || c.server.session_hours > 24 * 30 {
        return Err(ConfigError::invalid(
            "server.session_hours",
            "must be between 1 and 720",
        ));
    }
    if c.server.max_body_kib < 16 {
        return Err(ConfigError::invalid(
            "server.max_body_kib",
            "must be at least 16",
        ));
    }
    for entry in &c.server.trusted_proxies {
        crate::model::IpNet::parse(entry)
            .map_err(|reason| ConfigError::invalid("server.trusted_proxies", reason))?;
    }
    if c.server.password_hash_concurrency > 64 {
        return Err(ConfigError::invalid(
            "server.password_hash_concurrency",
            "must be between 0 (one per CPU core) and 64",
        ));
    }
    if c.server.max_in_flight == 0 || c.server.max_in_flight > 10_000 {
        return Err(ConfigError::invalid(
            "server.max_in_flight",
            "must be between 1 and 10000",
        ));
    }
    if c.server.overload_wait_ms > 60_000 {
        return Err(ConfigError::invalid(
            "server.overload_wait_ms",
            "must be between 0 and 60000",
        ));
    }
    ValidatedSchedule::from_config(c)?;
    if c.jobs.workers == 0 || c.jobs.workers > 64 {
        return Err(ConfigError::invalid(
            "jobs.workers",
            "must be between 1 and 64",
        ));
    }
    if c.jobs.max_attempts == 0 {
        return Err(ConfigError::invalid(
            "jobs.max_attempts",
            "must be at least 1",
        ));
    }
    if c.jobs.keep_days == 0 || c.jobs.keep_days > 36_500 {
        return Err(ConfigError::invalid(
            "jobs.keep_days",
            "must be between 1 and 36500",
        ));
    }
    if c.audit.retention_days == 0 || c.audit.retention_days > 36_500 {
        return Err(ConfigError::invalid(
            "audit.retention_days",
            "must be between 1 and 36500",
        ));
    }
    if c.evidence.retention_days == 0 || c.evidence.retention_days > 36_500 {
        return Err(ConfigError::invalid(
            "evidence.retention_days",
            "must be between 1 and 36500",
        ));
    }
    // Fewer entries than this keep too little history to investigate anything: a typo.
    if c.audit.max_entries < 1_000 {
        return Err(ConfigError::invalid(
            "audit.max_entries",
            "must be at least 1000",
        ));
    }
    if c.store.cache_mb < 4 || c.store.cache_mb > 65_536 {
        return Err(ConfigError::invalid(
            "store.cache_mb",
            "must be between 4 and 65536 (MiB)",
        ));
    }
    if c.store.concurrent_reads > 1_024 {
        return Err(ConfigError::invalid(
            "store.concurrent_reads",
            "must be between 0 (twice the CPUs) and 1024",
        ));
    }
    check_url("microsoft.login_url", &c.microsoft.login_url)?;
    check_url("microsoft.graph_url", &c.microsoft.graph_url)?;
    if !c.microsoft.client_secret_file.is_empty() {
        std::fs::metadata(&c.microsoft.client_secret_file).map_err(|e| {
            ConfigError::invalid(
                "microsoft.client_secret_file",
                format!("cannot read {}: {e}", c.microsoft.client_secret_file),
            )
        })?;
    }
    check_certificate_pair(c)?;
    check_metrics(c)?;
    Ok(())
}

/// `[metrics]`: the list parses, a token is long enough, and an enabled endpoint is reachable
/// by someone (an empty allow-list and no token would answer every scrape 403).
fn check_metrics(c: &Config) -> Result<(), ConfigError> {
    let m = &c.metrics;
    for entry in &m.allow_from {
        crate::model::IpNet::parse(entry)
            .map_err(|reason| ConfigError::invalid("metrics.allow_from", reason))?;
    }
    if !m.token.is_empty() && !m.token_file.is_empty() {
        return Err(ConfigError::invalid(
            "metrics.token",
            "set token or token_file, not both",
        ));
    }
    if !m.token_file.is_empty() {
        let t = std::fs::read_to_string(&m.token_file).map_err(|e| {
            ConfigError::invalid(
                "metrics.token_file",
                format!("cannot read {}: {e}", m.token_file),
            )
        })?;
        check_metrics_token("metrics.token_file", t.trim())?;
    }
    if !m.token.is_empty() {
        check_metrics_token("metrics.token", &m.token)?;
    }
    if m.enabled && m.allow_from.is_empty() && m.token.is_empty() && m.token_file.is_empty() {
        return Err(ConfigError::invalid(
            "metrics.enabled",
            "nobody could scrape: set metrics.allow_from or a token",
        ));
    }
    Ok(())
}

fn check_metrics_token(key: &str, token: &str) -> Result<(), ConfigError> {
    if token.chars().count() < 24 || token.chars().any(|ch| ch.is_whitespace()) {
        return Err(ConfigError::invalid(
            key,
            "the token must be at least 24 characters without spaces",
        ));
    }
    Ok(())
}
