//! Tenantry.
pub mod simulator;
