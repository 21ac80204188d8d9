//! Command-line interface.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "tenantry",
    version,
    about = "Connects an MSP's PSA to its clients' Microsoft Entra ID tenants"
)]
pub struct Cli {
    /// Configuration file (default: /etc/tenantry/tenantry.toml when it exists, else built-in defaults).
    #[arg(long, global = true, env = "TENANTRY_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the appliance.
    Serve {
        /// Listen address (overrides server.listen).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Try Tenantry: the appliance with a temporary data directory and a printed admin login.
    Demo {
        /// Listen address for the appliance.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Print one JSON line with the URLs and credentials (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Run only the Microsoft (login + Graph) and Level.io simulator, for tests against a
    /// separately started appliance.
    Sim {
        /// Address to bind (loopback by default; the control API refuses other peers anyway).
        #[arg(long, default_value = "127.0.0.1")]
        ip: std::net::IpAddr,
        /// Login host port (0 = random).
        #[arg(long, default_value_t = 0)]
        login_port: u16,
        /// Graph host port (0 = random).
        #[arg(long, default_value_t = 0)]
        graph_port: u16,
        /// Level.io host port (0 = random).
        #[arg(long, default_value_t = 0)]
        levelio_port: u16,
        /// Seed of the generated sample data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Manage staff accounts and API tokens (works with the service stopped).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Write a consistent copy of the database to FILE (safe while the service runs).
    Backup {
        /// Destination file (must not exist).
        file: PathBuf,
    },
    /// Replace the database with a backup made by `tenantry backup` (stop the service first).
    /// The backup is checked before anything is replaced; the old database is kept beside it.
    Restore {
        /// Backup file to restore.
        file: PathBuf,
    },
    /// Validate the configuration and print the effective values with their sources.
    CheckConfig,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a staff account. The password is read from standard input.
    AddUser {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        /// admin or technician
        #[arg(long, default_value = "technician")]
        role: String,
    },
    /// Set a new password for a staff account (read from standard input); ends its sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Create an API token and print it (shown once).
    CreateToken {
        #[arg(long)]
        name: String,
        /// admin or technician
        #[arg(long, default_value = "technician")]
        role: String,
    },
}
