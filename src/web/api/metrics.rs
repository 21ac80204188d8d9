//! `GET /metrics`: the Prometheus scrape endpoint. Not under `/api/v1` (scrapers expect the
//! conventional path) and not behind API tokens: a scrape is allowed from `metrics.allow_from`
//! (the TCP peer, never a forwarded header: a header anyone can set must not open it) or with
//! the configured bearer token. Off by default: then the path does not exist (404).

use crate::metrics::{Gauges, Metrics, render};
use crate::model::{IpNet, Secret};
use crate::web::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use std::path::PathBuf;
use std::sync::Arc;

/// What the endpoint needs, built by the composition root from `[metrics]`.
#[derive(Debug, Clone)]
pub struct MetricsEndpoint {
    pub registry: Arc<Metrics>,
    pub allow_from: Vec<IpNet>,
    /// Empty: no token accepted.
    pub token: Secret,
    /// The database file, whose size is exported.
    pub database_path: PathBuf,
}

impl MetricsEndpoint {
    fn allows(&self, req: &HttpRequest) -> bool {
        let peer_allowed = req
            .peer_addr()
            .is_some_and(|p| self.allow_from.iter().any(|n| n.contains(p.ip())));
        if peer_allowed {
            return true;
        }
        if self.token.is_empty() {
            return false;
        }
        let presented = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .unwrap_or("");
        !presented.is_empty() && crate::crypto::ct_eq(presented, self.token.expose())
    }
}

/// At the root, outside `/api/v1` (so not in the API's route table or its docs).
pub fn register(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metrics").get(scrape));
}

async fn scrape(req: HttpRequest, st: web::Data<AppState>) -> HttpResponse {
    let Some(m) = st.config.metrics.as_ref() else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("Metrics are off (set [metrics] enabled = true).\n");
    };
    if !m.allows(&req) {
        return HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("This address may not read metrics: add it to metrics.allow_from or send the metrics token.\n");
    }
    // A failing queue read must not hide the rest: the queue gauges read 0 and the log says why.
    let queue = match st.services.queue_figures().await {
        Ok(q) => q,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: could not read the job queue");
            crate::domain::queue_figures::QueueFigures {
                queued: 0,
                oldest_due_seconds: 0.0,
            }
        }
    };
    let database_bytes = std::fs::metadata(&m.database_path)
        .map(|md| md.len())
        .unwrap_or(0);
    let gauges = Gauges {
        jobs_queued: queue.queued,
        oldest_due_seconds: queue.oldest_due_seconds,
        database_bytes,
        resident_bytes: crate::metrics::resident_bytes(),
    };
    HttpResponse::Ok()
        .content_type(render::CONTENT_TYPE)
        .body(render::render(&m.registry.snapshot(), &gauges))
}
