//! Settings → Notifications (#13): save e-mail, webhooks and rules; **Send test**.

use super::{render, see_other};
use crate::domain::DomainError;
use crate::domain::alerts::NotificationsInput;
use crate::model::{AlertRule, RuleSetting, SmtpSecurity, SmtpSettings, Webhook, WebhookFormat};
use crate::web::AppState;
use crate::web::csrf::AdminForm;
use crate::web::error::WebError;
use crate::web::handlers::NoticeQuery;
use crate::web::session::Admin;
use crate::web::views::Chrome;
use crate::web::views::notifications::NotificationsPage;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use std::collections::HashMap;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/notifications", web::get().to(get))
        .route("/settings/notifications", web::post().to(post))
        .route("/settings/notifications/test", web::post().to(test_post));
}

async fn get(
    Admin(staff): Admin,
    st: web::Data<AppState>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    let view = st.services.notifications().await?;
    render(
        NotificationsPage::new(
            Chrome::new(&staff, "settings", q.notice.as_deref()),
            view,
            String::new(),
        ),
        StatusCode::OK,
        None,
    )
}

/// The form as typed (checkboxes are present only when ticked).
fn input(f: &HashMap<String, String>) -> Result<NotificationsInput, String> {
    let text = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let on = |k: &str| f.contains_key(k);
    let port = match text("smtp_port").as_str() {
        "" => 587,
        p => p
            .parse::<u16>()
            .map_err(|_| "smtp_port: must be 1 to 65535".to_string())?,
    };
    let security = SmtpSecurity::parse(&text("smtp_security")).unwrap_or_default();
    let mut rules = Vec::new();
    for r in AlertRule::ALL {
        let threshold = match text(&format!("threshold_{}", r.as_str())).as_str() {
            "" => r.default_threshold(),
            t => t
                .parse::<u32>()
                .map_err(|_| format!("threshold: {}: must be a whole number", r.as_str()))?,
        };
        rules.push(RuleSetting {
            rule: r,
            enabled: on(&format!("rule_{}", r.as_str())),
            threshold,
        });
    }
    let url = text("webhook_url");
    let add = if url.is_empty() {
        Vec::new()
    } else {
        vec![Webhook {
            format: WebhookFormat::parse(&text("webhook_format")).unwrap_or(WebhookFormat::Generic),
            url,
        }]
    };
    let remove = f
        .keys()
        .filter_map(|k| k.strip_prefix("remove_webhook_"))
        .filter_map(|i| i.parse::<usize>().ok())
        .collect();
    let password = text("smtp_password");
    Ok(NotificationsInput {
        smtp: SmtpSettings {
            host: text("smtp_host"),
            port,
            security,
            username: text("smtp_username"),
            from: text("smtp_from"),
            to: vec![text("smtp_to")],
        },
        smtp_password: (!password.is_empty()).then_some(password),
        clear_smtp_password: on("smtp_clear_password"),
        webhooks: None,
        remove_webhooks: remove,
        add_webhooks: add,
        rules,
    })
}

async fn post(
    st: web::Data<AppState>,
    form: AdminForm<HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    let refused = |msg: String| async {
        let view = st.services.notifications().await?;
        render(
            NotificationsPage::new(Chrome::new(&form.staff, "settings", None), view, msg),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        )
    };
    let input = match input(&form.form) {
        Ok(i) => i,
        Err(msg) => return refused(msg).await,
    };
    match st
        .services
        .update_notifications(form.staff.admin_actor()?, input)
        .await
    {
        Ok(_) => Ok(see_other(
            "/settings/notifications?notice=notifications_saved",
        )),
        Err(DomainError::Validation(v)) => refused(v.to_string()).await,
        Err(e) => Err(e.into()),
    }
}

async fn test_post(
    st: web::Data<AppState>,
    form: AdminForm<HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    match st
        .services
        .send_test_notification(form.staff.admin_actor()?.into())
        .await
    {
        Ok(_) => Ok(see_other(
            "/settings/notifications?notice=notification_test_queued",
        )),
        Err(DomainError::Conflict(m)) => {
            let view = st.services.notifications().await?;
            render(
                NotificationsPage::new(Chrome::new(&form.staff, "settings", None), view, m),
                StatusCode::CONFLICT,
                None,
            )
        }
        Err(e) => Err(e.into()),
    }
}
