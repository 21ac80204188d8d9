use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_delta_pages_are_retried_after_retry_after() {
    let env = sync_env().await;
    let t = env.tenant("Throttle Works", 350, 30, true);
    let tid = t.id.clone();
    env.ctl
        .set_faults(
            &tid,
            vec![
                Fault {
                    kind: FaultKind::Throttle {
                        retry_after: Some("2".into()),
                    },
                    endpoint: Some("users/delta".into()),
                    nth: 2,
                    times: 1,
                    seen: 0,
                },
                Fault {
                    kind: FaultKind::Throttle {
                        retry_after: Some("2.128".into()),
                    },
                    endpoint: Some("users/delta".into()),
                    nth: 4,
                    times: 1,
                    seen: 0,
                },
            ],
        )
        .expect("faults");
    let (company, job) = env.connect("Throttle Works", &tid).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(
        job.attempts, 1,
        "retried inside the Graph call, not as a job"
    );
    assert_matches(&env.snapshot(company).await, &truth(&env.ctl, &tid), true);

    let log: Vec<_> = env
        .ctl
        .request_log(&tid)
        .expect("log")
        .into_iter()
        .filter(|e| e.endpoint.starts_with("users/delta"))
        .collect();
    let throttled: Vec<usize> = (0..log.len()).filter(|i| log[*i].status == 429).collect();
    assert_eq!(throttled.len(), 2, "{log:?}");
    for (i, want_ms) in throttled.into_iter().zip([2000i64, 2128]) {
        let (t429, retry) = (&log[i], &log[i + 1]);
        assert_eq!(t429.fault.as_deref(), Some("throttle"));
        assert_eq!(t429.endpoint, "users/delta?skiptoken");
        assert_eq!(
            retry.endpoint, t429.endpoint,
            "the same page is asked again"
        );
        assert_eq!(retry.status, 200);
        let waited = retry.at_ms - t429.at_ms;
        assert!(
            waited >= want_ms,
            "retry came {waited} ms after a 429 with Retry-After {:?}",
            t429.retry_after
        );
    }
    // 4 pages + 2 retries; no page applied twice or skipped.
    assert_eq!(log.len(), 6, "{log:?}");
    assert_eq!(job_counts(&job, "contacts"), (350, 0, 0));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_without_intune_syncs_users_and_groups_and_audits_graphs_answer() {
    let env = sync_env().await;
    let t = env.tenant("Fabrikam NoIntune", 60, 40, false);
    let tid = t.id.clone();
    let (company, job) = env.connect("Fabrikam NoIntune", &tid).await;
    assert_eq!(
        job.state,
        JobState::Succeeded,
        "users and groups are synced: {:?}",
        job.error
    );
    let snap = env.snapshot(company).await;
    assert_matches(&snap, &truth(&env.ctl, &tid), false);
    assert_eq!(snap.contacts.len(), 60);
    assert!(!snap.groups.is_empty());
    assert!(snap.assets.is_empty());

    let intune = env
        .ctl
        .request_log(&tid)
        .expect("log")
        .into_iter()
        .find(|e| e.endpoint.starts_with("deviceManagement/managedDevices"))
        .expect("Intune was asked");
    assert_eq!(intune.status, 400);
    let ev = env.audit(company, "sync.identity.devices").await;
    assert_eq!(ev.len(), 1);
    let ev = &ev[0];
    // No Intune licence is a warning (a neutral licence state), not a failure.
    assert_eq!(ev.outcome, Outcome::Warning);
    assert!(ev.summary.contains("devices: not synced"), "{}", ev.summary);
    assert!(ev.summary.contains("Intune"), "{}", ev.summary);
    let d = &ev.details;
    assert_eq!(d["status"], 400, "{d}");
    assert_eq!(d["code"], "BadRequest", "{d}");
    assert_eq!(
        d["message"], "Request not applicable to target tenant.",
        "{d}"
    );
    assert_eq!(
        d["request_id"].as_str(),
        Some(intune.request_id.as_str()),
        "Graph's request-id: {d}"
    );
    // Everything Graph's error body says is in the details: ask Intune ourselves and compare.
    let body = graph_get(&env, &tid, "deviceManagement/managedDevices").await;
    let err = &body["error"];
    assert_eq!(d["code"], err["code"], "{body}");
    assert_eq!(d["message"], err["message"], "{body}");
    assert!(
        err["innerError"]["request-id"].is_string() && d["date"].is_string(),
        "innerError request-id and date: {d}"
    );
    assert!(d["client_request_id"].is_string(), "{d}");
    let kept: serde_json::Value =
        serde_json::from_str(d["body"].as_str().expect("the raw body is kept")).expect("json");
    assert_eq!(
        kept["error"]["code"], err["code"],
        "Graph's body as sent: {d}"
    );

    let run = env.audit(company, "sync.identity").await;
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].outcome, Outcome::Warning);
    assert!(run[0].summary.contains("devices not synced"));
    assert!(run[0].details["devices_error"].is_string());
    let report = env
        .services()
        .sync_report(company)
        .await
        .expect("report")
        .expect("a report");
    let why = report
        .devices_error
        .expect("devices_error says why 0 devices");
    assert!(
        why.contains("Intune is not available") && why.contains("Request not applicable"),
        "{why}"
    );
    assert_eq!(count(&report.counts, "contacts_created"), 60);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_is_audited_with_graphs_details_and_the_retry_resumes_the_round() {
    let env = sync_env().await;
    let t = env.tenant("Flaky Networks", 300, 10, true);
    let tid = t.id.clone();
    // The third users page answers 503 five times: more than the Graph client's retries.
    env.ctl
        .set_faults(
            &tid,
            vec![Fault {
                kind: FaultKind::Unavailable {
                    retry_after: Some("0.2".into()),
                },
                endpoint: Some("users/delta".into()),
                nth: 3,
                times: 5,
                seen: 0,
            }],
        )
        .expect("faults");
    let (company, job) = env.connect("Flaky Networks", &tid).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job.attempts, 2, "one failed attempt, then the retry");

    let log = env.ctl.request_log(&tid).expect("log");
    let last_503 = log
        .iter()
        .rfind(|e| e.status == 503)
        .expect("503s were sent");
    let runs = env.audit(company, "sync.identity").await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    let failed = &runs[0];
    assert_eq!(failed.outcome, Outcome::Failure);
    assert!(failed.summary.contains("users:"), "{}", failed.summary);
    let d = &failed.details;
    assert_eq!(d["status"], 503, "{d}");
    assert_eq!(d["code"], "serviceNotAvailable", "{d}");
    assert!(d["message"].is_string(), "{d}");
    assert_eq!(
        d["request_id"].as_str(),
        Some(last_503.request_id.as_str()),
        "{d}"
    );
    assert_eq!(d["attempts"], 5, "{d}");
    assert_eq!(d["job_id"], job.id);
    assert_eq!(runs[1].outcome, Outcome::Success);

    // The retry resumed at the page that failed: one full start, each page applied once.
    let n = env.counts(&tid);
    assert_eq!(count(&n, "users/delta"), 1, "{n:?}");
    assert_eq!(count(&n, "users/delta?skiptoken"), 2 + 5, "{n:?}");
    let snap = env.snapshot(company).await;
    assert_matches(&snap, &truth(&env.ctl, &tid), true);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_consent_fails_the_sync_plainly_and_keeps_the_data() {
    let env = sync_env().await;
    let t = env.tenant("Revoked Ltd", 50, 5, true);
    let tid = t.id.clone();
    let (company, job) = env.connect("Revoked Ltd", &tid).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let before = env.snapshot(company).await;
    env.ctl.revoke_consent(&tid, CLIENT_ID).expect("revoke");
    env.ctl.expire_access_tokens(Some(&tid));
    let job = env.sync(company).await;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.attempts, 1, "a refused consent is not retried");
    let error = job.error.clone().unwrap_or_default();
    assert!(error.contains("AADSTS700016"), "{error}");
    let runs = env.audit(company, "sync.identity").await;
    let last = runs.last().expect("audited");
    assert_eq!(last.outcome, Outcome::Failure);
    assert!(last.details["status"].is_number(), "{}", last.details);
    let after = env.snapshot(company).await;
    assert_eq!(after.contacts, before.contacts, "nothing deactivated");
    assert_eq!(after.assets, before.assets);
    env.stop().await;
}
