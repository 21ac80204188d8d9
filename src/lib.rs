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

/// The allocator of every binary built on this crate (the appliance, its tests and benches).
/// WHY: with glibc's malloc, an identity sync of 100,000 users and devices left the process
/// at ~360 MiB and peaked at ~400 MiB: its writes run on tokio's blocking pool, each thread
/// gets its own malloc arena, and freed memory stays in those arenas. Measured in
/// `benches/identity_sync.rs` (BENCHMARKS.md, "Identity sync").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
pub mod model;
pub mod oidc;
pub mod simulator;
pub mod store;
pub mod telemetry;
pub mod web;
