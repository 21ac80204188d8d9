//! The Graph client against a small fake token endpoint and Graph, over real HTTP.
//!
//! Each test starts its own fake (`fake.rs`) on a random port and scripts what Microsoft
//! answers, then checks what the client made of it: tokens, paging, delta, retries and typed
//! errors. `golden.rs` decodes example bodies shaped like Microsoft's reference examples
//! (`fixtures/`, see docs/microsoft.md).

// Tests meet the simulator, which (like Microsoft) runs on wall time, so they may read it;
// the product reads time only through src/clock.rs (clippy.toml).
#![allow(clippy::disallowed_methods)]

mod fake;

mod certificate;
mod directory;
mod errors;
mod evidence;
mod golden;
mod paging;
mod retry;
mod tokens;
