//! Tenantry: a self-hosted appliance that connects an MSP's PSA to its clients'
//! Microsoft Entra ID tenants.
//!
//! Layers, one direction (enforced by `tests/app/layering.rs`):
//!
//! ```text
//! main ─► app ─► web ─► domain ─► store ─► model
//!          │             ├─► clock      └─► crypto
//!          ├─► jobs ─► domain
//!          ├─► simulator              (imports nothing internal)
//!          └─► config, telemetry
//! ```
//!
//! * `store` is the only module that names `redb`.
//! * `web` is the only module that names `askama`; `web` and `simulator` the only ones naming `actix_web`.
//! * `model` is plain data: no I/O, no clock, no async.
//! * Time enters through [`clock`] and is passed down as `now`.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod allocator;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod graph;
pub mod http_client;
pub mod jobs;
pub mod levelio;
pub mod metrics;
pub mod model;
pub mod oidc;
pub mod sd_notify;
pub mod simulator;
pub mod store;
pub mod telemetry;
pub mod web;
