//! Composition root: opens the store, wires services, workers, the scheduler and the web
//! server, and stops them in order. Only `main` and tests use it.

use crate::clock::{SharedClock, SystemClock};
use crate::config::{Config, ValidatedSchedule};
use crate::crypto::SecretBox;
use crate::domain::schedule::Schedule;
use crate::domain::staff::Bootstrap;
use crate::domain::{DomainConfig, Services};
use crate::jobs::{self, Registry};
use crate::metrics::{AttemptOutcome, Metrics};
use crate::model::JobKind;
use crate::store::Store;
use crate::web;
use anyhow::Context;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// What differs between `serve`, `demo` and tests.
#[derive(Default)]
pub struct AppOptions {
    /// Defaults to the system clock.
    pub clock: Option<SharedClock>,
    /// Extra job handlers (tests register their own kinds).
    pub registry: Option<Registry>,
    /// First admin, when no staff user exists yet (`TENANTRY_ADMIN_EMAIL`/`_PASSWORD`).
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// `$CREDENTIALS_DIRECTORY` under systemd.
    pub credentials_dir: Option<PathBuf>,
    /// Start no job workers: the caller runs due jobs with [`App::run_due_jobs`] (tests that
    /// move a [`crate::clock::ManualClock`] instead of waiting for real time).
    pub manual_jobs: bool,
    /// Limit the database file's free space (tests that fill the disk; None: the real disk).
    pub disk_budget: Option<crate::store::DiskBudget>,
    /// systemd notifications (`serve` reads `$NOTIFY_SOCKET`; default: none).
    pub notifier: crate::sd_notify::Notifier,
}

/// A running appliance.
pub struct App {
    pub url: String,
    pub port: u16,
    pub services: Services,
    /// One-time first-admin setup link, when no admin was given and none exists.
    pub setup_url: Option<String>,
    server: web::Running,
    registry: Registry,
    tasks: Vec<JoinHandle<()>>,
    shutdown: tokio::sync::watch::Sender<bool>,
    notifier: crate::sd_notify::Notifier,
}

/// The job kinds the appliance itself knows: identity sync and evidence collection.
pub fn default_registry() -> Registry {
    let mut r = Registry::default();
    register_builtin(&mut r);
    r
}

/// How often a running sync's progress line is written at most.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Add the built-in job kinds to `r` (tests add their own kinds beside them).
pub fn register_builtin(r: &mut Registry) {
    r.register(JobKind::IDENTITY_SYNC, |ctx: jobs::JobContext| async move {
        let progress_ctx = ctx.clone();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<crate::model::Progress>();
        // Each progress line is a write transaction of its own, and every sync shares the
        // one writer: at most one line a second is written (the newest; the page shows the
        // latest anyway), none before the job has run a second. A sync of a small tenant
        // therefore writes no progress at all; its summary arrives with the outcome.
        let reporter = tokio::spawn(async move {
            let mut due = tokio::time::Instant::now() + PROGRESS_EVERY;
            let mut pending: Option<crate::model::Progress> = None;
            loop {
                tokio::select! {
                    line = rx.recv() => match line {
                        Some(l) => pending = Some(l),
                        None => break,
                    },
                    _ = tokio::time::sleep_until(due), if pending.is_some() => {
                        if let Some(p) = pending.take() {
                            progress_ctx.progress_detail(p).await;
                        }
                        due = tokio::time::Instant::now() + PROGRESS_EVERY;
                    }
                }
            }
        });
        let slot = ctx.slot.clone();
        let result = ctx
            .services
            .run_identity_sync(
                &ctx.job,
                move |line| {
                    let _ = tx.send(line);
                },
                move || slot.release(),
            )
            .await;
        let _ = reporter.await;
        result
    });
    // Alert delivery (#13): e-mail and webhooks for the messages in the alert outbox.
    r.register(
        crate::domain::alerts::ALERT_DELIVERY,
        |ctx: jobs::JobContext| async move { ctx.services.run_alert_delivery(&ctx.job).await },
    );
    r.register(JobKind::EVIDENCE_SYNC, |ctx: jobs::JobContext| async move {
        let progress_ctx = ctx.clone();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let reporter = tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                progress_ctx.progress(line).await;
            }
        });
        let slot = ctx.slot.clone();
        let result = ctx
            .services
            .run_evidence_sync(
                &ctx.job,
                move |line| {
                    let _ = tx.send(line);
                },
                move || slot.release(),
            )
            .await;
        let _ = reporter.await;
        result
    });
}

