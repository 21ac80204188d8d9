//! Checking Settings → Notifications input: every refusal names its field.

use crate::domain::DomainResult;
use crate::model::{AlertRule, RuleSetting, SmtpSecurity, SmtpSettings, ValidationError, Webhook};

/// The host of a URL, for showing a webhook without its secret path.
pub fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "(invalid URL)".into())
}

/// A host name that can only be this machine.
fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn address(field: &'static str, v: &str) -> DomainResult<String> {
    let v = v.trim();
    v.parse::<lettre::Address>()
        .map_err(|_| ValidationError::new(field, format!("{v:?} is not an e-mail address")))?;
    Ok(v.to_string())
}

pub(super) fn smtp(mut s: SmtpSettings) -> DomainResult<SmtpSettings> {
    s.host = s.host.trim().to_string();
    s.username = s.username.trim().to_string();
    if s.host.is_empty() {
        // E-mail off: keep what was typed so the form does not lose it.
        s.to.retain(|t| !t.trim().is_empty());
        return Ok(s);
    }
    if s.host.contains(['/', ' ', ':']) && !s.host.starts_with('[') {
        return Err(ValidationError::new(
            "smtp_host",
            "is a host name or address only (no scheme, no port: the port has its own field)",
        )
        .into());
    }
    if s.port == 0 {
        return Err(ValidationError::new(
            "smtp_port",
            "must be 1 to 65535 (587 for STARTTLS, 465 for TLS)",
        )
        .into());
    }
    if s.security == SmtpSecurity::None && !is_loopback(&s.host) {
        return Err(ValidationError::new(
            "smtp_security",
            "an unencrypted connection is only allowed to a relay on this machine (localhost); use STARTTLS or TLS",
        )
        .into());
    }
    s.from = address("smtp_from", &s.from)?;
    let mut to = Vec::new();
    for t in s.to.iter().flat_map(|t| t.split([',', ';', '\n'])) {
        if !t.trim().is_empty() {
            to.push(address("smtp_to", t)?);
        }
    }
    if to.is_empty() {
        return Err(ValidationError::new("smtp_to", "needs at least one recipient").into());
    }
    if to.len() > 20 {
        return Err(
            ValidationError::new("smtp_to", "at most 20 recipients (use a list address)").into(),
        );
    }
    s.to = to;
    Ok(s)
}

pub(super) fn webhook(mut h: Webhook) -> DomainResult<Webhook> {
    h.url = h.url.trim().to_string();
    let u =
        url::Url::parse(&h.url).map_err(|_| ValidationError::new("webhook_url", "is not a URL"))?;
    let host = u.host_str().unwrap_or_default().to_string();
    match u.scheme() {
        "https" => {}
        // A receiver on this machine (a local relay, or a test) may be plain HTTP.
        "http" if is_loopback(&host) => {}
        _ => {
            return Err(ValidationError::new(
                "webhook_url",
                "must be an https:// URL (Teams and Slack give one)",
            )
            .into());
        }
    }
    if h.url.len() > 2048 {
        return Err(ValidationError::new("webhook_url", "is too long").into());
    }
    Ok(h)
}

pub(super) fn rules(input: &[RuleSetting]) -> DomainResult<Vec<RuleSetting>> {
    let mut out = Vec::new();
    for rule in AlertRule::ALL {
        let Some(r) = input.iter().find(|r| r.rule == rule) else {
            out.push(RuleSetting {
                rule,
                enabled: false,
                threshold: rule.default_threshold(),
            });
            continue;
        };
        let (lo, hi) = match rule {
            AlertRule::SyncFailed => (1, 100),
            AlertRule::Expiry => (1, 365),
            AlertRule::Stuck => (1, 1440),
            AlertRule::Credentials | AlertRule::Resync => (1, 1),
        };
        let threshold = if rule.threshold_unit().is_none() {
            1
        } else if (lo..=hi).contains(&r.threshold) {
            r.threshold
        } else {
            return Err(ValidationError::new(
                "threshold",
                format!("{}: must be {lo} to {hi}", rule.as_str()),
            )
            .into());
        };
        out.push(RuleSetting {
            rule,
            enabled: r.enabled,
            threshold,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_only_to_this_machine() {
        let s = |host: &str, security| SmtpSettings {
            host: host.into(),
            port: 25,
            security,
            username: String::new(),
            from: "tenantry@example.com".into(),
            to: vec!["ops@example.com, noc@example.com".into()],
        };
        assert!(smtp(s("mail.example.com", SmtpSecurity::None)).is_err());
        let ok = smtp(s("127.0.0.1", SmtpSecurity::None)).expect("loopback allowed");
        assert_eq!(ok.to, vec!["ops@example.com", "noc@example.com"]);
        assert!(smtp(s("mail.example.com", SmtpSecurity::Starttls)).is_ok());
        let mut bad = s("mail.example.com", SmtpSecurity::Tls);
        bad.to = vec!["not an address".into()];
        assert!(smtp(bad).is_err());
    }

    #[test]
    fn webhooks_need_https_unless_local() {
        use crate::model::WebhookFormat::Slack;
        let h = |url: &str| {
            webhook(Webhook {
                format: Slack,
                url: url.into(),
            })
        };
        assert!(h("https://hooks.slack.com/services/T/B/X").is_ok());
        assert!(h("http://hooks.slack.com/services/T/B/X").is_err());
        assert!(h("http://127.0.0.1:9999/hook").is_ok());
        assert!(h("ftp://127.0.0.1/hook").is_err());
        assert_eq!(
            host_of("https://hooks.slack.com/services/T/B/X"),
            "hooks.slack.com"
        );
    }
}
