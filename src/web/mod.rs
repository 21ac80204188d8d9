//! The web layer: actix handlers, askama views, the JSON API. Handlers extract input, call
//! one domain service, and fill a view; they never touch the store.

mod admission;
mod api;
mod assets;
mod body;
mod client;
mod csrf;
mod csv_export;
mod csv_stream;
mod error;
mod filters;
mod handlers;
mod ids;
mod middleware;
mod pager;
mod portal;
mod redirect;
mod request_scope;
mod respond;
mod session;
mod signin_callback;
mod views;

use crate::domain::Services;
use crate::domain::schedule::Schedule;
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;
use std::sync::Arc;

pub use api::MetricsEndpoint;
pub use error::WebError;

/// Liveness of background machinery (the scheduler), for `/readyz`.
pub type HealthCheck = Arc<dyn Fn() -> bool + Send + Sync>;

/// What the web layer needs from configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub public_url: String,
    pub secure_cookies: bool,
    pub max_body_bytes: usize,
    pub session_hours: u32,
    /// (certificate chain PEM path, private key PEM path)
    pub tls: Option<(String, String)>,
    /// Effective configuration with secrets masked (Settings → Integrations shows it).
    pub config_summary: String,
    pub microsoft_login_url: String,
    pub microsoft_graph_url: String,
    /// Reverse proxies whose forwarding headers name the client (`server.trusted_proxies`).
    pub trusted_proxies: Vec<crate::model::IpNet>,
    /// Job kinds that have a schedule but no handler in this build (the schedule is not
    /// started); pages say so instead of promising a next run.
    pub idle_job_kinds: Vec<String>,
    /// `GET /metrics`, when `[metrics]` enables it.
    pub metrics: Option<MetricsEndpoint>,
    /// Requests served at once (`server.max_in_flight`; see `admission`).
    pub max_in_flight: usize,
    /// How long a request past the bound waits before its 503 (`server.overload_wait_ms`).
    pub overload_wait: std::time::Duration,
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub config: Arc<WebConfig>,
    pub schedules: Arc<Vec<Schedule>>,
    pub health: HealthCheck,
    /// The Content-Security-Policy header value (built and checked once at start; a clone
    /// per response shares its bytes).
    pub csp: actix_web::http::header::HeaderValue,
    /// The bound on requests in flight, shared by every worker.
    pub admission: admission::Admission,
}

/// A running web server.
pub struct Running {
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}

/// Start serving on `listener` (TLS when configured).
pub fn start(
    config: WebConfig,
    services: Services,
    schedules: Vec<Schedule>,
    health: HealthCheck,
    listener: TcpListener,
) -> anyhow::Result<Running> {
    let state = AppState {
        services,
        config: Arc::new(config.clone()),
        schedules: Arc::new(schedules),
        health,
        csp: middleware::csp_header(&config.microsoft_login_url),
        admission: admission::Admission::new(config.max_in_flight, config.overload_wait),
    };
    let max_body = config.max_body_bytes;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .app_data(
                web::FormConfig::default()
                    .limit(max_body)
                    .error_handler(error::form_error),
            )
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body)
                    .error_handler(error::json_error),
            )
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            // The guard inside the headers layer, so its refusals carry CSP, nosniff and
            // no-store like every other answer.
            .wrap(actix_web::middleware::from_fn(middleware::cross_site_guard))
            // Inside the headers layer and the request's scope, so a 503 for overload carries
            // the same headers and request id as any answer.
            .wrap(actix_web::middleware::from_fn(admission::admit))
            .wrap(actix_web::middleware::from_fn(middleware::security_headers))
            .wrap(actix_web::middleware::Compress::default())
            // Outermost: the request's id and scope cover everything the other layers log
            // and answer.
            .wrap(actix_web::middleware::from_fn(request_scope::open))
            .configure(routes)
            .default_service(web::to(error::not_found))
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(30);
    let server = match &config.tls {
        Some((cert, key)) => server.listen_rustls_0_23(listener, tls_config(cert, key)?)?,
        None => server.listen(listener)?,
    };
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(Running { handle, task })
}

fn routes(cfg: &mut web::ServiceConfig) {
    // The API first: it is one `/api/v1` scope, so a page request passes it with one prefix
    // check, while registered last every API request was tried against each page route's
    // pattern before reaching it (about 4 % of an API list request's CPU, BENCHMARKS.md).
    api::routes(cfg);
    assets::routes(cfg);
    handlers::routes(cfg);
    signin_callback::routes(cfg);
    portal::routes(cfg);
}

fn tls_config(cert: &str, key: &str) -> anyhow::Result<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| anyhow::anyhow!("server.tls_cert {cert}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("server.tls_cert {cert}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("server.tls_key {key}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?)
}
