//! A full disk mid-sync: the job ends failed with a readable message (and its audit row when
//! that still fits), what was stored before is intact, and syncing resumes once there is room,
//! without a restart. The disk is filled for real at redb's file backend (see
//! `src/store/disk.rs` for why not a mounted file system): writes that need new space get the
//! kernel's own ENOSPC error.

use crate::helpers::*;
use crate::sync_helpers::*;
use tenantry::app::{App, AppOptions};
use tenantry::model::{Actor, JobState, Trigger};
use tenantry::simulator::{Fault, FaultKind};
use tenantry::store::DiskBudget;

#[tokio::test]
async fn a_full_disk_fails_the_sync_cleanly_and_syncing_resumes_when_space_returns() {
    let (sim, ctl) = crate::support::sim::simulator(
        13,
        crate::support::sim::TestRegistration {
            client_id: CLIENT_ID,
            secret: SECRET,
            redirect_uris: vec!["http://127.0.0.1:9/connect/callback".into()],
            name: "Tenantry disk tests",
        },
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path(), &[]);
    crate::support::sim::use_simulator(&mut config, &sim, CLIENT_ID, SECRET);
    config.schedule.identity = NEVER.into();
    config.schedule.evidence = NEVER.into();
    let disk = DiskBudget::default();
    crate::support::init_test_log();
    let app = App::build(
        config.clone(),
        AppOptions {
            admin_email: Some(ADMIN_EMAIL.into()),
            admin_password: Some(ADMIN_PASSWORD.into()),
            registry: Some(builtin_registry()),
            disk_budget: Some(disk.clone()),
            ..Default::default()
        },
    )
    .await
    .expect("app starts");
    let app = TestApp {
        url: app.url.clone(),
        app: Some(app),
        dir,
        config,
        client: client(),
    };
    let env = SyncEnv { sim, ctl, app };
    let s = env.services().clone();

    // Before: one company synced while there is room.
    let small = env.tenant("Small Before", 6, 2, true);
    let (before_id, job) = env.connect("Small Before", &small.id).await;
    assert_eq!(job.state, JobState::Succeeded, "{job:?}");
    let before = format!("{:?}", env.snapshot(before_id).await);

    // A large tenant whose first users page is slow, so the disk fills while the sync runs.
    let big = env.tenant("Large During", 400, 0, false);
    env.ctl
        .set_faults(
            &big.id,
            vec![Fault {
                kind: FaultKind::Slow { delay_ms: 2000 },
                endpoint: Some("users/delta".into()),
                nth: 1,
                times: 1,
                seen: 0,
            }],
        )
        .expect("slow first page");
    let big_id = env.company("Large During").await;
    let job = s
        .connect_company_tenant(Actor::system(), big_id, &big.id, Some(Trigger::Consent))
        .await
        .expect("connects")
        .expect("sync queued");
    eventually("the large sync is running", || async {
        (s.job(job.id).await.expect("job").state == JobState::Running).then_some(())
    })
    .await;
    disk.set(0);

    let failed = env.wait_job(job.id).await;
    assert_eq!(failed.state, JobState::Failed, "{failed:?}");
    let error = failed.error.clone().unwrap_or_default();
    assert!(error.contains("The disk is full"), "{error}");
    assert!(
        crate::support::captured_log().contains("database reopened after a write error"),
        "the store reopened itself after the failed write"
    );

    // The store is intact: the earlier company reads back the same, indexes agree, and the
    // failure is in the audit log (it fit in the file's free pages).
    assert_eq!(format!("{:?}", env.snapshot(before_id).await), before);
    let check = s.store_handle().verify_indexes().expect("indexes readable");
    assert!(check.is_ok(), "{check:?}");
    let audit = env.audit(big_id, "sync.identity").await;
    assert!(
        audit.iter().any(|e| e.summary.contains("The disk is full")),
        "{audit:?}"
    );

    // Space returns: the next sync succeeds and stores every user, no restart needed.
    disk.unlimited();
    let done = env.sync(big_id).await;
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    let snap = env.snapshot(big_id).await;
    assert_eq!(snap.contacts.len(), 400);
    env.stop().await;
}
