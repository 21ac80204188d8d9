//! The Jobs page: recent runs and one job's detail.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
