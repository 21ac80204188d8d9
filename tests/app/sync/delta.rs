use super::*;

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
        last.summary
            .contains("contacts: 1 added, 1 updated, 3 deactivated")
            && last
                .summary
                .contains("assets: 1 added, 1 updated, 1 deactivated"),
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
