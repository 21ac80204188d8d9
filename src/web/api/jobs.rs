//! `/api/v1/jobs`: recent runs and one job.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
