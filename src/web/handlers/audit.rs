//! The audit log page with filters and CSV export.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
