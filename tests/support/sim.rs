//! One way, for every test binary, to start the Microsoft simulator with a Tenantry app
//! registration in it, and to point an appliance's configuration at it.

use tenantry::config::Config;
use tenantry::simulator::{SimApp, SimControl, SimOptions, Simulator};

/// The app registration a test binary uses (each binary its own, so logs tell them apart).
pub struct TestRegistration<'a> {
    pub client_id: &'a str,
    /// Empty: a certificate-only registration.
    pub secret: &'a str,
    pub redirect_uris: Vec<String>,
    pub name: &'a str,
}

/// A simulator on random loopback ports, seeded with `seed`, with `app` registered.
pub async fn simulator(seed: u64, app: TestRegistration<'_>) -> (Simulator, SimControl) {
    let sim = Simulator::start(SimOptions {
        seed,
        ..Default::default()
    })
    .await
    .expect("simulator starts");
    let ctl = sim.control();
    register(&ctl, app);
    (sim, ctl)
}

/// (Re-)register the app, e.g. once the appliance's URL (for redirect URIs) is known.
pub fn register(ctl: &SimControl, app: TestRegistration<'_>) {
    ctl.register_app(SimApp {
        client_id: app.client_id.into(),
        client_secret: app.secret.into(),
        redirect_uris: app.redirect_uris,
        name: app.name.into(),
        secret_expired: false,
    })
    .expect("app registered");
}

/// Point `c` at the simulator's login and Graph hosts, with this client id and secret.
pub fn use_simulator(c: &mut Config, sim: &Simulator, client_id: &str, secret: &str) {
    c.microsoft.login_url = sim.login_url();
    c.microsoft.graph_url = sim.graph_url();
    c.microsoft.client_id = client_id.into();
    c.microsoft.client_secret = secret.into();
}
