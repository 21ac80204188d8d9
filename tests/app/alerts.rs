//! Alerts (#13) against the simulator, a local SMTP sink and a webhook receiver: consent
//! revoked → exactly one alert e-mail and one webhook call, re-consent → one recovery each;
//! a tenant without Intune never alerts; a failing webhook is retried and audited; secrets
//! are never shown again; Send test goes through the same delivery.

use crate::alerts_support::{SmtpSink, WebhookReceiver};
use crate::helpers::*;
use crate::sync_helpers::*;
use serde_json::{Value, json};
use tenantry::model::{JobFilter, JobState};

/// Configure e-mail to the sink and one generic webhook, through the API.
async fn configure(env: &SyncEnv, sink: &SmtpSink, hook: &WebhookReceiver) -> Value {
    let token = env.app.admin_token().await;
    let r = env
        .app
        .client
        .put(env.app.at("/api/v1/settings/notifications"))
        .bearer_auth(&token)
        .json(&json!({
            "smtp": {"host": "127.0.0.1", "port": sink.port, "security": "none",
                     "username": "alerts", "from": "tenantry@msp.example",
                     "to": ["noc@msp.example"]},
            "smtp_password": "smtp-password-value",
            "webhooks": [{"format": "generic", "url": hook.url}],
        }))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

/// Wait until no alert delivery is queued or running.
async fn deliveries_idle(env: &SyncEnv) {
    eventually("alert deliveries finished", || async {
        let page = env
            .services()
            .jobs_filtered(
                JobFilter {
                    kind: Some("alert_delivery".into()),
                    ..JobFilter::default()
                },
                1,
                100,
            )
            .await
            .expect("jobs");
        page.items
            .iter()
            .all(|j| !j.state.is_active())
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn consent_revoked_alerts_once_and_recovers_once() {
    let sink = SmtpSink::start().await;
    let hook = WebhookReceiver::start().await;
    let env = sync_env().await;
    let t = env.tenant("Contoso Alerts", 5, 2, true);
    let (company, first) = env.connect("Contoso Alerts", &t.id).await;
    assert_eq!(first.state, JobState::Succeeded);
    let shown = configure(&env, &sink, &hook).await;
    // Secrets go in, never out.
    let text = shown.to_string();
    assert!(
        !text.contains("smtp-password-value") && !text.contains(&hook.url),
        "{text}"
    );
    assert_eq!(shown["smtp_password_set"], true);
    assert_eq!(shown["webhooks"][0]["host"], "127.0.0.1");

    env.ctl.revoke_consent(&t.id, CLIENT_ID).expect("revoke");
    // Three failed syncs in a row: one incident, one message (not one per failure), and the
    // "failed N times" rule stays quiet because the credentials alert names the cause.
    for _ in 0..3 {
        let job = env.sync(company).await;
        assert_eq!(job.state, JobState::Failed);
    }
    eventually("the alert e-mail", || async {
        (sink.mails().len() == 1).then_some(())
    })
    .await;
    deliveries_idle(&env).await;
    assert_eq!(sink.mails().len(), 1, "one e-mail per incident");
    assert_eq!(hook.bodies().len(), 1, "one webhook call per incident");
    let mail = &sink.mails()[0];
    assert!(mail.contains("Contoso Alerts"), "{mail}");
    assert!(
        mail.contains("Subject: [Tenantry] Contoso Alerts"),
        "{mail}"
    );
    let body = &hook.bodies()[0];
    assert_eq!(body["event"], "alert");
    assert_eq!(body["rule"], "credentials");
    assert_eq!(body["company"]["id"], company);

    // The dashboard puts it first, with its incident.
    env.app.login().await;
    let html = env.app.get_text("/").await;
    assert!(html.contains("Consent revoked"), "incident shown");

    env.ctl
        .grant_consent(&t.id, CLIENT_ID)
        .expect("consent again");
    let job = env.sync(company).await;
    assert_eq!(job.state, JobState::Succeeded);
    eventually("the recovery e-mail", || async {
        (sink.mails().len() == 2).then_some(())
    })
    .await;
    deliveries_idle(&env).await;
    assert_eq!(sink.mails().len(), 2);
    assert_eq!(hook.bodies().len(), 2);
    assert!(sink.mails()[1].contains("Resolved"), "{}", sink.mails()[1]);
    assert_eq!(hook.bodies()[1]["event"], "recovery");
    // Another good sync sends nothing more.
    env.sync(company).await;
    deliveries_idle(&env).await;
    assert_eq!(sink.mails().len(), 2);
    let sent = env.audit(company, "alert.sent").await;
    assert_eq!(sent.len(), 2, "each delivered message audited");
    env.stop().await;
}

#[tokio::test]
async fn a_tenant_without_intune_never_alerts() {
    let sink = SmtpSink::start().await;
    let hook = WebhookReceiver::start().await;
    let env = sync_env().await;
    let t = env.tenant("Fabrikam NoIntune", 4, 0, false);
    let (company, first) = env.connect("Fabrikam NoIntune", &t.id).await;
    configure(&env, &sink, &hook).await;
    assert_eq!(first.state, JobState::Succeeded);
    for _ in 0..3 {
        let job = env.sync(company).await;
        assert_eq!(job.state, JobState::Succeeded, "no Intune is not a failure");
        assert!(
            !job.warnings.is_empty(),
            "the licence state is recorded as a warning"
        );
    }
    deliveries_idle(&env).await;
    assert!(sink.mails().is_empty() && hook.bodies().is_empty());
    assert!(env.audit(company, "alert.open").await.is_empty());
    env.stop().await;
}

#[tokio::test]
async fn a_failing_webhook_is_retried_and_audited() {
    let sink = SmtpSink::start().await;
    let hook = WebhookReceiver::start().await;
    hook.fail.store(2, std::sync::atomic::Ordering::SeqCst);
    let env = sync_env().await;
    configure(&env, &sink, &hook).await;
    env.app.login().await;
    // Send test, through the page.
    let html = env.app.get_text("/settings/notifications").await;
    assert!(!html.contains("smtp-password-value") && !html.contains(&hook.url));
    let r = env
        .app
        .post_form(
            "/settings/notifications",
            "/settings/notifications/test",
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    eventually("the webhook accepted on the third attempt", || async {
        (hook.bodies().len() == 1).then_some(())
    })
    .await;
    deliveries_idle(&env).await;
    assert_eq!(hook.refused.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(hook.bodies()[0]["event"], "test");
    // E-mail went out on the first attempt and was not sent again on the retries.
    assert_eq!(sink.mails().len(), 1);
    let failures = env
        .services()
        .audit_page(
            tenantry::model::AuditFilter {
                kind: Some("alert.delivery".into()),
                ..Default::default()
            },
            1,
            50,
        )
        .await
        .expect("audit")
        .items;
    assert_eq!(failures.len(), 2, "each failed delivery audited");
    assert!(failures.iter().all(|e| e.summary.contains("HTTP 500")));
    assert!(
        failures.iter().all(|e| !e.summary.contains("/hook")),
        "the webhook URL (a credential) stays out of the audit log"
    );
    env.stop().await;
}

#[tokio::test]
async fn notification_form_validates_and_keeps_secrets() {
    let env = sync_env().await;
    env.app.login().await;
    let html = env.app.get_text("/settings/notifications").await;
    let csrf = csrf_in(&html);
    let r = env
        .app
        .post_raw(
            "/settings/notifications",
            &[
                ("csrf", csrf.as_str()),
                ("smtp_host", "mail.example.com"),
                ("smtp_port", "25"),
                ("smtp_security", "none"),
                ("smtp_from", "a@example.com"),
                ("smtp_to", "b@example.com"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422, "plain SMTP to another machine is refused");
    let r = env
        .app
        .post_raw(
            "/settings/notifications",
            &[
                ("csrf", csrf.as_str()),
                ("smtp_host", "mail.example.com"),
                ("smtp_port", "587"),
                ("smtp_security", "starttls"),
                ("smtp_username", "alerts"),
                ("smtp_password", "hunter2-secret"),
                ("smtp_from", "a@example.com"),
                ("smtp_to", "b@example.com, c@example.com"),
                ("rule_sync_failed", "on"),
                ("threshold_sync_failed", "5"),
                ("webhook_format", "slack"),
                (
                    "webhook_url",
                    "https://hooks.slack.com/services/T0/B0/secretpart",
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let html = env.app.get_text("/settings/notifications").await;
    assert!(!html.contains("hunter2-secret") && !html.contains("secretpart"));
    assert!(html.contains("hooks.slack.com"));
    let v = env.services().notifications().await.expect("view");
    assert!(v.smtp_password_set);
    assert_eq!(v.settings.smtp.to, vec!["b@example.com", "c@example.com"]);
    let rule = v.settings.rule(tenantry::model::AlertRule::SyncFailed);
    assert!(rule.enabled && rule.threshold == 5);
    assert!(
        !v.settings
            .rule(tenantry::model::AlertRule::Credentials)
            .enabled,
        "unticked is off"
    );
    // The CSRF token is required.
    let r = env
        .app
        .post_raw("/settings/notifications", &[("smtp_host", "")])
        .await;
    assert!(r.status().is_client_error());
    env.stop().await;
}

#[tokio::test]
async fn losing_intune_after_having_it_is_a_failure_not_a_licence_state() {
    let env = sync_env().await;
    let t = env.tenant("Northwind Lapsed", 3, 2, true);
    let (company, first) = env.connect("Northwind Lapsed", &t.id).await;
    assert_eq!(first.state, JobState::Succeeded);
    assert!(first.warnings.is_empty());
    env.ctl
        .update_tenant(
            &t.id,
            tenantry::simulator::TenantPatch {
                intune: Some(false),
                ..Default::default()
            },
        )
        .expect("intune off");
    let job = env.sync(company).await;
    assert_eq!(job.state, JobState::Failed, "it had Intune before: {job:?}");
    assert!(
        job.error
            .as_deref()
            .unwrap_or_default()
            .contains("Intune was available before")
    );
    env.stop().await;
}
