//! Many tenants: `cargo bench --bench cycle`.
//!
//! The appliance (in process, real store in a temp dir, real job workers) serves 1,000 small
//! simulated tenants (100 to 1,000 users each, half as many Intune devices, groups as the
//! simulator makes them) with a Graph latency injected on every request (the simulator's
//! `Slow` fault on every endpoint). It connects them all (each initial sync runs), changes 1%
//! of every tenant's users and devices, then fires the identity schedule once and times the
//! cycle: from the schedule firing to the last job finishing.
//!
//! The cycle's ideal is Graph-bound: every request waits the latency, and the workers send one
//! request each at a time, so `requests × latency / workers`, with `requests` counted by the
//! simulator during the cycle. The ratio cycle / ideal is what the appliance adds: claiming
//! jobs, writing what changed, single-writer contention. It also prints the peak RSS during
//! the cycle, the database size, and whether a cycle of 1,000 tenants fits the 4-hour
//! schedule window ten times over (scaled linearly when fewer tenants run).
//!
//! `TENANTRY_BENCH_TENANTS`, `TENANTRY_BENCH_LATENCY_MS`, `TENANTRY_BENCH_WORKERS` (default:
//! the configuration's default), `TENANTRY_BENCH_MAX_USERS` scale it. Not a timed test:
//! `cargo test` does not run it.

mod support;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::{env_usize, mib, obj, status_kib};
use tenantry::app::{App, AppOptions};
use tenantry::config::{CliOverrides, ValidatedSchedule};
use tenantry::domain::Services;
use tenantry::model::{Actor, CompanyInput, JobState, Trigger};
use tenantry::simulator::{
    Fault, FaultKind, Kind, SimApp, SimControl, SimOptions, Simulator, TenantSpec,
};

const CLIENT_ID: &str = "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f";
const SECRET: &str = "cycle-bench-secret-value";

/// Graph requests (not token requests) the simulator counted for these tenants.
fn graph_requests(ctl: &SimControl, tenants: &[String]) -> u64 {
    tenants
        .iter()
        .map(|t| {
            ctl.request_counts(t)
                .expect("counts")
                .iter()
                .filter(|(k, _)| !k.starts_with("token:"))
                .map(|(_, v)| *v)
                .sum::<u64>()
        })
        .sum()
}

/// Token requests the simulator counted for these tenants (the client caches a token per
/// tenant for its lifetime, so a cycle within the hour should send none).
fn token_requests(ctl: &SimControl, tenants: &[String]) -> u64 {
    tenants
        .iter()
        .map(|t| {
            ctl.request_counts(t)
                .expect("counts")
                .iter()
                .filter(|(k, _)| k.starts_with("token:"))
                .map(|(_, v)| *v)
                .sum::<u64>()
        })
        .sum()
}

/// Wait until none of `jobs` is queued or running; returns how many succeeded and when the
/// last one finished (its own `finished_at`, so the polling interval does not count). Jobs
/// finish roughly in the order they were queued, so each poll looks at the oldest open job
/// and moves on only once it is done: the bench's own reads stay few.
async fn wait_all(s: &Services, jobs: &[u64]) -> (usize, DateTime<Utc>) {
    let mut open: std::collections::VecDeque<u64> = jobs.iter().copied().collect();
    let mut ok = 0;
    let mut last = s.now();
    let mut last_finished: Option<DateTime<Utc>> = None;
    while let Some(&id) = open.front() {
        let j = s.job(id).await.expect("job");
        if j.state.is_active() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        open.pop_front();
        if j.state == JobState::Succeeded {
            ok += 1;
        } else {
            eprintln!("job {id} ended {:?}: {:?}", j.state, j.error);
        }
        if let Some(at) = j.finished_at {
            last_finished = Some(last_finished.map_or(at, |l| l.max(at)));
        }
    }
    if let Some(at) = last_finished {
        last = at;
    }
    (ok, last)
}

