//! Contract tests of the Microsoft/Level.io simulator, driven with a plain HTTP client.

mod certificate;
mod common;
mod delta;
mod demo;
mod faults;
mod levelio;
mod lists;
mod login;
mod paging;
mod scale;
mod schema;
mod users_lookup;
