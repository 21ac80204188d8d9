//! The HTTP-level integration tests: one binary, `mod` lines only. Each test starts its own
//! appliance on a random port with a temporary data directory and drives it over real HTTP.

mod helpers;
mod sso_helpers;
mod sync_helpers;

mod api;
mod audit;
mod auth;
mod certificate;
mod companies;
mod connect;
mod demo;
mod jobs;
mod jobs_page;
mod layering;
mod paging;
mod portal;
mod portal_requests;
mod requests;
mod settings;
mod sso;
mod sso_flood;
mod sso_state;
mod sync;
