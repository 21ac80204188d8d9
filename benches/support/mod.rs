//! What every benchmark shares: its entry point, environment knobs, process memory from
//! `/proc/self/status`, and waiting for a job. Each bench (`benches/*.rs`, harness = false)
//! includes it with `mod support;`; a bench uses only part of it.
#![allow(dead_code)]

pub mod load;

use std::time::Duration;
use tenantry::domain::Services;
use tenantry::model::Job;

/// The appliance's configuration for a bench: data in `dir`, a free loopback port, warnings
/// only in the log, and the identity and evidence schedules set to a date that does not
/// come round during a run (the bench starts what it measures); `extra` adds variables.
pub fn config(dir: &std::path::Path, extra: &[(&str, &str)]) -> tenantry::config::Config {
    let env = [
        ("TENANTRY_SERVER_LOG_LEVEL", "warn"),
        ("TENANTRY_SCHEDULE_IDENTITY", "0 0 0 1 1 *"),
        ("TENANTRY_SCHEDULE_EVIDENCE", "0 0 0 1 1 *"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    // `TENANTRY_BENCH_CACHE_MB` sets `store.cache_mb`: what a smaller page cache costs.
    .chain(
        std::env::var("TENANTRY_BENCH_CACHE_MB")
            .ok()
            .map(|mb| ("TENANTRY_STORE_CACHE_MB".to_string(), mb)),
    )
    // `TENANTRY_BENCH_MAX_IN_FLIGHT` sets `server.max_in_flight`: how much of a page's tail
    // at 50 connections is requests running at once rather than each one's cost.
    // `TENANTRY_BENCH_READS` sets `store.concurrent_reads` (0: twice the CPUs).
    .chain(
        std::env::var("TENANTRY_BENCH_READS")
            .ok()
            .map(|n| ("TENANTRY_STORE_CONCURRENT_READS".to_string(), n)),
    )
    .chain(
        std::env::var("TENANTRY_BENCH_MAX_IN_FLIGHT")
            .ok()
            .map(|n| ("TENANTRY_SERVER_MAX_IN_FLIGHT".to_string(), n)),
    )
    .collect();
    tenantry::config::load(
        None,
        &env,
        &tenantry::config::CliOverrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(dir.display().to_string()),
        },
    )
    .expect("config")
    .config
}

/// `fn main` of a bench: runs `run` on a multi-threaded runtime under `cargo bench`, and
/// only says how to run it otherwise (so `cargo test --benches` stays quick).
pub fn bench_main<F: std::future::Future<Output = ()>>(name: &str, run: impl FnOnce() -> F) {
    if !std::env::args().any(|a| a == "--bench") {
        println!("{name}: benchmark only; run `cargo bench --bench {name}`");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

/// A size or count from the environment (`TENANTRY_BENCH_…`), else `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A `/proc/self/status` figure in KiB (`VmRSS:`, `VmHWM:`); 0 where there is none.
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds the process has used so far, all threads, user and system (`/proc/self/stat`,
/// in clock ticks of 1/100 s, the kernel's USER_HZ on Linux). Beside a wall time, it says how
/// much of the machine's cores a phase kept busy. 0 where there is no /proc.
pub fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // The command name (field 2) may hold spaces: count from the closing parenthesis.
            let rest = &s[s.rfind(')')? + 1..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
            let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

/// Reset VmHWM to the current RSS (Linux ≥ 4.0). Returns false when not possible.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// KiB → MiB.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// KiB → MB (10^6 bytes), for targets stated in MB.
pub fn mb(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1_000_000.0
}

/// Wait until job `id` is no longer queued or running.
pub async fn wait(s: &Services, id: u64) -> Job {
    loop {
        let j = s.job(id).await.expect("job");
        if !j.state.is_active() {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A JSON object literal as the simulator's control API takes it.
pub fn obj(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// The database's size, and what its pages hold: redb grows the file in steps and reuses
/// freed pages late, so the file alone is not the data's size (`store/space.rs`).
pub fn space_line(store: &tenantry::store::Store) -> String {
    let m = |b: u64| b as f64 / 1048576.0;
    match store.space() {
        Ok(s) => format!(
            "database size: {:.1} MiB (pages in use {:.1} MiB, of which keys and values {:.1} MiB; unused, free pages included, {:.1} MiB)",
            m(s.file),
            m(s.allocated),
            m(s.stored),
            m(s.unused)
        ),
        Err(e) => format!("database size: unknown ({e})"),
    }
}
