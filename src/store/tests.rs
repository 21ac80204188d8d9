use super::*;
use crate::clock::Clock as _;
use crate::model::{Actor, AuditFilter, Job, JobKind, JobState, NewAuditEvent, Trigger};
use chrono::{TimeZone, Utc};
use redb::{ConcurrencyMode, ReadableDatabase};

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
        requested_by: Some(Box::new(crate::model::Requester::system())),
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
        progress_detail: None,
        warnings: Vec::new(),
        params: serde_json::Value::Null,
    }
}

/// Jobs are JSON records: one written before jobs said who asked loads without a migration,
/// and reads as the scheduler's when a schedule queued it.
#[test]
fn a_job_stored_by_an_older_version_loads_and_says_who_queued_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let old = br#"{"id":41,"kind":"identity_sync","company_id":2,"trigger":"schedule","state":"succeeded","attempts":1,"max_attempts":5,"created_at":"2026-01-31T08:00:00Z","run_after":"2026-01-31T08:00:00Z","started_at":null,"finished_at":null,"heartbeat_at":null,"error":null,"counts":{},"progress":"","params":null}"#;
    s.write_blocking(|w| -> Result<_, StoreError> {
        w.txn
            .open_table(super::tables::JOBS)?
            .insert(41, old.as_slice())?;
        Ok(())
    })
    .expect("old record written");
    let job = s
        .read_blocking(|r| r.job(41))
        .expect("read")
        .expect("the old job loads");
    assert_eq!(job.requested_by, None);
    assert_eq!(job.requester(), crate::model::Requester::scheduler());
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
                crate::clock::SystemClock.now(),
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

/// A database as schema v3 left it: every table up to v3, no nesting table, a company whose
/// users and groups both hold a delta link.
fn v3_database(path: &std::path::Path) {
    let mut builder = redb::Builder::new();
    builder.set_concurrency_mode(ConcurrencyMode::SingleWriter);
    let db = builder.create(path).expect("create");
    let txn = db.begin_write().expect("write");
    tables::create_all(&txn).expect("v1");
    tables::create_v2(&txn).expect("v2");
    tables::create_v3(&txn).expect("v3");
    meta::set_schema_version(&txn, 3).expect("version");
    {
        let mut t = txn.open_table(tables::SYNC_STATE).expect("sync state");
        for collection in ["users", "groups"] {
            let s = crate::model::SyncState {
                round: 7,
                delta_link: Some(format!("https://graph.example/{collection}/delta?t=1")),
                delta_saved_at: Some(crate::clock::SystemClock.now()),
                ..Default::default()
            };
            let bytes = codec::enc(&s).expect("enc");
            t.insert((1, collection), bytes.as_slice()).expect("insert");
        }
    }
    txn.commit().expect("commit");
}

#[test]
fn a_v3_database_opens_with_the_nesting_table_and_a_full_groups_round_ahead() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.redb");
    v3_database(&path);
    let s = Store::open(&path, SecretBox::from_key([1; 32])).expect("migrates");
    let (version, nested, users, groups) = s
        .read_blocking(|r| {
            Ok::<_, StoreError>((
                r.meta::<u32>(keys::meta::SCHEMA_VERSION)?,
                r.nested_group_oids(1, 1)?,
                r.sync_state(1, "users")?.expect("users"),
                r.sync_state(1, "groups")?.expect("groups"),
            ))
        })
        .expect("read");
    assert_eq!(version, Some(SCHEMA_VERSION));
    assert!(nested.is_empty(), "the new table is there, empty");
    assert!(users.delta_link.is_some(), "users carry on from their link");
    assert_eq!(
        (groups.delta_link, groups.round),
        (None, 7),
        "groups start a full round (nesting was never kept) and keep their round number"
    );
    // Opening again changes nothing: the step ran once.
    s.write_blocking(|w| {
        let mut g = w.sync_state(1, "groups")?.expect("groups");
        g.delta_link = Some("kept".into());
        w.put_sync_state(1, "groups", &g)
    })
    .expect("write");
    drop(s);
    let s = Store::open(&path, SecretBox::from_key([1; 32])).expect("reopens");
    let g = s
        .read_blocking(|r| r.sync_state(1, "groups"))
        .expect("read")
        .expect("groups");
    assert_eq!(g.delta_link.as_deref(), Some("kept"));
}

