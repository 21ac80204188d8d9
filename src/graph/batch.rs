//! JSON batching: `POST /v1.0/$batch` with up to 20 GET steps.
//!
//! Graph answers the batch with 200 even when steps fail, and throttles each step on its own,
//! so a 429 step sits beside 200s (docs/microsoft.md#batching). Steps answered 429 or 5xx
//! are sent again in a later batch, after the longest `Retry-After` among them (or a backoff),
//! a bounded number of times; what still fails is returned per step as a [`GraphError`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::hashed::{PayloadDigest, PayloadHasher};
use super::{GraphClient, GraphError, Meta, http_error, retry};

/// Graph's limit on steps per batch.
pub const MAX_STEPS: usize = 20;

/// Rounds of re-sending throttled steps before giving up on them.
const MAX_ROUNDS: u32 = 5;

#[derive(Deserialize)]
struct BatchBody {
    #[serde(default)]
    responses: Vec<StepResponse>,
}

#[derive(Deserialize)]
struct StepResponse {
    id: String,
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: serde_json::Value,
}

impl StepResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl GraphClient {
    /// GET every relative URL in `urls` (e.g. `/users/{id}/authentication/methods`) through
    /// batches of 20, returning each step's body or error in the order given, and the digest
    /// of every batch answer received. An error for the whole batch (token, transport, a 4xx
    /// on the batch itself) ends the read.
    pub async fn batch_get(
        &self,
        tenant: &str,
        urls: &[String],
    ) -> Result<(Vec<Result<serde_json::Value, GraphError>>, PayloadDigest), GraphError> {
        let mut hasher = PayloadHasher::default();
        let mut out: Vec<Option<Result<serde_json::Value, GraphError>>> = vec![None; urls.len()];
        let batch_url = self.url("/v1.0/$batch");
        for chunk_start in (0..urls.len()).step_by(MAX_STEPS) {
            let chunk_end = (chunk_start + MAX_STEPS).min(urls.len());
            let mut pending: Vec<usize> = (chunk_start..chunk_end).collect();
            let mut round = 0u32;
            while !pending.is_empty() {
                round += 1;
                let requests: Vec<serde_json::Value> = pending
                    .iter()
                    .map(|i| serde_json::json!({"id": i.to_string(), "method": "GET", "url": urls[*i]}))
                    .collect();
                let body = serde_json::json!({ "requests": requests });
                let raw = self
                    .request_raw(tenant, reqwest::Method::POST, &batch_url, Some(&body))
                    .await?;
                hasher.add_response(&raw);
                let batch_request_id = raw.request_id().map(str::to_string);
                let parsed: BatchBody = raw.decode()?;
                let mut retry_later = Vec::new();
                let mut wait: Option<Duration> = None;
                for step in parsed.responses {
                    let Ok(i) = step.id.parse::<usize>() else {
                        continue;
                    };
                    if !pending.contains(&i) {
                        continue;
                    }
                    if (200..300).contains(&step.status) {
                        out[i] = Some(Ok(step.body));
                        continue;
                    }
                    let meta = Meta {
                        status: step.status,
                        request_id: step
                            .header("request-id")
                            .map(str::to_string)
                            .or_else(|| batch_request_id.clone()),
                        client_request_id: step.header("client-request-id").map(str::to_string),
                        date: step.header("date").map(str::to_string),
                        location: None,
                        attempts: round,
                        retry_after: None,
                        path: urls[i].split('?').next().unwrap_or_default().to_string(),
                    };
                    let body = serde_json::to_vec(&step.body).unwrap_or_default();
                    let err = http_error(meta, &body);
                    let ra = step.header("retry-after").and_then(|v| {
                        retry::parse_retry_after(
                            v,
                            step.header("date"),
                            std::time::SystemTime::from(self.clock.now()),
                        )
                    });
                    // A wait longer than the policy allows ends the step, as for a plain GET.
                    let too_long = ra.is_some_and(|d| d > self.retry.max_retry_after);
                    if retry::is_retryable(step.status) && round < MAX_ROUNDS && !too_long {
                        let delay = ra.unwrap_or_else(|| self.retry.backoff(round));
                        wait = Some(wait.map_or(delay, |w| w.max(delay)));
                        retry_later.push(i);
                    }
                    out[i] = Some(Err(err));
                }
                // Steps Graph did not answer at all are asked again too.
                for i in &pending {
                    if out[*i].is_none() && round < MAX_ROUNDS && !retry_later.contains(i) {
                        retry_later.push(*i);
                    }
                }
                pending = retry_later;
                if !pending.is_empty() {
                    let delay = wait.unwrap_or_else(|| self.retry.backoff(round));
                    tracing::warn!(
                        tenant,
                        steps = pending.len(),
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "batch steps throttled or failed; sending them again"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
        let results = out
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| {
                    let mut info = GraphError::blank(super::error::GraphErrorKind::Decode);
                    info.detail = Some("the batch answer had no response for this step".into());
                    info.path = Some(urls[i].clone());
                    Err(GraphError::new(info))
                })
            })
            .collect();
        Ok((results, hasher.finish()))
    }
}
