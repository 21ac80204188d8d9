//! Who is on the other end of a request: the client address that rate limits and the audit
//! log key on.

use actix_web::HttpRequest;

/// The client's address. Today the TCP peer: a header anyone can set must not pick the
/// rate-limit bucket.
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
