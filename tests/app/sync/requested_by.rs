//! Who asked for a sync: the staff member behind a button, the API token behind a call, the
//! admin who consented, or the scheduler. It is on the job (Jobs pages, job JSON) and on
//! every audit entry the sync writes, as the actor and as `requested_by` in the details.

use super::*;
use crate::helpers::{TestApp, location};
use tenantry::domain::staff::NewStaff;
use tenantry::model::{AuditEvent, Requester, Role};

const ANA: &str = "ana@msp.example";
const ANA_PASSWORD: &str = "ana's long password";

/// Ana Diaz, a technician, signed in on the app's client.
async fn sign_in_ana(app: &TestApp) {
    let new = NewStaff::parse(ANA, "Ana Diaz", "technician", Some(ANA_PASSWORD)).expect("valid");
    app.services()
        .create_staff(tenantry::domain::authority::AdminActor::system(), new)
        .await
        .expect("Ana's account");
    let r = app.login_as(ANA, ANA_PASSWORD).await;
    assert_eq!(r.status(), 303, "Ana signs in");
}

fn ana() -> Requester {
    Requester::new(Actor::staff(ANA), "Ana Diaz")
}

/// The newest audit entry of any kind (entries after it are the ones a step wrote).
async fn last_entry_id(env: &SyncEnv) -> u64 {
    env.services()
        .audit_page(Default::default(), 1, 1)
        .await
        .expect("audit")
        .items
        .first()
        .map_or(0, |e| e.id)
}

/// The company's audit entries written after entry `after`, oldest first.
async fn entries_since(env: &SyncEnv, company: u64, after: u64) -> Vec<AuditEvent> {
    let mut items = env
        .services()
        .audit_page(
            tenantry::model::AuditFilter {
                company_id: Some(company),
                ..Default::default()
            },
            1,
            500,
        )
        .await
        .expect("audit")
        .items;
    items.retain(|e| e.id > after);
    items.sort_by_key(|e| e.id);
    items
}

/// Every entry is `by`'s, and says so in its details; and `kinds` are among them.
fn all_by(entries: &[AuditEvent], by: &Requester, kinds: &[&str]) {
    for e in entries {
        assert_eq!(e.actor, by.actor.0, "{} is by whoever asked: {e:?}", e.kind);
        assert_eq!(
            e.details["requested_by"], by.actor.0,
            "{} says who asked in its details: {e:?}",
            e.kind
        );
    }
    for kind in kinds {
        assert!(
            entries.iter().any(|e| e.kind == *kind),
            "a {kind} entry among {entries:?}"
        );
    }
}

