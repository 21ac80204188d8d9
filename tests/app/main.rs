//! The HTTP-level integration tests: one binary, `mod` lines only. Each test starts its own
//! appliance on a random port with a temporary data directory and drives it over real HTTP.

// Tests meet the simulator, which (like Microsoft) runs on wall time, so they may read it;
// the product reads time only through src/clock.rs (clippy.toml).
#![allow(clippy::disallowed_methods)]

#[path = "../support/mod.rs"]
mod support;

mod alerts_support;
mod asset_merge_seed;
mod helpers;
mod sso_helpers;
mod sync_helpers;

mod api;

mod alerts;
mod alerts_watch;
mod archived_actions;
mod asset_merge_api;
mod asset_merge_pages;
mod audit;
mod auth;
mod bulk_and_exports;
mod certificate;
mod companies;
mod compliance;
mod confirm_pages;
mod connect;
mod consent_outcomes;
mod dashboard;
mod demo;
mod detail_and_filters;
mod directory_pages;
mod error_pages;
mod evidence;
mod exports_and_empty_states;
mod jobs;
mod jobs_group;
mod jobs_page;
mod jobs_release;
mod layering;
mod level;
mod levelio_sync;
mod login_limits;
mod logs_paging;
mod navigation;
mod ops;
mod overload;
mod paging;
mod portal;
mod portal_requests;
mod redirects_and_input;
mod request_ids;
mod requests;
mod requests_api;
mod settings;
mod sso;
mod sso_flood;
mod sso_state;
mod sync;
mod sync_outcome;
mod tenant_guards;
