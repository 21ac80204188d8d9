//! `tenantry demo` starts with compliance evidence collected for real: Contoso Dental's mix
//! (MFA policy exclusions, an unregistered administrator, non-compliant devices, a report-only
//! policy) over two snapshots with drift between them, and Fabrikam Bakery protected only by
//! security defaults.

use tenantry::model::{ControlResult, ControlStatus, ListQuery};

fn control<'a>(controls: &'a [ControlResult], id: &str) -> &'a ControlResult {
    controls
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("control {id}"))
}

fn fact_texts(c: &ControlResult) -> Vec<String> {
    c.facts
        .iter()
        .flat_map(|f| {
            f.items
                .iter()
                .map(move |i| format!("{}: {}", f.label, i.text))
        })
        .collect()
}

#[tokio::test]
async fn the_demo_starts_with_evidence_worth_showing() {
    let listen = format!(
        "127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port")
    );
    let demo = tenantry::demo::start(listen).await.expect("demo starts");
    let s = demo.app.services.clone();
    let companies = s
        .companies(
            tenantry::domain::companies::CompanyFilter::Active,
            ListQuery::new(None, Some(100), None, None, None),
        )
        .await
        .expect("companies")
        .items;
    let id = |name: &str| {
        companies
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name}"))
            .id
    };
    let (contoso, fabrikam) = (id("Contoso Dental"), id("Fabrikam Bakery"));
    let all = ListQuery::new(None, None, None, None, None);

    // Contoso: two real collections, so the chart has a line and the second shows drift.
    let snaps = s
        .evidence_snapshots(contoso, all.clone())
        .await
        .expect("snapshots");
    assert_eq!(snaps.total, 2, "two collections");
    assert!(snaps.items[0].drift, "the newest snapshot drifted");
    let history = s.compliance_history(contoso, 10).await.expect("history");
    assert_eq!(history.len(), 2);
    let a = s
        .compliance(contoso, None)
        .await
        .expect("assessment")
        .expect("collected");
    let mfa = control(&a.controls, "mfa_all_users");
    let excluded: Vec<String> = fact_texts(mfa)
        .into_iter()
        .filter(|t| t.to_lowercase().contains("exclu"))
        .collect();
    assert!(excluded.len() >= 2, "a couple of exclusions: {excluded:?}");
    let admins = control(&a.controls, "admins_mfa_registered");
    assert_eq!(admins.status, ControlStatus::Fail, "{}", admins.summary);
    assert!(
        fact_texts(admins)
            .iter()
            .any(|t| t.contains("admin@contosodental.example")),
        "the unregistered admin is named: {:?}",
        fact_texts(admins)
    );
    let devices = control(&a.controls, "device_compliance");
    assert!(
        devices
            .facts
            .iter()
            .any(|f| !f.items.is_empty() && f.items.iter().all(|i| i.asset_id.is_some())),
        "non-compliant devices listed with their assets: {:?}",
        fact_texts(devices)
    );
    let legacy = control(&a.controls, "legacy_auth_blocked");
    assert_ne!(
        legacy.status,
        ControlStatus::Pass,
        "the blocking policy is report-only"
    );
    let drift = control(&a.controls, "policy_drift");
    assert!(
        fact_texts(drift).iter().any(|t| t.contains("CA001")),
        "the MFA policy change is drift: {:?}",
        fact_texts(drift)
    );

    // Fabrikam: no P1, no Intune, security defaults on.
    let f = s
        .compliance(fabrikam, None)
        .await
        .expect("assessment")
        .expect("collected");
    assert_eq!(f.security_defaults, Some(true));
    assert_eq!(
        control(&f.controls, "mfa_all_users").status,
        ControlStatus::Pass
    );
    for id in [
        "device_compliance",
        "device_encryption",
        "compliance_policy_per_platform",
    ] {
        assert_eq!(
            control(&f.controls, id).status,
            ControlStatus::NotLicensed,
            "{id} without Intune"
        );
    }
    demo.stop().await;
}
