//! The simulated Microsoft login host (`{login_url}`): discovery, JWKS, authorize, token,
//! admin consent. Errors use Entra's AADSTS shapes (docs/microsoft.md#token-errors,
//! docs/microsoft.md#code-redemption).

pub mod assertion;
pub mod authorize;
pub mod consent;
pub mod discovery;
pub mod idtoken;
pub mod page;
pub mod token;

pub use page::{Back, error_page, esc};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// `organizations` / `common` authority segments.
pub fn is_multi(segment: &str) -> bool {
    matches!(
        segment.to_ascii_lowercase().as_str(),
        "organizations" | "common"
    )
}

/// Entra's token-endpoint error body.
pub fn aad_error(login_url: &str, status: u16, error: &str, code: u32, desc: &str) -> HttpResponse {
    let trace = uuid::Uuid::new_v4().to_string();
    let corr = uuid::Uuid::new_v4().to_string();
    let now = crate::simulator::clock::now()
        .format("%Y-%m-%d %H:%M:%SZ")
        .to_string();
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {desc}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {now}"),
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": format!("{login_url}/error?code={code}"),
    });
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

/// Appends query parameters to a redirect URI.
pub fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let q = serde_urlencoded::to_string(params).unwrap_or_default();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{q}")
}

/// Registers the login routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/{tenant}/v2.0/.well-known/openid-configuration",
        web::get().to(discovery::openid_configuration),
    )
    .route(
        "/{tenant}/discovery/v2.0/keys",
        web::get().to(discovery::jwks),
    )
    .route(
        "/{tenant}/oauth2/v2.0/authorize",
        web::get().to(authorize::authorize),
    )
    .route("/{tenant}/oauth2/v2.0/token", web::post().to(token::token))
    .route(
        "/{tenant}/v2.0/adminconsent",
        web::get().to(consent::adminconsent),
    )
    .route(
        "/{tenant}/v2.0/adminconsent/decision",
        web::get().to(consent::decision),
    );
}