/// 1% of a tenant's users (at least one) change department, 1% of its devices check in.
fn change_one_percent(ctl: &SimControl, tid: &str, users: usize, devices: usize) {
    for (kind, n, patch) in [
        (
            Kind::User,
            users,
            serde_json::json!({"department": "Reorganised"}),
        ),
        (
            Kind::Device,
            devices,
            serde_json::json!({"complianceState": "noncompliant", "lastSyncDateTime": "2026-12-01T00:00:00Z"}),
        ),
    ] {
        let step = 100;
        for skip in (0..n as u64).step_by(step) {
            let page = ctl.list_objects(tid, kind, skip, 1).expect("list");
            if let Some(id) = page
                .first()
                .and_then(|o| o.get("id"))
                .and_then(|v| v.as_str())
            {
                ctl.update_object(tid, kind, id, obj(patch.clone()))
                    .expect("update");
            }
        }
    }
}

/// One tenant's share of the floor: its users and groups delta rounds from the links its
/// company's sync starts from, and its device listing, parsed and dropped. Returns the
/// number of requests.
async fn fetch_and_parse(s: &Services, tid: &str, company: u64) -> usize {
    let (users, groups) = s
        .store_handle()
        .read(move |r| {
            let u = r.sync_state(company, "users")?.and_then(|s| s.delta_link);
            let g = r.sync_state(company, "groups")?.and_then(|s| s.delta_link);
            Ok::<_, tenantry::store::StoreError>((u, g))
        })
        .await
        .expect("sync state");
    let g = s.graph_client().await.expect("graph client");
    let mut n = 0;
    let mut link = users;
    loop {
        let p = g
            .users_delta_page(tid, link.as_deref())
            .await
            .expect("users");
        n += 1;
        match p.next_link {
            Some(l) => link = Some(l),
            None => break,
        }
    }
    let mut link = groups;
    loop {
        let p = g
            .groups_delta_page(tid, link.as_deref())
            .await
            .expect("groups");
        n += 1;
        match p.next_link {
            Some(l) => link = Some(l),
            None => break,
        }
    }
    let mut link: Option<String> = None;
    loop {
        let p = g
            .managed_devices_page(tid, link.as_deref())
            .await
            .expect("devices");
        n += 1;
        match p.next_link {
            Some(l) => link = Some(l),
            None => break,
        }
    }
    n
}

fn main() {
    support::bench_main("cycle", run);
}

