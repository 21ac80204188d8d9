//! Support requests in the portal (owned by the requests work; routes registered from mod.rs).

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
