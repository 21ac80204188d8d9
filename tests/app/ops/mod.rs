//! Running the appliance unwatched (#13): metrics, systemd readiness, restore, schema
//! fixtures, API parity.

mod api_parity;
mod api_twins;
mod disk_full;
mod metrics;
mod prom_text;
mod restore;
mod schema_fixtures;
