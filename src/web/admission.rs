//! A bound on requests in flight (`server.max_in_flight`). Past it a request waits up to
//! `server.overload_wait_ms` for a turn, then is answered **503 with `Retry-After`** (the
//! API's JSON error code `overloaded`, a short page for a browser).
//!
//! Why: on a 2-core VM, 50 connections of an expensive request used to let every one of them
//! start its work at once; the blocking pool then held both cores, actix's workers could not
//! read the next request heads in time, and clients got 408 (actix's client request timeout)
//! or a reset connection: nothing a script or a person can act on. With a bound, the work
//! that runs at once stays small, the workers stay free to read and answer, and whoever is
//! turned away is told plainly when to come back. The wait is first come, first served
//! (tokio's semaphore is fair), so a burst is served in arrival order rather than all at once.
//!
//! Health checks and static files are never held back: a busy appliance is alive (a probe
//! that failed on load would get it restarted in the middle of its work), and a stylesheet
//! refused after its page was served breaks a page that already had its turn.

use super::error::ApiError;
use super::error::WebError;
use crate::domain::DomainError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The turns a request takes, shared by every actix worker.
#[derive(Clone)]
pub struct Admission {
    turns: Arc<Semaphore>,
    wait: Duration,
    retry_after_secs: u64,
}

impl Admission {
    pub fn new(max_in_flight: usize, wait: Duration) -> Self {
        Self {
            turns: Arc::new(Semaphore::new(max_in_flight.max(1))),
            wait,
            // Come back after at least as long as this request was willing to wait.
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        }
    }
}

/// Requests that never wait for a turn.
fn exempt(path: &str) -> bool {
    path.starts_with("/static/") || path == "/healthz" || path == "/readyz"
}

/// Middleware: hold a turn while the handler runs, or answer 503 once the wait is over.
pub async fn admit<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let admission = req
        .app_data::<actix_web::web::Data<super::AppState>>()
        .map(|s| s.admission.clone());
    let Some(admission) = admission.filter(|_| !exempt(req.path())) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    // A free turn is taken without a timer (the common case costs one atomic operation).
    let turn = match admission.turns.clone().try_acquire_owned() {
        Ok(turn) => Some(turn),
        Err(_) => tokio::time::timeout(admission.wait, admission.turns.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok),
    };
    let Some(_turn) = turn else {
        tracing::warn!(
            path = req.path(),
            "refused a request: too many in flight (server.max_in_flight)"
        );
        let secs = admission.retry_after_secs;
        let res = if req.path().starts_with("/api/") {
            ApiError::from(DomainError::Overloaded {
                retry_after_secs: secs,
            })
            .error_response()
        } else {
            WebError::Overloaded(secs).error_response()
        };
        return Ok(req.into_response(res).map_into_right_body());
    };
    // The turn is held until the response head is ready: every page and API answer is
    // rendered by then; only a streamed CSV export goes on producing its body after it.
    Ok(next.call(req).await?.map_into_left_body())
}
