//! Evidence collection benchmark: `cargo bench --bench evidence`.
//!
//! The appliance (in process, real store in a temp dir, real job worker) first syncs a
//! simulated tenant (identity sync: the names and devices evidence reads), then collects
//! evidence: subscribedSkus, security defaults, CA policies, role assignments, the
//! registration report of every user (paged, tallied page by page), compliance policies and
//! their overviews, devices from the stored assets; then evaluates the snapshot. For each
//! phase it prints wall time, peak RSS of the process (VmHWM, reset through
//! /proc/self/clear_refs) and the Graph requests the simulator counted.
//!
//! The floor: the registration report is paced to Microsoft's 5 requests per 10 s per tenant,
//! so a report of P pages cannot be read in less than (P - 5) / 5 × 10 s; the collection's
//! wall time is printed as a ratio to that floor (1.0 = nothing but the mandatory waiting).
//!
//! `TENANTRY_BENCH_USERS` / `TENANTRY_BENCH_DEVICES` scale the tenant (defaults 100,000 and
//! 20,000). Not a timed test: `cargo test` does not run it.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::{env_usize, mib, reset_peak, status_kib, wait};
use tenantry::app::{App, AppOptions};
use tenantry::config::CliOverrides;
use tenantry::domain::Services;
use tenantry::model::{Actor, CompanyInput, Job, JobState, Trigger};
use tenantry::simulator::{SimApp, SimOptions, Simulator, TenantSpec};

const CLIENT_ID: &str = "b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e";
const SECRET: &str = "bench-secret-value";

/// Run `start`, wait for its job, and measure: (job, wall, peak KiB, peak reset?, requests).
async fn measured(
    ctl: &tenantry::simulator::SimControl,
    tid: &str,
    s: &Services,
    start: impl std::future::Future<Output = u64>,
) -> (Job, Duration, u64, bool, BTreeMap<String, u64>) {
    ctl.reset_requests(tid).expect("reset counters");
    let reset = reset_peak();
    let t0 = Instant::now();
    let id = start.await;
    let job = wait(s, id).await;
    let wall = t0.elapsed();
    (
        job,
        wall,
        status_kib("VmHWM:"),
        reset,
        ctl.request_counts(tid).expect("counts"),
    )
}

fn main() {
    support::bench_main("evidence", run);
}