/// `[level]`: the API root and a key read from `api_key_file` (never logged).
fn level_setup(config: &Config) -> anyhow::Result<crate::domain::levelio::LevelSetup> {
    let api_key = if config.level.api_key_file.is_empty() {
        None
    } else {
        let key = std::fs::read_to_string(&config.level.api_key_file)
            .with_context(|| format!("level.api_key_file {}", config.level.api_key_file))?;
        Some(key.trim().to_string()).filter(|k| !k.is_empty())
    };
    Ok(crate::domain::levelio::LevelSetup {
        api_url: config.level.api_url.trim().to_string(),
        api_key,
    })
}

/// Microsoft endpoints and the app registration from configuration.
pub fn microsoft_setup(config: &Config) -> anyhow::Result<crate::domain::entra::MicrosoftSetup> {
    let secret = if config.microsoft.client_secret_file.is_empty() {
        config.microsoft.client_secret.clone()
    } else {
        std::fs::read_to_string(&config.microsoft.client_secret_file)
            .with_context(|| {
                format!(
                    "microsoft.client_secret_file {}",
                    config.microsoft.client_secret_file
                )
            })?
            .trim()
            .to_string()
    };
    // The pair was checked by config validation; read it once here.
    let read_pem = |key: &str, path: &str| -> anyhow::Result<String> {
        if path.is_empty() {
            return Ok(String::new());
        }
        std::fs::read_to_string(path).with_context(|| format!("microsoft.{key} {path}"))
    };
    let certificate_pem = read_pem("certificate_file", &config.microsoft.certificate_file)?;
    let private_key_pem = read_pem("private_key_file", &config.microsoft.private_key_file)?;
    Ok(crate::domain::entra::MicrosoftSetup {
        login_url: config.microsoft.login_url.trim_end_matches('/').to_string(),
        graph_url: config.microsoft.graph_url.trim_end_matches('/').to_string(),
        client_id: config.microsoft.client_id.clone(),
        client_secret: crate::model::Secret::new(secret),
        certificate_pem,
        private_key_pem: crate::model::Secret::new(private_key_pem),
        redirect_uri: String::new(),
        signin_redirect_uri: String::new(),
    })
}

pub fn schedules(v: &ValidatedSchedule) -> Vec<Schedule> {
    vec![
        Schedule {
            name: "identity",
            job_kind: JobKind::IDENTITY_SYNC,
            cron: v.identity.clone(),
            tz: v.timezone,
        },
        Schedule {
            name: "evidence",
            job_kind: JobKind::EVIDENCE_SYNC,
            cron: v.evidence.clone(),
            tz: v.timezone,
        },
    ]
}

/// Counts each job attempt by kind and outcome. A `Retry` on the last allowed attempt is the
/// job failing for good, so it is counted as `failed`.
fn attempt_observer(metrics: Arc<Metrics>) -> jobs::AttemptObserver {
    Arc::new(move |job, result, took| {
        use crate::domain::jobs::RunResult;
        let outcome = match result {
            RunResult::Succeeded { .. } | RunResult::SucceededWith { .. } => {
                AttemptOutcome::Succeeded
            }
            RunResult::Retry(_) if job.attempts < job.max_attempts => AttemptOutcome::Retry,
            RunResult::Retry(_) | RunResult::Abort(_) => AttemptOutcome::Failed,
        };
        metrics.job_finished(job.kind.as_str(), outcome, took);
    })
}

