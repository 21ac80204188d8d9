use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_companies_are_refused_by_queue_job_and_scheduler_until_restored() {
    let env = sync_env_with(|c| c.jobs.workers = 1).await;
    let ta = env.tenant("Always Active", 40, 5, true);
    let tb = env.tenant("Sometimes Archived", 40, 5, true);
    let (a, job) = env.connect("Always Active", &ta.id).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let (b, job) = env.connect("Sometimes Archived", &tb.id).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let s = env.services();
    let actor = Actor::system();

    // Archived: the button/API path refuses and says what to do.
    s.archive_company(actor.clone(), b).await.expect("archive");
    match s
        .queue_company_sync(tenantry::model::Actor::system(), b, Trigger::CompanyButton)
        .await
    {
        Err(DomainError::Conflict(msg)) => {
            assert!(msg.contains("restore the company first"), "{msg}")
        }
        other => panic!("archived company queued: {other:?}"),
    }
    assert!(
        s.connect_company_tenant(actor.clone(), b, &tb.id, Some(Trigger::Consent))
            .await
            .is_err()
    );

    // The scheduler skips it.
    let validated =
        tenantry::config::ValidatedSchedule::from_config(&env.app.config).expect("schedule");
    let identity = tenantry::app::schedules(&validated)
        .into_iter()
        .find(|x| x.name == "identity")
        .expect("identity schedule");
    let queued = s.fire_schedule(&identity, Utc::now()).await.expect("fire");
    assert_eq!(queued, 1, "only the active company");
    let jobs = s.jobs(None, 1, 50).await.expect("jobs").items;
    let scheduled: Vec<_> = jobs
        .iter()
        .filter(|j| j.trigger == Trigger::Schedule)
        .collect();
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0].company_id, Some(a));
    let done = env.wait_job(scheduled[0].id).await;
    assert_eq!(done.state, JobState::Succeeded, "{:?}", done.error);

    // The API and the company page's button refuse too.
    let token = env.app.admin_token().await;
    let r = env
        .app
        .client
        .post(env.app.at(&format!("/api/v1/companies/{b}/sync")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 409);
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(
        body.to_string().contains("restore the company first"),
        "{body}"
    );
    let r = env
        .app
        .client
        .post(env.app.at("/api/v1/sync"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 202);
    let body: serde_json::Value = r.json().await.expect("json");
    let all = body["jobs"].as_array().expect("jobs");
    assert_eq!(all.len(), 1, "sync-all skips the archived company: {body}");
    assert_eq!(all[0]["company_id"], a);
    let id = all[0]["id"].as_u64().expect("id");
    assert_eq!(env.wait_job(id).await.state, JobState::Succeeded);
    env.app.login().await;
    let r = env
        .app
        .post_form(
            &format!("/companies/{b}"),
            &format!("/companies/{b}/sync"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 409);
    let page = r.text().await.expect("body");
    assert!(page.contains("restore the company first"), "{page}");
    let active: Vec<_> = s
        .jobs(Some(b), 1, 50)
        .await
        .expect("jobs")
        .items
        .into_iter()
        .filter(|j| j.state.is_active())
        .collect();
    assert!(active.is_empty(), "nothing queued for the archived company");

    // A job queued before the company was archived is aborted when it comes to run.
    s.restore_company(actor.clone(), b).await.expect("restore");
    env.ctl
        .set_faults(
            &ta.id,
            vec![Fault {
                kind: FaultKind::Slow { delay_ms: 1500 },
                endpoint: Some("users/delta".into()),
                nth: 1,
                times: 0,
                seen: 0,
            }],
        )
        .expect("slow");
    let busy = s
        .queue_company_sync(tenantry::model::Actor::system(), a, Trigger::Manual)
        .await
        .expect("queued")
        .job;
    eventually("the only worker is busy with the slow sync", || async {
        (s.job(busy.id).await.expect("job").state == JobState::Running).then_some(())
    })
    .await;
    let waiting = s
        .queue_company_sync(tenantry::model::Actor::system(), b, Trigger::CompanyButton)
        .await
        .expect("queued while active")
        .job;
    assert_eq!(
        s.job(waiting.id).await.expect("job").state,
        JobState::Queued
    );
    s.archive_company(actor.clone(), b).await.expect("archive");
    let aborted = env.wait_job(waiting.id).await;
    assert_eq!(aborted.state, JobState::Failed);
    assert_eq!(aborted.attempts, 1, "not retried");
    assert!(
        aborted
            .error
            .as_deref()
            .is_some_and(|e| e.contains("restore the company first")),
        "{:?}",
        aborted.error
    );
    let ev = env.audit(b, "sync.identity").await;
    let last = ev.last().expect("audited");
    assert_eq!(last.outcome, Outcome::Failure);
    assert!(
        last.summary.contains("archived") && last.summary.contains("restore"),
        "{}",
        last.summary
    );
    assert_eq!(
        env.wait_job(busy.id).await.state,
        JobState::Succeeded,
        "the other company is unaffected"
    );
    env.ctl.set_faults(&ta.id, vec![]).expect("faults cleared");

    // Restored: syncs again, by hand and on schedule, and picks up what changed meanwhile.
    s.restore_company(actor.clone(), b).await.expect("restore");
    env.ctl
        .create_object(
            &tb.id,
            Kind::User,
            obj(json!({"displayName": "Back Again", "userPrincipalName": "back.again@sometimesarchived.example"})),
        )
        .expect("user");
    let job = env.sync(b).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job_counts(&job, "contacts"), (1, 0, 0));
    assert_matches(&env.snapshot(b).await, &truth(&env.ctl, &tb.id), true);
    let queued = s.fire_schedule(&identity, Utc::now()).await.expect("fire");
    assert_eq!(queued, 2, "both companies on schedule again");
    for j in s.jobs(None, 1, 50).await.expect("jobs").items {
        if j.state.is_active() {
            assert_eq!(env.wait_job(j.id).await.state, JobState::Succeeded);
        }
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excluding_guests_deactivates_them_and_including_them_brings_them_back() {
    let env = sync_env().await;
    let t = env.tenant("Guesty Co", 200, 5, true);
    let tid = t.id.clone();
    let (company, job) = env.connect("Guesty Co", &tid).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let snap = env.snapshot(company).await;
    let guests: Vec<String> = snap
        .contacts
        .iter()
        .filter(|c| c.is_guest)
        .map(|c| c.entra_object_id.clone().expect("oid"))
        .collect();
    let active_guests = snap
        .contacts
        .iter()
        .filter(|c| c.is_guest && c.active)
        .count() as u64;
    assert!(active_guests >= 3, "the sample has guests");

    let s = env.services();
    s.set_guest_policy(Actor::system(), company, true)
        .await
        .expect("exclude guests");
    env.ctl.reset_requests(&tid).expect("reset");
    let job = env.sync(company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job_counts(&job, "contacts"), (0, 0, active_guests));
    let n = env.counts(&tid);
    assert_eq!(count(&n, "users/delta"), 1, "a full users round: {n:?}");
    assert_eq!(count(&n, "users/delta?deltatoken"), 0, "{n:?}");
    let after = env.snapshot(company).await;
    assert_eq!(
        after.contacts.len(),
        snap.contacts.len(),
        "kept, not purged"
    );
    for g in &guests {
        assert!(!after.contact(g).active, "guest {g} excluded");
    }
    assert!(
        after
            .contacts
            .iter()
            .filter(|c| !c.is_guest)
            .all(|c| c.active == c.account_enabled)
    );
    // A guest added while excluded is not stored at all.
    let newcomer = env
        .ctl
        .create_object(
            &tid,
            Kind::User,
            obj(json!({"displayName": "Visiting Consultant", "userType": "Guest",
                "userPrincipalName": "visiting.consultant_partner.example#EXT#@guestyco.onmicrosoft.com",
                "mail": "visiting.consultant@partner.example"})),
        )
        .expect("guest");
    let job = env.sync(company).await;
    assert_eq!(job_counts(&job, "contacts"), (0, 0, 0));
    let newcomer = s_id(&newcomer);
    assert!(
        !env.snapshot(company)
            .await
            .contacts
            .iter()
            .any(|c| c.entra_object_id.as_deref() == Some(newcomer.as_str()))
    );

    // Included again: the next (full) sync reactivates them and adds the newcomer.
    s.set_guest_policy(Actor::system(), company, false)
        .await
        .expect("include guests");
    let job = env.sync(company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job_counts(&job, "contacts"), (1, active_guests, 0));
    assert_matches(&env.snapshot(company).await, &truth(&env.ctl, &tid), true);
    env.stop().await;
}
