//! Identity sync end to end against the in-process Microsoft simulator: the appliance connects
//! a tenant, syncs users/groups (delta) and Intune devices (full list), and what it stores is
//! compared field by field with the simulator's truth. Counters and the request log of the
//! simulator prove *how* it synced (delta only, Retry-After honoured).

use crate::helpers::eventually;
use crate::sync_helpers::*;
use chrono::{Duration as CDuration, Utc};
use serde_json::json;
use std::collections::BTreeSet;
use tenantry::domain::DomainError;
use tenantry::model::{Actor, JobState, Outcome, SyncState, Trigger};
use tenantry::simulator::{Fault, FaultKind, Kind, TenantPatch};
use tenantry::store::StoreError;

fn count(c: &std::collections::BTreeMap<String, u64>, k: &str) -> u64 {
    c.get(k).copied().unwrap_or(0)
}

fn job_counts(job: &tenantry::model::Job, what: &str) -> (u64, u64, u64) {
    (
        count(&job.counts, &format!("{what}_created")),
        count(&job.counts, &format!("{what}_updated")),
        count(&job.counts, &format!("{what}_deactivated")),
    )
}

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
        runs[0].summary.contains("contacts +300"),
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
        .store
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_sync_applies_exactly_the_changes_through_delta() {
    let env = sync_env().await;
    let t = env.tenant("Mutations Inc", 300, 100, true);
    let tid = t.id.clone();
    let (company, job) = env.connect("Mutations Inc", &tid).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let before = env.snapshot(company).await;
    let t0 = truth(&env.ctl, &tid);

    // Pick distinct enabled members (not the admin) for each kind of change.
    let members: Vec<String> = t0
        .users
        .values()
        .filter(|u| u["accountEnabled"] == json!(true) && s(u, "userType") == "Member")
        .filter(|u| !s(u, "userPrincipalName").starts_with("admin@"))
        .map(|u| s(u, "id"))
        .collect();
    let (edited, disabled, soft, hard) = (&members[0], &members[1], &members[2], &members[3]);
    // A group with user members but without the deleted users, and a user not in it.
    let groups_of = |uid: &str| -> BTreeSet<String> {
        t0.groups
            .iter()
            .filter(|(_, (_, m))| m.iter().any(|(_, id)| id == uid))
            .map(|(g, _)| g.clone())
            .collect()
    };
    let mut affected: BTreeSet<String> = groups_of(soft);
    affected.extend(groups_of(hard));
    let user_members = |g: &str| -> Vec<String> {
        t0.groups[g]
            .1
            .iter()
            .filter(|(t, _)| t == "#microsoft.graph.user")
            .map(|(_, id)| id.clone())
            .collect()
    };
    let candidates: Vec<&String> = t0
        .groups
        .keys()
        .filter(|g| !affected.contains(*g) && user_members(g).len() >= 3)
        .filter(|g| s(&t0.groups[*g].0, "displayName") != "All Staff")
        .collect();
    let (add_to, remove_from) = (candidates[0].clone(), candidates[1].clone());
    let joiner = members[4..]
        .iter()
        .find(|u| !user_members(&add_to).contains(u))
        .expect("a user outside the group")
        .clone();
    let leaver = user_members(&remove_from)
        .into_iter()
        .find(|u| ![edited, disabled, soft, hard].contains(&u))
        .expect("a member to remove");
    affected.insert(add_to.clone());
    affected.insert(remove_from.clone());
    let devices: Vec<String> = t0.devices.keys().cloned().collect();
    let (changed_dev, removed_dev) = (&devices[3], &devices[7]);

    // The changes, made in Entra and Intune.
    let ctl = &env.ctl;
    let new_user = ctl
        .create_object(
            &tid,
            Kind::User,
            obj(json!({"displayName": "Zoe Newcomer", "userPrincipalName": "zoe.newcomer@mutationsinc.example",
                "mail": null, "department": "Research", "jobTitle": "Scientist", "userType": "Member"})),
        )
        .expect("user added");
    let new_oid = s(&new_user, "id");
    ctl.update_object(
        &tid,
        Kind::User,
        edited,
        obj(json!({"displayName": "Renamed Person", "department": "Legal", "jobTitle": null, "mail": "renamed.person@elsewhere.example"})),
    )
    .expect("user edited");
    ctl.update_object(
        &tid,
        Kind::User,
        disabled,
        obj(json!({"accountEnabled": false})),
    )
    .expect("user disabled");
    ctl.delete_object(&tid, Kind::User, soft, false)
        .expect("soft delete");
    ctl.delete_object(&tid, Kind::User, hard, true)
        .expect("hard delete");
    ctl.add_member(&tid, &add_to, &joiner)
        .expect("member added");
    ctl.remove_member(&tid, &remove_from, &leaver)
        .expect("member removed");
    ctl.update_object(
        &tid,
        Kind::Device,
        changed_dev,
        obj(json!({"deviceName": "RENAMED-LT-0001", "osVersion": "10.0.26100.9999", "complianceState": "inGracePeriod",
            "serialNumber": "  NEWSERIAL1 ", "lastSyncDateTime": "2026-01-02T03:04:05Z"})),
    )
    .expect("device changed");
    ctl.delete_object(&tid, Kind::Device, removed_dev, true)
        .expect("device removed");
    let new_dev = ctl
        .create_object(
            &tid,
            Kind::Device,
            obj(json!({"deviceName": "ZOE-LT-0001", "osVersion": "10.0.26100.1", "serialNumber": "ZOE00001",
                "userId": new_oid, "userPrincipalName": "zoe.newcomer@mutationsinc.example"})),
        )
        .expect("device added");
    ctl.reset_requests(&tid).expect("reset");

    let job = env.sync(company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job.trigger, Trigger::Manual);
    assert_eq!(
        job_counts(&job, "contacts"),
        (1, 1, 3),
        "added; edited; disabled + soft + hard deleted"
    );
    assert_eq!(
        job_counts(&job, "groups"),
        (0, affected.len() as u64, 0),
        "the two edited groups and the groups the deleted users left"
    );
    assert_eq!(job_counts(&job, "assets"), (1, 1, 1));
    let runs = env.audit(company, "sync.identity").await;
    let last = runs.last().expect("audited");
    assert_eq!(last.details["counts"], json!(job.counts));
    assert_eq!(last.details["trigger"], "manual");
    assert!(
        last.summary.contains("contacts +1 ~1 -3") && last.summary.contains("assets +1 ~1 -1"),
        "{}",
        last.summary
    );

    // Delta only: each collection started from its delta link; no new full round.
    let n = env.counts(&tid);
    assert_eq!(count(&n, "users/delta?deltatoken"), 1, "{n:?}");
    assert_eq!(count(&n, "groups/delta?deltatoken"), 1, "{n:?}");
    for plain in [
        "users/delta",
        "groups/delta",
        "users/delta?skiptoken",
        "groups/delta?skiptoken",
    ] {
        assert_eq!(count(&n, plain), 0, "{plain}: {n:?}");
    }
    assert_eq!(
        count(&n, "deviceManagement/managedDevices"),
        1,
        "Intune has no delta: one full list"
    );

    // The stored rows.
    let after = env.snapshot(company).await;
    assert_matches(&after, &truth(&env.ctl, &tid), true);
    assert_eq!(
        after.contacts.len(),
        before.contacts.len() + 1,
        "nothing purged"
    );
    let zoe = after.contact(&new_oid);
    assert_eq!(
        (zoe.email.as_str(), zoe.department.as_str(), zoe.active),
        ("zoe.newcomer@mutationsinc.example", "Research", true)
    );
    let e = after.contact(edited);
    assert_eq!(
        (
            e.display_name.as_str(),
            e.department.as_str(),
            e.job_title.as_str(),
            e.email.as_str()
        ),
        (
            "Renamed Person",
            "Legal",
            "",
            "renamed.person@elsewhere.example"
        )
    );
    let d = after.contact(disabled);
    assert!(!d.account_enabled && !d.active);
    for gone in [soft, hard] {
        let c = after.contact(gone);
        assert!(!c.active, "deleted user kept as an inactive contact");
        let mut want = before.contact(gone).clone();
        want.active = false;
        want.updated_at = c.updated_at;
        assert_eq!(c, &want, "only deactivated: fields and id kept");
    }
    assert!(after.members_of(&add_to).contains(&joiner));
    assert!(!after.members_of(&remove_from).contains(&leaver));
    for g in &affected {
        for gone in [soft, hard] {
            assert!(!after.members_of(g).contains(gone));
        }
    }
    let a = after.asset(changed_dev);
    assert_eq!(
        (
            a.hostname.as_str(),
            a.os_version.as_str(),
            a.compliance_state.as_str(),
            a.serial_number.as_str()
        ),
        (
            "RENAMED-LT-0001",
            "10.0.26100.9999",
            "inGracePeriod",
            "NEWSERIAL1"
        )
    );
    assert!(
        !after.asset(removed_dev).active,
        "removed device kept inactive"
    );
    assert_eq!(
        after.asset(&s(&new_dev, "id")).primary_user_contact_id,
        Some(zoe.id),
        "a new device's primary user is the contact synced in the same run"
    );
    // Unchanged rows were not rewritten.
    for c in &before.contacts {
        let oid = c.entra_object_id.as_deref().unwrap_or_default();
        if ![edited, disabled, soft, hard].iter().any(|x| *x == oid) {
            assert_eq!(after.contact(oid), c, "untouched contact {oid}");
        }
    }
    for a in &before.assets {
        let id = intune_id(a).unwrap_or_default();
        if id != changed_dev && id != removed_dev {
            assert_eq!(after.asset(id), a, "untouched asset {id}");
        }
    }

    // Nothing changed since: the next run is delta again and changes nothing.
    env.ctl.reset_requests(&tid).expect("reset");
    let job = env.sync(company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    for what in ["contacts", "groups", "assets"] {
        assert_eq!(job_counts(&job, what), (0, 0, 0), "{what}");
    }
    let n = env.counts(&tid);
    assert_eq!(count(&n, "users/delta"), 0, "{n:?}");
    assert_eq!(count(&n, "users/delta?deltatoken"), 1, "{n:?}");
    let again = env.snapshot(company).await;
    assert_eq!(again.contacts, after.contacts);
    assert_eq!(again.assets, after.assets);
    assert_eq!(again.groups, after.groups);
    env.stop().await;
}

async fn age_delta_links(env: &SyncEnv, company: u64, days: i64) {
    let at = Utc::now() - CDuration::days(days);
    env.services()
        .store
        .write(move |w| {
            for coll in ["users", "groups"] {
                let mut s: SyncState = w.sync_state(company, coll)?.expect("state");
                assert!(s.delta_link.is_some());
                s.delta_saved_at = Some(at);
                w.put_sync_state(company, coll, &s)?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .expect("aged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_delta_token_means_a_full_resync_that_deactivates_what_vanished() {
    let env = sync_env().await;
    let t = env.tenant("Expiry Partners", 250, 20, true);
    let tid = t.id.clone();
    let (company, job) = env.connect("Expiry Partners", &tid).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let t0 = truth(&env.ctl, &tid);
    let ids: Vec<String> = t0
        .users
        .keys()
        .filter(|id| t0.users[*id]["accountEnabled"] == json!(true))
        .cloned()
        .collect();

    // 1. Microsoft expires the token (400 syncStateNotFound). Meanwhile: users deleted (hard,
    //    so a full round never mentions them), a group deleted, a user added.
    let ctl = &env.ctl;
    ctl.delete_object(&tid, Kind::User, &ids[10], true)
        .expect("delete");
    ctl.delete_object(&tid, Kind::User, &ids[11], false)
        .expect("delete");
    let gone_group = t0.groups.keys().nth(3).expect("group").clone();
    ctl.delete_object(&tid, Kind::Group, &gone_group, true)
        .expect("delete group");
    let added = ctl
        .create_object(
            &tid,
            Kind::User,
            obj(json!({"displayName": "Late Joiner", "userPrincipalName": "late.joiner@expirypartners.example"})),
        )
        .expect("add");
    ctl.expire_delta_tokens(&tid).expect("expire");
    ctl.reset_requests(&tid).expect("reset");
    let job = env.sync(company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job_counts(&job, "contacts"), (1, 0, 2));
    assert_eq!(job_counts(&job, "groups").2, 1, "deleted group deactivated");
    let resync = env.audit(company, "sync.identity.resync").await;
    assert_eq!(resync.len(), 2, "users and groups resync audited");
    for e in &resync {
        assert_eq!(e.details["status"], 400);
        assert_eq!(e.details["code"], "syncStateNotFound");
        assert!(
            e.details["request_id"]
                .as_str()
                .is_some_and(|r| !r.is_empty())
        );
    }
    let n = env.counts(&tid);
    assert_eq!(
        count(&n, "users/delta?deltatoken"),
        1,
        "the refused delta link: {n:?}"
    );
    assert_eq!(count(&n, "users/delta"), 1, "one new full round: {n:?}");
    assert_eq!(count(&n, "groups/delta"), 1, "{n:?}");
    let snap = env.snapshot(company).await;
    assert_matches(&snap, &truth(&env.ctl, &tid), true);
    assert_eq!(snap.contacts.len(), 251, "never purged");
    for gone in [&ids[10], &ids[11]] {
        assert!(!snap.contact(gone).active);
    }
    assert!(!snap.group(&gone_group).active);
    assert!(snap.contact(&s(&added, "id")).active);

    // 2. The stored link is older than 7 days: no delta request at all, a full round,
    //    audited, reconciled.
    age_delta_links(&env, company, 8).await;
    ctl.delete_object(&tid, Kind::User, &ids[12], true)
        .expect("delete");
    ctl.reset_requests(&tid).expect("reset");
    let job = env.sync(company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    assert_eq!(job_counts(&job, "contacts"), (0, 0, 1));
    let n = env.counts(&tid);
    assert_eq!(count(&n, "users/delta?deltatoken"), 0, "{n:?}");
    assert_eq!(count(&n, "groups/delta?deltatoken"), 0, "{n:?}");
    assert_eq!(count(&n, "users/delta"), 1, "{n:?}");
    let resync = env.audit(company, "sync.identity.resync").await;
    assert_eq!(resync.len(), 4);
    assert!(
        resync[2..]
            .iter()
            .all(|e| e.summary.contains("older than 7 days")),
        "{resync:?}"
    );
    let snap = env.snapshot(company).await;
    assert_matches(&snap, &truth(&env.ctl, &tid), true);
    assert!(!snap.contact(&ids[12]).active);

    // 3. A link six days old is still used.
    age_delta_links(&env, company, 6).await;
    ctl.reset_requests(&tid).expect("reset");
    let job = env.sync(company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let n = env.counts(&tid);
    assert_eq!(count(&n, "users/delta?deltatoken"), 1, "{n:?}");
    assert_eq!(count(&n, "users/delta"), 0, "{n:?}");

    // 4. The 410 flavour (resyncRequired with Location) resyncs the same way.
    ctl.update_tenant(
        &tid,
        TenantPatch {
            expired_delta_status: Some(410),
            ..Default::default()
        },
    )
    .expect("patch");
    ctl.delete_object(&tid, Kind::User, &ids[13], true)
        .expect("delete");
    ctl.expire_delta_tokens(&tid).expect("expire");
    let job = env.sync(company).await;
    assert_eq!(job.state, JobState::Succeeded, "{:?}", job.error);
    let resync = env.audit(company, "sync.identity.resync").await;
    assert_eq!(resync.len(), 6);
    assert_eq!(resync[5].details["status"], 410);
    let snap = env.snapshot(company).await;
    assert_matches(&snap, &truth(&env.ctl, &tid), true);
    assert!(!snap.contact(&ids[13]).active);
    env.stop().await;
}

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
    assert_eq!(ev.outcome, Outcome::Failure);
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
    assert_eq!(run[0].outcome, Outcome::Failure);
    assert!(run[0].summary.contains("devices: not synced"));
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
    match s.queue_company_sync(b, Trigger::CompanyButton).await {
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
        .queue_company_sync(a, Trigger::Manual)
        .await
        .expect("queued")
        .job;
    eventually("the only worker is busy with the slow sync", || async {
        (s.job(busy.id).await.expect("job").state == JobState::Running).then_some(())
    })
    .await;
    let waiting = s
        .queue_company_sync(b, Trigger::CompanyButton)
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

/// GET a Graph path as the app (fresh client-credentials token); returns the JSON body.
async fn graph_get(env: &SyncEnv, tid: &str, path: &str) -> serde_json::Value {
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/{tid}/oauth2/v2.0/token", env.sim.login_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let access = token["access_token"].as_str().expect("access token");
    http.get(format!("{}/v1.0/{path}", env.sim.graph_url()))
        .bearer_auth(access)
        .send()
        .await
        .expect("graph")
        .json()
        .await
        .expect("graph json")
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

fn s_id(o: &serde_json::Map<String, serde_json::Value>) -> String {
    s(o, "id")
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
