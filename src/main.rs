//! `tenantry`: parse the command line, load configuration, dispatch.

#![forbid(unsafe_code)]

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;
use tenantry::app::{App, AppOptions};
use tenantry::cli::{AdminCommand, Cli, Command};
use tenantry::config::{self, CliOverrides, Loaded};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(cli: &Cli, overrides: CliOverrides) -> anyhow::Result<Loaded> {
    let env = config::process_env();
    let path = config::resolve_path(cli.config.as_deref(), &env);
    let loaded = config::load(path.as_deref(), &env, &overrides)?;
    Ok(loaded)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn credentials_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("CREDENTIALS_DIRECTORY").map(Into::into)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Serve { listen } => {
            let loaded = load(
                &cli,
                CliOverrides {
                    listen: listen.clone(),
                    data_dir: None,
                },
            )?;
            let c = &loaded.config;
            tenantry::telemetry::init(&c.server.log_level, c.server.log_format == "json");
            for w in &loaded.warnings {
                tracing::warn!("{w}");
            }
            let opts = AppOptions {
                admin_email: std::env::var("TENANTRY_ADMIN_EMAIL").ok(),
                admin_password: std::env::var("TENANTRY_ADMIN_PASSWORD").ok(),
                credentials_dir: credentials_dir(),
                notifier: tenantry::sd_notify::Notifier::from_env(),
                ..Default::default()
            };
            runtime()?.block_on(async move {
                let app = App::build(loaded.config, opts).await?;
                app.run_until_signal().await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { listen, json } => {
            tenantry::telemetry::init("warn", false);
            runtime()?.block_on(tenantry::demo::run(listen.clone(), *json))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sim {
            ip,
            login_port,
            graph_port,
            levelio_port,
            seed,
        } => {
            tenantry::telemetry::init("info", false);
            let opts = tenantry::simulator::SimOptions {
                listen_ip: *ip,
                login_port: *login_port,
                graph_port: *graph_port,
                levelio_port: *levelio_port,
                seed: *seed,
            };
            runtime()?.block_on(tenantry::simulator::run_cli(opts))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig => {
            let loaded = match load(&cli, CliOverrides::default()) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("configuration refused: {e:#}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            println!(
                "# configuration OK ({})",
                loaded
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "built-in defaults".into())
            );
            for w in &loaded.warnings {
                println!("# warning: {w}");
            }
            for (key, source) in &loaded.sources {
                println!("# {key}: {source}");
            }
            println!("{}", loaded.config.redacted_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { file } => {
            let loaded = load(&cli, CliOverrides::default())?;
            let rows = tenantry::store::backup_to(&loaded.config.db_path(), file)?;
            println!("backup written to {} ({rows} records)", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file } => {
            let loaded = load(&cli, CliOverrides::default())?;
            let db = loaded.config.db_path();
            let r = tenantry::store::restore_from(file, &db)?;
            println!(
                "restored {} ({} records, schema {}) into {}",
                file.display(),
                r.rows,
                r.schema_version,
                db.display()
            );
            if let Some(p) = &r.previous {
                println!("the replaced database was kept as {}", p.display());
            }
            println!("start the service; it migrates the restored database if it is older");
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin { command } => {
            let loaded = load(&cli, CliOverrides::default())?;
            runtime()?.block_on(admin(loaded, command))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_password(prompt: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        Ok(rpassword::prompt_password(prompt)?)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

async fn admin(loaded: Loaded, command: &AdminCommand) -> anyhow::Result<()> {
    use tenantry::model::{Actor, Role};
    let services =
        tenantry::demo::offline_services(&loaded.config, credentials_dir().as_deref()).await?;
    let actor = tenantry::domain::authority::AdminActor::local(Actor("cli".into()));
    match command {
        AdminCommand::AddUser { email, name, role } => {
            let pw = read_password("Password (at least 12 characters): ")?;
            let new = tenantry::domain::staff::NewStaff::parse(email, name, role, Some(&pw))?;
            let u = services.create_staff(actor, new).await?;
            println!("created {} account {}", u.role.as_str(), u.email);
        }
        AdminCommand::ResetPassword { email } => {
            let pw = read_password("New password (at least 12 characters): ")?;
            let u = services.reset_password(actor, email, &pw).await?;
            println!("password reset for {}; their sessions were ended", u.email);
        }
        AdminCommand::CreateToken { name, role } => {
            let role = Role::parse(role)?;
            let (plain, t) = services.create_api_token(actor, name, role).await?;
            eprintln!(
                "created {} API token {:?} (shown once; store it safely):",
                t.role.as_str(),
                t.name
            );
            println!("{plain}");
        }
    }
    Ok(())
}
