//! Home dashboard benchmark (#13): `cargo bench --bench dashboard`.
//!
//! 1,000 active companies (`TENANTRY_BENCH_COMPANIES`), each with 30 days of daily counts
//! written by the real alert hook (a succeeded identity sync job per day on a moved clock),
//! and one company in ten with an open incident (a failed job whose error carries AADSTS700016,
//! through the same hook). Then, signed in, 200 sequential GETs each of the dashboard's first
//! page (problems first), its last page, and the company list's first page (the existing page
//! of 50, as a reference). The floor, in the same run: a bare store read of 50 companies by
//! key. Reports p50 / p99 and the ratio of each p50 to the floor.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};
use tenantry::app::{App, AppOptions};
use tenantry::clock::ManualClock;
use tenantry::model::{Actor, CompanyInput, Job, JobKind, JobState, Requester, Trigger};

const ADMIN: &str = "bench@dashboard.example";
const PASSWORD: &str = "correct horse battery staple";
const RUNS: usize = 200;

fn main() {
    support::bench_main("dashboard", run);
}

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run() {
    let companies = support::env_usize("TENANTRY_BENCH_COMPANIES", 1_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = support::config(dir.path(), &[]);
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .expect("time")
        .to_utc();
    let clock = ManualClock::new(start);
    let app = App::build(
        config,
        AppOptions {
            admin_email: Some(ADMIN.into()),
            admin_password: Some(PASSWORD.into()),
            clock: Some(Arc::new(clock.clone())),
            manual_jobs: true,
            ..Default::default()
        },
    )
    .await
    .expect("app");
    let s = app.services.clone();
    println!(
        "dashboard benchmark: {} build, {} CPUs, {companies} companies",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let t0 = Instant::now();
    let mut ids = Vec::with_capacity(companies);
    for i in 0..companies {
        let c = s
            .create_company(
                Actor::system(),
                CompanyInput::parse(&format!("Client {i:05}"), "", "").expect("input"),
            )
            .await
            .expect("company");
        ids.push(c.id);
    }
    let job = |company: u64, state: JobState, error: Option<&str>| {
        let mut j = Job::new(
            JobKind::IDENTITY_SYNC,
            Some(company),
            Trigger::Schedule,
            Requester::scheduler(),
            5,
            clock_now(&clock),
            serde_json::Value::Null,
        );
        j.state = state;
        j.error = error.map(str::to_string);
        j
    };
    for _day in 0..30 {
        for id in &ids {
            s.alerts_after_job(&job(*id, JobState::Succeeded, None))
                .await;
        }
        clock.advance(chrono::Duration::days(1));
    }
    for id in ids.iter().step_by(10) {
        s.alerts_after_job(&job(
            *id,
            JobState::Failed,
            Some("users: token request refused: unauthorized_client: AADSTS700016"),
        ))
        .await;
    }
    println!("seeded in {:.1} s", t0.elapsed().as_secs_f64());

    let client = support::load::signed_in_client(&app.url, ADMIN, PASSWORD).await;

    // Floor: 50 companies read by key in one snapshot (no index, no HTTP).
    let store = s.store_handle().clone();
    let page: Vec<u64> = ids.iter().take(50).copied().collect();
    let mut floor = Vec::new();
    for _ in 0..RUNS {
        let st = store.clone();
        let p = page.clone();
        let t = Instant::now();
        tokio::task::spawn_blocking(move || {
            st.read_blocking(|r| {
                for id in &p {
                    let _ = r.company(*id)?;
                }
                Ok::<_, tenantry::store::StoreError>(())
            })
        })
        .await
        .expect("join")
        .expect("read");
        floor.push(t.elapsed());
    }
    let floor_p50 = pct(floor.clone(), 0.5);
    println!(
        "floor (50 companies by key): p50 {:.3} ms, p99 {:.3} ms",
        ms(floor_p50),
        ms(pct(floor, 0.99))
    );
    let last = companies.div_ceil(50);
    for (what, path) in [
        ("dashboard page 1 (problems first)", "/".to_string()),
        ("dashboard last page", format!("/?page={last}")),
        ("company list page 1 (reference)", "/companies".to_string()),
    ] {
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            let r = client
                .get(format!("{}{path}", app.url))
                .send()
                .await
                .expect("GET");
            assert_eq!(r.status(), 200, "{path}");
            let body = r.text().await.expect("body");
            times.push(t.elapsed());
            assert!(body.contains("data-company") || path == "/companies");
        }
        let p50 = pct(times.clone(), 0.5);
        println!(
            "{what}: p50 {:.2} ms, p99 {:.2} ms, p50 / floor {:.0}×",
            ms(p50),
            ms(pct(times, 0.99)),
            p50.as_secs_f64() / floor_p50.as_secs_f64().max(1e-9)
        );
    }
    app.stop().await;
}

fn clock_now(c: &ManualClock) -> chrono::DateTime<chrono::Utc> {
    use tenantry::clock::Clock;
    c.now()
}