/// The newest job of a company, once it has finished.
async fn newest_job_done(env: &SyncEnv, company: u64) -> tenantry::model::Job {
    let newest = env
        .services()
        .jobs(Some(company), 1, 1)
        .await
        .expect("jobs")
        .items
        .into_iter()
        .next()
        .expect("a job");
    env.wait_job(newest.id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_started_with_a_button_is_the_staff_members_on_the_job_its_audit_entries_and_the_jobs_pages()
 {
    let env = sync_env().await;
    let t = env.tenant("Contoso", 20, 3, true);
    let (company, _) = env.connect("Contoso", &t.id).await;
    sign_in_ana(&env.app).await;

    // Sync With M365 on the company page.
    let before = last_entry_id(&env).await;
    let r = env
        .app
        .post_form(
            &format!("/companies/{company}"),
            &format!("/companies/{company}/sync"),
            &[],
        )
        .await;
    assert_eq!(
        location(&r),
        format!("/companies/{company}?notice=sync_queued")
    );
    let job = newest_job_done(&env, company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job.trigger, Trigger::CompanyButton);
    assert_eq!(job.requested_by.as_deref(), Some(&ana()));
    all_by(
        &entries_since(&env, company, before).await,
        &ana(),
        &["sync.identity"],
    );

    // The Jobs pages say who asked.
    let list = env.app.get_text("/jobs").await;
    assert!(list.contains("requested by Ana Diaz"), "{list}");
    let page = env.app.get_text(&format!("/jobs/{}", job.id)).await;
    assert!(
        page.contains("<dt>Requested by</dt><dd>Ana Diaz <code>staff:ana@msp.example</code>"),
        "{page}"
    );

    // Sync now (Settings → Integrations → Microsoft Entra ID) is hers too.
    let before = last_entry_id(&env).await;
    let r = env
        .app
        .post_form(
            "/settings/integrations/entra",
            "/settings/integrations/entra/sync",
            &[],
        )
        .await;
    assert_eq!(
        location(&r),
        "/settings/integrations/entra?notice=sync_all_queued"
    );
    let job = newest_job_done(&env, company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job.trigger, Trigger::Manual);
    assert_eq!(job.requested_by.as_deref(), Some(&ana()));
    all_by(
        &entries_since(&env, company, before).await,
        &ana(),
        &["sync.identity"],
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_started_through_the_api_is_the_tokens_on_the_job_and_every_audit_entry() {
    let env = sync_env().await;
    let t = env.tenant("Northwind", 20, 3, true);
    let (company, _) = env.connect("Northwind", &t.id).await;
    let (token, _) = env
        .services()
        .create_api_token(
            tenantry::domain::authority::AdminActor::system(),
            "PSA automation",
            Role::Technician,
        )
        .await
        .expect("token");
    // Delta links past their age: the run starts with resync entries, which must be the
    // token's as well.
    age_delta_links(&env, company, 8).await;

    let before = last_entry_id(&env).await;
    let r = env
        .app
        .client
        .post(env.app.at(&format!("/api/v1/companies/{company}/sync")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 202);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(
        body["job"]["requested_by"],
        json!({"actor": "api:PSA automation", "name": "PSA automation"}),
        "{body}"
    );
    let id = body["job"]["id"].as_u64().expect("job id");
    let job = env.wait_job(id).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let token_requester = Requester::from_actor(Actor::token("PSA automation"));
    assert_eq!(job.requested_by.as_deref(), Some(&token_requester));
    all_by(
        &entries_since(&env, company, before).await,
        &token_requester,
        &["sync.identity.resync", "sync.identity"],
    );

    // GET /api/v1/jobs/{id} and the Jobs page say so too.
    let got: serde_json::Value = env
        .app
        .client
        .get(env.app.at(&format!("/api/v1/jobs/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(got["requested_by"]["actor"], "api:PSA automation", "{got}");
    env.app.login().await;
    let list = env.app.get_text("/jobs").await;
    assert!(
        list.contains("requested by API token PSA automation"),
        "{list}"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sync_and_its_job_failure_are_audited_as_the_staff_member_who_started_it() {
    let env = sync_env().await;
    let t = env.tenant("Revoked Ltd", 10, 2, true);
    let (company, _) = env.connect("Revoked Ltd", &t.id).await;
    env.ctl.revoke_consent(&t.id, CLIENT_ID).expect("revoke");
    env.ctl.expire_access_tokens(Some(&t.id));
    sign_in_ana(&env.app).await;

    let before = last_entry_id(&env).await;
    env.app
        .post_form(
            &format!("/companies/{company}"),
            &format!("/companies/{company}/sync"),
            &[],
        )
        .await;
    let job = newest_job_done(&env, company).await;
    assert_eq!(job.state, JobState::Failed);
    let entries = entries_since(&env, company, before).await;
    all_by(&entries, &ana(), &["sync.identity", "job.identity_sync"]);
    assert!(
        entries.iter().all(|e| e.outcome == Outcome::Failure),
        "{entries:?}"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sync_after_consent_is_the_admin_who_connected_and_scheduled_ones_the_schedulers()
{
    let env = sync_env().await;
    let t = env.tenant("Fabrikam", 10, 2, true);
    let company = env.company("Fabrikam").await;
    sign_in_ana(&env.app).await;

    // Not connected: the button sends Ana to Microsoft; Microsoft sends her back with the
    // consent (the tenant has consented already), and the initial sync is queued.
    let before = last_entry_id(&env).await;
    let r = env
        .app
        .post_form(
            &format!("/companies/{company}"),
            &format!("/companies/{company}/sync"),
            &[],
        )
        .await;
    let consent = reqwest::Url::parse(&location(&r)).expect("consent URL");
    let state = consent
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state");
    let mut callback = reqwest::Url::parse(&env.app.at("/connect/callback")).expect("url");
    callback
        .query_pairs_mut()
        .append_pair("state", &state)
        .append_pair("admin_consent", "True")
        .append_pair("tenant", &t.id);
    let back = env.app.client.get(callback).send().await.expect("callback");
    assert_eq!(
        location(&back),
        format!("/companies/{company}?notice=sync_queued")
    );
    let job = newest_job_done(&env, company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job.trigger, Trigger::Consent);
    assert_eq!(job.requested_by.as_deref(), Some(&ana()));
    let entries = entries_since(&env, company, before).await;
    let sync: Vec<AuditEvent> = entries
        .into_iter()
        .filter(|e| e.kind.starts_with("sync."))
        .collect();
    all_by(&sync, &ana(), &["sync.identity"]);

    // A schedule firing asks for itself.
    let before = last_entry_id(&env).await;
    let validated =
        tenantry::config::ValidatedSchedule::from_config(&env.app.config).expect("schedule");
    let identity = tenantry::app::schedules(&validated)
        .into_iter()
        .find(|x| x.name == "identity")
        .expect("identity schedule");
    env.services()
        .fire_schedule(&identity, Utc::now())
        .await
        .expect("fire");
    let job = newest_job_done(&env, company).await;
    assert_eq!(job.trigger, Trigger::Schedule);
    assert_eq!(job.requested_by.as_deref(), Some(&Requester::scheduler()));
    all_by(
        &entries_since(&env, company, before).await,
        &Requester::scheduler(),
        &["sync.identity"],
    );
    env.stop().await;
}
