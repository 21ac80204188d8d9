//! `/healthz` (the process answers) and `/readyz` (store open and scheduler alive).

use crate::web::AppState;
use actix_web::{HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/healthz",
        web::get().to(|| async { HttpResponse::Ok().content_type("text/plain").body("ok") }),
    )
    .route("/readyz", web::get().to(readyz));
}

async fn readyz(st: web::Data<AppState>) -> HttpResponse {
    let store_ok = st.services.store_ready().await;
    let scheduler_ok = (st.health)();
    let body = serde_json::json!({"store": store_ok, "scheduler": scheduler_ok});
    if store_ok && scheduler_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