async fn run() {
    let users = env_usize("TENANTRY_BENCH_USERS", 100_000);
    let devices = env_usize("TENANTRY_BENCH_DEVICES", 20_000);
    let sim = Simulator::start(SimOptions::default())
        .await
        .expect("simulator");
    let ctl = sim.control();
    ctl.register_app(SimApp {
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        redirect_uris: vec!["http://127.0.0.1:9/connect/callback".into()],
        name: "Tenantry bench".into(),
        secret_expired: false,
    })
    .expect("app");
    let t = ctl
        .create_tenant(TenantSpec {
            name: "Bench Corp".into(),
            domain: Some("bench.example".into()),
            users,
            devices,
            intune: true,
            p1: true,
            ..Default::default()
        })
        .expect("tenant");
    ctl.grant_consent(&t.id, CLIENT_ID).expect("consent");
    // Microsoft's limits on: the collection must pace itself, and the bench measures that.
    ctl.update_tenant(
        &t.id,
        tenantry::simulator::TenantPatch {
            enforce_rate_limits: Some(true),
            ..Default::default()
        },
    )
    .expect("limits");

    let dir = tempfile::tempdir().expect("tempdir");
    let env: BTreeMap<String, String> = [
        ("TENANTRY_MICROSOFT_LOGIN_URL", sim.login_url()),
        ("TENANTRY_MICROSOFT_GRAPH_URL", sim.graph_url()),
        ("TENANTRY_MICROSOFT_CLIENT_ID", CLIENT_ID.into()),
        ("TENANTRY_MICROSOFT_CLIENT_SECRET", SECRET.into()),
        ("TENANTRY_SCHEDULE_IDENTITY", "0 0 0 1 1 *".into()),
        ("TENANTRY_SCHEDULE_EVIDENCE", "0 0 0 1 1 *".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let config = tenantry::config::load(
        None,
        &env,
        &CliOverrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(dir.path().display().to_string()),
        },
    )
    .expect("config")
    .config;
    let app = App::build(config, AppOptions::default())
        .await
        .expect("app");
    let s = app.services.clone();
    let company = s
        .create_company(
            Actor::system(),
            CompanyInput::parse("Bench Corp", "bench.example", "").expect("input"),
        )
        .await
        .expect("company")
        .id;
    println!(
        "evidence benchmark: {users} users, {devices} devices, {} build, {} CPUs",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let t0 = Instant::now();
    let sync = s
        .connect_company_tenant(Actor::system(), company, &t.id, Some(Trigger::Consent))
        .await
        .expect("connect")
        .expect("initial sync queued");
    let sync = wait(&s, sync.id).await;
    assert_eq!(sync.state, JobState::Succeeded, "{:?}", sync.error);
    println!(
        "identity sync first (not measured here): {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let base = status_kib("VmRSS:");
    let (job, wall, peak, reset, requests) = measured(&ctl, &t.id, &s, async {
        s.queue_evidence_collection(Actor::system(), company, Trigger::Manual)
            .await
            .expect("queued")
            .job
            .id
    })
    .await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let report_pages: u64 = requests
        .iter()
        .filter(|(k, _)| k.starts_with("reports/"))
        .map(|(_, v)| v)
        .sum();
    let floor = Duration::from_secs(report_pages.saturating_sub(5) / 5 * 10);
    let log = ctl.request_log(&t.id).expect("log");
    let violations = log
        .iter()
        .filter(|e| e.fault.as_deref() == Some("rate_limit"))
        .count();
    println!("== evidence collection ==");
    println!("  job:            {:?} ({})", job.state, job.progress);
    println!("  wall time:      {:.2} s", wall.as_secs_f64());
    println!(
        "  pacing floor:   {:.0} s for {report_pages} report pages (5 per 10 s); wall / floor = {:.2}",
        floor.as_secs_f64(),
        if floor.is_zero() {
            0.0
        } else {
            wall.as_secs_f64() / floor.as_secs_f64()
        }
    );
    println!(
        "  peak RSS:       {:.1} MiB (VmHWM{}; RSS before {:.1} MiB)",
        mib(peak),
        if reset {
            ", reset before the phase"
        } else {
            " since start"
        },
        mib(base)
    );
    println!("  rate-limit violations: {violations}");
    for (k, v) in &requests {
        println!("    {k:<60} {v}");
    }

    // Evaluation: the latest snapshot read and assessed, as the Compliance tab does.
    let reset = reset_peak();
    let rounds = 20u32;
    let t0 = Instant::now();
    let mut controls = 0;
    for _ in 0..rounds {
        let a = s
            .compliance(company, None)
            .await
            .expect("compliance")
            .expect("assessment");
        controls = a.controls.len();
    }
    let per = t0.elapsed() / rounds;
    let snapshot = s
        .evidence_snapshot(company, job.counts.get("snapshot_id").copied().unwrap_or(0))
        .await
        .expect("snapshot");
    let json = serde_json::to_vec(&snapshot).unwrap_or_default();
    let size = json.len();
    // What the store keeps: the same JSON, gzip-compressed (store/evidence.rs).
    let stored = {
        use std::io::Write;
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&json).ok();
        z.finish().map(|v| v.len()).unwrap_or(0)
    };
    println!("== evaluation (read latest snapshot + assess) ==");
    println!(
        "  per assessment: {:.1} ms ({controls} controls)",
        per.as_secs_f64() * 1000.0
    );
    println!(
        "  peak RSS:       {:.1} MiB (VmHWM{})",
        mib(status_kib("VmHWM:")),
        if reset {
            ", reset before the phase"
        } else {
            " since start"
        }
    );
    println!(
        "  snapshot size:  {:.1} KiB as JSON, {:.1} KiB stored (gzip)",
        size as f64 / 1024.0,
        stored as f64 / 1024.0
    );
    let db = std::fs::metadata(dir.path().join("tenantry.redb"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("database size: {:.1} MiB", db as f64 / 1048576.0);
    app.stop().await;
    sim.stop().await;
}
