//! Shared by every test binary (`#[path = "../support/mod.rs"] mod support;`): waiting for
//! a condition, the `TEST_LOG` switch, and starting the simulator (`sim`).
#![allow(dead_code)]

pub mod sim;

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
            panic!(
                "gave up waiting (after {PATIENCE:?}) for: {what}\n--- log so far ---\n{}",
                captured_log()
            );
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Every log line the appliance wrote in this test binary (warnings and errors, or what
/// `TEST_LOG` asks for), so a test can find the line an error page points to.
static CAPTURED: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

/// Writes each log line to the capture buffer, and to the test's output when `TEST_LOG` is set.
#[derive(Clone, Copy)]
struct Capture {
    echo: bool,
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        if self.echo {
            // `print!` goes through the test harness's capture, like `with_test_writer`.
            print!("{}", String::from_utf8_lossy(buf));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        *self
    }
}

/// Install the test binary's log subscriber (once; later calls do nothing). Without
/// `TEST_LOG`, warnings and errors are only captured (see [`captured_log`]);
/// `TEST_LOG=1 cargo test …` also prints the appliance's log (`TEST_LOG=debug` or any
/// tracing directive to choose what).
pub fn init_test_log() {
    let env = std::env::var("TEST_LOG").ok();
    let filter = match env.as_deref() {
        None => "warn",
        Some("") | Some("1") => "info",
        Some(f) => f,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(false)
        .with_writer(Capture {
            echo: env.is_some(),
        })
        .try_init();
}

/// What the appliance has logged so far in this test binary.
pub fn captured_log() -> String {
    String::from_utf8_lossy(&CAPTURED.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}
