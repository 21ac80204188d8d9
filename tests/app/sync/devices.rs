//! The Intune sweep page by page: a listing spread over several pages retires exactly the
//! devices missing from it, and a listing cut short by a failed page retires nothing.

use super::*;

/// Three pages of Intune devices (the simulator lists 1,000 per page).
const DEVICES: usize = 2_100;

fn sample_devices(env: &SyncEnv, tid: &str, skips: &[u64]) -> Vec<String> {
    skips
        .iter()
        .map(|skip| {
            env.ctl
                .list_objects(tid, Kind::Device, *skip, 1)
                .expect("list")[0]["id"]
                .as_str()
                .expect("id")
                .to_string()
        })
        .collect()
}

fn active_devices(snap: &crate::sync_helpers::Snapshot) -> BTreeSet<String> {
    snap.assets
        .iter()
        .filter(|a| a.active)
        .filter_map(|a| intune_id(a).map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paged_listing_retires_exactly_the_missing_devices_and_a_failed_page_retires_none() {
    let env = sync_env().await;
    let t = env.tenant("Paged Devices", 20, DEVICES, true);
    let tid = t.id.clone();
    let (company, job) = env.connect("Paged Devices", &tid).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job_counts(&job, "assets"), (DEVICES as u64, 0, 0));
    let listed = env.counts(&tid);
    assert_eq!(
        listed["deviceManagement/managedDevices?skiptoken"], 2,
        "three pages: {listed:?}"
    );
    let snap = env.snapshot(company).await;
    assert_eq!(active_devices(&snap).len(), DEVICES);

    // Devices leave Intune from the first, second and third page; one more is edited.
    let gone = sample_devices(&env, &tid, &[10, 1_500, 2_050]);
    let edited = sample_devices(&env, &tid, &[700])[0].clone();
    for id in &gone {
        env.ctl
            .delete_object(&tid, Kind::Device, id, true)
            .expect("device removed");
    }
    env.ctl
        .update_object(
            &tid,
            Kind::Device,
            &edited,
            json!({"complianceState": "noncompliant", "osVersion": "10.0.99999"})
                .as_object()
                .expect("object")
                .clone(),
        )
        .expect("device edited");

    // The second page of the listing fails (every retry too): the listing is incomplete.
    env.ctl
        .set_faults(
            &tid,
            vec![Fault {
                kind: FaultKind::Error {
                    status: 403,
                    code: "UnknownError".into(),
                    message: "{\"ErrorCode\":\"Forbidden\"}".into(),
                    retry_after: None,
                },
                endpoint: Some("deviceManagement/managedDevices".into()),
                nth: 2,
                times: 0,
                seen: 0,
            }],
        )
        .expect("fault set");
    let cut = env.sync(company).await;
    assert_eq!(cut.state, JobState::Succeeded, "{:?}", cut.error);
    let report = env
        .services()
        .sync_report(company)
        .await
        .expect("report")
        .expect("a report");
    assert!(report.devices_error.is_some(), "{report:?}");
    let snap = env.snapshot(company).await;
    assert_eq!(
        active_devices(&snap).len(),
        DEVICES,
        "a device missing from an incomplete listing may be on the page that failed"
    );
    let a = snap.asset(&edited);
    assert_eq!(
        a.compliance_state, "noncompliant",
        "the page read before the failure is applied"
    );

    // A complete listing retires exactly the three, and applies the edit.
    env.ctl.set_faults(&tid, vec![]).expect("faults cleared");
    let full = env.sync(company).await;
    assert_eq!(full.state, JobState::Succeeded, "{:?}", full.error);
    assert_eq!(job_counts(&full, "assets"), (0, 0, 3));
    let snap = env.snapshot(company).await;
    let active = active_devices(&snap);
    assert_eq!(active.len(), DEVICES - 3);
    for id in &gone {
        assert!(!active.contains(id), "{id} retired");
        assert!(!snap.asset(id).active, "kept, inactive");
    }
    let a = snap.asset(&edited);
    assert_eq!(
        (a.compliance_state.as_str(), a.os_version.as_str()),
        ("noncompliant", "10.0.99999")
    );

    // Nothing changed: nothing is written, nothing retired again.
    let quiet = env.sync(company).await;
    assert_eq!(job_counts(&quiet, "assets"), (0, 0, 0));
    env.stop().await;
}
