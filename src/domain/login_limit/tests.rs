use super::*;
use chrono::TimeZone;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
        .single()
        .expect("time")
}

fn wait_of(r: DomainResult<Attempt>) -> u64 {
    match r {
        Err(DomainError::RateLimited { retry_after_secs }) => retry_after_secs,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn five_attempts_per_account_and_client_are_charged_before_any_answer() {
    let l = LoginLimiter::default();
    let now = t0();
    // Nothing resolved yet, as when five requests are still hashing: the sixth is refused.
    let pending: Vec<Attempt> = (0..5)
        .map(|_| l.begin("a@b.c", "192.0.2.1", now).expect("admitted"))
        .collect();
    let wait = wait_of(l.begin("a@b.c", "192.0.2.1", now));
    assert!((899..=901).contains(&wait), "about 15 minutes, got {wait}");
    drop(pending);
    assert!(
        l.begin("a@b.c", "192.0.2.2", now).is_ok(),
        "another client is not refused"
    );
    assert!(
        l.begin("x@b.c", "192.0.2.1", now).is_ok(),
        "another account is not refused"
    );
    assert!(
        l.begin("a@b.c", "192.0.2.1", now + Duration::minutes(15))
            .is_ok(),
        "the failures leave the window"
    );
}

#[test]
fn refused_attempts_charge_nothing() {
    let l = LoginLimiter::default();
    let now = t0();
    for _ in 0..5 {
        let _ = l.begin("a@b.c", "192.0.2.1", now).expect("admitted");
    }
    for i in 0..50 {
        let _ = wait_of(l.begin("a@b.c", "192.0.2.1", now + Duration::seconds(i)));
    }
    // Had the refusals counted, the wait would still run from the last of them.
    assert!(
        l.begin("a@b.c", "192.0.2.1", now + Duration::minutes(15))
            .is_ok()
    );
}

#[test]
fn a_success_clears_its_record_and_does_not_count_against_the_client() {
    let l = LoginLimiter::default();
    let now = t0();
    for _ in 0..4 {
        let _ = l.begin("a@b.c", "192.0.2.1", now).expect("admitted");
    }
    let ok = l.begin("a@b.c", "192.0.2.1", now).expect("fifth admitted");
    l.succeeded(ok, now);
    for _ in 0..5 {
        let _ = l.begin("a@b.c", "192.0.2.1", now).expect("a clean slate");
    }
    // An office signing in all morning from one address is not a sprayer.
    let l = LoginLimiter::default();
    for i in 0..40 {
        let who = format!("user{i}@b.c");
        let a = l.begin(&who, "192.0.2.9", now).expect("admitted");
        l.succeeded(a, now);
    }
    assert!(l.begin("late@b.c", "192.0.2.9", now).is_ok());
}

#[test]
fn twenty_attempts_per_client_whatever_the_account() {
    let l = LoginLimiter::default();
    let now = t0();
    for i in 0..20 {
        let _ = l
            .begin(&format!("user{i}@b.c"), "192.0.2.1", now)
            .expect("admitted");
    }
    let _ = wait_of(l.begin("user99@b.c", "192.0.2.1", now));
    assert!(
        l.begin("user99@b.c", "192.0.2.2", now).is_ok(),
        "only that client waits"
    );
}

#[test]
fn guessing_from_many_clients_is_slowed_but_known_clients_are_not() {
    let l = LoginLimiter::default();
    let now = t0();
    let mine = l.begin("a@b.c", "198.51.100.7", now).expect("admitted");
    l.succeeded(mine, now);
    for i in 0..10 {
        let _ = l
            .begin("a@b.c", &format!("203.0.113.{i}"), now)
            .expect("within the burst");
    }
    let wait = wait_of(l.begin("a@b.c", "203.0.113.200", now));
    assert!((1..=31).contains(&wait), "about one refill, got {wait}");
    assert!(
        l.begin("a@b.c", "198.51.100.7", now).is_ok(),
        "the client that signed in before is not throttled"
    );
    let later = now + Duration::seconds(30);
    let _ = l
        .begin("a@b.c", "203.0.113.201", later)
        .expect("one attempt per refill");
    let _ = wait_of(l.begin("a@b.c", "203.0.113.202", later));
}

#[test]
fn a_refund_gives_everything_back() {
    let l = LoginLimiter::default();
    let now = t0();
    for _ in 0..50 {
        let a = l.begin("a@b.c", "192.0.2.1", now).expect("never charged");
        l.refund(a);
    }
    assert_eq!(l.records(), 1, "only the (full) account bucket is left");
}

#[test]
fn the_tables_stay_bounded_under_many_addresses_and_names() {
    let l = LoginLimiter::with_capacity(100);
    let now = t0();
    for i in 0..5_000u32 {
        let client = std::net::Ipv4Addr::from(0xC000_0000 + i).to_string();
        let _ = l.begin(
            &format!("junk{i}@b.c"),
            &client,
            now + Duration::milliseconds(i.into()),
        );
        assert!(l.records() <= 300, "{} records after {i}", l.records());
    }
    // Junk of any length costs at most MAX_KEY_LEN per key.
    let long = "x".repeat(100_000);
    let _ = l.begin(&long, &long, now);
    let t = l.lock();
    assert!(
        t.pairs
            .keys()
            .all(|(a, c)| a.len() <= MAX_KEY_LEN && c.len() <= MAX_KEY_LEN)
    );
}

#[test]
fn ipv6_clients_count_per_64_block() {
    let l = LoginLimiter::default();
    let now = t0();
    for i in 0..5 {
        let _ = l
            .begin("a@b.c", &format!("2001:db8:1:2::{i:x}"), now)
            .expect("admitted");
    }
    let _ = wait_of(l.begin("a@b.c", "2001:db8:1:2:ffff::1", now));
    assert!(l.begin("a@b.c", "2001:db8:1:3::1", now).is_ok());
    assert_eq!(client_key("::ffff:192.0.2.1"), "192.0.2.1");
}
