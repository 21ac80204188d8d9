//! Opaque paging state (`$skiptoken`, `$deltatoken`) and query-option parsing.
//!
//! WHY the whole cursor lives in the token: like Graph, the first request's query options are
//! encoded into nextLink/deltaLink, so a client that re-sends `$select` on later pages (or
//! rebuilds links) is not rewarded. Tokens are base64url JSON: opaque to clients, readable in
//! a debugger.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::errors::GraphError;

/// Cursor of a paged response.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PageToken {
    /// Tenant id: a token is only valid for the tenant that issued it.
    pub t: String,
    /// Collection/endpoint key.
    pub c: String,
    /// Delta epoch at issue time.
    pub e: u64,
    /// 0 = initial delta round, 1 = incremental delta round, 2 = plain list.
    pub m: u8,
    /// Incremental rounds: changes with version > since.
    pub since: u64,
    /// Version when the round started; becomes the next round's `since`.
    pub upto: u64,
    /// Position (initial rounds and lists).
    pub pos: u64,
    /// Last id emitted (incremental rounds).
    pub after: Option<String>,
    /// Member offset inside the group at `pos` (large groups span pages).
    pub moff: usize,
    /// `$select` of the first request; `None` = default property set.
    pub s: Option<Vec<String>>,
    /// Page size.
    pub n: usize,
    /// Unix seconds when issued (delta tokens expire).
    pub iat: i64,
    /// This link is the hop after an injected empty page.
    #[serde(default)]
    pub z: bool,
    /// `$filter` of the first request (plain lists that honour it); later pages apply it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f: Option<String>,
}

pub fn encode(t: &PageToken) -> String {
    let json = serde_json::to_vec(t).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

pub fn decode(s: &str) -> Option<PageToken> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim())
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Parsed query string (keys decoded; `%24select` becomes `$select`).
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(qs: &str) -> Query {
        Query {
            pairs: serde_urlencoded::from_str(qs).unwrap_or_default(),
        }
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, k: &str) -> bool {
        self.get(k).is_some()
    }
}

/// Parses and validates `$select` against the properties the endpoint knows.
pub fn parse_select(
    q: &Query,
    allowed: &[&str],
    type_name: &str,
    code: &str,
) -> Result<Option<Vec<String>>, GraphError> {
    let Some(raw) = q.get("$select") else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for p in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some(found) = allowed.iter().find(|a| a.eq_ignore_ascii_case(p)) else {
            return Err(GraphError::new(
                400,
                code,
                &format!("Could not find a property named '{p}' on type '{type_name}'."),
            ));
        };
        if !out.iter().any(|o: &String| o == found) {
            out.push((*found).to_string());
        }
    }
    Ok(Some(out))
}

/// Parses `$top` (1..=max; larger values are capped to the endpoint's maximum page size).
pub fn parse_top(q: &Query, default: usize, max: usize) -> Result<usize, GraphError> {
    match q.get("$top") {
        None => Ok(default),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n.min(max)),
            _ => Err(GraphError::bad_request(&format!(
                "Invalid page size specified: '{v}'. Must be between 1 and {max} inclusive."
            ))),
        },
    }
}

/// `Prefer: odata.maxpagesize=N` if present.
pub fn prefer_max_page_size(prefer: &str) -> Option<usize> {
    prefer
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("odata.maxpagesize="))
        .and_then(|n| n.trim().parse().ok())
}

/// Projects an object onto `$select` (id always included; absent selected properties are null).
pub fn project(obj: &Map<String, Value>, select: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(t) = obj.get("@odata.type") {
        out.insert("@odata.type".into(), t.clone());
    }
    out.insert("id".into(), obj.get("id").cloned().unwrap_or(Value::Null));
    for p in select {
        if p == "id" || p == "members" {
            continue;
        }
        out.insert(p.clone(), obj.get(p).cloned().unwrap_or(Value::Null));
        // CA policies: the annotation travels with its navigation property.
        let ann = format!("{p}@odata.context");
        if let Some(a) = obj.get(&ann) {
            out.insert(ann, a.clone());
        }
    }
    out
}
