//! Level's v2 REST API over the estate (docs/levelio.md#api).
//!
//! Auth is the raw API key in `Authorization` (no `Bearer`); a wrong key is 401
//! `{"error":"Access denied"}`. Lists use cursor paging: `limit` 1–100 (default 20),
//! `starting_after=<last id>`, body `{"data": [...], "has_more": bool}`.
//!
//! GUESS (marked as such in docs/levelio.md): Level does not document what an out-of-range
//! `limit` or an unknown `starting_after` returns; we answer 422 `{"error": …}`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::state::{INCLUDES, LevelHandle, LevelState, str_of};
use crate::simulator::faults::{self, FaultKind};

#[derive(Deserialize, Default)]
struct ListQ {
    limit: Option<String>,
    starting_after: Option<String>,
    group_id: Option<String>,
    ancestor_group_id: Option<String>,
    hostname: Option<String>,
    serial_number: Option<String>,
    tag_id: Option<String>,
    assigned_to_id: Option<String>,
    custom_field_id: Option<String>,
}

fn guessed_unprocessable(msg: &str) -> Box<HttpResponse> {
    Box::new(HttpResponse::UnprocessableEntity().json(json!({ "error": msg })))
}

fn not_found() -> Box<HttpResponse> {
    Box::new(HttpResponse::NotFound().json(json!({"error": "Not found"})))
}

fn page(items: Vec<Map<String, Value>>, q: &ListQ) -> Result<Value, Box<HttpResponse>> {
    let limit = match &q.limit {
        None => 20,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => return Err(guessed_unprocessable("limit must be between 1 and 100")),
        },
    };
    let start = match &q.starting_after {
        Some(a) => match items.iter().position(|d| str_of(d, "id") == Some(a)) {
            Some(p) => p + 1,
            None => return Err(guessed_unprocessable("starting_after not found")),
        },
        None => 0,
    };
    let has_more = start + limit < items.len();
    let data: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(limit)
        .map(Value::Object)
        .collect();
    Ok(json!({ "data": data, "has_more": has_more }))
}

/// Removes every include-gated property the request did not ask for.
fn strip(mut d: Map<String, Value>, flags: &[(String, String)]) -> Map<String, Value> {
    for (flag, prop) in INCLUDES {
        let on = flags.iter().any(|(k, v)| k == flag && v == "true");
        if !on {
            d.remove(prop);
        }
    }
    d
}

fn devices(lv: &LevelState, q: &ListQ, flags: &[(String, String)]) -> Vec<Map<String, Value>> {
    let within = q.ancestor_group_id.as_deref().map(|a| lv.descendants(a));
    let tag = q.tag_id.as_deref().map(|t| {
        lv.tags
            .iter()
            .find(|x| str_of(x, "id") == Some(t))
            .and_then(|x| str_of(x, "name"))
            .unwrap_or_default()
            .to_string()
    });
    lv.devices
        .iter()
        .filter(|d| {
            q.group_id
                .as_deref()
                .is_none_or(|g| str_of(d, "group_id") == Some(g))
        })
        .filter(|d| {
            within
                .as_ref()
                .is_none_or(|w| str_of(d, "group_id").is_some_and(|g| w.iter().any(|x| x == g)))
        })
        .filter(|d| {
            q.hostname
                .as_deref()
                .is_none_or(|x| str_of(d, "hostname") == Some(x))
        })
        .filter(|d| {
            q.serial_number
                .as_deref()
                .is_none_or(|x| str_of(d, "serial_number") == Some(x))
        })
        .filter(|d| {
            tag.as_deref().is_none_or(|t| {
                d.get("tags")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(t)))
            })
        })
        .map(|d| strip(d.clone(), flags))
        .collect()
}

fn values(lv: &LevelState, q: &ListQ) -> Vec<Map<String, Value>> {
    let matches = |v: &Map<String, Value>, k: &str, want: &Option<String>| {
        want.as_deref().is_none_or(|w| str_of(v, k) == Some(w))
    };
    lv.values
        .iter()
        .filter(|v| matches(v, "assigned_to_id", &q.assigned_to_id))
        .filter(|v| matches(v, "custom_field_id", &q.custom_field_id))
        .cloned()
        .collect()
}

/// The response a fault rule asks for, or `Slow`'s delay.
fn fault_response(kind: FaultKind) -> Result<Option<std::time::Duration>, Box<HttpResponse>> {
    match kind {
        FaultKind::Throttle { retry_after } => {
            let mut b = HttpResponse::TooManyRequests();
            if let Some(r) = retry_after {
                b.insert_header(("Retry-After", r));
            }
            Err(Box::new(b.json(json!({"error": "Too many requests"}))))
        }
        FaultKind::Unavailable { retry_after } => {
            let mut b = HttpResponse::ServiceUnavailable();
            if let Some(r) = retry_after {
                b.insert_header(("Retry-After", r));
            }
            Err(Box::new(b.json(json!({"error": "Service unavailable"}))))
        }
        FaultKind::Error {
            status, message, ..
        } => {
            let code = actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
            Err(Box::new(
                HttpResponse::build(code).json(json!({ "error": message })),
            ))
        }
        FaultKind::Malformed => Err(Box::new(
            HttpResponse::Ok()
                .content_type("application/json")
                .body("{\"data\": [{\"id\": "),
        )),
        FaultKind::Slow { delay_ms } => Ok(Some(std::time::Duration::from_millis(delay_ms))),
    }
}

async fn api(level: web::Data<LevelHandle>, req: HttpRequest) -> HttpResponse {
    let path = req
        .path()
        .trim_start_matches("/v2/")
        .trim_end_matches('/')
        .to_string();
    let q: ListQ = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let flags: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let key = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let seg: Vec<&str> = path.split('/').collect();
    let endpoint = match seg.as_slice() {
        [collection, _] => format!("{collection}/{{id}}"),
        _ => path.clone(),
    };
    let mut delay = None;
    let resp = {
        let mut lv = level.lock();
        *lv.counts.entry(endpoint.clone()).or_insert(0) += 1;
        if lv.api_key.is_empty() || key != lv.api_key {
            return HttpResponse::Unauthorized().json(json!({"error": "Access denied"}));
        }
        if let Some(kind) = faults::evaluate(&mut lv.faults, &endpoint) {
            match fault_response(kind) {
                Ok(d) => delay = d,
                Err(r) => return *r,
            }
        }
        let result = match seg.as_slice() {
            ["groups"] => page(lv.groups.iter().map(|g| lv.group_view(g)).collect(), &q),
            ["groups", id] => lv
                .groups
                .iter()
                .find(|g| str_of(g, "id") == Some(*id))
                .map(|g| Value::Object(lv.group_view(g)))
                .ok_or_else(not_found),
            ["tags"] => page(lv.tags.clone(), &q),
            ["custom_fields"] => page(lv.custom_fields.clone(), &q),
            ["custom_field_values"] => page(values(&lv, &q), &q),
            ["devices"] => page(devices(&lv, &q, &flags), &q),
            ["devices", id] => lv
                .device_index(id)
                .map(|i| Value::Object(strip(lv.devices[i].clone(), &flags)))
                .ok_or_else(not_found),
            _ => Err(not_found()),
        };
        match result {
            Ok(v) => HttpResponse::Ok().json(v),
            Err(r) => *r,
        }
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    resp
}

/// Registers `/v2/...` (the app data must hold a [`LevelHandle`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v2/{tail:.*}", web::get().to(api));
}
