//! Shared by every test binary (`#[path = "../support/mod.rs"] mod support;`): waiting for
//! a condition, and the `TEST_LOG` switch.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

/// How long [`eventually`] waits before it gives up. Generous: a loaded CI machine with two
/// cores runs several test binaries at once.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Wait until `probe` returns `Some`, re-checking every few milliseconds; panics with `what`
/// (and the last probe's debug output, via `describe`) after [`PATIENCE`]. For state that
/// another task changes (a job finishing, an audit row appearing); never a fixed sleep.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("gave up waiting (after {PATIENCE:?}) for: {what}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// `TEST_LOG=1 cargo test …` prints the appliance's log (filter with `TEST_LOG=debug` or any
/// tracing directive); without it tests are quiet. Safe to call from every test.
pub fn init_test_log() {
    let Ok(filter) = std::env::var("TEST_LOG") else {
        return;
    };
    let filter = if filter == "1" || filter.is_empty() {
        "info".to_string()
    } else {
        filter
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_test_writer()
        .try_init();
}