#[test]
fn nesting_links_are_read_per_parent_and_copied_by_backup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    s.write_blocking(|w| {
        w.put_nesting(1, 5, "child-a", 1)?;
        w.put_nesting(1, 5, "child-b", 1)?;
        w.put_nesting(1, 6, "child-c", 1)?;
        w.put_nesting(2, 5, "other-company", 1)?;
        Ok::<_, StoreError>(())
    })
    .expect("write");
    let dest = dir.path().join("backup.redb");
    backup_to(&dir.path().join("t.redb"), &dest).expect("backup");
    drop(s);
    let restored = Store::open(&dest, SecretBox::from_key([1; 32])).expect("open backup");
    let (five, six, all) = restored
        .read_blocking(|r| {
            Ok::<_, StoreError>((
                r.nested_group_oids(1, 5)?,
                r.nested_group_oids(1, 6)?,
                r.nesting_with_round(1)?,
            ))
        })
        .expect("read");
    assert_eq!(five, vec!["child-a".to_string(), "child-b".to_string()]);
    assert_eq!(six, vec!["child-c".to_string()]);
    assert_eq!(all.len(), 3, "company 2's link is not company 1's");
}

#[test]
fn backup_lists_every_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    drop(s);
    let db = redb::Database::open(dir.path().join("t.redb")).expect("open");
    let created: std::collections::BTreeSet<String> = db
        .begin_read()
        .expect("read")
        .list_tables()
        .expect("list")
        .map(|t| redb::TableHandle::name(&t).to_string())
        .collect();
    let copied: std::collections::BTreeSet<String> = backup::TABLES
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    assert_eq!(
        copied, created,
        "backup copies exactly the tables a migration creates"
    );
    assert_eq!(copied.len(), backup::TABLES.len(), "each table once");
}

mod evidence_tables {
    use super::*;
    use crate::model::{Collected, EvidenceSnapshot, EvidenceThresholds, SnapshotSummary};
    use chrono::Duration;

    fn snapshot(company_id: u64, id: u64, days_ago: i64) -> (EvidenceSnapshot, SnapshotSummary) {
        let at = Utc
            .with_ymd_and_hms(2026, 6, 1, 0, 15, 0)
            .single()
            .expect("time")
            - Duration::days(days_ago);
        let s = EvidenceSnapshot {
            id,
            company_id,
            tenant_id: "t".into(),
            collected_at: at,
            job_id: None,
            thresholds: EvidenceThresholds::default(),
            licences: Collected::Failed {
                error: "n/a".into(),
            },
            security_defaults: Collected::Failed {
                error: "n/a".into(),
            },
            ca_policies: Collected::Failed {
                error: "n/a".into(),
            },
            admins: Collected::Failed {
                error: "n/a".into(),
            },
            registration: Collected::Failed {
                error: "n/a".into(),
            },
            registration_source: None,
            compliance_policies: Collected::Failed {
                error: "n/a".into(),
            },
            devices: Collected::Failed {
                error: "n/a".into(),
            },
            payloads: Vec::new(),
        };
        let sum = SnapshotSummary {
            id,
            company_id,
            collected_at: at,
            job_id: None,
            statuses: Default::default(),
            scores: Default::default(),
            mfa_registration_pct: None,
            device_compliance_pct: None,
            drift: false,
        };
        (s, sum)
    }

