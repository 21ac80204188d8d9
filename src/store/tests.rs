use super::*;
use crate::model::{Actor, AuditFilter, Job, JobKind, JobState, NewAuditEvent, Trigger};
use chrono::{TimeZone, Utc};

fn store(dir: &std::path::Path) -> Store {
    Store::open(&dir.join("t.redb"), SecretBox::from_key([1; 32])).expect("open")
}

fn job(kind: &str, company: Option<u64>) -> Job {
    let t = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("time");
    Job {
        id: 0,
        kind: JobKind::new(kind),
        company_id: company,
        trigger: Trigger::Manual,
        state: JobState::Queued,
        attempts: 0,
        max_attempts: 3,
        created_at: t,
        run_after: t,
        started_at: None,
        finished_at: None,
        heartbeat_at: None,
        error: None,
        counts: Default::default(),
        progress: String::new(),
        params: serde_json::Value::Null,
    }
}

#[test]
fn one_active_job_per_company_and_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let (a, b, c) = s
        .write_blocking(|w| -> Result<_, StoreError> {
            Ok((
                w.enqueue_job(job("k", Some(1)))?,
                w.enqueue_job(job("k", Some(1)))?,
                w.enqueue_job(job("k", Some(2)))?,
            ))
        })
        .expect("enqueue");
    assert!(matches!(a, jobs::Enqueued::New(_)));
    assert!(matches!(&b, jobs::Enqueued::Existing(j) if j.id == a.job().id));
    assert!(matches!(c, jobs::Enqueued::New(_)));
    let now = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 1)
        .single()
        .expect("time");
    let claimed = s
        .write_blocking(|w| w.claim_job(now))
        .expect("claim")
        .expect("a job");
    assert_eq!(claimed.id, a.job().id);
    // While running, the pair is still taken.
    let again = s
        .write_blocking(|w| w.enqueue_job(job("k", Some(1))))
        .expect("enqueue");
    assert!(matches!(again, jobs::Enqueued::Existing(_)));
    s.write_blocking(|w| w.finish_job(claimed, JobState::Succeeded, now))
        .expect("finish");
    let after = s
        .write_blocking(|w| w.enqueue_job(job("k", Some(1))))
        .expect("enqueue");
    assert!(matches!(after, jobs::Enqueued::New(_)));
}

#[test]
fn backup_copies_a_consistent_snapshot_while_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    s.write_blocking(|w| {
        for i in 0..50 {
            w.append_audit(NewAuditEvent::new(
                Utc::now(),
                Actor::system(),
                "test.event",
                format!("e{i}"),
            ))?;
        }
        Ok::<_, StoreError>(())
    })
    .expect("write");
    let dest = dir.path().join("backup.redb");
    let rows = backup_to(&dir.path().join("t.redb"), &dest).expect("backup while open");
    assert!(rows >= 50);
    drop(s);
    let restored = Store::open(&dest, SecretBox::from_key([1; 32])).expect("open backup");
    let (events, total) = restored
        .read_blocking(|r| r.audit_page(&AuditFilter::default(), 0, 10))
        .expect("read");
    assert_eq!(total, 50);
    assert_eq!(events[0].summary, "e49");
    assert!(
        backup_to(&dir.path().join("t.redb"), &dest).is_err(),
        "refuses to overwrite"
    );
}

#[test]
fn a_second_writer_and_a_corrupt_file_get_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _s = store(dir.path());
    let err = Store::open(&dir.path().join("t.redb"), SecretBox::from_key([1; 32]))
        .err()
        .expect("locked");
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("in use"));
    let bad = dir.path().join("bad.redb");
    std::fs::write(
        &bad,
        b"this is not a database at all, just some text padding it out....",
    )
    .expect("write");
    let err = Store::open(&bad, SecretBox::from_key([1; 32]))
        .err()
        .expect("corrupt");
    assert!(err.to_string().contains("cannot be opened"), "{err}");
}
