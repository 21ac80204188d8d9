//! Sign-in memory benchmark: `cargo bench --bench login_memory`.
//!
//! The appliance runs in the bench process (real store in a temp dir, real HTTP on
//! loopback, `server.trusted_proxies = ["127.0.0.1"]`, password hashing at its default of
//! one slot per core). Every attempt comes "through the proxy" from its own forwarded
//! address (a distinct IPv6 /64 in 2001:db8::/32) for its own unknown account, so the sign-in
//! limits never refuse it: each attempt reaches the hasher, which checks unknown accounts
//! against a dummy hash with the same parameters (19 MiB, argon2id).
//!
//! 1. Idle: RSS (`VmRSS`) after start and one page view, before any password was hashed.
//!    This is the floor the other figures are compared with, measured in the same run.
//! 2. Bursts: 7 bursts of 50 concurrent wrong passwords (350 attempts, the black-box test
//!    of issue #15 that took the release binary from 37 MB to 4,296 MB). The bounded hasher
//!    runs a few and refuses the rest with 429; RSS after, and how many were hashed.
//! 3. Waves: 350 more wrong passwords in waves no larger than the hasher's capacity, so
//!    every one of them is hashed; RSS after.
//!
//! Target: RSS after both phases within 50 MB of the idle floor. Peak RSS (`VmHWM`, reset
//! through /proc/self/clear_refs when possible) is printed too. Not a timed test: `cargo
//! test` does not run it.

mod support;

use std::time::Instant;
use support::{mb, status_kib};
use tenantry::app::{App, AppOptions};
use tenantry::domain::password::HashingStats;

const BURSTS: usize = 7;
const PER_BURST: usize = 50;
const TARGET_MB: f64 = 50.0;

fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    html.find(marker)
        .map(|i| {
            let rest = &html[i + marker.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_default()
}

struct Round {
    hashed: u64,
    unauthorized: usize,
    refused: usize,
    other: usize,
    rss_kib: u64,
    secs: f64,
}

/// `groups` rounds of `size` concurrent wrong passwords; attempt `n` comes from
/// 2001:db8:`base + n`::1 for nobody-`base + n`@bench.example.
async fn attempts(
    app: &App,
    client: &reqwest::Client,
    token: &str,
    base: usize,
    groups: usize,
    size: usize,
) -> Round {
    let before: HashingStats = app.services.passwords.stats();
    let t0 = Instant::now();
    let (mut unauthorized, mut refused, mut other) = (0, 0, 0);
    for g in 0..groups {
        let sends = (0..size).map(|i| {
            let n = base + g * size + i;
            client
                .post(format!("{}/login", app.url))
                .header("x-forwarded-for", format!("2001:db8:{n:x}::1"))
                .form(&[
                    ("email", format!("nobody-{n}@bench.example")),
                    ("password", "not the password".to_string()),
                    ("csrf", token.to_string()),
                ])
                .send()
        });
        for r in futures_util::future::join_all(sends).await {
            match r.map(|r| r.status().as_u16()) {
                Ok(401) => unauthorized += 1,
                Ok(429) => refused += 1,
                _ => other += 1,
            }
        }
    }
    Round {
        hashed: app.services.passwords.stats().started - before.started,
        unauthorized,
        refused,
        other,
        rss_kib: status_kib("VmRSS:"),
        secs: t0.elapsed().as_secs_f64(),
    }
}

fn print_round(name: &str, r: &Round, idle_kib: u64) {
    let delta = mb(r.rss_kib) - mb(idle_kib);
    println!("== {name} ==");
    println!(
        "  answers:  {} x 401 (hashed: {}), {} x 429 refused, {} other, in {:.2} s",
        r.unauthorized, r.hashed, r.refused, r.other, r.secs
    );
    println!(
        "  RSS:      {:.1} MB = idle + {delta:.1} MB ({:.2}x idle; target within {TARGET_MB} MB: {})",
        mb(r.rss_kib),
        r.rss_kib as f64 / idle_kib.max(1) as f64,
        if delta <= TARGET_MB { "met" } else { "MISSED" }
    );
}

fn main() {
    support::bench_main("login_memory", run);
}

async fn run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = support::config(
        dir.path(),
        &[("TENANTRY_SERVER_TRUSTED_PROXIES", "127.0.0.1")],
    );
    // No admin from the environment: creating one would hash a password before the idle
    // figure is taken.
    let app = App::build(config, AppOptions::default())
        .await
        .expect("app");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let page = client
        .get(format!("{}/login", app.url))
        .send()
        .await
        .expect("GET /login")
        .text()
        .await
        .expect("page");
    let token = csrf_in(&page);
    let hashing = &app.services.passwords;
    println!(
        "login memory benchmark: {} build, {} CPUs, {} hashing slots, capacity {} (slots + queue)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        hashing.concurrency(),
        hashing.capacity()
    );
    let idle = status_kib("VmRSS:");
    let peak_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    println!("== idle (floor) ==");
    println!("  RSS:      {:.1} MB", mb(idle));

    let bursts = attempts(&app, &client, &token, 0, BURSTS, PER_BURST).await;
    print_round(
        &format!("{BURSTS} bursts of {PER_BURST} concurrent wrong passwords"),
        &bursts,
        idle,
    );
    let wave = hashing.capacity();
    let waves = attempts(
        &app,
        &client,
        &token,
        BURSTS * PER_BURST,
        BURSTS * PER_BURST / wave,
        wave,
    )
    .await;
    print_round(
        &format!(
            "{} waves of {wave} (within capacity: all hashed)",
            BURSTS * PER_BURST / wave
        ),
        &waves,
        idle,
    );
    let s = hashing.stats();
    println!(
        "hasher: {} hashes, at most {} at once, {} refused; pooled buffers {:.1} MB of the growth",
        s.started,
        s.max_running,
        s.refused,
        hashing.pooled_bytes() as f64 / 1_000_000.0
    );
    println!(
        "peak RSS: {:.1} MB (VmHWM{})",
        mb(status_kib("VmHWM:")),
        if peak_reset {
            ", reset after the idle figure"
        } else {
            " since process start"
        }
    );
    app.stop().await;
}
