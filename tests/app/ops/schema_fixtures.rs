//! A database written by each released schema opens and migrates. `tests/fixtures/schema/`
//! holds one small database per schema version (`v<N>.redb`, written by `tenantry backup`'s
//! `backup_to` from a synced company and a plain one). `write_schema_fixture` (ignored; run it
//! by name) writes the current version's file, so the next schema bump is tested against it.
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
        "tests/fixtures/schema has no v{SCHEMA_VERSION}.redb: run `cargo test --test app write_schema_fixture -- --ignored` once"
    );
}

/// Writes `tests/fixtures/schema/v<SCHEMA_VERSION>.redb` (run by hand at each schema bump).
#[tokio::test]
#[ignore]
async fn write_schema_fixture() {
    let env = sync_env().await;
    let t = env.tenant(SYNCED, 8, 3, true);
    let (_, job) = env.connect(SYNCED, &t.id).await;
    assert_eq!(job.state, tenantry::model::JobState::Succeeded, "{job:?}");
    env.company(PLAIN).await;
    let db = env.app.config.db_path();
    let dest = fixtures_dir().join(format!("v{SCHEMA_VERSION}.redb"));
    std::fs::create_dir_all(fixtures_dir()).expect("mkdir");
    let _ = std::fs::remove_file(&dest);
    tenantry::store::backup_to(&db, &dest).expect("backup");
    env.stop().await;
}
