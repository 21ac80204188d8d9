//! `tenantry demo`: the appliance and the Microsoft simulator in one process, with a sample
//! MSP already set up; and opening the store outside the server for admin commands.

use crate::app::{App, AppOptions};
use crate::clock::SystemClock;
use crate::config::{CliOverrides, Config};
use crate::crypto::{SecretBox, random_token};
use crate::domain::{DomainConfig, Services};
use crate::model::{Actor, CompanyInput, JobState, Role, Trigger};
use crate::simulator::{DemoApp, SimOptions, Simulator, seed_demo};
use crate::store::Store;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Services over the store without starting the server (admin CLI). Fails clearly when the
/// service is running, since it holds the database's write lock.
pub async fn offline_services(
    config: &Config,
    credentials_dir: Option<&Path>,
) -> anyhow::Result<Services> {
    let secrets = SecretBox::load_or_create(&config.key_file(credentials_dir))?;
    let db_path = config.db_path();
    let store = tokio::task::spawn_blocking(move || Store::open(&db_path, secrets)).await??;
    Ok(Services::with_microsoft(
        store,
        Arc::new(SystemClock),
        DomainConfig {
            session_hours: config.server.session_hours,
            job_max_attempts: config.jobs.max_attempts,
            job_backoff_seconds: config.jobs.backoff_seconds,
        },
        crate::app::microsoft_setup(config)?,
    ))
}

/// What `demo` prints (and `--json` emits as one line).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoInfo {
    pub url: String,
    pub admin_email: String,
    pub admin_password: String,
    pub api_token: String,
    pub login_url: String,
    pub graph_url: String,
    /// The healthy client's support portal, and one of its users to sign in as.
    pub portal_url: String,
    pub portal_user: String,
    /// What the first sync's Level.io merge made of the healthy client's devices, in words.
    pub level: String,
}

/// A running demo: the appliance and the simulator.
pub struct Demo {
    pub app: App,
    pub sim: Simulator,
    pub info: DemoInfo,
    dir: std::path::PathBuf,
}

