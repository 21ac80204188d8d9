//! `/api/v1/settings/notifications` (#13): Settings → Notifications for scripts — read and
//! update e-mail, webhooks and rules, and **Send test**. Secrets go in, never out: the answer
//! says whether an SMTP password is stored and shows each webhook's format and host only.

use super::{AdminCaller, AdminJson, ApiResult};
use crate::domain::alerts::{NotificationsInput, NotificationsView};
use crate::model::{RuleSetting, SmtpSettings, Webhook, WebhookInfo};
use crate::web::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/notifications", web::get().to(get))
        .route("/settings/notifications", web::put().to(put))
        .route("/settings/notifications/test", web::post().to(test));
}

/// The settings as the API shows them.
#[derive(Debug, Serialize)]
pub struct Notifications {
    pub smtp: SmtpSettings,
    pub smtp_password_set: bool,
    pub webhooks: Vec<WebhookInfo>,
    pub rules: Vec<RuleSetting>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<NotificationsView> for Notifications {
    fn from(v: NotificationsView) -> Self {
        Self {
            smtp: v.settings.smtp,
            smtp_password_set: v.smtp_password_set,
            webhooks: v.webhooks,
            rules: v.settings.rules,
            updated_at: v.settings.updated_at,
        }
    }
}

/// `PUT` body. `smtp_password`: absent keeps the stored one, `null` removes it, a string
/// replaces it. `webhooks`: absent keeps them, a list replaces them all. `rules`: absent
/// keeps them; a rule missing from a given list is switched off.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsBody {
    pub smtp: SmtpSettings,
    #[serde(default, with = "double_option")]
    pub smtp_password: Option<Option<String>>,
    #[serde(default)]
    pub webhooks: Option<Vec<Webhook>>,
    #[serde(default)]
    pub rules: Option<Vec<RuleSetting>>,
}

/// Tells an absent field (outer None) from `null` (Some(None)).
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Ok(Some(Option::<String>::deserialize(d)?))
    }
}

/// `POST …/test` answer: the delivery job that sends it.
#[derive(Debug, Serialize)]
pub struct TestQueued {
    pub job_id: u64,
}

async fn get(_admin: AdminCaller, st: web::Data<AppState>) -> ApiResult<web::Json<Notifications>> {
    Ok(web::Json(st.services.notifications().await?.into()))
}

async fn put(
    admin: AdminJson<NotificationsBody>,
    st: web::Data<AppState>,
) -> ApiResult<web::Json<Notifications>> {
    let AdminJson { caller, body } = admin;
    let rules = match body.rules {
        Some(r) => r,
        None => st.services.notifications().await?.settings.rules,
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
                smtp: body.smtp,
                smtp_password,
                clear_smtp_password: clear,
                webhooks: body.webhooks,
                remove_webhooks: Vec::new(),
                add_webhooks: Vec::new(),
                rules,
            },
        )
        .await?;
    Ok(web::Json(saved.into()))
}

async fn test(admin: AdminCaller, st: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let job = st
        .services
        .send_test_notification(admin.actor())
        .await?;
    Ok(HttpResponse::Accepted().json(TestQueued { job_id: job.id }))
}
