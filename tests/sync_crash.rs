//! Kill the appliance (SIGKILL, no chance to clean up) in the middle of the initial identity
//! sync of a 20,000-user tenant, start it again, and check that the job finishes and the
//! result equals a clean sync of the same data in a fresh data directory: same contacts by
//! Entra object id with identical fields, same groups, memberships and assets, no duplicates,
//! nothing lost; and that the list indexes agree with the records at every step
//! (`verify_indexes`), the kill included. A second test kills it while it builds the lists of
//! the first sync (written at the end of the users round, `store/index/bulk.rs`): the next
//! start builds them, and the result equals a clean sync too.
//!
//! The simulator runs in this test process; the appliance runs as the real `tenantry serve`
//! binary in a child process, configured through `TENANTRY_*` like an installation.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use tenantry::config::{CliOverrides, Config};
use tenantry::model::{Actor, CompanyInput, Role, SyncState, Trigger};
use tenantry::model::{AssetSort, ContactSort};
use tenantry::simulator::{
    Fault, FaultKind, Kind, SimApp, SimControl, SimOptions, Simulator, TenantSpec,
};
use tenantry::store::{StoreError, Window};

const CLIENT_ID: &str = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
const SECRET: &str = "crash-test-secret-value";
const USERS: usize = 20_000;
const DEVICES: usize = 1_500;

fn env_for(dir: &std::path::Path, sim: &Simulator) -> BTreeMap<String, String> {
    [
        ("TENANTRY_SERVER_DATA_DIR", dir.display().to_string()),
        ("TENANTRY_SERVER_LISTEN", "127.0.0.1:0".into()),
        ("TENANTRY_SERVER_LOG_FORMAT", "json".into()),
        ("TENANTRY_SERVER_LOG_LEVEL", "info".into()),
        ("TENANTRY_MICROSOFT_LOGIN_URL", sim.login_url()),
        ("TENANTRY_MICROSOFT_GRAPH_URL", sim.graph_url()),
        ("TENANTRY_MICROSOFT_CLIENT_ID", CLIENT_ID.into()),
        ("TENANTRY_MICROSOFT_CLIENT_SECRET", SECRET.into()),
        // Never during a test: only the jobs this test queues run.
        ("TENANTRY_SCHEDULE_IDENTITY", "0 0 0 1 1 *".into()),
        ("TENANTRY_SCHEDULE_EVIDENCE", "0 0 0 1 1 *".into()),
        ("TENANTRY_JOBS_BACKOFF_SECONDS", "1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn config(env: &BTreeMap<String, String>) -> Config {
    tenantry::config::load(None, env, &CliOverrides::default())
        .expect("config")
        .config
}

/// Offline (service stopped): create the company, connect the tenant (verified with
/// /organization; queues the initial sync) and an admin API token. Returns (company, job, token).
async fn prepare(env: &BTreeMap<String, String>, tid: &str) -> (u64, u64, String) {
    let s = tenantry::demo::offline_services(&config(env), None)
        .await
        .expect("offline services");
    let company = s
        .create_company(
            Actor::system(),
            CompanyInput::parse("Crash Test Corp", "crashtest.example", "").expect("input"),
        )
        .await
        .expect("company")
        .id;
    let job = s
        .connect_company_tenant(Actor::system(), company, tid, Some(Trigger::Consent))
        .await
        .expect("connect")
        .expect("initial sync queued");
    let (token, _) = s
        .create_api_token(
            tenantry::domain::authority::AdminActor::system(),
            "crash-test",
            Role::Admin,
        )
        .await
        .expect("token");
    (company, job.id, token)
}

/// A running `tenantry serve`.
struct Serve {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    fn start(env: &BTreeMap<String, String>) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tenantry"))
            .arg("serve")
            .env_remove("TENANTRY_CONFIG")
            .env_remove("TENANTRY_LOG")
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tenantry serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            // Keep draining so the child never blocks on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && v["fields"]["message"] == "Tenantry is listening"
                    && let Some(url) = v["fields"]["url"].as_str()
                {
                    let _ = tx.send(url.to_string());
                }
                lines.lock().expect("log").push(line);
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "serve did not start:\n{}",
                    log.lock().expect("log").join("\n")
                );
            }
        };
        Serve { child, url, log }
    }

    /// SIGKILL: no graceful shutdown, no requeue, whatever was in flight is lost.
    fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reaped");
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }
}

