//! Jobs and Audit pages benchmark: `cargo bench --bench logs`.
//!
//! The appliance runs in the bench process (real store in a temp dir, real HTTP on loopback).
//! The store is seeded through the store's `Writer` (the methods the queue and the audit
//! trail use, so every index and counter is kept as in production): 200,000 jobs of 1,000
//! companies (each enqueued, claimed and finished, one in ten failed) and 2,000,000 audit
//! events over a year (`TENANTRY_BENCH_JOBS`, `TENANTRY_BENCH_AUDIT` for other sizes).
//!
//! For each filtered page (HTML and API, first page and a page reached by cursor) it measures
//! p50 and p99 at 1 connection (200 requests) and at 50 concurrent connections (1,000
//! requests). The floor, in the same run: a bare store read of 50 jobs by key (no index, no
//! HTTP). Not a test: `cargo test` does not run it.

mod support;
use support::load::{Latency, load, summarize};

use std::time::Instant;
use tenantry::app::{App, AppOptions};
use tenantry::model::{Actor, Job, JobState, NewAuditEvent, Outcome, Requester, Role, Trigger};
use tenantry::store::{Store, StoreError};

const ADMIN: &str = "bench@logs.example";
const PASSWORD: &str = "correct horse battery staple";
const COMPANIES: u64 = 1_000;
const KINDS: [&str; 4] = [
    "sync.identity",
    "staff.login",
    "company.settings",
    "sync.evidence",
];

/// One result line; `met` is the goal (p99 ≤ 20 ms at 50 connections).
fn row(name: &str, (one, fifty): &(Latency, Latency), floor_ms: f64) {
    println!(
        "  {name:<52} 1 conn: p50 {:>6.2} ms p99 {:>6.2} ms | 50 conns: p50 {:>6.2} ms p99 {:>6.2} ms ({:>5.0} req/s) | p50/floor {:>5.1}x | {}{}",
        one.p50,
        one.p99,
        fifty.p50,
        fifty.p99,
        fifty.rps,
        one.p50 / floor_ms.max(1e-9),
        if fifty.p99 <= 20.0 { "met" } else { "NOT met" },
        if one.errors + fifty.errors > 0 {
            format!(" | {} ERRORS", one.errors + fifty.errors)
        } else {
            String::new()
        }
    );
}

fn t0() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default() // 2026-01-01
}

/// `n` jobs, each enqueued, claimed and finished (one in ten failed), 5,000 per transaction.
fn seed_jobs(s: &Store, n: u64) -> Result<(), StoreError> {
    let kinds = ["identity_sync", "evidence_sync"];
    let mut i = 0u64;
    while i < n {
        s.write_blocking(|w| {
            for _ in 0..5_000.min(n - i) {
                let at = t0() + chrono::Duration::seconds(i as i64 * 60);
                let job = Job::new(
                    kinds[(i % 7 % 2) as usize],
                    Some(1 + i % COMPANIES),
                    Trigger::Schedule,
                    Requester::system(),
                    3,
                    at,
                    serde_json::Value::Null,
                );
                w.enqueue_job(job)?;
                if let Some(j) = w.claim_job(at)? {
                    // i % 10 == 6 includes company 7's jobs (i % 1000 == 6), so the
                    // company filter below has failed jobs to show.
                    let state = if i % 10 == 6 {
                        JobState::Failed
                    } else {
                        JobState::Succeeded
                    };
                    w.finish_job(j, state, at)?;
                }
                i += 1;
            }
            Ok::<_, StoreError>(())
        })?;
    }
    Ok(())
}

/// `n` audit events over a year (one in twenty a failure), 5,000 per transaction.
fn seed_audit(s: &Store, n: u64) -> Result<(), StoreError> {
    let step = (365 * 86_400 / n.max(1)).max(1) as i64;
    let mut i = 0u64;
    while i < n {
        s.write_blocking(|w| {
            for _ in 0..5_000.min(n - i) {
                let at = t0() + chrono::Duration::seconds(i as i64 * step);
                let mut e = NewAuditEvent::new(
                    at,
                    Actor("staff:1".into()),
                    KINDS[(i % 4) as usize],
                    "seeded",
                );
                e.company_id = Some(1 + (i / 4) % COMPANIES);
                e.outcome = match i % 20 {
                    7 => Outcome::Failure,
                    11 => Outcome::Warning,
                    _ => Outcome::Success,
                };
                w.append_audit(e)?;
                i += 1;
            }
            Ok::<_, StoreError>(())
        })?;
        if i.is_multiple_of(200_000) {
            eprintln!("  seeded {i} audit events");
        }
    }
    Ok(())
}

/// The floor: 50 jobs read by key through `Store::read` (blocking pool, one snapshot).
async fn floor(store: &Store) -> f64 {
    let mut ms = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        let got = store
            .read(|r| {
                let mut n = 0;
                for id in 1_000..1_050u64 {
                    n += usize::from(r.job(id)?.is_some());
                }
                Ok::<_, StoreError>(n)
            })
            .await
            .unwrap_or(0);
        assert_eq!(got, 50);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    summarize(ms, 1.0, 0).p50
}

