//! The Jobs and Audit lists read by cursor against the old full scans, their counters across
//! job state changes, retries, pruning and an aborted write, and the v11 migration.

use crate::model::{
    Actor, AuditEvent, AuditFilter, Job, JobFilter, JobState, NewAuditEvent, Outcome, Requester,
    Trigger,
};
use crate::store::{Store, StoreError, tables};
use chrono::{DateTime, Duration, TimeZone, Utc};
use redb::ReadableTable;

/// A small deterministic generator (xorshift): the same "random" history on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(
        &dir.path().join("t.redb"),
        crate::crypto::SecretBox::from_key([3; 32]),
    )
    .expect("open")
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("time")
}

const KINDS: [&str; 2] = ["identity_sync", "evidence_sync"];

/// Enqueue, claim, finish, fail and retry jobs of 3 companies (and company-less ones).
fn job_history(s: &Store, rounds: usize) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..rounds {
        let now = t0() + Duration::seconds(round as i64);
        s.write_blocking(|w| {
            let company = match rng.next(4) {
                0 => None,
                c => Some(c),
            };
            let kind = KINDS[rng.next(2) as usize];
            let job = Job::new(
                kind,
                company,
                Trigger::Manual,
                Requester::system(),
                3,
                now,
                serde_json::Value::Null,
            );
            w.enqueue_job(job)?;
            if let Some(j) = w.claim_job(now)? {
                match rng.next(4) {
                    0 => {
                        w.finish_job(j, JobState::Succeeded, now)?;
                    }
                    1 => {
                        w.finish_job(j, JobState::Failed, now)?;
                    }
                    // A retry: back in the queue, due now (claimed again in a later round).
                    2 => {
                        w.requeue_job(j, now)?;
                    }
                    // Left running (a crash would leave it so).
                    _ => {}
                }
            }
            Ok::<_, StoreError>(())
        })
        .expect("write");
    }
}

fn filters_of_jobs() -> Vec<JobFilter> {
    let mut out = Vec::new();
    for company_id in [None, Some(1), Some(3)] {
        for kind in [None, Some(KINDS[0]), Some(KINDS[1])] {
            for state in [None]
                .into_iter()
                .chain(JobState::ALL.iter().copied().map(Some))
            {
                out.push(JobFilter {
                    company_id,
                    kind: kind.map(String::from),
                    state,
                });
            }
        }
    }
    out
}

/// Walk every job filter by cursor both ways and compare with a scan of every job.
fn compare_jobs(s: &Store) {
    s.read_blocking(|r| {
        let all: Vec<Job> = {
            let t = r.table(tables::JOBS)?;
            let mut v = Vec::new();
            for x in t.iter()? {
                v.push(crate::store::codec::dec::<Job>(x?.1.value())?);
            }
            v
        };
        for f in filters_of_jobs() {
            let want: Vec<u64> = all
                .iter()
                .rev()
                .filter(|j| {
                    f.company_id.is_none_or(|c| j.company_id == Some(c))
                        && f.kind.as_deref().is_none_or(|k| j.kind.as_str() == k)
                        && f.state.is_none_or(|st| j.state == st)
                })
                .map(|j| j.id)
                .collect();
            for per in [1, 7, 50] {
                // Next, Next, … from the start.
                let (mut got, mut after) = (Vec::new(), None);
                loop {
                    let p = r.jobs_page(&f, after, true, 0, per)?;
                    assert_eq!(p.total, want.len(), "{f:?}");
                    got.extend(p.jobs.iter().map(|j| j.id));
                    match p.next {
                        Some(n) => after = Some(n),
                        None => break,
                    }
                }
                assert_eq!(got, want, "next {f:?} per {per}");
                // Previous, Previous, … from the end (the pager's backward read).
                let (mut back, mut after) = (Vec::new(), None);
                loop {
                    let p = r.jobs_page(&f, after, false, 0, per)?;
                    back.extend(p.jobs.iter().map(|j| j.id));
                    match p.next {
                        Some(n) => after = Some(n),
                        None => break,
                    }
                }
                back.reverse();
                assert_eq!(back, want, "previous {f:?} per {per}");
            }
            // `page=` still answers the same rows.
            let (page2, total) = r.jobs_filtered(&f, 5, 5)?;
            let want2: Vec<u64> = want.iter().skip(5).take(5).copied().collect();
            assert_eq!(
                (page2.iter().map(|j| j.id).collect::<Vec<_>>(), total),
                (want2, want.len())
            );
        }
        Ok::<_, StoreError>(())
    })
    .expect("read");
}