async fn job(http: &reqwest::Client, serve: &Serve, token: &str, id: u64) -> Value {
    let r = http
        .get(format!("{}/api/v1/jobs/{id}", serve.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET job");
    assert_eq!(r.status(), 200);
    r.json().await.expect("job json")
}

/// "users: page N applied (...)" → N
fn users_pages(progress: &str) -> u64 {
    progress
        .strip_prefix("users: page ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn wait_succeeded(http: &reqwest::Client, serve: &Serve, token: &str, id: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let j = job(http, serve, token, id).await;
        match j["state"].as_str() {
            Some("succeeded") => return j,
            Some("failed") => panic!("job failed: {j}\n{}", serve.log()),
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "job {id} did not finish: {j}\n{}",
            serve.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a company's directory holds, keyed by Microsoft ids (local ids may differ between
/// two data directories).
#[derive(Debug, PartialEq)]
struct Keyed {
    contacts: BTreeMap<String, Value>,
    groups: BTreeMap<String, Value>,
    memberships: BTreeSet<(String, String)>,
    assets: BTreeMap<String, Value>,
    users_state: SyncState,
}

async fn keyed(env: &BTreeMap<String, String>, company: u64) -> Keyed {
    let s = tenantry::demo::offline_services(&config(env), None)
        .await
        .expect("open the store");
    let (contacts, groups, memberships, assets, state, check, listed) = s
        .store_handle()
        .read(move |r| {
            let first = Window {
                desc: false,
                search: None,
                after: None,
                offset: 0,
                limit: 1,
            };
            Ok::<_, StoreError>((
                r.contacts_of(company)?,
                r.groups_of(company)?,
                r.memberships_of(company)?,
                r.assets_of(company)?,
                r.sync_state(company, "users")?.unwrap_or_default(),
                r.verify_indexes()?,
                (
                    r.contact_page(Some(company), ContactSort::Name, first)?
                        .total,
                    r.asset_page(Some(company), AssetSort::Hostname, first)?
                        .total,
                ),
            ))
        })
        .await
        .expect("read");
    // The list indexes commit with the records they index, so a kill leaves them agreeing.
    assert!(
        check.is_ok(),
        "indexes agree with the records: {:#?}",
        check.problems
    );
    assert_eq!(
        listed,
        (contacts.len(), assets.len()),
        "list totals (counters) equal the records"
    );
    // The jobs' counters and the audit log's outcome index and day counters (#11) too: the
    // killed sync's job was running and its audit entries were being written.
    let logs = s.store_handle().verify_indexes().expect("verify");
    assert!(
        logs.is_ok(),
        "job and audit counters agree: {:#?}",
        logs.problems
    );
    let oid_of: HashMap<u64, String> = contacts
        .iter()
        .map(|c| (c.id, c.entra_object_id.clone().expect("synced")))
        .collect();
    let group_oid: HashMap<u64, String> = groups
        .iter()
        .map(|g| (g.id, g.entra_object_id.clone().expect("synced")))
        .collect();
    let mut out = Keyed {
        contacts: BTreeMap::new(),
        groups: BTreeMap::new(),
        memberships: BTreeSet::new(),
        assets: BTreeMap::new(),
        users_state: state,
    };
    for c in &contacts {
        let v = serde_json::json!([
            c.display_name,
            c.email,
            c.department,
            c.job_title,
            c.upn,
            c.account_enabled,
            c.active,
            c.is_guest
        ]);
        let dup = out.contacts.insert(oid_of[&c.id].clone(), v);
        assert!(dup.is_none(), "duplicate contact {}", oid_of[&c.id]);
    }
    assert_eq!(out.contacts.len(), contacts.len());
    for g in &groups {
        let v = serde_json::json!([
            g.display_name,
            g.description,
            g.mail_enabled,
            g.active,
            g.member_count
        ]);
        let dup = out.groups.insert(group_oid[&g.id].clone(), v);
        assert!(dup.is_none(), "duplicate group {}", group_oid[&g.id]);
    }
    for m in &memberships {
        let new = out.memberships.insert((
            group_oid[&m.group_id].clone(),
            oid_of[&m.contact_id].clone(),
        ));
        assert!(new, "duplicate membership");
    }
    for a in &assets {
        let id = a
            .sources
            .iter()
            .find(|s| s.source == "intune")
            .expect("intune")
            .external_id
            .clone();
        let primary = a.primary_user_contact_id.map(|c| oid_of[&c].clone());
        let v = serde_json::json!([
            a.hostname,
            a.os,
            a.os_version,
            a.serial_number,
            a.compliance_state,
            a.last_check_in,
            primary,
            a.active
        ]);
        let dup = out.assets.insert(id.clone(), v);
        assert!(dup.is_none(), "duplicate asset {id}");
    }
    out
}

fn sim_user_ids(ctl: &SimControl, tid: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut skip = 0;
    loop {
        let page = ctl.list_objects(tid, Kind::User, skip, 1000).expect("list");
        if page.is_empty() {
            return out;
        }
        skip += page.len() as u64;
        out.extend(
            page.iter()
                .map(|u| u["id"].as_str().expect("id").to_string()),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_mid_sync_then_restarted_equals_a_clean_sync() {
    let sim = Simulator::start(SimOptions {
        seed: 5,
        ..Default::default()
    })
    .await
    .expect("simulator");
    let ctl = sim.control();
    ctl.register_app(SimApp {
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        redirect_uris: vec!["http://127.0.0.1:9/connect/callback".into()],
        name: "Tenantry crash test".into(),
        secret_expired: false,
    })
    .expect("app");
    let t = ctl
        .create_tenant(TenantSpec {
            name: "Crash Test Corp".into(),
            users: USERS,
            devices: DEVICES,
            intune: true,
            p1: true,
            ..Default::default()
        })
        .expect("tenant");
    let tid = t.id.clone();
    ctl.grant_consent(&tid, CLIENT_ID).expect("consent");
    // Pace users/delta a little so the kill lands mid-round on any machine.
    ctl.set_faults(
        &tid,
        vec![Fault {
            kind: FaultKind::Slow { delay_ms: 40 },
            endpoint: Some("users/delta".into()),
            nth: 1,
            times: 0,
            seen: 0,
        }],
    )
    .expect("slow");
    let http = reqwest::Client::new();

    // First life: killed mid-way through the users round.
    let crashed_dir = tempfile::tempdir().expect("tempdir");
    let crashed = env_for(crashed_dir.path(), &sim);
    let (company, job_id, token) = prepare(&crashed, &tid).await;
    let serve = Serve::start(&crashed);
    let deadline = Instant::now() + Duration::from_secs(300);
    let pages_at_kill = loop {
        let j = job(&http, &serve, &token, job_id).await;
        let pages = users_pages(j["progress"].as_str().unwrap_or_default());
        if j["state"] == "running" && pages >= 25 {
            break pages;
        }
        assert_ne!(j["state"], "succeeded", "the sync ended before the kill");
        assert!(
            Instant::now() < deadline,
            "no progress: {j}\n{}",
            serve.log()
        );
        tokio::time::sleep(Duration::from_millis(15)).await;
    };
    serve.kill();
    let at_kill = keyed(&crashed, company).await;
    let stored = at_kill.contacts.len();
    assert!(
        stored >= pages_at_kill as usize * 100 && stored < USERS,
        "killed mid-way: {stored} contacts stored after {pages_at_kill} pages reported"
    );
    assert_eq!(
        stored % 100,
        0,
        "whole pages only: a page and its delta state commit together"
    );
    assert!(
        at_kill.users_state.next_link.is_some(),
        "the resume point was saved with the last page"
    );
    assert!(at_kill.groups.is_empty() && at_kill.assets.is_empty());
    eprintln!("killed after {pages_at_kill} users pages reported; {stored} contacts stored");
    let full_starts = ctl.request_counts(&tid).expect("counts")["users/delta"];
    assert_eq!(full_starts, 1);

    // Second life: the interrupted job is requeued and resumes from the saved page.
    ctl.set_faults(&tid, vec![]).expect("faults cleared");
    let serve = Serve::start(&crashed);
    let done = wait_succeeded(&http, &serve, &token, job_id).await;
    assert_eq!(done["counts"]["contacts_deactivated"], 0);
    // The resumed round reports its whole effect, not just the pages after the restart.
    assert_eq!(done["counts"]["contacts_created"], 20_000, "{done}");
    let n = ctl.request_counts(&tid).expect("counts");
    assert_eq!(
        n["users/delta"], 1,
        "resumed from the stored next link, no new full round: {n:?}"
    );
    let pages = (USERS as u64).div_ceil(100);
    // Pages are committed in batches, one batch being written while the next is read: the
    // pages read but not committed at the kill are read again, at most two batches (and
    // nothing is skipped or applied twice: the counts above are exact).
    let batch = tenantry::domain::sync::batch::USERS_PAGES_PER_COMMIT as u64;
    assert!(
        (pages - 1..=pages - 1 + 2 * batch).contains(&n["users/delta?skiptoken"]),
        "every page fetched once, plus at most two uncommitted batches at the kill: {n:?}"
    );
    eprintln!("after restart: {done}; Graph requests {n:?}");
    serve.kill();
    let resumed = keyed(&crashed, company).await;

    // A clean sync of the same data in a fresh data directory.
    let clean_dir = tempfile::tempdir().expect("tempdir");
    let clean = env_for(clean_dir.path(), &sim);
    let (clean_company, clean_job, clean_token) = prepare(&clean, &tid).await;
    let serve = Serve::start(&clean);
    wait_succeeded(&http, &serve, &clean_token, clean_job).await;
    serve.kill();
    let reference = keyed(&clean, clean_company).await;

    assert_eq!(resumed.contacts.len(), USERS, "nothing lost");
    let want: BTreeSet<String> = sim_user_ids(&ctl, &tid);
    assert_eq!(
        resumed.contacts.keys().cloned().collect::<BTreeSet<_>>(),
        want,
        "one contact per Entra user"
    );
    assert_eq!(resumed.assets.len(), DEVICES);
    assert!(!resumed.memberships.is_empty());
    for (oid, v) in &reference.contacts {
        assert_eq!(resumed.contacts.get(oid), Some(v), "contact {oid}");
    }
    assert_eq!(resumed.contacts, reference.contacts);
    assert_eq!(resumed.groups, reference.groups);
    assert_eq!(resumed.memberships, reference.memberships);
    assert_eq!(resumed.assets, reference.assets);
    sim.stop().await;
}

/// Wait until the appliance's log has a line containing `text`; returns false at the deadline.
async fn wait_for_log(serve: &Serve, text: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if serve
            .log
            .lock()
            .expect("log")
            .iter()
            .any(|l| l.contains(text))
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_while_building_the_first_syncs_lists_then_restarted_equals_a_clean_sync() {
    let sim = Simulator::start(SimOptions {
        seed: 7,
        ..Default::default()
    })
    .await
    .expect("simulator");
    let ctl = sim.control();
    ctl.register_app(SimApp {
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        redirect_uris: vec!["http://127.0.0.1:9/connect/callback".into()],
        name: "Tenantry crash test".into(),
        secret_expired: false,
    })
    .expect("app");
    let t = ctl
        .create_tenant(TenantSpec {
            name: "Build Crash Corp".into(),
            users: USERS,
            devices: DEVICES,
            intune: true,
            p1: true,
            ..Default::default()
        })
        .expect("tenant");
    let tid = t.id.clone();
    ctl.grant_consent(&tid, CLIENT_ID).expect("consent");
    let http = reqwest::Client::new();

    // First life: killed once the users round's last batch starts building the lists (the
    // build and the batch commit together, so the kill loses both).
    let crashed_dir = tempfile::tempdir().expect("tempdir");
    let crashed = env_for(crashed_dir.path(), &sim);
    let (company, job_id, token) = prepare(&crashed, &tid).await;
    let serve = Serve::start(&crashed);
    let building = wait_for_log(
        &serve,
        "building the lists of a first sync",
        Duration::from_secs(600),
    )
    .await;
    assert!(building, "the first sync built no lists:\n{}", serve.log());
    assert!(
        !serve.log().contains("the database was not closed cleanly"),
        "the setup closed the database, so the first start repairs nothing:\n{}",
        serve.log()
    );
    serve.kill();

    // Second life: the mark survived the kill, so the start builds the lists the batches
    // committed so far left, then the job resumes and the rest follows the ordinary upkeep.
    let serve = Serve::start(&crashed);
    assert!(
        serve.log().contains("the database was not closed cleanly"),
        "a start after a kill says it repairs the database:\n{}",
        serve.log()
    );
    assert!(
        serve
            .log()
            .contains("building the lists a sync left unbuilt"),
        "the kill landed mid-build, so the start builds the lists:\n{}",
        serve.log()
    );
    let done = wait_succeeded(&http, &serve, &token, job_id).await;
    assert_eq!(done["counts"]["contacts_created"], USERS as u64, "{done}");
    serve.kill();
    let resumed = keyed(&crashed, company).await;

    let clean_dir = tempfile::tempdir().expect("tempdir");
    let clean = env_for(clean_dir.path(), &sim);
    let (clean_company, clean_job, clean_token) = prepare(&clean, &tid).await;
    let serve = Serve::start(&clean);
    wait_succeeded(&http, &serve, &clean_token, clean_job).await;
    serve.kill();
    let reference = keyed(&clean, clean_company).await;

    assert_eq!(resumed.contacts.len(), USERS, "nothing lost");
    assert_eq!(resumed.contacts, reference.contacts);
    assert_eq!(resumed.groups, reference.groups);
    assert_eq!(resumed.memberships, reference.memberships);
    assert_eq!(resumed.assets, reference.assets);
    sim.stop().await;
}
