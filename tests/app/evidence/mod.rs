//! Compliance evidence collection against the simulator: facts as computed independently from
//! the simulator's own view (control API and raw Graph answers, never our client), licence
//! gaps, pacing under Microsoft's limits, and failures that must not leave a half snapshot.

mod collect;
mod controls;
mod failures;
pub(crate) mod helpers;
mod licences;