async fn run() {
    let tenants = env_usize("TENANTRY_BENCH_TENANTS", 1_000);
    let latency_ms = env_usize("TENANTRY_BENCH_LATENCY_MS", 100) as u64;
    let max_users = env_usize("TENANTRY_BENCH_MAX_USERS", 1_000).max(100);
    let sim = Simulator::start(SimOptions::default())
        .await
        .expect("simulator");
    let ctl = sim.control();
    ctl.register_app(SimApp {
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        redirect_uris: vec!["http://127.0.0.1:9/connect/callback".into()],
        name: "Tenantry cycle bench".into(),
        secret_expired: false,
    })
    .expect("app");
    let mut specs = Vec::new();
    for i in 0..tenants {
        // 100 to max_users users, spread evenly but not in order.
        let users = 100 + (i * 389) % (max_users - 99);
        let devices = users / 2;
        let t = ctl
            .create_tenant(TenantSpec {
                name: format!("Cycle {i:04}"),
                domain: Some(format!("cycle{i:04}.example")),
                users,
                devices,
                intune: true,
                p1: true,
                ..Default::default()
            })
            .expect("tenant");
        ctl.grant_consent(&t.id, CLIENT_ID).expect("consent");
        ctl.set_faults(
            &t.id,
            vec![Fault {
                kind: FaultKind::Slow {
                    delay_ms: latency_ms,
                },
                endpoint: None,
                nth: 1,
                times: 0,
                seen: 0,
            }],
        )
        .expect("latency");
        specs.push((t.id, users, devices));
    }
    let tids: Vec<String> = specs.iter().map(|(t, _, _)| t.clone()).collect();

    let dir = tempfile::tempdir().expect("tempdir");
    let mut env: BTreeMap<String, String> = [
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
    if let Ok(w) = std::env::var("TENANTRY_BENCH_WORKERS") {
        env.insert("TENANTRY_JOBS_WORKERS".into(), w);
    }
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
    let workers = config.jobs.workers as u64;
    let identity =
        tenantry::app::schedules(&ValidatedSchedule::from_config(&config).expect("schedule"))
            .into_iter()
            .find(|s| s.name == "identity")
            .expect("identity schedule");
    let app = App::build(config, AppOptions::default())
        .await
        .expect("app");
    let s = app.services.clone();
    let total_users: usize = specs.iter().map(|(_, u, _)| u).sum();
    println!(
        "identity cycle benchmark: {tenants} tenants ({total_users} users, {} devices), \
         {latency_ms} ms Graph latency, {workers} workers, {} build, {}, {} CPUs",
        specs.iter().map(|(_, _, d)| d).sum::<usize>(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        tenantry::allocator::NAME,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Connect every tenant as admin consent does (each connect checks /organization and
    // queues the initial sync), 64 at a time.
    let t0 = s.now();
    let connected: Vec<(u64, String, u64)> = stream::iter(specs.iter().enumerate())
        .map(|(i, (tid, _, _))| {
            let s = s.clone();
            let tid = tid.clone();
            async move {
                let company = s
                    .create_company(
                        Actor::system(),
                        CompanyInput::parse(
                            &format!("Cycle {i:04}"),
                            &format!("cycle{i:04}.example"),
                            "",
                        )
                        .expect("input"),
                    )
                    .await
                    .expect("company")
                    .id;
                let job = s
                    .connect_company_tenant(Actor::system(), company, &tid, Some(Trigger::Consent))
                    .await
                    .expect("connect")
                    .expect("initial sync queued")
                    .id;
                (job, tid, company)
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let initial_jobs: Vec<u64> = connected.iter().map(|(j, _, _)| *j).collect();
    let (ok, done) = wait_all(&s, &initial_jobs).await;
    let initial_wall = (done - t0).to_std().unwrap_or_default();
    let initial_requests = graph_requests(&ctl, &tids);
    println!(
        "initial round (connect + initial sync of every tenant): {:.1} s, {ok}/{tenants} succeeded, \
         {initial_requests} Graph requests (ideal {:.1} s at {workers} workers)",
        initial_wall.as_secs_f64(),
        initial_requests as f64 * latency_ms as f64 / 1000.0 / workers as f64,
    );

    for (tid, users, devices) in &specs {
        change_one_percent(&ctl, tid, *users, *devices);
        ctl.reset_requests(tid).expect("reset");
    }
    // The cycle's floor: the same requests (each tenant's users and groups delta from the
    // links the cycle will start from, and its device listing), fetched and parsed with the
    // same concurrency through the same client and latency, nothing stored. It shows what the
    // in-process simulator and the HTTP stack cost on this machine, beside the ideal.
    let floor_t0 = Instant::now();
    let floor_requests: usize = stream::iter(connected.iter())
        .map(|(_, tid, company)| {
            let s = s.clone();
            let (tid, company) = (tid.clone(), *company);
            async move { fetch_and_parse(&s, &tid, company).await }
        })
        .buffer_unordered(workers as usize)
        .collect::<Vec<usize>>()
        .await
        .into_iter()
        .sum();
    let floor = floor_t0.elapsed().as_secs_f64();
    for tid in &tids {
        ctl.reset_requests(tid).expect("reset");
    }
    // What one commit costs on this disk and machine right now (an fsync through the one
    // writer, nothing else writing): the unit the cycle's commits per job are paid in.
    let commit_t0 = Instant::now();
    let probes = 50;
    for i in 0..probes {
        s.store_handle()
            .write(move |w| w.set_meta("bench.commit_probe", &i))
            .await
            .expect("probe commit");
    }
    let commit_ms = commit_t0.elapsed().as_secs_f64() * 1000.0 / probes as f64;
    let (groups0, outcomes0) = tenantry::jobs::group_commit_stats();
    let (commits0, writes0) = tenantry::store::group_commit_stats();
    let held0 = tenantry::store::writer_held();
    let base_kib = status_kib("VmRSS:");
    let peak_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let t0 = s.now();
    let queued = s
        .fire_schedule(&identity, s.now())
        .await
        .expect("schedule fired");
    // The schedule's jobs are the newest ones: nothing else queues jobs meanwhile.
    let cycle_jobs: Vec<u64> = s
        .store_handle()
        .read(move |r| r.jobs_filtered(&Default::default(), 0, queued))
        .await
        .map(|(jobs, _)| jobs.into_iter().map(|j| j.id).collect())
        .expect("jobs");
    let (ok, done) = wait_all(&s, &cycle_jobs).await;
    let wall = (done - t0).to_std().unwrap_or_default().as_secs_f64();
    let peak_kib = status_kib("VmHWM:");
    let (groups1, outcomes1) = tenantry::jobs::group_commit_stats();
    let (groups, outcomes) = (groups1 - groups0, outcomes1 - outcomes0);
    let (commits1, writes1) = tenantry::store::group_commit_stats();
    let (commits, writes) = (commits1 - commits0, writes1 - writes0);
    let held = (tenantry::store::writer_held() - held0).as_secs_f64();
    let requests = graph_requests(&ctl, &tids);
    let tokens = token_requests(&ctl, &tids);
    // Where the time beyond the ideal goes: a worker's time per job against its Graph latency.
    let ran: Vec<tenantry::model::Job> = s
        .store_handle()
        .read(move |r| r.jobs_filtered(&Default::default(), 0, queued))
        .await
        .map(|(jobs, _)| jobs)
        .expect("jobs");
    let inside: f64 = ran
        .iter()
        .filter_map(|j| Some((j.finished_at? - j.started_at?).num_milliseconds() as f64))
        .sum::<f64>()
        / ran.len().max(1) as f64;
    let ideal = requests as f64 * latency_ms as f64 / 1000.0 / workers as f64;
    let per_1000 = wall * 1000.0 / tenants as f64;
    println!("== identity cycle (schedule fired → last job finished) ==");
    println!("  jobs:           {queued} queued, {ok} succeeded");
    println!("  wall time:      {wall:.2} s");
    println!(
        "  Graph requests: {requests} ({:.1} per tenant)",
        requests as f64 / tenants as f64
    );
    println!("  token requests: {tokens} (cached per tenant from the initial round)");
    println!("  ideal:          {ideal:.2} s = {requests} × {latency_ms} ms / {workers} workers");
    println!("  RATIO cycle / ideal: {:.3}x", wall / ideal.max(1e-9));
    println!(
        "  floor:          {floor:.2} s to fetch and parse the same {floor_requests} requests, {workers} at a time; RATIO cycle / floor: {:.3}x",
        wall / floor.max(1e-9)
    );
    println!(
        "  one job:        {:.0} ms of a worker's time (wall × workers / jobs; {:.0} ms of it Graph latency); \
         {inside:.0} ms from claim to outcome on average (a job claimed ahead waits for its worker, \
         and one that is done reading finishes beside the next)",
        wall * 1000.0 * workers as f64 / ran.len().max(1) as f64,
        requests as f64 * latency_ms as f64 / tenants as f64
    );
    println!(
        "  commits:        one commit alone {commit_ms:.1} ms; {outcomes} outcomes in {groups} groups ({:.2} per group); \
         {writes} grouped writes (sync batches, outcome groups) in {commits} commits ({:.2} per commit)",
        outcomes as f64 / groups.max(1) as f64,
        writes as f64 / commits.max(1) as f64
    );
    println!(
        "  writer held:    {held:.2} s of the cycle's {wall:.2} s ({:.0} % busy: how often a write finds the writer taken)",
        held * 100.0 / wall.max(1e-9)
    );
    println!(
        "  peak RSS:       {:.1} MiB (VmHWM{}; RSS before {:.1} MiB)",
        mib(peak_kib),
        if peak_reset {
            ", reset before the cycle"
        } else {
            " since start"
        },
        mib(base_kib)
    );
    println!(
        "  1,000 tenants:  {per_1000:.0} s per cycle; the 4 h window holds {:.1} cycles ({})",
        4.0 * 3600.0 / per_1000,
        if per_1000 * 10.0 <= 4.0 * 3600.0 {
            "fits 10× over"
        } else {
            "does NOT fit 10× over"
        }
    );
    println!("  {}", support::space_line(s.store_handle()));
    app.stop().await;
    sim.stop().await;
}
