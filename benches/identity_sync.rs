//! Identity sync benchmark: `cargo bench --bench identity_sync`.
//!
//! The appliance (in process, real store in a temp dir, real job worker) syncs a simulated
//! tenant of 100,000 users and 100,000 Intune devices (in-process simulator on loopback): the
//! initial sync, then an incremental sync after 1% of users and devices changed. For each it
//! prints wall time (queue → job finished), peak RSS of the process during that phase
//! (VmHWM, reset before each phase through /proc/self/clear_refs), and the Graph requests the
//! simulator counted.
//!
//! The simulator runs in the same process, so the peak RSS includes its share (it generates
//! objects lazily and keeps only the overlay of changed ones, so that share is small; the
//! baseline RSS before each phase is printed for reference).
//!
//! Beside each sync runs its floor: a bare fetch-and-parse of the same endpoints, with the
//! same `$select`, through the same Graph client, from the same simulator (users and groups
//! delta rounds from where the sync starts, the full Intune listing), parsing every page into
//! the same types and dropping it. The ratio sync / floor is what the sync's own work costs.
//!
//! `TENANTRY_BENCH_USERS` / `TENANTRY_BENCH_DEVICES` scale the tenant (for a quick look in a
//! debug build). `TENANTRY_BENCH_INITIAL_ONLY=1` stops after the initial sync (to profile it
//! alone); `TENANTRY_BENCH_LOG=info` prints the app's log on stderr. Each sync prints a
//! timeline: when its progress moved to the next step, with the resident set then. Not a
//! timed test: `cargo test` does not run it.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::{cpu_secs, env_usize, mib, obj, reset_peak, status_kib, wait};
use tenantry::app::{App, AppOptions};
use tenantry::config::CliOverrides;
use tenantry::domain::Services;
use tenantry::model::{Actor, CompanyInput, Job, JobState, Trigger};
use tenantry::simulator::{Kind, SimApp, SimControl, SimOptions, Simulator, TenantSpec};

const CLIENT_ID: &str = "b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e";
const SECRET: &str = "bench-secret-value";

struct Phase {
    name: &'static str,
    wall: Duration,
    cpu: f64,
    peak_kib: u64,
    base_kib: u64,
    peak_reset: bool,
    requests: BTreeMap<String, u64>,
    job: Job,
}

fn print_phase(p: &Phase) {
    let graph: u64 = p
        .requests
        .iter()
        .filter(|(k, _)| !k.starts_with("token:"))
        .map(|(_, v)| v)
        .sum();
    let tokens: u64 = p
        .requests
        .iter()
        .filter(|(k, _)| k.starts_with("token:"))
        .map(|(_, v)| v)
        .sum();
    println!("== {} ==", p.name);
    println!("  job:            {:?} ({})", p.job.state, p.job.progress);
    println!("  wall time:      {:.2} s", p.wall.as_secs_f64());
    println!(
        "  peak RSS:       {:.1} MiB (VmHWM{}; RSS before the phase {:.1} MiB)",
        mib(p.peak_kib),
        if p.peak_reset {
            ", reset before the phase"
        } else {
            " since process start: clear_refs not writable"
        },
        mib(p.base_kib)
    );
    println!("  Graph requests: {graph} (+ {tokens} token requests)");
    for (k, v) in &p.requests {
        println!("    {k:<45} {v}");
    }
    println!("  counts:         {:?}", p.job.counts);
}

async fn phase(
    name: &'static str,
    ctl: &SimControl,
    tid: &str,
    start: impl std::future::Future<Output = u64>,
    s: &Services,
) -> Phase {
    ctl.reset_requests(tid).expect("reset counters");
    let base_kib = status_kib("VmRSS:");
    let peak_reset = reset_peak();
    let cpu0 = cpu_secs();
    let t0 = Instant::now();
    let id = start.await;
    let job = wait_with_timeline(s, id, t0).await;
    let wall = t0.elapsed();
    let cpu = cpu_secs() - cpu0;
    let peak_kib = status_kib("VmHWM:");
    let requests = ctl.request_counts(tid).expect("counts");
    Phase {
        name,
        wall,
        cpu,
        peak_kib,
        base_kib,
        peak_reset,
        requests,
        job,
    }
}

