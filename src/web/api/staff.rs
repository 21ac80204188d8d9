//! `/api/v1/users`, `/api/v1/tokens`, `/api/v1/schedules` (admin tokens only).

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
