//! Backup → restore is a round trip: every company, contact, group, membership, asset and audit
//! row comes back equal; a restore refuses while the database is in use and refuses a file that
//! is not a good backup, leaving the database untouched.

use crate::helpers::*;
use crate::sync_helpers::*;
use tenantry::domain::Services;
use tenantry::model::{Actor, AuditEvent, AuditFilter, Company, CompanyInput};
use tenantry::store::{StoreError, backup_to, restore_from};

/// Everything the round trip must keep.
#[derive(Debug, PartialEq)]
struct World {
    companies: Vec<Company>,
    /// Per company: contacts, groups, memberships, assets (as the sync tests read them).
    directories: Vec<(u64, String)>,
    audit: Vec<AuditEvent>,
}

async fn world(s: &Services) -> World {
    let companies = s
        .store_handle()
        .read(|r| r.all_companies())
        .await
        .expect("companies");
    let mut directories = Vec::new();
    for c in &companies {
        let snap = snapshot(s, c.id).await;
        directories.push((c.id, format!("{snap:?}")));
    }
    let mut audit = Vec::new();
    for page in 1.. {
        let p = s
            .audit_page(AuditFilter::default(), page, 500)
            .await
            .expect("audit");
        let n = p.items.len();
        audit.extend(p.items);
        if n < 500 {
            break;
        }
    }
    audit.sort_by_key(|e| e.id);
    World {
        companies,
        directories,
        audit,
    }
}

#[tokio::test]
async fn backup_then_restore_brings_every_row_back() {
    let env = sync_env().await;
    let t = env.tenant("Fabrikam Restore", 25, 6, true);
    let (_, job) = env.connect("Fabrikam Restore", &t.id).await;
    assert_eq!(job.state, tenantry::model::JobState::Succeeded, "{job:?}");
    env.company("Contoso Without Tenant").await;
    let before = world(env.services()).await;
    let synced = &before.directories[0].1;
    assert!(
        synced.contains("Contact {"),
        "the synced company has contacts"
    );
    assert!(before.audit.len() > 3, "{:?}", before.audit.len());

    let SyncEnv {
        sim,
        ctl: _ctl,
        mut app,
    } = env;
    let db = app.config.db_path();
    let backup = app.dir.path().join("backup.redb");
    // `tenantry backup` works while the service runs.
    let copied = backup_to(&db, &backup).expect("backup");
    assert!(copied > 0);

    // Diverge after the backup: a new company and its audit row.
    app.services()
        .create_company(
            Actor::system(),
            CompanyInput::parse("Made After The Backup", "", "").expect("input"),
        )
        .await
        .expect("company");
    // Restore refuses while the service holds the database.
    match restore_from(&backup, &db) {
        Err(StoreError::Locked { .. }) => {}
        other => panic!("restore while running: {other:?}"),
    }
    app.stop().await;

    // A file that is not a backup is refused and the database is left as it was.
    let junk = app.dir.path().join("junk.redb");
    std::fs::write(&junk, b"not a database at all, just some bytes").expect("write");
    // The stopped server's worker threads let go of the database a moment after `stop`
    // returns (see `TestApp::restart`); until then the file is locked by this process.
    let err = eventually("the stopped app lets go of its database", || {
        let (junk, db) = (junk.clone(), db.clone());
        async move {
            match restore_from(&junk, &db) {
                Err(StoreError::Locked { .. }) => None,
                other => Some(other),
            }
        }
    })
    .await
    .expect_err("junk refused");
    assert!(err.to_string().contains("junk.redb"), "{err}");
    assert!(
        !app.dir.path().join("tenantry.redb.restoring").exists(),
        "the staged copy is removed"
    );

    let restored = eventually("the stopped app lets go of its database", || {
        let (backup, db) = (backup.clone(), db.clone());
        async move {
            match restore_from(&backup, &db) {
                Ok(r) => Some(r),
                Err(StoreError::Locked { .. }) => None,
                Err(e) => panic!("restore: {e}"),
            }
        }
    })
    .await;
    assert_eq!(restored.rows, copied);
    let previous = restored.previous.expect("old database kept");
    assert!(previous.exists(), "{}", previous.display());

    let app = app.restart(builtin_registry()).await;
    let after = world(app.services()).await;
    assert!(
        !after
            .companies
            .iter()
            .any(|c| c.name == "Made After The Backup"),
        "the restore replaced the diverged database"
    );
    assert_eq!(after.companies, before.companies);
    assert_eq!(after.directories, before.directories);
    // A start may add its own audit rows; every row of the backup is back, and nothing written
    // after the backup is.
    let last = before.audit.last().map(|e| e.id).unwrap_or(0);
    let kept: Vec<AuditEvent> = after
        .audit
        .iter()
        .filter(|e| e.id <= last)
        .cloned()
        .collect();
    assert_eq!(kept, before.audit);
    assert!(
        !after
            .audit
            .iter()
            .any(|e| e.summary.contains("Made After The Backup")),
        "no audit row of the diverged database"
    );
    let mut app = app;
    app.stop().await;
    sim.stop().await;
}