fn job_problems(s: &Store) -> Vec<String> {
    s.read_blocking(|r| r.verify_job_index()).expect("verify")
}

#[test]
fn job_pages_by_cursor_equal_the_full_scan_and_counters_follow_every_state_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    job_history(&s, 300);
    assert_eq!(job_problems(&s), Vec::<String>::new());
    compare_jobs(&s);
    // An aborted write (a crash before commit) changes neither records nor counters.
    let before = s
        .read_blocking(|r| r.jobs_page(&JobFilter::default(), None, true, 0, 1))
        .expect("read")
        .total;
    let aborted: Result<(), StoreError> = s.write_blocking(|w| {
        if let Some(j) = w.claim_job(t0() + Duration::days(1))? {
            w.finish_job(j, JobState::Failed, t0())?;
        }
        w.enqueue_job(Job::new(
            KINDS[0],
            Some(9),
            Trigger::Manual,
            Requester::system(),
            3,
            t0(),
            serde_json::Value::Null,
        ))?;
        Err(StoreError::Join("crash".into()))
    });
    assert!(aborted.is_err());
    drop(s);
    // Reopened as after a restart.
    let s = open(&dir);
    assert_eq!(job_problems(&s), Vec::<String>::new());
    let after = s
        .read_blocking(|r| r.jobs_page(&JobFilter::default(), None, true, 0, 1))
        .expect("read")
        .total;
    assert_eq!(after, before);
    // Claiming whatever is due until the queue is empty keeps them right too.
    s.write_blocking(|w| {
        while let Some(j) = w.claim_job(t0() + Duration::days(1))? {
            w.finish_job(j, JobState::Succeeded, t0())?;
        }
        Ok::<_, StoreError>(())
    })
    .expect("drain");
    assert_eq!(job_problems(&s), Vec::<String>::new());
    compare_jobs(&s);
}

/// Events over 4 days, some hours apart and some within a second, across day boundaries.
fn audit_history(s: &Store, n: usize) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let kinds = [
        "company.archive",
        "sync.identity",
        "sync.identity.resync",
        "staff.login",
    ];
    let mut at = t0() - Duration::hours(3);
    for chunk in 0..n.div_ceil(50) {
        s.write_blocking(|w| {
            for _ in 0..50.min(n - chunk * 50) {
                at += Duration::seconds(rng.next(3_600) as i64);
                let mut e = NewAuditEvent::new(
                    at,
                    Actor("staff:1".into()),
                    kinds[rng.next(4) as usize],
                    "x",
                );
                e.company_id = match rng.next(4) {
                    0 => None,
                    c => Some(c),
                };
                e.outcome = match rng.next(5) {
                    0 => Outcome::Failure,
                    1 => Outcome::Warning,
                    _ => Outcome::Success,
                };
                w.append_audit(e)?;
            }
            Ok::<_, StoreError>(())
        })
        .expect("write");
    }
}

fn all_events(s: &Store) -> Vec<AuditEvent> {
    let mut v = Vec::new();
    s.read_blocking(|r| r.audit_each(&AuditFilter::default(), |e| v.push(e)))
        .expect("read");
    v
}

