//! `/api/v1/audit`: the audit log with the same filters as the page.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
