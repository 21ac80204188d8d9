//! `tenantry demo`, and opening the store outside the server for admin commands.

use crate::app::{App, AppOptions};
use crate::clock::SystemClock;
use crate::config::{CliOverrides, Config};
use crate::crypto::{SecretBox, random_token};
use crate::domain::{DomainConfig, Services};
use crate::model::{Actor, Role};
use crate::store::Store;
use std::path::Path;
use std::sync::Arc;

/// Services over the store without starting the server (admin CLI). Fails clearly when the
/// service is running, since it holds the database's write lock.
pub async fn offline_services(
    config: &Config,
    credentials_dir: Option<&Path>,
) -> anyhow::Result<Services> {
    let secrets = SecretBox::load_or_create(&config.key_file(credentials_dir))?;
    let db_path = config.db_path();
    let store = tokio::task::spawn_blocking(move || Store::open(&db_path, secrets)).await??;
    Ok(Services::new(
        store,
        Arc::new(SystemClock),
        DomainConfig {
            session_hours: config.server.session_hours,
            job_max_attempts: config.jobs.max_attempts,
            job_backoff_seconds: config.jobs.backoff_seconds,
        },
    ))
}

/// Run the appliance on a temporary data directory with a generated admin login and an API
/// token, print them, and serve until Ctrl-C. The data directory is removed at exit.
pub async fn run(listen: String, json: bool) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let env = std::collections::BTreeMap::new();
    let loaded = crate::config::load(
        None,
        &env,
        &CliOverrides {
            listen: Some(listen),
            data_dir: Some(dir.display().to_string()),
        },
    )?;
    let email = "admin@demo.tenantry.test".to_string();
    let password = random_token(12);
    let app = App::build(
        loaded.config,
        AppOptions {
            admin_email: Some(email.clone()),
            admin_password: Some(password.clone()),
            ..Default::default()
        },
    )
    .await?;
    let (token, _) = app
        .services
        .create_api_token(Actor::system(), "demo", Role::Admin)
        .await?;
    if json {
        println!(
            "{}",
            serde_json::json!({"url": app.url, "admin_email": email, "admin_password": password, "api_token": token})
        );
    } else {
        println!("Tenantry demo is running at {}", app.url);
        println!("  sign in as  {email}");
        println!("  password    {password}");
        println!("  API token   {token}");
        println!(
            "  data dir    {} (removed when you stop the demo)",
            dir.display()
        );
        println!("Press Ctrl-C to stop.");
    }
    let result = app.run_until_signal().await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("tenantry-demo-{}", random_token(6)));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
