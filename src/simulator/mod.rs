//! Simulator of Microsoft's login host, Microsoft Graph and the Level.io API.
//!
//! WHY a separate module tree that imports nothing from the rest of the crate: the appliance's
//! Graph client and this simulator meet only on the wire, so a misunderstanding of Microsoft's
//! behaviour (docs/microsoft.md) in one is caught by the other instead of being shared.
//!
//! Three HTTP servers run on loopback (ports from [`SimOptions`], 0 = random):
//! * login host — discovery, JWKS, authorize, token, admin consent, and the `/_sim` control API;
//! * Graph host — `{graph_url}/v1.0/...`;
//! * Level.io host — `{levelio_url}/v2/...`.
//!
//! [`SimControl`] is the in-process handle to the same operations as `/_sim`.

mod clock;
pub mod collection;
pub mod control;
mod control_http;
pub mod faults;
pub mod generator;
pub mod graph;
mod keys;
pub mod levelio;
pub mod login;
pub mod state;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use chrono::{TimeZone, Utc};
use serde::{Deserialize, Serialize};

pub use collection::Kind;
pub use control::{CertificateView, SimControl, SimError, TenantInfo, TenantPatch, TenantSpec};
pub use faults::{Fault, FaultKind};
pub use state::{
    App as SimApp, ConsentError, IdTokenFault, LoginSettings, RequestLogEntry, TenantSettings,
};

use state::{Shared, SharedRef, SimState};

/// Where and how to run the simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub listen_ip: IpAddr,
    pub login_port: u16,
    pub graph_port: u16,
    pub levelio_port: u16,
    pub seed: u64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            listen_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            login_port: 0,
            graph_port: 0,
            levelio_port: 0,
            seed: 1,
        }
    }
}

/// Handle to the running simulator servers.
pub struct Simulator {
    control: SimControl,
    login_url: String,
    graph_url: String,
    levelio_url: String,
    handles: Vec<ServerHandle>,
}

fn base_url(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V6(ip) => format!("http://[{ip}]:{}", addr.port()),
        IpAddr::V4(ip) => format!("http://{ip}:{}", addr.port()),
    }
}

impl Simulator {
    /// Binds the three listeners and spawns the servers on the current tokio runtime.
    pub async fn start(opts: SimOptions) -> std::io::Result<Simulator> {
        let l_login = TcpListener::bind((opts.listen_ip, opts.login_port))?;
        let l_graph = TcpListener::bind((opts.listen_ip, opts.graph_port))?;
        let l_level = TcpListener::bind((opts.listen_ip, opts.levelio_port))?;
        let login_url = base_url(l_login.local_addr()?);
        let graph_url = base_url(l_graph.local_addr()?);
        let levelio_url = base_url(l_level.local_addr()?);
        let now = crate::simulator::clock::now();
        // Generated timestamps are relative to the start of today: stable within a day.
        let anchor =
            Utc.from_utc_datetime(&now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default());
        let shared: SharedRef = Arc::new(Shared {
            state: Mutex::new(SimState {
                login_url: login_url.clone(),
                graph_url: graph_url.clone(),
                levelio_url: levelio_url.clone(),
                seed: opts.seed,
                anchor,
                tenants: Default::default(),
                apps: Default::default(),
                app_certificates: Default::default(),
                codes: Default::default(),
                tokens: Default::default(),
                key_index: 0,
                login: Default::default(),
            }),
            keys: keys::KeyRing::load()?,
            level: Default::default(),
        });
        let control = SimControl {
            shared: shared.clone(),
        };

        let (s1, c1) = (shared.clone(), control.clone());
        let login = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(s1.clone()))
                .app_data(web::Data::new(c1.clone()))
                .app_data(web::PayloadConfig::new(1 << 20))
                .configure(control_http::configure)
                .configure(login::configure)
                .default_service(web::to(|| async {
                    HttpResponse::NotFound().body("AADSTS90000: unknown endpoint")
                }))
        })
        .listen(l_login)?
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .run();
        let s2 = shared.clone();
        let graph = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(s2.clone()))
                .wrap(middleware::from_fn(graph::errors::ids_middleware))
                .configure(graph::configure)
                .default_service(web::to(graph::errors::not_found))
        })
        .listen(l_graph)?
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .run();
        let s3 = shared.level.clone();
        let level = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(s3.clone()))
                .configure(levelio::configure)
                .default_service(web::to(|| async {
                    HttpResponse::NotFound().json(serde_json::json!({"error": "Not found"}))
                }))
        })
        .listen(l_level)?
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .run();
        let handles = vec![login.handle(), graph.handle(), level.handle()];
        tokio::spawn(login);
        tokio::spawn(graph);
        tokio::spawn(level);
        Ok(Simulator {
            control,
            login_url,
            graph_url,
            levelio_url,
            handles,
        })
    }

    /// Base URL of the login host (`[microsoft] login_url`).
    pub fn login_url(&self) -> String {
        self.login_url.clone()
    }

    /// Base URL of the Graph host (`[microsoft] graph_url`; requests go to `{graph_url}/v1.0/...`).
    pub fn graph_url(&self) -> String {
        self.graph_url.clone()
    }

    /// Base URL of the Level.io host (requests go to `{levelio_url}/v2/...`).
    pub fn levelio_url(&self) -> String {
        self.levelio_url.clone()
    }

    pub fn control(&self) -> SimControl {
        self.control.clone()
    }

    /// Stops the servers gracefully.
    pub async fn stop(self) {
        for h in self.handles {
            h.stop(true).await;
        }
    }
}

/// The app registration the demo seeds into every tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoApp {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub name: String,
}

