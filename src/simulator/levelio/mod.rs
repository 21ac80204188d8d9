//! The simulated Level.io RMM API (docs/levelio.md), served at `{levelio_url}/v2/...`.
//!
//! Three parts, one direction: `state` is the estate (data and its generator, no HTTP),
//! `api` serves it as Level's v2 REST API, `control` changes it through `/_sim/levelio/...`.
//! The estate lives behind its own lock ([`LevelHandle`]), not inside `SimState`, so this module
//! never names the simulator's Microsoft state and the simulator has no import cycle.

pub mod api;
pub mod control;
mod estate;
pub mod state;

pub use api::configure;
pub use state::{INCLUDES, LevelClient, LevelHandle, LevelState};
