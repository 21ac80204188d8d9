//! `/api/v1/settings/notifications` (#13): Settings → Notifications for scripts — read and
//! update e-mail, webhooks and rules, and **Send test**. Secrets go in, never out: the answer
//! says whether an SMTP password is stored and shows each webhook's format and host only.

use super::types::notifications::{Notifications, NotificationsBody, Smtp, TestQueued};
use super::{AdminCaller, AdminJson, ApiResult};
use crate::domain::alerts::NotificationsInput;
use crate::model::{
    AlertRule, RuleSetting, SmtpSecurity, SmtpSettings, ValidationError, Webhook, WebhookFormat,
};
use crate::web::AppState;
use actix_web::{HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/notifications", web::get().to(get))
        .route("/settings/notifications", web::put().to(put))
        .route("/settings/notifications/test", web::post().to(test));
}

async fn get(_admin: AdminCaller, st: web::Data<AppState>) -> ApiResult<web::Json<Notifications>> {
    Ok(web::Json(st.services.notifications().await?.into()))
}

fn smtp(s: Smtp) -> Result<SmtpSettings, ValidationError> {
    Ok(SmtpSettings {
        security: SmtpSecurity::parse(&s.security).ok_or_else(|| {
            ValidationError::new("smtp.security", "must be starttls, tls or none")
        })?,
        host: s.host,
        port: s.port,
        username: s.username,
        from: s.from,
        to: s.to,
    })
}

async fn put(
    admin: AdminJson<NotificationsBody>,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<Notifications>> {
    let AdminJson { caller, body } = admin;
    let rules = match body.rules {
        Some(list) => list
            .into_iter()
            .map(|r| {
                Ok(RuleSetting {
                    rule: AlertRule::parse(&r.rule).ok_or_else(|| {
                        ValidationError::new(
                            "rules.rule",
                            "must be sync_failed, credentials, expiry, resync or stuck",
                        )
                    })?,
                    enabled: r.enabled,
                    threshold: r.threshold,
                })
            })
            .collect::<Result<Vec<_>, ValidationError>>()
            .map_err(crate::domain::DomainError::from)?,
        None => st.services.notifications().await?.settings.rules,
    };
    let webhooks = match body.webhooks {
        Some(list) => Some(
            list.into_iter()
                .map(|w| {
                    Ok(Webhook {
                        format: WebhookFormat::parse(&w.format).ok_or_else(|| {
                            ValidationError::new(
                                "webhooks.format",
                                "must be generic, teams or slack",
                            )
                        })?,
                        url: w.url,
                    })
                })
                .collect::<Result<Vec<_>, ValidationError>>()
                .map_err(crate::domain::DomainError::from)?,
        ),
        None => None,
    };
    let (smtp_password, clear) = match body.smtp_password {
        None => (None, false),
        Some(None) => (None, true),
        Some(Some(p)) => (Some(p), false),
    };
    let saved = st
        .services
        .update_notifications(
            caller.admin_actor()?,
            NotificationsInput {
                smtp: smtp(body.smtp).map_err(crate::domain::DomainError::from)?,
                smtp_password,
                clear_smtp_password: clear,
                webhooks,
                remove_webhooks: Vec::new(),
                add_webhooks: Vec::new(),
                rules,
            },
        )
        .await?;
    Ok(web::Json(saved.into()))
}

async fn test(admin: AdminCaller, st: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let job = st.services.send_test_notification(admin.actor()).await?;
    Ok(HttpResponse::Accepted().json(TestQueued { job_id: job.id }))
}