    #[test]
    fn snapshots_list_newest_first_and_retention_keeps_each_company_s_latest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = super::store(dir.path());
        store
            .write_blocking(|w| {
                for (c, id, days) in [(1, 1, 500), (1, 2, 450), (1, 3, 10), (2, 4, 600)] {
                    let (s, sum) = snapshot(c, id, days);
                    w.put_evidence_snapshot(&s, &sum)?;
                }
                Ok::<_, StoreError>(())
            })
            .expect("write");
        let (page, total) = store
            .read_blocking(|r| r.evidence_summaries(1, 0, 2))
            .expect("read");
        assert_eq!(total, 3);
        assert_eq!(page.iter().map(|s| s.id).collect::<Vec<_>>(), vec![3, 2]);
        let previous = store
            .read_blocking(|r| r.evidence_snapshot_before(1, 3))
            .expect("read");
        assert_eq!(previous.map(|p| p.id), Some(2));
        let cutoff = Utc
            .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
            .single()
            .expect("time")
            - Duration::days(400);
        let removed = store
            .write_blocking(|w| w.prune_evidence(cutoff, 100))
            .expect("prune");
        // Company 1's two old snapshots go; company 2's only (and latest) one stays.
        assert_eq!(removed, 2);
        let left = store
            .read_blocking(|r| {
                Ok::<_, StoreError>((
                    r.evidence_summaries(1, 0, 10)?.1,
                    r.evidence_snapshot(2, 4)?.is_some(),
                    r.latest_evidence(1)?.map(|l| l.id),
                ))
            })
            .expect("read");
        assert_eq!(left, (1, true, Some(3)));
    }

    #[test]
    fn a_v5_database_gains_the_evidence_tables() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.redb");
        {
            let mut builder = redb::Builder::new();
            builder.set_concurrency_mode(ConcurrencyMode::SingleWriter);
            let db = builder.create(&path).expect("create");
            let txn = db.begin_write().expect("write");
            tables::create_all(&txn).expect("v1");
            tables::create_v2(&txn).expect("v2");
            tables::create_v3(&txn).expect("v3");
            tables::create_v4(&txn).expect("v4");
            tables::create_v5(&txn).expect("v5");
            meta::set_schema_version(&txn, 5).expect("version");
            txn.commit().expect("commit");
        }
        let s = Store::open(&path, SecretBox::from_key([1; 32])).expect("migrates");
        let (version, latest, settings) = s
            .read_blocking(|r| {
                Ok::<_, StoreError>((
                    r.meta::<u32>(keys::meta::SCHEMA_VERSION)?,
                    r.all_latest_evidence()?,
                    r.evidence_settings(1)?,
                ))
            })
            .expect("the evidence tables exist");
        assert_eq!(version, Some(SCHEMA_VERSION));
        assert!(latest.is_empty() && settings.is_none());
    }

    #[test]
    fn snapshots_are_stored_compressed_and_read_back_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = super::store(dir.path());
        let (mut s, sum) = snapshot(1, 1, 0);
        s.tenant_id = "t".repeat(10_000);
        store
            .write_blocking(|w| w.put_evidence_snapshot(&s, &sum))
            .expect("write");
        let back = store
            .read_blocking(|r| r.evidence_snapshot(1, 1))
            .expect("read");
        assert_eq!(back.as_ref(), Some(&s));
        let raw_len = store
            .read_blocking(|r| {
                let t = r.table(super::super::tables::EVIDENCE_SNAPSHOTS)?;
                let len = redb::ReadableTable::get(&t, (1u64, 1u64))?.map(|g| g.value().len());
                Ok::<_, StoreError>(len)
            })
            .expect("raw");
        let json_len = serde_json::to_vec(&s).expect("json").len();
        assert!(
            raw_len.is_some_and(|n| n * 10 < json_len),
            "{raw_len:?} vs {json_len}"
        );
    }
}

/// `Store::space` tells the file's size apart from what its pages hold: stored data grows
/// with what is written, and always fits in the pages in use, which fit in the file.
#[test]
fn space_reports_the_file_and_what_its_pages_hold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let before = s.space().expect("space");
    s.write_blocking(|w| {
        for i in 0..500 {
            w.append_audit(NewAuditEvent::new(
                crate::clock::SystemClock.now(),
                Actor::system(),
                "test.event",
                format!("event {i} with some words to store"),
            ))?;
        }
        Ok::<_, StoreError>(())
    })
    .expect("write");
    let after = s.space().expect("space");
    assert!(
        after.stored > before.stored + 500 * 30,
        "{before:?} → {after:?}"
    );
    assert!(after.stored <= after.allocated, "{after:?}");
    assert!(after.allocated <= after.file, "{after:?}");
    assert!(after.unused <= after.file, "{after:?}");
}