fn compare_audit(s: &Store) {
    let all = all_events(s);
    let day = |d: i64, h: i64| t0() + Duration::days(d) + Duration::hours(h);
    let windows = [
        (None, None),
        (Some(day(1, 0)), None),
        (None, Some(day(2, 0))),
        (Some(day(0, 5)), Some(day(2, 7))),
        (Some(day(1, 2)), Some(day(1, 9))),
        (Some(day(1, 20)), Some(day(2, 4))),
        (Some(day(0, 0)), Some(day(3, 0))),
        (Some(day(30, 0)), None),
    ];
    s.read_blocking(|r| {
        for company_id in [None, Some(1), Some(3)] {
            for kind in [
                None,
                Some("sync"),
                Some("sync.identity.resync"),
                Some("staff"),
            ] {
                for outcome in [None, Some(Outcome::Failure), Some(Outcome::Success)] {
                    for (from, to) in windows {
                        let f = AuditFilter {
                            company_id,
                            kind: kind.map(String::from),
                            outcome,
                            from,
                            to,
                        };
                        let want: Vec<u64> = all
                            .iter()
                            .rev()
                            .filter(|e| f.matches(e))
                            .map(|e| e.id)
                            .collect();
                        for per in [7, 50] {
                            let (mut got, mut after) = (Vec::new(), None);
                            loop {
                                let p = r.audit_list(&f, after, true, 0, per)?;
                                assert_eq!(p.total, want.len(), "total {f:?}");
                                got.extend(p.events.iter().map(|e| e.id));
                                match p.next {
                                    Some(n) => after = Some(n),
                                    None => break,
                                }
                            }
                            assert_eq!(got, want, "next {f:?}");
                            let (mut back, mut after) = (Vec::new(), None);
                            loop {
                                let p = r.audit_list(&f, after, false, 0, per)?;
                                back.extend(p.events.iter().map(|e| e.id));
                                match p.next {
                                    Some(n) => after = Some(n),
                                    None => break,
                                }
                            }
                            back.reverse();
                            assert_eq!(back, want, "previous {f:?}");
                        }
                    }
                }
            }
        }
        Ok::<_, StoreError>(())
    })
    .expect("read");
}

fn audit_problems(s: &Store) -> Vec<String> {
    s.read_blocking(|r| r.verify_audit_window())
        .expect("verify")
}

#[test]
fn audit_pages_by_cursor_equal_the_full_scan_for_every_filter_and_survive_pruning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    audit_history(&s, 400);
    assert_eq!(audit_problems(&s), Vec::<String>::new());
    compare_audit(&s);
    // Retention removes the oldest day and a bit: counters and outcome index follow.
    let removed = s
        .write_blocking(|w| w.prune_audit(t0() + Duration::hours(30), u64::MAX, 1_000))
        .expect("prune");
    assert!(removed > 0);
    assert_eq!(audit_problems(&s), Vec::<String>::new());
    compare_audit(&s);
}

#[test]
fn an_old_database_builds_the_job_counters_and_audit_day_counters_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir);
    job_history(&s, 120);
    audit_history(&s, 200);
    drop(s);
    {
        // Make it what a v8 binary left: no counters, no narrowed scopes, schema 8.
        let db = redb::Database::open(dir.path().join("t.redb")).expect("raw open");
        let txn = db.begin_write().expect("write");
        txn.delete_table(tables::JOB_COUNTS).expect("drop");
        txn.delete_table(tables::AUDIT_BY_OUTCOME).expect("drop");
        txn.delete_table(tables::AUDIT_DAYS).expect("drop");
        {
            let mut idx = txn.open_table(tables::JOB_INDEX).expect("index");
            let (from, to): (&[u8], &[u8]) = (b"s", b"t");
            idx.retain_in((from, 0u64)..(to, 0u64), |_, _| false)
                .expect("narrowed scopes out");
        }
        crate::store::meta::set_schema_version(&txn, 8).expect("version");
        txn.commit().expect("commit");
    }
    let s = open(&dir);
    assert_eq!(job_problems(&s), Vec::<String>::new());
    assert_eq!(audit_problems(&s), Vec::<String>::new());
    compare_jobs(&s);
    compare_audit(&s);
}
