//! `/api/v1/contacts` and `/api/v1/assets` across companies.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