fn main() {
    support::bench_main("logs", run);
}

async fn run() {
    let jobs = support::env_usize("TENANTRY_BENCH_JOBS", 200_000) as u64;
    let events = support::env_usize("TENANTRY_BENCH_AUDIT", 2_000_000) as u64;
    let temp = tempfile::tempdir().expect("tempdir");
    let config = support::config(temp.path(), &[]);
    let app = App::build(
        config,
        AppOptions {
            admin_email: Some(ADMIN.into()),
            admin_password: Some(PASSWORD.into()),
            ..Default::default()
        },
    )
    .await
    .expect("app");
    let store = app.services.store_handle().clone();
    println!(
        "logs benchmark: {} build, {} CPUs, {jobs} jobs, {events} audit events, {COMPANIES} companies",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let t = Instant::now();
    let s = store.clone();
    tokio::task::spawn_blocking(move || {
        seed_jobs(&s, jobs)?;
        seed_audit(&s, events)
    })
    .await
    .expect("join")
    .expect("seed");
    let db_mb = std::fs::metadata(temp.path().join("tenantry.redb"))
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0);
    println!(
        "seeded in {:.1} s through the Writer (indexes and counters included); database {db_mb:.0} MB",
        t.elapsed().as_secs_f64()
    );

    let client = support::load::signed_in_client(&app.url, ADMIN, PASSWORD).await;
    let (token, _) = app
        .services
        .create_api_token(
            tenantry::domain::authority::AdminActor::system(),
            "bench",
            Role::Admin,
        )
        .await
        .expect("token");

    let floor_ms = floor(&store).await;
    println!("floor: a bare store read of 50 jobs by key: p50 {floor_ms:.3} ms");

    // A page deep in a list, reached by cursor: the API's next_cursor after 40 pages.
    let deep = |path: String| {
        let client = client.clone();
        let token = token.clone();
        async move {
            let mut url = path.clone();
            for _ in 0..40 {
                let v: serde_json::Value = client
                    .get(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("page")
                    .json()
                    .await
                    .expect("json");
                match v["next_cursor"].as_str() {
                    Some(c) => url = format!("{path}&cursor={c}"),
                    None => break,
                }
            }
            url
        }
    };
    let u = &app.url;
    let html = client
        .get(format!("{u}/audit?outcome=failure"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("seeded"), "the audit page lists events");

    println!("== Jobs ({jobs}) ==");
    for (name, url, bearer) in [
        ("HTML /jobs (all)", format!("{u}/jobs"), None),
        (
            "HTML /jobs?state=failed",
            format!("{u}/jobs?state=failed"),
            None,
        ),
        (
            "HTML /jobs?company=7&kind=identity_sync&state=failed",
            format!("{u}/jobs?company=7&kind=identity_sync&state=failed"),
            None,
        ),
        (
            "HTML /jobs?state=failed, Last page",
            format!("{u}/jobs?state=failed&last=1"),
            None,
        ),
        (
            "API jobs?kind=evidence_sync&state=failed",
            format!("{u}/api/v1/jobs?kind=evidence_sync&state=failed&per_page=50"),
            Some(token.as_str()),
        ),
        (
            "API jobs?state=succeeded, 41st page by cursor",
            deep(format!("{u}/api/v1/jobs?state=succeeded&per_page=50")).await,
            Some(token.as_str()),
        ),
    ] {
        row(name, &load(&client, &url, bearer).await, floor_ms);
    }
    println!("== Audit ({events}) ==");
    for (name, url, bearer) in [
        ("HTML /audit (all)", format!("{u}/audit"), None),
        (
            "HTML /audit?outcome=failure",
            format!("{u}/audit?outcome=failure"),
            None,
        ),
        (
            "HTML /audit?company=7&kind=sync&outcome=failure",
            format!("{u}/audit?company=7&kind=sync&outcome=failure"),
            None,
        ),
        (
            "HTML /audit?from=2026-03-01&to=2026-05-31 (dates)",
            format!("{u}/audit?from=2026-03-01&to=2026-05-31"),
            None,
        ),
        (
            "HTML /audit exact times (two part days walked)",
            format!("{u}/audit?from_at=2026-03-01T13:30&to_at=2026-05-31T09:15&outcome=failure"),
            None,
        ),
        (
            "HTML /audit?kind=staff, Last page",
            format!("{u}/audit?kind=staff&last=1"),
            None,
        ),
        (
            "API audit?outcome=failure&from=2026-06-01",
            format!("{u}/api/v1/audit?outcome=failure&from=2026-06-01&per_page=50"),
            Some(token.as_str()),
        ),
        (
            "API audit?kind=sync, 41st page by cursor",
            deep(format!("{u}/api/v1/audit?kind=sync&per_page=50")).await,
            Some(token.as_str()),
        ),
    ] {
        row(name, &load(&client, &url, bearer).await, floor_ms);
    }
    println!(
        "RSS: {:.1} MB now, peak {:.1} MB",
        support::mb(support::status_kib("VmRSS:")),
        support::mb(support::status_kib("VmHWM:"))
    );
    app.stop().await;
}
