//! `spawn_app()` and friends: a fresh appliance per test, a cookie-keeping client that does
//! not follow redirects (so tests can assert them), and small helpers for forms.
#![allow(dead_code)]

pub use crate::support::eventually;
use std::collections::BTreeMap;
use tenantry::app::{App, AppOptions};
use tenantry::config::{CliOverrides, Config};
use tenantry::jobs::Registry;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub app: Option<App>,
    pub url: String,
    pub dir: tempfile::TempDir,
    pub config: Config,
    /// Cookie-keeping, non-redirecting client.
    pub client: reqwest::Client,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The configuration tests use: temp data dir, random port, quick job backoff.
pub fn test_config(dir: &std::path::Path, extra_env: &[(&str, &str)]) -> Config {
    let mut env: BTreeMap<String, String> = extra_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.entry("TENANTRY_JOBS_BACKOFF_SECONDS".into())
        .or_insert_with(|| "1".into());
    let cli = CliOverrides {
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(dir.display().to_string()),
    };
    tenantry::config::load(None, &env, &cli)
        .expect("test config")
        .config
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}, Registry::default()).await
}

/// Start an app, letting the test adjust the config and register job handlers.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config), registry: Registry) -> TestApp {
    spawn_app_clocked(adjust, registry, None).await
}

/// The same, on a clock the test controls (`None`: the system clock).
pub async fn spawn_app_clocked(
    adjust: impl FnOnce(&mut Config),
    registry: Registry,
    clock: Option<tenantry::clock::SharedClock>,
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path(), &[]);
    adjust(&mut config);
    start_clocked(dir, config, registry, true, clock).await
}

/// How a test app starts, beyond its directory, config and job handlers.
#[derive(Clone, Default)]
struct Start {
    with_admin: bool,
    clock: Option<tenantry::clock::SharedClock>,
    /// No workers: the test runs due jobs itself (`app().run_due_jobs()`).
    manual_jobs: bool,
}

/// The app options for `how`, with the built-in job kinds (identity sync) beside whatever the
/// test registers.
fn options(mut registry: Registry, how: &Start) -> AppOptions {
    tenantry::app::register_builtin(&mut registry);
    AppOptions {
        admin_email: how.with_admin.then(|| ADMIN_EMAIL.to_string()),
        admin_password: how.with_admin.then(|| ADMIN_PASSWORD.to_string()),
        registry: Some(registry),
        clock: how.clock.clone(),
        manual_jobs: how.manual_jobs,
        ..Default::default()
    }
}

fn running(app: App, dir: tempfile::TempDir, config: Config) -> TestApp {
    TestApp {
        url: app.url.clone(),
        app: Some(app),
        dir,
        config,
        client: client(),
    }
}

async fn start(
    dir: tempfile::TempDir,
    config: Config,
    registry: Registry,
    with_admin: bool,
) -> TestApp {
    let how = Start {
        with_admin,
        ..Default::default()
    };
    start_with(dir, config, registry, &how).await
}

async fn start_clocked(
    dir: tempfile::TempDir,
    config: Config,
    registry: Registry,
    with_admin: bool,
    clock: Option<tenantry::clock::SharedClock>,
) -> TestApp {
    let how = Start {
        with_admin,
        clock,
        ..Default::default()
    };
    start_with(dir, config, registry, &how).await
}

async fn start_with(
    dir: tempfile::TempDir,
    config: Config,
    registry: Registry,
    how: &Start,
) -> TestApp {
    crate::support::init_test_log();
    let app = App::build(config.clone(), options(registry, how))
        .await
        .expect("app starts");
    running(app, dir, config)
}

/// Start an app whose time is `clock` and whose jobs run only when the test calls
/// `app().run_due_jobs()`: retries and schedules are tested by moving the clock, not by
/// waiting for real time to pass.
pub async fn spawn_app_on_clock(
    clock: tenantry::clock::ManualClock,
    adjust: impl FnOnce(&mut Config),
    registry: Registry,
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path(), &[]);
    adjust(&mut config);
    let how = Start {
        with_admin: true,
        clock: Some(std::sync::Arc::new(clock)),
        manual_jobs: true,
    };
    start_with(dir, config, registry, &how).await
}

/// Start an app on an existing data directory.
pub async fn start_in(dir: tempfile::TempDir, config: Config, registry: Registry) -> TestApp {
    start(dir, config, registry, true).await
}

/// Start an app with no staff account at all (first-start bootstrap tests).
pub async fn spawn_empty_app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(dir.path(), &[]);
    start(dir, config, Registry::default(), false).await
}

impl TestApp {
    pub fn app(&self) -> &App {
        self.app.as_ref().expect("running")
    }

    pub fn services(&self) -> &tenantry::domain::Services {
        &self.app().services
    }

    pub async fn stop(&mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await;
        }
    }

    /// Stop and start again on the same data directory (new port), with `registry`.
    pub async fn restart(mut self, registry: Registry) -> TestApp {
        self.stop().await;
        let TestApp { dir, config, .. } = self;
        // The old server's worker threads drop their handle on the database a moment after
        // `stop` returns; until then the file is still locked by this process.
        let how = Start {
            with_admin: true,
            ..Default::default()
        };
        let app = eventually("the stopped app lets go of its database", || {
            let (config, opts) = (config.clone(), options(registry.clone(), &how));
            async move {
                match App::build(config, opts).await {
                    Ok(app) => Some(app),
                    Err(e) if format!("{e:#}").contains("in use by another") => None,
                    Err(e) => panic!("app restarts: {e:#}"),
                }
            }
        })
        .await;
        running(app, dir, config)
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.at(path)).send().await.expect("GET")
    }

    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("body")
    }

    /// POST a form as is (no CSRF token added).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.at(path))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// POST a form with the CSRF token taken from `from_page`.
    pub async fn post_form(
        &self,
        from_page: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = csrf_in(&self.get_text(from_page).await);
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &token));
        self.client
            .post(self.at(path))
            .form(&fields)
            .send()
            .await
            .expect("POST")
    }

    pub async fn login_as(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn login(&self) {
        let r = self.login_as(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(r.status(), 303, "admin sign-in redirects");
    }

    /// An admin API token.
    pub async fn admin_token(&self) -> String {
        let (plain, _) = self
            .services()
            .create_api_token(
                tenantry::domain::authority::AdminActor::system(),
                "test",
                tenantry::model::Role::Admin,
            )
            .await
            .expect("token");
        plain
    }
}

/// The value of the first hidden `csrf` field in a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    html.find(marker)
        .map(|i| {
            let rest = &html[i + marker.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_default()
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Queue a manual job of `kind` for `company`, as the system.
pub async fn enqueue_manual(
    services: &tenantry::domain::Services,
    kind: &str,
    company: u64,
) -> tenantry::model::Job {
    services
        .enqueue(
            tenantry::model::Actor::system(),
            kind,
            Some(company),
            tenantry::model::Trigger::Manual,
            serde_json::Value::Null,
        )
        .await
        .expect("enqueue")
        .job
}

/// Wait until job `id` matches `pred` (`what` names that state in the failure message).
pub async fn wait_for_job(
    app: &TestApp,
    id: u64,
    what: &str,
    pred: impl Fn(&tenantry::model::Job) -> bool,
) -> tenantry::model::Job {
    eventually(&format!("job {id} becomes {what}"), || async {
        Some(app.services().job(id).await.expect("job")).filter(|j| pred(j))
    })
    .await
}
