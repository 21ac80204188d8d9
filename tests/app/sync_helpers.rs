//! Identity sync tests' world: the in-process Microsoft simulator, an appliance pointed at
//! it, and the simulator's truth read through `SimControl`, compared field by field with what
//! the appliance stored.
#![allow(dead_code)]

use crate::helpers::*;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tenantry::domain::Services;
use tenantry::jobs::Registry;
use tenantry::model::{
    Actor, Asset, AuditEvent, AuditFilter, CompanyInput, Contact, ContactGroup, Job, Membership,
    Trigger,
};
use tenantry::simulator::{Kind, SimControl, Simulator, TenantInfo, TenantSpec};
use tenantry::store::StoreError;

pub const CLIENT_ID: &str = "5d0c7a1e-2b3f-4c5d-8e9f-0a1b2c3d4e5f";
pub const SECRET: &str = "sync-tests-secret-value";
/// A cron slot that never comes during a test run (1 January), so the identity schedule
/// cannot queue jobs behind a test's back.
pub const NEVER: &str = "0 0 0 1 1 *";

pub struct SyncEnv {
    pub sim: Simulator,
    pub ctl: SimControl,
    pub app: TestApp,
}

/// The built-in job kinds (identity sync), as `serve` registers them.
pub fn builtin_registry() -> Registry {
    let mut r = Registry::default();
    tenantry::app::register_builtin(&mut r);
    r
}

pub async fn sync_env() -> SyncEnv {
    sync_env_with(|_| {}).await
}

/// Simulator with our app registered, and an appliance configured against it.
pub async fn sync_env_with(adjust: impl FnOnce(&mut tenantry::config::Config)) -> SyncEnv {
    sync_env_clocked(adjust, None).await
}

/// The same, the appliance on a clock the test controls (`None`: the system clock).
pub async fn sync_env_clocked(
    adjust: impl FnOnce(&mut tenantry::config::Config),
    clock: Option<tenantry::clock::SharedClock>,
) -> SyncEnv {
    let (sim, ctl) = crate::support::sim::simulator(
        11,
        crate::support::sim::TestRegistration {
            client_id: CLIENT_ID,
            secret: SECRET,
            redirect_uris: vec!["http://127.0.0.1:9/connect/callback".into()],
            name: "Tenantry sync tests",
        },
    )
    .await;
    let app = spawn_app_clocked(
        |c| {
            crate::support::sim::use_simulator(c, &sim, CLIENT_ID, SECRET);
            c.schedule.identity = NEVER.into();
            c.schedule.evidence = NEVER.into();
            adjust(c);
        },
        builtin_registry(),
        clock,
    )
    .await;
    SyncEnv { sim, ctl, app }
}

impl SyncEnv {
    pub fn services(&self) -> &Services {
        self.app.services()
    }

    /// A consented tenant.
    pub fn tenant(&self, name: &str, users: usize, devices: usize, intune: bool) -> TenantInfo {
        let t = self
            .ctl
            .create_tenant(TenantSpec {
                name: name.into(),
                users,
                devices,
                intune,
                p1: intune,
                ..Default::default()
            })
            .expect("tenant created");
        self.ctl
            .grant_consent(&t.id, CLIENT_ID)
            .expect("consent granted");
        t
    }

    pub async fn company(&self, name: &str) -> u64 {
        self.services()
            .create_company(
                Actor::system(),
                CompanyInput::parse(name, "", "").expect("input"),
            )
            .await
            .expect("company created")
            .id
    }

    /// Create a company, connect it as the consent callback does, wait for the initial sync.
    pub async fn connect(&self, name: &str, tid: &str) -> (u64, Job) {
        let company = self.company(name).await;
        let job = self
            .services()
            .connect_company_tenant(Actor::system(), company, tid, Some(Trigger::Consent))
            .await
            .expect("tenant connects")
            .expect("initial sync queued");
        assert_eq!(job.trigger, Trigger::Consent);
        let job = self.wait_job(job.id).await;
        (company, job)
    }

    /// Wait (bounded) until a job is no longer queued or running.
    pub async fn wait_job(&self, id: u64) -> Job {
        wait_job(self.services(), id).await
    }

    /// Queue a manual sync and wait for it.
    pub async fn sync(&self, company: u64) -> Job {
        let q = self
            .services()
            .queue_company_sync(tenantry::model::Actor::system(), company, Trigger::Manual)
            .await
            .expect("sync queued");
        assert!(q.created, "a new job was queued");
        self.wait_job(q.job.id).await
    }

    /// Audit events of one company and kind (exact kind or dotted prefix), oldest first.
    pub async fn audit(&self, company: u64, kind: &str) -> Vec<AuditEvent> {
        let mut items = self
            .services()
            .audit_page(
                AuditFilter {
                    company_id: Some(company),
                    kind: Some(kind.into()),
                    ..Default::default()
                },
                1,
                500,
            )
            .await
            .expect("audit")
            .items;
        items.retain(|e| e.kind == kind);
        items.sort_by_key(|e| e.id);
        items
    }