/// `GET /metrics` as `[metrics]` configures it (None: off).
fn metrics_endpoint(
    config: &Config,
    registry: Arc<Metrics>,
) -> anyhow::Result<Option<web::MetricsEndpoint>> {
    let m = &config.metrics;
    if !m.enabled {
        return Ok(None);
    }
    let token = if m.token_file.is_empty() {
        m.token.clone()
    } else {
        std::fs::read_to_string(&m.token_file)
            .with_context(|| format!("metrics.token_file {}", m.token_file))?
            .trim()
            .to_string()
    };
    Ok(Some(web::MetricsEndpoint {
        registry,
        // Validated at load; an entry that no longer parses cannot be here.
        allow_from: m
            .allow_from
            .iter()
            .filter_map(|s| crate::model::IpNet::parse(s).ok())
            .collect(),
        token: crate::model::Secret::new(token),
        database_path: config.db_path(),
    }))
}

impl App {
    pub async fn build(config: Config, opts: AppOptions) -> anyhow::Result<App> {
        let clock = opts.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let key_file = config.key_file(opts.credentials_dir.as_deref());
        let secrets = SecretBox::load_or_create(&key_file)?;
        let db_path = config.db_path();
        let cache_mb = config.store.cache_mb;
        let budget = opts.disk_budget.clone();
        let store = tokio::task::spawn_blocking(move || {
            Store::open_with_budget(&db_path, secrets, cache_mb, budget)
        })
        .await??
        .with_concurrent_reads(config.store.concurrent_reads as usize);
        let listener = TcpListener::bind(&config.server.listen).with_context(|| {
            format!("cannot listen on {} (server.listen)", config.server.listen)
        })?;
        let addr = listener.local_addr()?;
        let scheme = if config.server.tls_cert.is_empty() {
            "http"
        } else {
            "https"
        };
        let url = if config.server.public_url.is_empty() {
            format!("{scheme}://{addr}")
        } else {
            config.public_url()
        };

        // Counted whether or not `/metrics` is served: the counters cost a few atomics.
        let metrics = Arc::new(Metrics::default());
        let services = Services::with_microsoft(
            store.clone(),
            clock,
            DomainConfig {
                session_hours: config.server.session_hours,
                job_max_attempts: config.jobs.max_attempts,
                job_backoff_seconds: config.jobs.backoff_seconds,
            },
            {
                let mut m = microsoft_setup(&config)?;
                m.redirect_uri = format!("{url}/connect/callback");
                m.signin_redirect_uri = format!("{url}/auth/callback");
                m
            },
        )
        .with_password_concurrency(config.server.password_hash_concurrency as usize)
        .with_graph_observer(metrics.clone())
        .with_level(level_setup(&config)?);

        let setup_url = match services
            .bootstrap(opts.admin_email, opts.admin_password)
            .await?
        {
            Bootstrap::AdminCreated(email) => {
                tracing::info!(%email, "created the first admin account");
                None
            }
            Bootstrap::SetupToken(token) => {
                let link = format!("{url}/setup?token={token}");
                tracing::warn!(
                    "no staff account exists yet; open this one-time link to create the first admin: {link}"
                );
                Some(link)
            }
            Bootstrap::AlreadyDone => None,
        };

        let recovered = services.recover_jobs().await?;
        if recovered > 0 {
            tracing::info!(recovered, "requeued jobs interrupted by the last stop");
        }

        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let registry = opts
            .registry
            .unwrap_or_else(default_registry)
            .observed(attempt_observer(metrics.clone()));
        let grace = Duration::from_secs(u64::from(config.jobs.shutdown_grace_seconds));
        let validated = ValidatedSchedule::from_config(&config)?;
        let schedule_list = schedules(&validated);
        // Only schedules whose job kind this build can run are started: queuing jobs that can
        // only fail would fill the audit log with noise every few hours.
        let runnable: Vec<Schedule> = schedule_list
            .iter()
            .filter(|s| {
                let ok = registry.get(s.job_kind).is_some();
                if !ok {
                    tracing::info!(
                        schedule = s.name,
                        "schedule not started: this version has no {} job",
                        s.job_kind
                    );
                }
                ok
            })
            .cloned()
            .collect();
        let run_registry = registry.clone();
        let mut tasks = if opts.manual_jobs {
            Vec::new()
        } else {
            jobs::spawn_workers(
                config.jobs.workers,
                services.clone(),
                registry.clone(),
                shutdown_rx.clone(),
                grace,
            )
        };
        // Record a first start before the loops run, so pages and tests see a settled state.
        for s in &runnable {
            if services.schedule_last_fired(s.name).await?.is_none() {
                services.schedule_mark(s.name, services.now()).await?;
            }
        }
        let idle_job_kinds: Vec<String> = schedule_list
            .iter()
            .filter(|s| !runnable.iter().any(|r| r.name == s.name))
            .map(|s| s.job_kind.to_string())
            .collect();
        tasks.push(jobs::spawn_housekeeping(
            services.clone(),
            crate::domain::audit::AuditRetention {
                retention_days: config.audit.retention_days,
                max_entries: config.audit.max_entries,
            },
            config.evidence.retention_days,
            config.jobs.keep_days,
            shutdown_rx.clone(),
        ));
        tasks.push(jobs::spawn_alert_watch(
            services.clone(),
            shutdown_rx.clone(),
        ));
        let sched_tasks = jobs::spawn_schedulers(runnable, services.clone(), shutdown_rx.clone());
        let sched_alive: Vec<_> = sched_tasks.iter().map(|t| t.abort_handle()).collect();
        tasks.extend(sched_tasks);
        let schedulers_alive: Arc<dyn Fn() -> bool + Send + Sync> =
            Arc::new(move || sched_alive.iter().all(|h| !h.is_finished()));
        let health: web::HealthCheck = schedulers_alive.clone();

        let server = web::start(
            web::WebConfig {
                public_url: url.clone(),
                secure_cookies: url.starts_with("https://"),
                max_body_bytes: config.server.max_body_kib as usize * 1024,
                session_hours: config.server.session_hours,
                tls: (!config.server.tls_cert.is_empty()).then(|| {
                    (
                        config.server.tls_cert.clone(),
                        config.server.tls_key.clone(),
                    )
                }),
                config_summary: config.redacted_toml(),
                microsoft_login_url: config.microsoft.login_url.clone(),
                microsoft_graph_url: config.microsoft.graph_url.clone(),
                trusted_proxies: config.trusted_proxies(),
                idle_job_kinds,
                metrics: metrics_endpoint(&config, metrics.clone())?,
                max_in_flight: config.server.max_in_flight as usize,
                overload_wait: std::time::Duration::from_millis(u64::from(
                    config.server.overload_wait_ms,
                )),
            },
            services.clone(),
            schedule_list,
            health,
            listener,
        )?;
        tracing::info!(%url, "Tenantry is listening");
        // The listener is bound, the store open and migrated, the workers running.
        let notifier = opts.notifier.clone();
        notifier.ready();
        // The watchdog's pings start after READY, so systemd (and the test that stands in for
        // it) sees READY first: started before the server, its first ping could win the race
        // on a slow machine.
        if let Some(interval) = notifier.watchdog_interval() {
            let pinger = notifier.clone();
            tasks.push(jobs::spawn_watchdog(
                interval,
                services.clone(),
                schedulers_alive,
                Arc::new(move || pinger.watchdog()),
                shutdown_rx.clone(),
            ));
        }
        Ok(App {
            url,
            port: addr.port(),
            services,
            setup_url,
            server,
            registry: run_registry,
            tasks,
            shutdown,
            notifier,
        })
    }

    /// Run every job due by the app's clock now, in this task (see [`AppOptions::manual_jobs`]).
    pub async fn run_due_jobs(&self) -> anyhow::Result<usize> {
        Ok(jobs::run_due(&self.services, &self.registry).await?)
    }

    /// Stop taking requests and jobs; running jobs get the grace period, then are requeued.
    pub async fn stop(self) {
        self.notifier.stopping();
        let _ = self.shutdown.send(true);
        self.server.stop().await;
        for t in self.tasks {
            let _ = t.await;
        }
        // No request can count another failure now: write what was counted.
        if let Err(e) = self.services.flush_all_refusal_summaries().await {
            tracing::error!(error = %e, "could not write audit summaries at shutdown");
        }
    }

    /// Serve until SIGINT or SIGTERM, then stop gracefully.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        wait_for_signal().await;
        tracing::info!("shutting down");
        self.stop().await;
        Ok(())
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (systemctl stop).
#[cfg(unix)]
pub async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
pub async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
