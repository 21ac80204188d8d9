//! Graph's error body and the request/correlation ids every response carries.
//!
//! WHY a middleware for the ids: Microsoft sends `request-id` and `client-request-id` on every
//! response, including errors and unknown paths, and the same ids appear in `innerError`; the
//! appliance logs them, so the simulator must never miss one.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde_json::{Value, json};

/// Per-request correlation ids, stored in the request extensions by [`ids_middleware`].
#[derive(Clone, Debug)]
pub struct ReqIds {
    pub request_id: String,
    pub client_request_id: String,
}

impl ReqIds {
    pub fn of(req: &HttpRequest) -> ReqIds {
        req.extensions()
            .get::<ReqIds>()
            .cloned()
            .unwrap_or_else(|| ReqIds {
                request_id: uuid::Uuid::new_v4().to_string(),
                client_request_id: String::new(),
            })
    }
}

/// Adds `request-id` and echoes `client-request-id` (or repeats the request id when the client
/// sent none, as Graph does).
pub async fn ids_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    req.extensions_mut().insert(ReqIds {
        request_id: request_id.clone(),
        client_request_id: client_request_id.clone(),
    });
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert(HeaderName::from_static("request-id"), v);
    }
    if let Ok(v) = HeaderValue::from_str(&client_request_id) {
        h.insert(HeaderName::from_static("client-request-id"), v);
    }
    Ok(res)
}

/// A Graph error response.
#[derive(Clone, Debug)]
pub struct GraphError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub headers: Vec<(String, String)>,
    /// Extra `innerError` members (the 429 sample carries code/message/status there).
    pub inner: Vec<(String, Value)>,
}

impl GraphError {
    pub fn new(status: u16, code: &str, message: &str) -> Self {
        GraphError {
            status,
            code: code.into(),
            message: message.into(),
            headers: Vec::new(),
            inner: Vec::new(),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn bad_request(msg: &str) -> Self {
        GraphError::new(400, "BadRequest", msg)
    }

    pub fn unsupported(msg: &str) -> Self {
        GraphError::new(400, "Request_UnsupportedQuery", msg)
    }

    pub fn throttled(retry_after: Option<&str>) -> Self {
        let mut e = GraphError::new(429, "TooManyRequests", "Please retry again later.");
        e.inner = vec![
            ("code".into(), json!("429")),
            ("message".into(), json!("Please retry after")),
            ("status".into(), json!("429")),
        ];
        if let Some(r) = retry_after {
            e = e.header("Retry-After", r);
        }
        e
    }

    pub fn body(&self, ids: &ReqIds) -> Value {
        let mut inner = serde_json::Map::new();
        for (k, v) in &self.inner {
            inner.insert(k.clone(), v.clone());
        }
        inner.insert(
            "date".into(),
            json!(
                crate::simulator::clock::now()
                    .format("%Y-%m-%dT%H:%M:%S")
                    .to_string()
            ),
        );
        inner.insert("request-id".into(), json!(ids.request_id));
        inner.insert("client-request-id".into(), json!(ids.client_request_id));
        json!({ "error": { "code": self.code, "message": self.message, "innerError": inner } })
    }

    pub fn response(&self, ids: &ReqIds) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut b = HttpResponse::build(status);
        for (k, v) in &self.headers {
            b.insert_header((k.as_str(), v.as_str()));
        }
        b.content_type("application/json")
            .body(self.body(ids).to_string())
    }
}

/// Unknown Graph path: Graph answers 400 "Resource not found for the segment".
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let seg = req
        .path()
        .trim_start_matches("/v1.0/")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    GraphError::bad_request(&format!("Resource not found for the segment '{seg}'."))
        .response(&ReqIds::of(&req))
}