    pub async fn snapshot(&self, company: u64) -> Snapshot {
        snapshot(self.services(), company).await
    }

    pub fn counts(&self, tid: &str) -> BTreeMap<String, u64> {
        self.ctl.request_counts(tid).expect("counts")
    }

    pub async fn stop(mut self) {
        self.app.stop().await;
        self.sim.stop().await;
    }
}

pub async fn wait_job(s: &Services, id: u64) -> Job {
    eventually(&format!("job {id} finishes"), || async {
        Some(s.job(id).await.expect("job")).filter(|j| !j.state.is_active())
    })
    .await
}

/// What the appliance stored for one company.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub contacts: Vec<Contact>,
    pub groups: Vec<ContactGroup>,
    pub memberships: Vec<Membership>,
    pub assets: Vec<Asset>,
}

impl Snapshot {
    pub fn contact(&self, oid: &str) -> &Contact {
        let found: Vec<&Contact> = self
            .contacts
            .iter()
            .filter(|c| c.entra_object_id.as_deref() == Some(oid))
            .collect();
        assert_eq!(found.len(), 1, "exactly one contact for user {oid}");
        found[0]
    }

    pub fn group(&self, oid: &str) -> &ContactGroup {
        let found: Vec<&ContactGroup> = self
            .groups
            .iter()
            .filter(|g| g.entra_object_id.as_deref() == Some(oid))
            .collect();
        assert_eq!(found.len(), 1, "exactly one contact group for group {oid}");
        found[0]
    }

    pub fn asset(&self, device_id: &str) -> &Asset {
        let found: Vec<&Asset> = self
            .assets
            .iter()
            .filter(|a| intune_id(a) == Some(device_id))
            .collect();
        assert_eq!(found.len(), 1, "exactly one asset for device {device_id}");
        found[0]
    }

    /// Member contacts' Entra ids of a group.
    pub fn members_of(&self, group_oid: &str) -> BTreeSet<String> {
        let gid = self.group(group_oid).id;
        let by_id: HashMap<u64, &Contact> = self.contacts.iter().map(|c| (c.id, c)).collect();
        self.memberships
            .iter()
            .filter(|m| m.group_id == gid)
            .map(|m| {
                by_id[&m.contact_id]
                    .entra_object_id
                    .clone()
                    .expect("synced contact")
            })
            .collect()
    }
}

pub fn intune_id(a: &Asset) -> Option<&str> {
    a.sources
        .iter()
        .find(|s| s.source == "intune")
        .map(|s| s.external_id.as_str())
}

pub async fn snapshot(s: &Services, company: u64) -> Snapshot {
    s.store_handle()
        .read(move |r| {
            Ok::<_, StoreError>(Snapshot {
                contacts: r.contacts_of(company)?,
                groups: r.groups_of(company)?,
                memberships: r.memberships_of(company)?,
                assets: r.assets_of(company)?,
            })
        })
        .await
        .expect("snapshot")
}

/// A group object with its direct members as (odata type, id).
pub type GroupWithMembers = (Map<String, Value>, Vec<(String, String)>);

/// The simulator's current (live) objects.
#[derive(Debug, Clone, Default)]
pub struct Truth {
    pub users: BTreeMap<String, Map<String, Value>>,
    pub groups: BTreeMap<String, GroupWithMembers>,
    pub devices: BTreeMap<String, Map<String, Value>>,
}

fn all_objects(ctl: &SimControl, tid: &str, kind: Kind) -> BTreeMap<String, Map<String, Value>> {
    // `skip` counts positions, removed objects included, so advancing by the number returned
    // can only overlap (deduplicated by id), never skip an object.
    let mut out = BTreeMap::new();
    let mut skip = 0u64;
    loop {
        let page = ctl.list_objects(tid, kind, skip, 1000).expect("list");
        if page.is_empty() {
            return out;
        }
        skip += page.len() as u64;
        for o in page {
            let id = o["id"].as_str().expect("id").to_string();
            out.insert(id, o);
        }
    }
}

pub fn truth(ctl: &SimControl, tid: &str) -> Truth {
    let users = all_objects(ctl, tid, Kind::User);
    let groups = all_objects(ctl, tid, Kind::Group)
        .into_iter()
        .map(|(id, g)| {
            let members = ctl.members(tid, &id).expect("members");
            (id, (g, members))
        })
        .collect();
    let devices = all_objects(ctl, tid, Kind::Device);
    Truth {
        users,
        groups,
        devices,
    }
}

