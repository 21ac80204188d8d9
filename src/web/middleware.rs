//! Cross-cutting HTTP behaviour: security headers on every response, and a guard that
//! refuses cross-site state-changing requests before any handler runs.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

/// CSP without inline scripts or styles, no framing, no referrer leakage of tenant ids.
/// `form-action` also names Microsoft's sign-in origin: browsers apply it to the redirect
/// that follows a form POST, and Connect / Sync With M365 forms redirect to admin consent.
fn content_security_policy(microsoft_login_url: &str) -> String {
    let login_origin = url::Url::parse(microsoft_login_url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .unwrap_or_default();
    format!(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         form-action 'self' {login_origin}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

/// The CSP as a header value, or the strict fallback if the login URL made it unusable.
pub fn csp_header(microsoft_login_url: &str) -> header::HeaderValue {
    header::HeaderValue::from_str(&content_security_policy(microsoft_login_url))
        .unwrap_or_else(|_| fallback_csp())
}

fn fallback_csp() -> header::HeaderValue {
    header::HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'")
}

pub async fn security_headers<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    let state = req.app_data::<actix_web::web::Data<super::AppState>>();
    // Served over https (the public URL says so): tell browsers never to try plain http,
    // so a network attacker cannot strip TLS from the next visit.
    let https = state.is_some_and(|s| s.config.secure_cookies);
    let csp = state.map_or_else(fallback_csp, |s| s.csp.clone());
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    let set = |h: &mut header::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(
            header::HeaderName::from_static(k),
            header::HeaderValue::from_static(v),
        );
    };
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    if https {
        set(h, "strict-transport-security", "max-age=31536000");
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    Ok(res)
}

/// Refuse unsafe methods that a browser marks as cross-site (Fetch Metadata), or whose
/// Origin is not this host. Bearer-token API calls carry no cookies, so they are not at risk
/// and skip the check (scripts send no Origin anyway).
pub async fn cross_site_guard<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<B>>, Error> {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let is_api = req.path().starts_with("/api/");
    if unsafe_method && !is_api {
        let site = req
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let cross_site = site == "cross-site" || site == "same-site";
        let origin_mismatch = match (
            req.headers()
                .get(header::ORIGIN)
                .and_then(|v| v.to_str().ok()),
            req.headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok()),
        ) {
            (Some("null"), _) => true,
            (Some(origin), Some(host)) => url::Url::parse(origin).ok().is_none_or(|u| {
                let origin_host = match u.port() {
                    Some(p) => format!("{}:{p}", u.host_str().unwrap_or("")),
                    None => u.host_str().unwrap_or("").to_string(),
                };
                origin_host != host
            }),
            _ => false,
        };
        if cross_site || origin_mismatch {
            tracing::warn!(path = req.path(), "refused a cross-site form submission");
            let res = HttpResponse::Forbidden()
                .content_type("text/plain; charset=utf-8")
                .body("Refused: this form was submitted from another site.");
            return Ok(req.into_response(res).map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}
