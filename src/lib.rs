//! Tenantry.