impl Default for DemoApp {
    fn default() -> Self {
        DemoApp {
            client_id: "7c1a3f0e-5b2d-4e8a-9c6f-1d2e3f4a5b6c".into(),
            client_secret: "sim-demo-secret-value".into(),
            redirect_uris: vec![
                "http://127.0.0.1:8080/auth/callback".into(),
                "http://127.0.0.1:8080/connect/callback".into(),
                "http://localhost:8080/auth/callback".into(),
                "http://localhost:8080/connect/callback".into(),
            ],
            name: "Tenantry".into(),
        }
    }
}

/// One seeded tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoTenant {
    pub id: String,
    pub name: String,
    pub domain: String,
}

/// What [`seed_demo`] created.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoSeed {
    /// The MSP's own tenant (staff SSO).
    pub msp: DemoTenant,
    /// ~300 users, Intune + P1.
    pub healthy: DemoTenant,
    /// No Intune, no Entra ID P1.
    pub unlicensed: DemoTenant,
    /// Small client the demo marks archived.
    pub archived: DemoTenant,
    /// `woodgrove.example`, consented to nothing: the README's walkthrough creates its company
    /// and connects it with Sync With M365 (admin consent through the simulator).
    pub prospect: DemoTenant,
    /// `admin@<msp domain>`: the user the demo admin signs in as.
    pub msp_admin_upn: String,
    pub client_id: String,
    pub levelio_api_key: String,
}

fn ensure(ctl: &SimControl, spec: TenantSpec) -> DemoTenant {
    let domain = spec.domain.clone().unwrap_or_default();
    let info = ctl
        .create_tenant(spec.clone())
        .or_else(|_| ctl.tenant(&domain));
    match info {
        Ok(t) => DemoTenant {
            id: t.id,
            name: t.name,
            domain: t.domain,
        },
        Err(_) => DemoTenant {
            id: String::new(),
            name: spec.name,
            domain,
        },
    }
}

/// Seeds the sample MSP (idempotent: existing tenants are reused) and consents `app` in all of
/// them but the prospect, which is left for the admin to connect.
pub fn seed_demo(ctl: &SimControl, app: DemoApp) -> DemoSeed {
    let spec = |name: &str, domain: &str, users: usize, devices: usize, lic: bool| TenantSpec {
        name: name.into(),
        domain: Some(domain.into()),
        intune: lic,
        p1: lic,
        users,
        devices,
        ..Default::default()
    };
    let msp = ensure(
        ctl,
        spec("Northwind IT Services", "northwindit.example", 25, 12, true),
    );
    let healthy = ensure(
        ctl,
        spec("Contoso Dental", "contosodental.example", 300, 320, true),
    );
    let unlicensed = ensure(
        ctl,
        spec("Fabrikam Bakery", "fabrikambakery.example", 60, 40, false),
    );
    let archived = ensure(
        ctl,
        spec("Tailspin Toys", "tailspintoys.example", 12, 6, true),
    );
    let prospect = ensure(
        ctl,
        spec("Woodgrove Bank", "woodgrove.example", 36, 24, true),
    );
    let registered = ctl.register_app(SimApp {
        client_id: app.client_id.clone(),
        client_secret: app.client_secret.clone(),
        redirect_uris: app.redirect_uris.clone(),
        name: app.name.clone(),
        secret_expired: false,
    });
    if registered.is_ok() {
        for t in [&msp, &healthy, &unlicensed, &archived] {
            // Cannot fail: the app was just registered and the tenant exists.
            let _ = ctl.grant_consent(&t.id, &app.client_id);
        }
    }
    let key = "sim-level-api-key".to_string();
    ctl.levelio_set_api_key(&key);
    // Sized so that most of Contoso Dental's Windows and Mac computers (about 250 of its 320
    // Intune devices) have an agent too, as at a client the MSP manages with both tools; the
    // generator leaves one in ten without one and adds Level-only servers and workstations.
    ctl.levelio_generate(
        &[
            healthy.name.clone(),
            unlicensed.name.clone(),
            archived.name.clone(),
        ],
        260,
    );
    DemoSeed {
        msp_admin_upn: format!("admin@{}", msp.domain),
        msp,
        healthy,
        unlicensed,
        archived,
        prospect,
        client_id: app.client_id,
        levelio_api_key: key,
    }
}

/// `tenantry sim`: starts the simulator with the demo data, prints the URLs, runs until Ctrl-C.
pub async fn run_cli(opts: SimOptions) -> anyhow::Result<()> {
    let sim = Simulator::start(opts).await?;
    let app = DemoApp::default();
    let seed = seed_demo(&sim.control(), app.clone());
    println!("Tenantry Microsoft simulator");
    println!("  login_url   {}", sim.login_url());
    println!("  graph_url   {}", sim.graph_url());
    println!(
        "  levelio_url {}/v2  (Authorization: {})",
        sim.levelio_url(),
        seed.levelio_api_key
    );
    println!("  control API {}/_sim/tenants", sim.login_url());
    println!(
        "  app         client_id={} client_secret={}",
        app.client_id, app.client_secret
    );
    println!(
        "              redirect_uris={}",
        app.redirect_uris.join(" ")
    );
    for (role, t) in [
        ("msp", &seed.msp),
        ("healthy", &seed.healthy),
        ("unlicensed", &seed.unlicensed),
        ("archived", &seed.archived),
        ("prospect", &seed.prospect),
    ] {
        println!("  tenant {role:<10} {} {} ({})", t.id, t.domain, t.name);
    }
    println!("  MSP admin   {}", seed.msp_admin_upn);
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    sim.stop().await;
    Ok(())
}
