//! The client support portal at `/portal/{slug}`: sign-in with the company's own tenant,
//! the user's profile and devices, and support requests. Staff pages live in `handlers`.

mod home;
mod requests;
pub mod session;
mod signin;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    signin::routes(cfg);
    requests::routes(cfg);
    home::routes(cfg);
}
