//! The alert watch's rule (#13): a job running past its heartbeat opens one `stuck` incident
//! (one webhook call however often the watch looks), and its end clears it (one recovery).
//! On a clock the test moves, with jobs run by the test.

use crate::alerts_support::WebhookReceiver;
use crate::helpers::*;
use crate::sync_helpers::builtin_registry;
use tenantry::domain::alerts::NotificationsInput;
use tenantry::domain::authority::AdminActor;
use tenantry::domain::jobs::RunResult;
use tenantry::model::{Actor, AlertRule, SmtpSettings, Trigger, Webhook, WebhookFormat};

#[tokio::test]
async fn a_job_past_its_heartbeat_alerts_once_and_recovers_when_it_ends() {
    let hook = WebhookReceiver::start().await;
    let clock = tenantry::clock::ManualClock::new(
        chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
            .expect("time")
            .to_utc(),
    );
    let app = spawn_app_on_clock(clock.clone(), |_| {}, builtin_registry()).await;
    let s = app.services().clone();
    s.update_notifications(
        AdminActor::system(),
        NotificationsInput {
            smtp: SmtpSettings::default(),
            add_webhooks: vec![Webhook {
                format: WebhookFormat::Slack,
                url: hook.url.clone(),
            }],
            rules: AlertRule::ALL
                .into_iter()
                .map(|rule| tenantry::model::RuleSetting {
                    rule,
                    enabled: true,
                    threshold: rule.default_threshold(),
                })
                .collect(),
            ..Default::default()
        },
    )
    .await
    .expect("saved");
    // A job of a kind nobody runs, claimed as a worker would: running from now on.
    s.enqueue(
        Actor::system(),
        "slow",
        Some(7),
        Trigger::Manual,
        serde_json::json!(null),
    )
    .await
    .expect("queued");
    let job = s.claim_job().await.expect("claim").expect("a job");
    clock.advance(chrono::Duration::minutes(10));
    s.alerts_scan().await.expect("scan");
    app.app().run_due_jobs().await.expect("run");
    assert!(
        hook.bodies().is_empty(),
        "10 minutes is not stuck (threshold 30)"
    );

    clock.advance(chrono::Duration::minutes(25));
    for _ in 0..3 {
        s.alerts_scan().await.expect("scan");
        app.app().run_due_jobs().await.expect("run");
    }
    assert_eq!(hook.bodies().len(), 1, "one message per incident");
    let text = hook.bodies()[0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        text.contains("job stuck") && text.contains(&format!("Job #{}", job.id)),
        "{text}"
    );

    s.complete_job(
        job,
        RunResult::Succeeded {
            counts: Default::default(),
            summary: "done".into(),
        },
    )
    .await
    .expect("finished");
    s.alerts_scan().await.expect("scan");
    app.app().run_due_jobs().await.expect("run");
    assert_eq!(hook.bodies().len(), 2);
    let text = hook.bodies()[1]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("Resolved"), "{text}");
}
