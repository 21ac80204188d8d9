//! The simulator's wall clock. It stands in for Microsoft's and Level's servers, which have
//! their own clock: tokens it issues expire in real time whatever the appliance's clock says.
//! The one place in the simulator that reads the time (clippy.toml forbids it elsewhere).

use chrono::{DateTime, Utc};

#[allow(clippy::disallowed_methods)]
pub fn now() -> DateTime<Utc> {
    Utc::now()
}
