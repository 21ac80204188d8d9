//! A database written by each released schema opens and migrates. `tests/fixtures/schema/`
//! holds one small database per schema version (`v<N>.redb`, written by `tenantry backup`'s
//! `backup_to` from a synced company and a plain one). `the_current_schema_has_its_fixture`
//! builds that database in every run and, when the current version has no file yet (a schema
//! bump), writes it there and fails until it is committed, so the next bump is tested against
//! it.
//! The older files came from main as released: v4 at c357e1f, v5 at 30c002b, v6 at 4fe1d1b
//! (the same generator, copied into `git archive` of each commit; v7 never shipped on main:
//! its branch merged as v8).

use crate::helpers::*;
use crate::sync_helpers::*;
use std::path::PathBuf;
use tenantry::store::{SCHEMA_VERSION, StoreError};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema")
}

/// Company names every fixture holds (the generator makes them).
const SYNCED: &str = "Fixture Synced Ltd";
const PLAIN: &str = "Fixture Plain Ltd";

#[tokio::test]
async fn every_schema_fixture_opens_and_migrates() {
    let mut versions = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).expect("tests/fixtures/schema") {
        let path = entry.expect("entry").path();
        let Some(v) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix('v')?.strip_suffix(".redb"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        versions.push(v);
        let dir = tempfile::tempdir().expect("tempdir");
        let config = test_config(dir.path(), &[]);
        std::fs::copy(&path, config.db_path()).expect("copy fixture");
        let mut app = start_in(dir, config, builtin_registry()).await;
        let s = app.services();
        let (version, companies, check) = s
            .store_handle()
            .read(|r| {
                Ok::<_, StoreError>((
                    r.meta::<u32>("schema_version")?,
                    r.all_companies()?,
                    r.verify_indexes()?,
                ))
            })
            .await
            .expect("read");
        assert_eq!(
            version,
            Some(SCHEMA_VERSION),
            "v{v} migrated to the current schema"
        );
        assert!(check.is_ok(), "v{v}: indexes agree with records: {check:?}");
        let synced = companies
            .iter()
            .find(|c| c.name == SYNCED)
            .unwrap_or_else(|| panic!("v{v}: {SYNCED} kept"));
        assert!(
            companies.iter().any(|c| c.name == PLAIN),
            "v{v}: {PLAIN} kept"
        );
        let snap = snapshot(s, synced.id).await;
        assert!(!snap.contacts.is_empty(), "v{v}: contacts kept");
        assert!(!snap.assets.is_empty(), "v{v}: assets kept");
        // And the migrated database is usable: the app lists the company over HTTP.
        app.login_as(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let page = app.get_text(&format!("/companies/{}", synced.id)).await;
        assert!(page.contains(SYNCED), "v{v}: company page");
        app.stop().await;
    }
    assert!(
        versions.contains(&SCHEMA_VERSION),
        "tests/fixtures/schema has no v{SCHEMA_VERSION}.redb: `the_current_schema_has_its_fixture` writes it; commit it"
    );
}

/// Builds the current schema's fixture (a synced company and a plain one, through a backup)
/// and checks it holds both; a schema bump without its file gets it written into
/// `tests/fixtures/schema/` and fails until the file is committed.
#[tokio::test]
async fn the_current_schema_has_its_fixture() {
    let env = sync_env().await;
    let t = env.tenant(SYNCED, 8, 3, true);
    let (_, job) = env.connect(SYNCED, &t.id).await;
    assert_eq!(job.state, tenantry::model::JobState::Succeeded, "{job:?}");
    env.company(PLAIN).await;
    let names: Vec<String> = env
        .app
        .services()
        .store_handle()
        .read(|r| r.all_companies())
        .await
        .expect("companies")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(
        names.iter().any(|n| n == SYNCED) && names.iter().any(|n| n == PLAIN),
        "the fixture holds both companies: {names:?}"
    );
    let db = env.app.config.db_path();
    let built = tempfile::tempdir().expect("tempdir");
    let fresh = built.path().join(format!("v{SCHEMA_VERSION}.redb"));
    tenantry::store::backup_to(&db, &fresh).expect("backup");
    env.stop().await;
    // The file passes the checks a restore makes (opens, intact, a known schema, every row
    // readable) before it can become a fixture.
    tenantry::store::restore_from(&fresh, &built.path().join("check.redb"))
        .expect("the fixture is a good backup");

    let dest = fixtures_dir().join(format!("v{SCHEMA_VERSION}.redb"));
    if !dest.exists() {
        std::fs::copy(&fresh, &dest).expect("write the new fixture");
        panic!(
            "wrote {} for the new schema version: commit it (git add -f)",
            dest.display()
        );
    }
}
