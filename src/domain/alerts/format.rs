//! What an alert says, per channel: the e-mail's subject and text, and the three webhook
//! bodies (our generic JSON, a Teams Workflows message with an Adaptive Card, a Slack
//! incoming-webhook message). See docs/alerts.md for the formats and Microsoft's and Slack's
//! pages they follow.

use crate::model::{AlertMessage, AlertRule, MessageKind, WebhookFormat};
use serde_json::{Value, json};

/// The subject line (also the webhooks' title).
pub(super) fn subject(kind: MessageKind, rule: AlertRule, company: &str) -> String {
    let what = match rule {
        AlertRule::SyncFailed => "identity sync failing",
        AlertRule::Credentials => "Microsoft refused the app's credentials or consent",
        AlertRule::Expiry => "app credential expires soon",
        AlertRule::Resync => "delta token expired, full resync ran",
        AlertRule::Stuck => "job stuck",
    };
    let who = if company.is_empty() {
        "Tenantry".to_string()
    } else {
        company.to_string()
    };
    match kind {
        MessageKind::Alert => format!("[Tenantry] {who}: {what}"),
        MessageKind::Recovery => format!("[Tenantry] Resolved — {who}: {what}"),
        MessageKind::Test => "[Tenantry] Test notification".to_string(),
    }
}

pub(super) fn test_message(by: &str) -> (String, String) {
    (
        "[Tenantry] Test notification".into(),
        format!(
            "This is a test notification sent from Settings → Notifications by {by}. \
             If you can read it, alerts reach you here."
        ),
    )
}

/// The body a webhook of `format` receives for `m`.
pub(super) fn webhook_body(format: WebhookFormat, m: &AlertMessage) -> Value {
    match format {
        WebhookFormat::Generic => json!({
            "event": m.kind.as_str(),
            "rule": m.rule.map(|r| r.as_str()),
            "company": m.company_id.map(|id| json!({"id": id, "name": m.company_name})),
            "title": m.subject,
            "text": m.text,
            "at": m.created_at,
            "message_id": m.id,
        }),
        // Slack: `text` is the message (and its notification's fallback).
        WebhookFormat::Slack => json!({
            "text": format!("*{}*\n{}", m.subject, m.text),
        }),
        // Teams Workflows ("When a Teams webhook request is received"): a message whose one
        // attachment is an Adaptive Card. The retired Office 365 connectors took MessageCard;
        // the Workflows trigger takes this shape.
        WebhookFormat::Teams => json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": m.subject, "weight": "Bolder",
                         "size": "Medium", "wrap": true,
                         "color": match m.kind { MessageKind::Alert => "Attention",
                                                 MessageKind::Recovery => "Good",
                                                 MessageKind::Test => "Default" }},
                        {"type": "TextBlock", "text": m.text, "wrap": true},
                    ],
                },
            }],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> AlertMessage {
        AlertMessage {
            id: 7,
            kind: MessageKind::Alert,
            rule: Some(AlertRule::Credentials),
            company_id: Some(3),
            company_name: "Contoso".into(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            subject: subject(MessageKind::Alert, AlertRule::Credentials, "Contoso"),
            text: "AADSTS700016".into(),
            pending: vec![],
        }
    }

    #[test]
    fn each_format_has_its_shape() {
        let m = message();
        let g = webhook_body(WebhookFormat::Generic, &m);
        assert_eq!(g["event"], "alert");
        assert_eq!(g["rule"], "credentials");
        assert_eq!(g["company"]["name"], "Contoso");
        let s = webhook_body(WebhookFormat::Slack, &m);
        assert!(s["text"].as_str().unwrap_or_default().contains("Contoso"));
        let t = webhook_body(WebhookFormat::Teams, &m);
        assert_eq!(t["type"], "message");
        assert_eq!(
            t["attachments"][0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(t["attachments"][0]["content"]["type"], "AdaptiveCard");
    }

    #[test]
    fn recovery_subject_says_resolved() {
        assert!(
            subject(MessageKind::Recovery, AlertRule::SyncFailed, "Fabrikam").contains("Resolved")
        );
    }
}
