//! The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then samples.
//! See <https://prometheus.io/docs/instrumenting/exposition_formats/>.

use super::{DURATION_BUCKETS, Gauges, STATUS_CLASSES, Snapshot};
use std::fmt::Write;

/// The `Content-Type` a scraper expects for this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Render every family. Families with labels but no series yet still get their HELP and TYPE,
/// so a dashboard can tell "nothing happened" from "not exported".
pub fn render(s: &Snapshot, g: &Gauges) -> String {
    let mut out = String::with_capacity(4096);
    family(
        &mut out,
        "tenantry_sync_attempts_total",
        "counter",
        "Job attempts by kind and outcome (succeeded, retry = failed and requeued, failed = failed for good).",
    );
    for ((kind, outcome), n) in &s.attempts {
        sample(
            &mut out,
            "tenantry_sync_attempts_total",
            &[("kind", kind), ("outcome", outcome.as_str())],
            *n as f64,
        );
    }
    family(
        &mut out,
        "tenantry_sync_duration_seconds",
        "histogram",
        "Wall time of job attempts by kind.",
    );
    for (kind, h) in &s.durations {
        for (bound, n) in DURATION_BUCKETS.iter().zip(&h.buckets) {
            sample(
                &mut out,
                "tenantry_sync_duration_seconds_bucket",
                &[("kind", kind), ("le", &number(*bound))],
                *n as f64,
            );
        }
        sample(
            &mut out,
            "tenantry_sync_duration_seconds_bucket",
            &[("kind", kind), ("le", "+Inf")],
            h.count as f64,
        );
        sample(
            &mut out,
            "tenantry_sync_duration_seconds_sum",
            &[("kind", kind)],
            h.sum,
        );
        sample(
            &mut out,
            "tenantry_sync_duration_seconds_count",
            &[("kind", kind)],
            h.count as f64,
        );
    }
    family(
        &mut out,
        "tenantry_graph_requests_total",
        "counter",
        "Requests to Microsoft Graph by answer status class (every attempt; transport = no answer).",
    );
    for (class, n) in STATUS_CLASSES.iter().zip(s.graph_requests) {
        sample(
            &mut out,
            "tenantry_graph_requests_total",
            &[("class", class)],
            n as f64,
        );
    }
    family(
        &mut out,
        "tenantry_graph_throttled_total",
        "counter",
        "Microsoft Graph answers with status 429 (too many requests).",
    );
    sample(
        &mut out,
        "tenantry_graph_throttled_total",
        &[],
        s.graph_429 as f64,
    );
    family(
        &mut out,
        "tenantry_graph_retry_after_seconds_total",
        "counter",
        "Seconds spent waiting because Microsoft Graph answered with Retry-After.",
    );
    sample(
        &mut out,
        "tenantry_graph_retry_after_seconds_total",
        &[],
        s.retry_after_seconds,
    );
    family(
        &mut out,
        "tenantry_jobs_queued",
        "gauge",
        "Jobs waiting in the durable queue (due now or later).",
    );
    sample(&mut out, "tenantry_jobs_queued", &[], g.jobs_queued as f64);
    family(
        &mut out,
        "tenantry_jobs_oldest_due_seconds",
        "gauge",
        "How long the longest-waiting due job has waited, in seconds (0 when none is due).",
    );
    sample(
        &mut out,
        "tenantry_jobs_oldest_due_seconds",
        &[],
        g.oldest_due_seconds,
    );
    family(
        &mut out,
        "tenantry_database_size_bytes",
        "gauge",
        "Size of the database file.",
    );
    sample(
        &mut out,
        "tenantry_database_size_bytes",
        &[],
        g.database_bytes as f64,
    );
    if let Some(rss) = g.resident_bytes {
        family(
            &mut out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
        );
        sample(&mut out, "process_resident_memory_bytes", &[], rss as f64);
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    // HELP text escapes only backslash and newline.
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = write!(out, "{k}=\"{v}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", number(value));
}

/// A sample value as Prometheus reads it (`+Inf`, `-Inf`, `NaN`; integers without `.0`).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}