/// Wait for the job like `support::wait`, and print a line each time its progress moves to
/// another step (users, groups, devices, Level...): when, and the resident set then and at
/// its peak so far. Where a phase's wall time and memory go, without a profiler.
async fn wait_with_timeline(s: &Services, id: u64, t0: Instant) -> Job {
    let mut step = String::new();
    loop {
        let j = s.job(id).await.expect("job");
        if !j.state.is_active() {
            println!(
                "  {:>7.2} s  finished ({:?}); RSS {:.1} MiB, peak {:.1} MiB",
                t0.elapsed().as_secs_f64(),
                j.state,
                mib(status_kib("VmRSS:")),
                mib(status_kib("VmHWM:"))
            );
            return j;
        }
        // The progress line starts with its step: "users: page 3 applied (…)".
        let now = j.progress.split(':').next().unwrap_or_default();
        if now != step {
            step = now.to_string();
            println!(
                "  {:>7.2} s  step {step:<8} ({}); RSS {:.1} MiB (anonymous {:.1}), peak {:.1} MiB",
                t0.elapsed().as_secs_f64(),
                j.progress,
                mib(status_kib("VmRSS:")),
                mib(status_kib("RssAnon:")),
                mib(status_kib("VmHWM:"))
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a bare fetch-and-parse read.
#[derive(Debug, Default)]
struct FloorRead {
    users: usize,
    groups: usize,
    devices: usize,
    /// Seconds each listing took: users, groups, devices (where the floor's time goes, to
    /// set beside the sync's timeline).
    secs: [f64; 3],
}

/// The floor: read every page the sync reads, parse it, drop it. `users_link`/`groups_link`
/// are the delta links the sync starts from (`None` = a full round).
async fn fetch_and_parse(
    s: &Services,
    tid: &str,
    users_link: Option<String>,
    groups_link: Option<String>,
    organization: bool,
) -> FloorRead {
    let g = s.graph_client().await.expect("graph client");
    let mut read = FloorRead::default();
    if organization {
        g.organization(tid).await.expect("organization");
    }
    let t = Instant::now();
    let mut link = users_link;
    loop {
        let p = g
            .users_delta_page(tid, link.as_deref())
            .await
            .expect("users page");
        read.users += p.items.len();
        match p.next_link {
            Some(l) => link = Some(l),
            None => break,
        }
    }
    read.secs[0] = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut link = groups_link;
    loop {
        let p = g
            .groups_delta_page(tid, link.as_deref())
            .await
            .expect("groups page");
        read.groups += p.items.len();
        match p.next_link {
            Some(l) => link = Some(l),
            None => break,
        }
    }
    read.secs[1] = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut link: Option<String> = None;
    loop {
        let p = g
            .managed_devices_page(tid, link.as_deref())
            .await
            .expect("devices page");
        read.devices += p.items.len();
        match p.next_link {
            Some(l) => link = Some(l),
            None => break,
        }
    }
    read.secs[2] = t.elapsed().as_secs_f64();
    read
}

struct FloorPhase {
    wall: Duration,
    cpu: f64,
    peak_kib: u64,
    requests: u64,
    read: FloorRead,
}

async fn floor_phase(
    ctl: &SimControl,
    tid: &str,
    s: &Services,
    links: (Option<String>, Option<String>),
    organization: bool,
) -> FloorPhase {
    ctl.reset_requests(tid).expect("reset counters");
    reset_peak();
    let cpu0 = cpu_secs();
    let t0 = Instant::now();
    let read = fetch_and_parse(s, tid, links.0, links.1, organization).await;
    let wall = t0.elapsed();
    let cpu = cpu_secs() - cpu0;
    let peak_kib = status_kib("VmHWM:");
    let requests = ctl
        .request_counts(tid)
        .expect("counts")
        .iter()
        .filter(|(k, _)| !k.starts_with("token:"))
        .map(|(_, v)| v)
        .sum();
    FloorPhase {
        wall,
        cpu,
        peak_kib,
        requests,
        read,
    }
}

/// The floor of a manual sync's requests (from the company's current delta links), then the
/// sync itself, printed side by side; the sync must succeed.
async fn manual_sync_beside_floor(
    ctl: &SimControl,
    tid: &str,
    s: &Services,
    company: u64,
    name: &'static str,
    label: &str,
) -> Phase {
    let floor = floor_phase(ctl, tid, s, delta_links(s, company).await, false).await;
    let p = phase(
        name,
        ctl,
        tid,
        async {
            s.queue_company_sync(tenantry::model::Actor::system(), company, Trigger::Manual)
                .await
                .expect("queued")
                .job
                .id
        },
        s,
    )
    .await;
    print_phase(&p);
    print_devices_error(s, company).await;
    print_ratio(label, &p, &floor);
    assert_eq!(p.job.state, JobState::Succeeded, "{:?}", p.job.error);
    p
}

fn print_ratio(name: &str, sync: &Phase, floor: &FloorPhase) {
    println!(
        "  floor ({name}): {:.2} s, peak RSS {:.1} MiB, {} Graph requests, read {:?}",
        floor.wall.as_secs_f64(),
        mib(floor.peak_kib),
        floor.requests,
        floor.read
    );
    println!(
        "  RATIO {name}: sync {:.2} s / floor {:.2} s = {:.2}x; peak RSS sync {:.1} MiB",
        sync.wall.as_secs_f64(),
        floor.wall.as_secs_f64(),
        sync.wall.as_secs_f64() / floor.wall.as_secs_f64().max(1e-9),
        mib(sync.peak_kib)
    );
    // CPU seconds over wall seconds: how many of the machine's cores each kept busy. The
    // sync's own work is what it used beyond its floor.
    println!(
        "  CPU {name}: sync {:.2} s ({:.2} cores), floor {:.2} s ({:.2} cores)",
        sync.cpu,
        sync.cpu / sync.wall.as_secs_f64().max(1e-9),
        floor.cpu,
        floor.cpu / floor.wall.as_secs_f64().max(1e-9)
    );
}

/// A sync that could not read Intune still succeeds ("devices not synced"): say what Graph
/// answered, so a run that measured no devices is not mistaken for a quick one.
async fn print_devices_error(s: &Services, company: u64) {
    if let Ok(Some(r)) = s.sync_report(company).await
        && let Some(e) = r.devices_error
    {
        println!("  DEVICES NOT SYNCED: {e}");
    }
}

/// The delta links a sync of `company` would start from.
async fn delta_links(s: &Services, company: u64) -> (Option<String>, Option<String>) {
    s.store_handle()
        .read(move |r| {
            let users = r.sync_state(company, "users")?.and_then(|s| s.delta_link);
            let groups = r.sync_state(company, "groups")?.and_then(|s| s.delta_link);
            Ok::<_, tenantry::store::StoreError>((users, groups))
        })
        .await
        .expect("sync state")
}

/// Object ids at evenly spaced positions: `n` of them out of `total`.
fn sample_ids(ctl: &SimControl, tid: &str, kind: Kind, total: usize, n: usize) -> Vec<String> {
    let step = (total / n.max(1)).max(1) as u64;
    (0..n as u64)
        .filter_map(|i| {
            ctl.list_objects(tid, kind, i * step + 1, 1)
                .expect("list")
                .into_iter()
                .next()
                .and_then(|o| o.get("id").and_then(|v| v.as_str()).map(String::from))
        })
        .collect()
}

/// 1% of users and devices change: users edited, disabled, deleted and added; devices
/// updated (as a check-in does), removed and added.
fn change_one_percent(ctl: &SimControl, tid: &str, users: usize, devices: usize) -> String {
    let n = users / 100;
    let ids = sample_ids(ctl, tid, Kind::User, users, n);
    let (mut edited, mut disabled, mut deleted, mut added) = (0, 0, 0, 0);
    for (i, id) in ids.iter().enumerate() {
        match i % 10 {
            0..=6 => {
                ctl.update_object(
                    tid,
                    Kind::User,
                    id,
                    obj(serde_json::json!({"department": "Reorganised", "jobTitle": format!("Title {i}")})),
                )
                .expect("edit");
                edited += 1;
            }
            7 => {
                ctl.update_object(
                    tid,
                    Kind::User,
                    id,
                    obj(serde_json::json!({"accountEnabled": false})),
                )
                .expect("disable");
                disabled += 1;
            }
            8 => {
                ctl.delete_object(tid, Kind::User, id, i % 20 == 8)
                    .expect("delete");
                deleted += 1;
            }
            _ => {
                ctl.create_object(
                    tid,
                    Kind::User,
                    obj(serde_json::json!({"displayName": format!("Bench New {i}"),
                        "userPrincipalName": format!("bench.new{i}@bench.example"), "department": "New"})),
                )
                .expect("add");
                added += 1;
            }
        }
    }
    let n = devices / 100;
    let ids = sample_ids(ctl, tid, Kind::Device, devices, n);
    let (mut dev_updated, mut dev_removed, mut dev_added) = (0, 0, 0);
    for (i, id) in ids.iter().enumerate() {
        match i % 10 {
            0..=7 => {
                ctl.update_object(
                    tid,
                    Kind::Device,
                    id,
                    obj(serde_json::json!({"complianceState": "noncompliant", "osVersion": "10.0.26100.9999",
                        "lastSyncDateTime": "2026-11-26T00:00:00Z"})),
                )
                .expect("device update");
                dev_updated += 1;
            }
            8 => {
                ctl.delete_object(tid, Kind::Device, id, true)
                    .expect("device removed");
                dev_removed += 1;
            }
            _ => {
                ctl.create_object(
                    tid,
                    Kind::Device,
                    obj(serde_json::json!({"deviceName": format!("BENCH-NEW-{i}"), "serialNumber": format!("BN{i:06}")})),
                )
                .expect("device added");
                dev_added += 1;
            }
        }
    }
    format!(
        "users: {edited} edited, {disabled} disabled, {deleted} deleted, {added} added; \
         devices: {dev_updated} updated, {dev_removed} removed, {dev_added} added"
    )
}

pub fn main() {
    support::bench_main("identity_sync", run);
}

async fn run() {
    // `TENANTRY_BENCH_LOG=info` prints the app's log (the first sync's list builds say how
    // long they took) on stderr.
    if let Ok(filter) = std::env::var("TENANTRY_BENCH_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let users = env_usize("TENANTRY_BENCH_USERS", 100_000);
    let devices = env_usize("TENANTRY_BENCH_DEVICES", 100_000);
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
    // `TENANTRY_BENCH_CACHE_MB` sets the store's page cache (`store.cache_mb`): how much of
    // the peak is redb's cache.
    .chain(
        std::env::var("TENANTRY_BENCH_CACHE_MB")
            .ok()
            .map(|mb| ("TENANTRY_STORE_CACHE_MB", mb)),
    )
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
        "identity sync benchmark: {users} users, {devices} devices ({} groups), {} build, {}, {} CPUs",
        t.groups,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        tenantry::allocator::NAME,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    // The floor first: the app's Graph client exists once the company's credentials do, and
    // the simulator regenerates every page on request, so the order favours neither.
    let initial_floor = floor_phase(&ctl, &t.id, &s, (None, None), true).await;
    let initial = phase(
        "initial sync (consent → full users/groups rounds + full Intune list)",
        &ctl,
        &t.id,
        async {
            s.connect_company_tenant(Actor::system(), company, &t.id, Some(Trigger::Consent))
                .await
                .expect("connect")
                .expect("initial sync queued")
                .id
        },
        &s,
    )
    .await;
    print_phase(&initial);
    print_devices_error(&s, company).await;
    print_ratio("initial", &initial, &initial_floor);
    assert_eq!(
        initial.job.state,
        JobState::Succeeded,
        "{:?}",
        initial.job.error
    );
    if std::env::var("TENANTRY_BENCH_INITIAL_ONLY").is_ok_and(|v| v == "1") {
        println!("{}", support::space_line(s.store_handle()));
        app.stop().await;
        sim.stop().await;
        return;
    }

    let t0 = Instant::now();
    let what = change_one_percent(&ctl, &t.id, users, devices);
    println!(
        "1% change in the simulator ({:.1} s): {what}",
        t0.elapsed().as_secs_f64()
    );
    let incremental = manual_sync_beside_floor(
        &ctl,
        &t.id,
        &s,
        company,
        "incremental sync after a 1% change (users/groups delta + full Intune list)",
        "incremental",
    )
    .await;
    // Nothing changed since: what a scheduled sync of a quiet tenant costs, and whether the
    // resident set creeps from one incremental run to the next.
    let quiet = manual_sync_beside_floor(
        &ctl,
        &t.id,
        &s,
        company,
        "incremental sync, nothing changed (users/groups delta + full Intune list)",
        "unchanged",
    )
    .await;
    println!(
        "RSS after each phase: initial start {:.1} MiB, incremental start {:.1} MiB, unchanged start {:.1} MiB, end {:.1} MiB",
        mib(initial.base_kib),
        mib(incremental.base_kib),
        mib(quiet.base_kib),
        mib(status_kib("VmRSS:"))
    );
    // More quiet syncs, no floor between them: does the resident set settle or keep growing?
    let runs = env_usize("TENANTRY_BENCH_QUIET_RUNS", 5);
    let mut after: Vec<String> = Vec::new();
    for _ in 0..runs {
        let id = s
            .queue_company_sync(tenantry::model::Actor::system(), company, Trigger::Manual)
            .await
            .expect("queued")
            .job
            .id;
        let job = wait(&s, id).await;
        assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
        after.push(format!("{:.1}", mib(status_kib("VmRSS:"))));
    }
    println!(
        "RSS after each of {runs} more unchanged syncs (MiB): {}",
        after.join(", ")
    );
    println!("{}", support::space_line(s.store_handle()));
    app.stop().await;
    sim.stop().await;
}
