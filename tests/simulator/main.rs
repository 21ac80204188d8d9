//! Contract tests of the Microsoft/Level.io simulator, driven with a plain HTTP client.

// Tests meet the simulator, which (like Microsoft) runs on wall time, so they may read it;
// the product reads time only through src/clock.rs (clippy.toml).
#![allow(clippy::disallowed_methods)]

#[path = "../support/mod.rs"]
mod support;

mod batch;
mod certificate;
mod common;
mod delta;
mod demo;
mod evidence;
mod faults;
mod levelio;
mod levelio_estate;
mod licences;
mod lists;
mod login;
mod paging;
mod scale;
mod schema;
mod users_lookup;
