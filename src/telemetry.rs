//! Logging: tracing to stdout/stderr (journald captures it). Never log tokens or secrets:
//! request logging records method, path and status only, never headers or query strings.

use tracing_subscriber::EnvFilter;

/// Install the global subscriber. `level` is a tracing filter; `TENANTRY_LOG` wins when set.
pub fn init(level: &str, json: bool) {
    let filter = std::env::var("TENANTRY_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| {
            EnvFilter::try_new(format!(
                "{level},actix_server=warn,h2=warn,hyper=warn,reqwest=warn,rustls=warn"
            ))
            .ok()
        })
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests, demo) is harmless: keep the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
