//! Page handlers, one file per area. Names: `<page>_get` / `<page>_post`.

mod asset_merge;
mod audit;
mod bulk;
mod companies;
mod compliance;
mod confirm;
mod dashboard;
mod directory;
mod entra;
mod health;
mod jobs;
mod level_settings;
mod microsoft_sign_in;
mod notifications;
mod password_sign_in;
mod requests;
mod settings;
mod sso_settings;

pub(crate) use crate::web::respond::{NoticeQuery, render, see_other};
pub(crate) use password_sign_in::login_page;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    dashboard::routes(cfg);
    health::routes(cfg);
    password_sign_in::routes(cfg);
    microsoft_sign_in::routes(cfg);
    sso_settings::routes(cfg);
    level_settings::routes(cfg);
    notifications::routes(cfg);
    bulk::routes(cfg);
    companies::routes(cfg);
    compliance::routes(cfg);
    confirm::routes(cfg);
    // Before `directory`: its `/companies/{id}/assets/{aid}` would take `…/assets/review`.
    asset_merge::routes(cfg);
    directory::routes(cfg);
    settings::routes(cfg);
    entra::routes(cfg);
    audit::routes(cfg);
    jobs::routes(cfg);
    requests::routes(cfg);
}
