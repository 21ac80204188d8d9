use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_equals_the_simulator_field_by_field() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Initial", 300, 120, true);
    let (company, job) = env.connect("Contoso Initial", &t.id).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);

    let truth = truth(&env.ctl, &t.id);
    let snap = env.snapshot(company).await;
    assert_eq!(truth.users.len(), 300);
    assert_eq!(snap.contacts.len(), 300);
    assert_eq!(snap.assets.len(), 120);
    assert_matches(&snap, &truth, true);

    // The sample covers the cases that need care, so the comparison above proves them.
    let c = &snap.contacts;
    assert!(
        c.iter().any(|c| c.is_guest && c.upn.contains("#EXT#")),
        "guests"
    );
    assert!(
        c.iter().any(|c| !c.account_enabled && !c.active),
        "disabled accounts are inactive contacts"
    );
    let no_mail = truth
        .users
        .values()
        .find(|u| u["mail"].is_null())
        .expect("a user without mailbox");
    assert_eq!(
        snap.contact(&s(no_mail, "id")).email,
        s(no_mail, "userPrincipalName"),
        "e-mail falls back to the UPN"
    );
    assert!(c.iter().any(|c| c.department.is_empty()) && c.iter().any(|c| c.job_title.is_empty()));
    let all_staff = snap
        .groups
        .iter()
        .find(|g| g.display_name == "All Staff")
        .expect("All Staff");
    assert_eq!(
        all_staff.member_count, 300,
        "members@delta slices over pages merged"
    );
    assert!(
        truth
            .groups
            .values()
            .any(|(_, m)| m.iter().any(|(t, _)| t == "#microsoft.graph.group")),
        "nested groups exist and are not contacts"
    );
    assert!(
        snap.assets
            .iter()
            .all(|a| a.primary_user_contact_id.is_some())
    );
    assert!(
        snap.assets
            .iter()
            .map(|a| a.compliance_state.as_str())
            .collect::<BTreeSet<_>>()
            .len()
            >= 5,
        "compliance states vary"
    );

    // Job and audit tell the same counts; the trigger was the consent.
    assert_eq!(job_counts(&job, "contacts"), (300, 0, 0));
    assert_eq!(
        job_counts(&job, "groups"),
        (truth.groups.len() as u64, 0, 0)
    );
    assert_eq!(job_counts(&job, "assets"), (120, 0, 0));
    let runs = env.audit(company, "sync.identity").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, Outcome::Success);
    assert_eq!(runs[0].details["trigger"], "consent");
    assert_eq!(runs[0].details["counts"], json!(job.counts));
    assert!(
        runs[0].summary.contains("contacts: 300 added"),
        "{}",
        runs[0].summary
    );
    assert_eq!(env.audit(company, "tenant.connect").await.len(), 1);

    // A full first round: one start page per collection, then next links; no delta yet.
    let n = env.counts(&t.id);
    assert_eq!(count(&n, "users/delta"), 1, "{n:?}");
    assert_eq!(count(&n, "users/delta?skiptoken"), 2, "{n:?}");
    assert_eq!(count(&n, "groups/delta"), 1, "{n:?}");
    assert_eq!(count(&n, "users/delta?deltatoken"), 0, "{n:?}");
    assert_eq!(count(&n, "deviceManagement/managedDevices"), 1, "{n:?}");
    let state = env
        .services()
        .store_handle()
        .read(move |r| r.sync_state(company, "users"))
        .await
        .expect("state")
        .expect("users state saved");
    assert!(state.delta_link.is_some() && state.next_link.is_none() && state.full);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_objects_and_empty_pages_in_a_round_change_nothing() {
    let env = sync_env().await;
    let t = env.tenant("Replays Ltd", 230, 10, true);
    env.ctl
        .update_tenant(
            &t.id,
            TenantPatch {
                delta_replays: Some(true),
                delta_empty_pages: Some(true),
                delta_page_size: Some(40),
                members_per_page: Some(25),
                ..Default::default()
            },
        )
        .expect("patch");
    let (company, job) = env.connect("Replays Ltd", &t.id).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job_counts(&job, "contacts"), (230, 0, 0));
    assert_matches(&env.snapshot(company).await, &truth(&env.ctl, &t.id), true);
    env.stop().await;
}