pub fn s(o: &Map<String, Value>, k: &str) -> String {
    o.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub fn ts(o: &Map<String, Value>, k: &str) -> Option<DateTime<Utc>> {
    o.get(k).and_then(Value::as_str).map(|v| {
        DateTime::parse_from_rfc3339(v)
            .expect("timestamp")
            .with_timezone(&Utc)
    })
}

/// A contact as it must look for a live Entra user.
pub fn check_contact(c: &Contact, u: &Map<String, Value>) {
    let id = s(u, "id");
    let upn = s(u, "userPrincipalName");
    let mail = s(u, "mail");
    let enabled = u
        .get("accountEnabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let guest = s(u, "userType").eq_ignore_ascii_case("guest") || upn.contains("#EXT#");
    let want = (
        s(u, "displayName"),
        if mail.is_empty() { upn.clone() } else { mail },
        s(u, "department"),
        s(u, "jobTitle"),
        upn,
        enabled,
        enabled,
        guest,
    );
    let got = (
        c.display_name.clone(),
        c.email.clone(),
        c.department.clone(),
        c.job_title.clone(),
        c.upn.clone(),
        c.account_enabled,
        c.active,
        c.is_guest,
    );
    assert_eq!(
        got, want,
        "contact of user {id}: (name, email, department, job title, upn, enabled, active, guest)"
    );
}

/// Everything the appliance stored equals the simulator's data: every live user, group and
/// device is there once with the same fields; objects gone from Entra/Intune are inactive
/// (kept, never purged); memberships and member counts match.
pub fn assert_matches(snap: &Snapshot, truth: &Truth, with_devices: bool) {
    // Contacts.
    let mut seen = BTreeSet::new();
    for c in &snap.contacts {
        let oid = c
            .entra_object_id
            .clone()
            .expect("synced contacts carry oids");
        assert!(seen.insert(oid.clone()), "duplicate contact for {oid}");
        match truth.users.get(&oid) {
            Some(u) => check_contact(c, u),
            None => assert!(!c.active, "contact {oid} is gone from Entra: inactive"),
        }
    }
    for oid in truth.users.keys() {
        assert!(seen.contains(oid), "user {oid} has a contact");
    }
    let contact_by_oid: HashMap<&str, u64> = snap
        .contacts
        .iter()
        .filter_map(|c| c.entra_object_id.as_deref().map(|o| (o, c.id)))
        .collect();

    // Groups and memberships.
    let mut seen = BTreeSet::new();
    for g in &snap.groups {
        let oid = g.entra_object_id.clone().expect("synced groups carry oids");
        assert!(seen.insert(oid.clone()), "duplicate group for {oid}");
        let Some((obj, members)) = truth.groups.get(&oid) else {
            assert!(!g.active, "group {oid} is gone from Entra: inactive");
            continue;
        };
        assert_eq!(
            (
                g.display_name.clone(),
                g.description.clone(),
                g.mail_enabled,
                g.active
            ),
            (
                s(obj, "displayName"),
                s(obj, "description"),
                obj.get("mailEnabled")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                true
            ),
            "group {oid}: (name, description, mail enabled, active)"
        );
        let want: BTreeSet<u64> = members
            .iter()
            .filter(|(t, _)| t == "#microsoft.graph.user")
            .filter_map(|(_, id)| contact_by_oid.get(id.as_str()).copied())
            .collect();
        let got: BTreeSet<u64> = snap
            .memberships
            .iter()
            .filter(|m| m.group_id == g.id)
            .map(|m| m.contact_id)
            .collect();
        assert_eq!(got, want, "members of group {oid} ({})", g.display_name);
        assert_eq!(g.member_count, want.len() as u64, "member count of {oid}");
    }
    for oid in truth.groups.keys() {
        assert!(seen.contains(oid), "group {oid} has a contact group");
    }

    // Assets.
    if !with_devices {
        return;
    }
    let mut seen = BTreeSet::new();
    for a in &snap.assets {
        let id = intune_id(a).expect("intune asset").to_string();
        assert!(seen.insert(id.clone()), "duplicate asset for {id}");
        let Some(d) = truth.devices.get(&id) else {
            assert!(!a.active, "asset {id} is gone from Intune: inactive");
            continue;
        };
        let user = s(d, "userId");
        let primary = (!user.is_empty() && user != "00000000-0000-0000-0000-000000000000")
            .then(|| contact_by_oid.get(user.as_str()).copied())
            .flatten();
        assert_eq!(
            (
                a.hostname.clone(),
                a.os.clone(),
                a.os_version.clone(),
                a.serial_number.clone(),
                a.compliance_state.clone(),
                a.last_check_in,
                a.primary_user_contact_id,
                a.active
            ),
            (
                s(d, "deviceName"),
                s(d, "operatingSystem"),
                s(d, "osVersion"),
                s(d, "serialNumber").trim().to_string(),
                s(d, "complianceState"),
                ts(d, "lastSyncDateTime"),
                primary,
                true
            ),
            "asset of device {id}: (hostname, os, version, serial, compliance, check-in, primary user, active)"
        );
    }
    for id in truth.devices.keys() {
        assert!(seen.contains(id), "device {id} has an asset");
    }
}

pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}
