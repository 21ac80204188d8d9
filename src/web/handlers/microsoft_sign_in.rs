//! Staff "Sign in with Microsoft": the start. The portal starts its own (`portal::signin`);
//! both come back to the one callback in `web::signin_callback`.

use crate::domain::DomainError;
use crate::web::AppState;
use crate::web::client::client_ip;
use crate::web::csrf::PublicForm;
use crate::web::error::WebError;
use crate::web::redirect::LocalPath;
use crate::web::respond::{to_microsoft, too_many_starts, with_retry_after};
use crate::web::session::signin_state_cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/microsoft", web::post().to(staff_start));
}

#[derive(Deserialize)]
struct StartForm {
    #[serde(default)]
    next: String,
}

async fn staff_start(
    req: HttpRequest,
    st: web::Data<AppState>,
    form: PublicForm<StartForm>,
) -> Result<HttpResponse, WebError> {
    let next = LocalPath::or_default(&form.0.next).into_string();
    match st
        .services
        .begin_staff_sign_in(&next, None, &client_ip(&req))
        .await
    {
        Ok((url, sealed)) => Ok(to_microsoft(
            &url,
            Some(signin_state_cookie(st.config.secure_cookies, sealed)),
        )),
        Err(DomainError::Conflict(msg)) => {
            super::login_page(&req, &st, next, String::new(), msg, StatusCode::CONFLICT).await
        }
        Err(DomainError::RateLimited { retry_after_secs }) => {
            let page = super::login_page(
                &req,
                &st,
                next,
                String::new(),
                too_many_starts(retry_after_secs),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await?;
            Ok(with_retry_after(page, retry_after_secs))
        }
        Err(e) => Err(e.into()),
    }
}