impl Demo {
    /// The temporary data directory (database and key), removed by [`Demo::stop`].
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    pub async fn stop(self) {
        self.app.stop().await;
        self.sim.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Create the demo's data directory readable by its owner only: it holds the appliance key
/// and a database of sealed secrets and sessions, and /tmp is shared. `create`, not
/// `create_dir_all`: a directory someone else made at the (random) path first is refused.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Start the simulator and the appliance pointed at it, set up the sample MSP (its own tenant
/// and three clients: healthy, unlicensed, archived — all connected; the simulator also holds
/// the unconnected `woodgrove.example` of the README's walkthrough), sync the two active
/// clients and collect their compliance evidence so the pages are full on first sign-in.
pub async fn start(listen: String) -> anyhow::Result<Demo> {
    let dir = std::env::temp_dir().join(format!("tenantry-demo-{}", random_token(6)));
    create_private_dir(&dir)?;
    let sim = Simulator::start(SimOptions::default()).await?;
    let listener_host = listen.clone();
    let app_reg = DemoApp {
        redirect_uris: vec![
            format!("http://{listener_host}/connect/callback"),
            format!("http://{listener_host}/auth/callback"),
        ],
        ..DemoApp::default()
    };
    let seed = seed_demo(&sim.control(), app_reg.clone());
    let env = std::collections::BTreeMap::from([
        ("TENANTRY_MICROSOFT_LOGIN_URL".to_string(), sim.login_url()),
        ("TENANTRY_MICROSOFT_GRAPH_URL".to_string(), sim.graph_url()),
        (
            "TENANTRY_LEVEL_API_URL".to_string(),
            format!("{}/v2", sim.levelio_url()),
        ),
        (
            "TENANTRY_MICROSOFT_CLIENT_ID".to_string(),
            app_reg.client_id.clone(),
        ),
        (
            "TENANTRY_MICROSOFT_CLIENT_SECRET".to_string(),
            app_reg.client_secret.clone(),
        ),
    ]);
    let loaded = crate::config::load(
        None,
        &env,
        &CliOverrides {
            listen: Some(listen),
            data_dir: Some(dir.display().to_string()),
        },
    )?;
    let email = seed.msp_admin_upn.clone();
    let password = random_token(12);
    let app = App::build(
        loaded.config,
        AppOptions {
            admin_email: Some(email.clone()),
            admin_password: Some(password.clone()),
            ..Default::default()
        },
    )
    .await?;
    let s = app.services.clone();
    let (api_token, _) = s
        .create_api_token(
            crate::domain::authority::AdminActor::system(),
            "demo",
            Role::Admin,
        )
        .await?;
    let actor = Actor::system();
    // The MSP's own tenant: staff "Sign in with Microsoft" works for the demo admin.
    s.connect_msp_tenant(actor.clone(), &seed.msp.id).await?;
    s.update_staff_sso(
        crate::domain::authority::AdminActor::system(),
        crate::domain::sso::StaffSso {
            enabled: true,
            ..Default::default()
        },
    )
    .await?;
    let mut jobs = Vec::new();
    let mut healthy_company = None;
    let mut unlicensed_company = None;
    let tenants = [
        (&seed.healthy, false),
        (&seed.unlicensed, false),
        (&seed.archived, true),
    ];
    let mut companies = Vec::new();
    for (tenant, _) in tenants {
        let company = s
            .create_company(
                actor.clone(),
                CompanyInput::parse(&tenant.name, &tenant.domain, "Sample client (demo)")?,
            )
            .await?;
        companies.push(company.id);
    }
    // Level.io (#12): the demo's key, stored as an admin would in Settings, and each Level
    // client group mapped to the company its name suggests, before the tenants connect, so
    // the first sync of Contoso Dental already merges its Intune and Level devices.
    expire_one_warranty(&sim.control(), &seed.healthy.id, s.now());
    if let Err(e) = connect_demo_level(&s, &seed.levelio_api_key).await {
        tracing::warn!(error = %e, "demo Level.io connection failed");
    }
    for ((tenant, archived), company) in tenants.into_iter().zip(companies) {
        let trigger = (!archived).then_some(Trigger::Consent);
        if let Some(job) = s
            .connect_company_tenant(actor.clone(), company, &tenant.id, trigger)
            .await?
        {
            jobs.push(job.id);
        }
        if archived {
            s.archive_company(actor.clone(), company).await?;
        }
        if tenant.id == seed.healthy.id {
            healthy_company = Some(company);
        }
        if tenant.id == seed.unlicensed.id {
            unlicensed_company = Some(company);
        }
    }
    // Wait (bounded) for the initial syncs so the first page view is full.
    for id in jobs {
        for _ in 0..600 {
            match s.job(id).await {
                Ok(j) if !j.state.is_active() => {
                    if j.state == JobState::Failed {
                        tracing::warn!(job = id, error = ?j.error, "demo sync failed");
                    }
                    break;
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
    // Compliance evidence, collected for real so the Compliance pages are full too.
    if let (Some(h), Some(u)) = (healthy_company, unlicensed_company) {
        let collected = evidence::collect_demo_evidence(
            &s,
            &sim.control(),
            evidence::DemoTenant {
                company_id: h,
                tenant_id: &seed.healthy.id,
            },
            evidence::DemoTenant {
                company_id: u,
                tenant_id: &seed.unlicensed.id,
            },
        )
        .await;
        if let Err(e) = collected {
            tracing::warn!(error = %e, "demo evidence could not be collected");
        }
    }
    // The healthy client's support portal, with Microsoft sign-in for every active contact.
    let mut portal_url = String::new();
    let mut portal_user = String::new();
    if let Some(id) = healthy_company {
        // Any active synced member can sign in; show one so the demo is one click away.
        let q = crate::model::ListQuery::new(Some(1), Some(50), None, None, None);
        portal_user = s
            .contacts(Some(id), q)
            .await?
            .items
            .into_iter()
            .find(|c| c.active && !c.is_guest)
            .map(|c| c.upn)
            .unwrap_or_default();
        let p = s.portal_settings(id).await?;
        let p = s
            .update_portal_settings(
                crate::domain::authority::AdminActor::system(),
                id,
                crate::domain::portal::PortalInput {
                    slug: p.slug,
                    sso_enabled: true,
                    allowed_group_ids: Vec::new(),
                    admin_group_id: None,
                },
            )
            .await?;
        portal_url = format!("{}/portal/{}", app.url, p.slug);
    }
    // What the first sync's Level merge made of Contoso Dental's two estates.
    let mut level = String::new();
    if let Some(id) = healthy_company
        && let Ok(g) = s.asset_gap_counts(id).await
    {
        level = format!(
            "{} merged, {} to review, {} in Level only, {} computers without an agent",
            g.merged, g.review, g.unmanaged, g.no_agent
        );
    }
    let info = DemoInfo {
        level,
        portal_url,
        portal_user,
        url: app.url.clone(),
        admin_email: email,
        admin_password: password,
        api_token,
        login_url: sim.login_url(),
        graph_url: sim.graph_url(),
    };
    Ok(Demo {
        app,
        sim,
        info,
        dir,
    })
}

/// `tenantry demo`: start, print the login, serve until Ctrl-C.
pub async fn run(listen: String, json: bool) -> anyhow::Result<()> {
    let demo = start(listen).await?;
    let i = &demo.info;
    if json {
        println!("{}", serde_json::to_string(i)?);
    } else {
        println!("Tenantry demo is running at {}", i.url);
        println!("  sign in as   {}", i.admin_email);
        println!("  password     {}", i.admin_password);
        println!("  API token    {}", i.api_token);
        println!(
            "  Microsoft simulator: login {}  graph {}",
            i.login_url, i.graph_url
        );
        println!(
            "  staff can also use \"Sign in with Microsoft\" (pick {} in the simulator)",
            i.admin_email
        );
        if !i.portal_url.is_empty() {
            println!(
                "  support portal {}  (sign in as {})",
                i.portal_url, i.portal_user
            );
        }
        if !i.level.is_empty() {
            println!("  Level.io (Contoso Dental): {}", i.level);
        }
        println!(
            "First: PSA → Companies → Contoso Dental → Contacts, Assets and Compliance. Press Ctrl-C to stop."
        );
    }
    // SIGTERM too, so a stopped demo still removes its temporary data directory.
    crate::app::wait_for_signal().await;
    demo.stop().await;
    Ok(())
}

/// The demo's compliance evidence, collected for real at start: Contoso Dental (Entra ID P1
/// and Intune) gets a realistic mix — an MFA policy with exclusions, a report-only policy, an
/// unregistered administrator, some non-compliant devices from the generator — and two
/// collections with a Conditional Access change between them, so its history chart has a line
/// and a drift mark. Fabrikam Bakery (no P1, no Intune, security defaults on) shows what a
/// tenant protected only by security defaults looks like.
mod evidence {
    use crate::domain::Services;
    use crate::model::{Actor, JobState, Trigger};
    use crate::simulator::{Kind, SimControl};
    use serde_json::{Map, Value, json};
    use std::time::Duration;

    /// A company and its simulated tenant.
    pub struct DemoTenant<'a> {
        pub company_id: u64,
        pub tenant_id: &'a str,
    }

    /// Collect `company_id`'s evidence now and wait (bounded) for the job to end.
    async fn collect(s: &Services, company_id: u64) -> anyhow::Result<()> {
        let q = s
            .queue_evidence_collection(Actor::system(), company_id, Trigger::Startup)
            .await?;
        for _ in 0..1200 {
            let j = s.job(q.job.id).await?;
            if !j.state.is_active() {
                if j.state == JobState::Failed {
                    tracing::warn!(job = j.id, error = ?j.error, "demo evidence collection failed");
                }
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tracing::warn!(job = q.job.id, "demo evidence collection still running");
        Ok(())
    }

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    /// The generator's "CA001 - Require MFA for all users", with its conditions.
    fn mfa_policy(ctl: &SimControl, tid: &str) -> anyhow::Result<Option<Map<String, Value>>> {
        Ok(ctl
            .list_objects(tid, Kind::Policy, 0, 50)?
            .into_iter()
            .find(|p| {
                p.get("displayName")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.starts_with("CA001"))
            }))
    }

    /// Add `user_id` to the MFA policy's excluded users (as an admin would for a service account).
    fn exclude_from_mfa(ctl: &SimControl, tid: &str, user_id: &str) -> anyhow::Result<()> {
        let Some(p) = mfa_policy(ctl, tid)? else {
            return Ok(());
        };
        let Some(id) = p.get("id").and_then(Value::as_str).map(str::to_string) else {
            return Ok(());
        };
        let mut conditions = p.get("conditions").cloned().unwrap_or(Value::Null);
        if let Some(list) = conditions
            .pointer_mut("/users/excludeUsers")
            .and_then(Value::as_array_mut)
            && !list.iter().any(|v| v == user_id)
        {
            list.push(Value::from(user_id));
        }
        ctl.update_object(
            tid,
            Kind::Policy,
            &id,
            props(json!({ "conditions": conditions })),
        )?;
        Ok(())
    }

    /// Shape Contoso's tenant, collect, change a policy, collect again; collect Fabrikam once.
    pub async fn collect_demo_evidence(
        s: &Services,
        ctl: &SimControl,
        healthy: DemoTenant<'_>,
        unlicensed: DemoTenant<'_>,
    ) -> anyhow::Result<()> {
        let users = ctl.list_objects(healthy.tenant_id, Kind::User, 0, 10)?;
        let id_of = |i: usize| {
            users
                .get(i)
                .and_then(|u| u.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        // admin@ (a Global Administrator, excluded from the MFA policy as the break-glass
        // account) never registered a strong method: a finding the auditor will ask about.
        if let Some(admin) = id_of(0) {
            ctl.set_registration(
                healthy.tenant_id,
                &admin,
                props(json!({
                    "isMfaRegistered": false,
                    "isMfaCapable": false,
                    "isPasswordlessCapable": false,
                    "methodsRegistered": [],
                })),
            )?;
        }
        collect(s, healthy.company_id).await?;
        collect(s, unlicensed.company_id).await?;
        // Between the two collections someone excludes one more account from the MFA policy:
        // the second snapshot shows it as drift, with the changed field.
        if let Some(user) = id_of(3) {
            exclude_from_mfa(ctl, healthy.tenant_id, &user)?;
        }
        collect(s, healthy.company_id).await?;
        Ok(())
    }
}

/// Give one of Contoso Dental's Level devices that Intune also manages a warranty that ended
/// 40 days ago, so the demo always shows an expired badge on a merged asset (the generator's
/// own expired values may fall on devices without a readable date).
fn expire_one_warranty(
    ctl: &crate::simulator::SimControl,
    tenant_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) {
    use crate::domain::assets::identity::serial_key;
    let level = ctl.level();
    let Some(field) = level.custom_field_id("Warranty Expiry") else {
        return;
    };
    let serials: std::collections::HashSet<String> = ctl
        .list_objects(tenant_id, crate::simulator::Kind::Device, 0, 1000)
        .unwrap_or_default()
        .iter()
        .filter_map(|d| {
            d.get("serialNumber")
                .and_then(|v| v.as_str())
                .and_then(serial_key)
        })
        .collect();
    let target = level.devices().into_iter().find_map(|d| {
        let serial = d
            .get("serial_number")
            .and_then(|v| v.as_str())
            .and_then(serial_key)?;
        let id = d.get("id").and_then(|v| v.as_str())?;
        serials.contains(&serial).then(|| id.to_string())
    });
    if let Some(id) = target {
        let ended = (now - chrono::Duration::days(40))
            .format("%Y-%m-%d")
            .to_string();
        level.set_value(&field, &id, Some(&ended));
    }
}

/// Store the simulator's Level key and map every group whose name matches a company.
async fn connect_demo_level(s: &Services, key: &str) -> anyhow::Result<()> {
    let admin = crate::domain::authority::AdminActor::system;
    s.connect_level(
        admin(),
        crate::domain::levelio::LevelInput {
            api_key: key.to_string(),
            api_url: String::new(),
            // The simulator's warranty field; its values mix formats, read day first.
            warranty_field: "Warranty Expiry".into(),
            day_first: true,
        },
    )
    .await?;
    let tree = s.level_groups().await?;
    for row in tree.rows {
        if let Some(company) = row.suggested_company_id {
            s.map_level_group(admin(), &row.id, Some(company)).await?;
        }
    }
    Ok(())
}
