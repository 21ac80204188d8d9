//! The demo seed and the loopback-only control API.

use std::net::{IpAddr, UdpSocket};

use reqwest::StatusCode;
use serde_json::Value;
use tenantry::simulator::{DemoApp, SimOptions, Simulator, seed_demo};

use crate::common::*;

#[tokio::test]
async fn seed_demo_builds_the_sample_msp() {
    let sim = Simulator::start(SimOptions::default())
        .await
        .expect("start");
    let ctl = sim.control();
    let app = DemoApp::default();
    let seed = seed_demo(&ctl, app.clone());
    // Idempotent.
    let again = seed_demo(&ctl, app.clone());
    assert_eq!(seed.healthy.id, again.healthy.id);
    assert_eq!(ctl.tenants().len(), 5);
    assert_eq!(seed.msp_admin_upn, format!("admin@{}", seed.msp.domain));
    let healthy = ctl.tenant(&seed.healthy.id).expect("healthy");
    assert!(healthy.intune && healthy.p1 && healthy.users >= 300);
    let unlicensed = ctl.tenant(&seed.unlicensed.id).expect("unlicensed");
    assert!(!unlicensed.intune && !unlicensed.p1);
    let http = client();
    for t in [&seed.msp, &seed.healthy, &seed.unlicensed, &seed.archived] {
        let r = http
            .post(format!("{}/{}/oauth2/v2.0/token", sim.login_url(), t.id))
            .form(&[
                ("client_id", app.client_id.as_str()),
                ("client_secret", app.client_secret.as_str()),
                ("grant_type", "client_credentials"),
                ("scope", GRAPH_SCOPE),
            ])
            .send()
            .await
            .expect("token");
        assert_eq!(r.status(), StatusCode::OK, "{} is consented", t.name);
        let tok: Value = r.json().await.expect("json");
        let org: Value = http
            .get(format!("{}/v1.0/organization", sim.graph_url()))
            .bearer_auth(tok["access_token"].as_str().expect("at"))
            .send()
            .await
            .expect("org")
            .json()
            .await
            .expect("json");
        assert_eq!(org["value"][0]["id"], t.id.as_str());
        assert_eq!(org["value"][0]["displayName"], t.name.as_str());
    }
    // The README's walkthrough tenant waits for its admin consent.
    let prospect = ctl.tenant(&seed.prospect.id).expect("prospect");
    assert_eq!(prospect.domain, "woodgrove.example");
    assert!(prospect.intune && prospect.p1 && prospect.users >= 24);
    assert!(prospect.consents.is_empty(), "not consented yet");
    // The MSP admin can sign in.
    let admin = ctl
        .list_objects(&seed.msp.id, tenantry::simulator::Kind::User, 0, 1)
        .expect("users");
    assert_eq!(admin[0]["userPrincipalName"], seed.msp_admin_upn.as_str());
    let level = ctl.levelio_summary();
    // Three Level clients of 260 devices each (sized for Contoso Dental's computers).
    assert_eq!(level["devices"], 780);
    sim.stop().await;
}

/// A local non-loopback address, if the machine has one (no packet is sent).
fn local_ip() -> Option<IpAddr> {
    let s = UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.254:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn control_api_refuses_non_loopback_peers() {
    let Some(ip) = local_ip() else {
        eprintln!("no non-loopback interface on this machine; nothing to check");
        return;
    };
    let sim = Simulator::start(SimOptions {
        listen_ip: ip,
        ..Default::default()
    })
    .await
    .expect("start");
    assert!(sim.login_url().contains(&ip.to_string()));
    let r = client()
        .get(format!("{}/_sim/tenants", sim.login_url()))
        .send()
        .await
        .expect("control");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The public endpoints still answer.
    let r = client()
        .get(format!(
            "{}/organizations/v2.0/.well-known/openid-configuration",
            sim.login_url()
        ))
        .send()
        .await
        .expect("disc");
    assert_eq!(r.status(), StatusCode::OK);
    sim.stop().await;
}
