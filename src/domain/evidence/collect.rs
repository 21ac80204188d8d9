//! The `evidence_sync` job for one company: read what the controls need from Graph (paced to
//! Microsoft's per-tenant limits), decide licences, resolve names through identity sync's
//! indexes, and store one immutable snapshot with its evaluated summary in ONE transaction.
//!
//! A read that Graph refuses for a reason that will not change by retrying (no licence, a
//! permission missing from the consent, an odd 4xx) becomes a gap in the snapshot (recorded
//! with Graph's answer in the audit log). A read that fails for a passing reason (throttled,
//! 5xx or network beyond the client's retries) fails the whole collection: the job retries,
//! and no half snapshot is ever stored as current.

use std::collections::{BTreeMap, HashMap};

use super::facts::{self, DeviceTally, Names};
use super::names::StoreNames;
use super::registration::{RegistrationTally, registered_by_methods};
use crate::domain::entra::graph_error_details;
use crate::domain::jobs::RunResult;
use crate::domain::{DomainError, Services};
use crate::graph::{FailureReason, GraphClient, GraphError, GraphErrorKind, PayloadDigest};
use crate::model::{
    AdminFacts, Collected, Company, EvidenceSnapshot, Job, Licences, NewAuditEvent, PayloadHash,
    RegistrationFacts, RegistrationSource, Requester, UserRef,
};
use crate::store::keys;
use chrono::{DateTime, Utc};

/// The permission each read needs, named in "grant X and consent again".
mod permission {
    pub const SKUS: &str = "Organization.Read.All";
    pub const POLICY: &str = "Policy.Read.All";
    pub const REPORT: &str = "AuditLog.Read.All";
    pub const ROLES: &str = "RoleManagement.Read.Directory";
    pub const METHODS: &str = "UserAuthenticationMethod.Read.All";
    pub const INTUNE: &str = "DeviceManagementConfiguration.Read.All";
}

/// Why a collection stopped: Graph failed for a passing reason, or we could not store.
enum Stop {
    Graph(&'static str, GraphError),
    Domain(DomainError),
}

impl From<DomainError> for Stop {
    fn from(e: DomainError) -> Self {
        Stop::Domain(e)
    }
}

impl From<crate::store::StoreError> for Stop {
    fn from(e: crate::store::StoreError) -> Self {
        Stop::Domain(e.into())
    }
}

/// A failure that retrying later can fix (or that stops every read: credentials, consent).
fn stops_collection(e: &GraphError) -> bool {
    match e.reason() {
        FailureReason::Throttled | FailureReason::Transport => true,
        FailureReason::CredentialsRejected
        | FailureReason::ConsentMissing
        | FailureReason::TenantNotFound => true,
        FailureReason::Other => {
            matches!(e.kind, GraphErrorKind::Auth(_)) || e.status.is_some_and(|s| s >= 500)
        }
        _ => false,
    }
}

/// A refused read as a gap in the snapshot.
fn gap<T>(e: &GraphError, what: &str, permission: &str) -> Collected<T> {
    match e.reason() {
        FailureReason::NotLicensed => Collected::NotLicensed {
            reason: format!(
                "{what} needs Microsoft Entra ID P1; the tenant's licence does not include it"
            ),
            graph_code: e.code.clone(),
        },
        FailureReason::IntuneNotAvailable => Collected::NotLicensed {
            reason: format!("{what} needs Microsoft Intune, which this tenant does not have"),
            graph_code: e.code.clone(),
        },
        FailureReason::PermissionDenied => Collected::MissingPermission {
            permission: permission.to_string(),
            graph_code: e.code.clone(),
        },
        _ => Collected::Failed {
            error: e.to_string(),
        },
    }
}

/// One collection in progress.
struct Run<'a> {
    svc: &'a Services,
    graph: &'a GraphClient,
    tenant: String,
    company_id: u64,
    job_id: u64,
    by: Requester,
    payloads: Vec<PayloadHash>,
}

impl Run<'_> {
    fn hashed(&mut self, source: &str, d: PayloadDigest) {
        self.payloads.push(PayloadHash {
            source: source.to_string(),
            pages: d.pages,
            sha256: d.sha256,
            request_id: d.request_id,
            http_status: d.status,
        });
    }

    /// An audit entry of this collection, as the requester.
    fn entry(&self, summary: impl Into<String>, details: serde_json::Value) -> NewAuditEvent {
        let mut details = match details {
            serde_json::Value::Object(m) => serde_json::Value::Object(m),
            _ => serde_json::json!({}),
        };
        if let Some(obj) = details.as_object_mut() {
            obj.insert("requested_by".into(), self.by.actor.0.clone().into());
            obj.insert("job_id".into(), self.job_id.into());
        }
        NewAuditEvent::new(
            self.svc.now(),
            self.by.actor.clone(),
            "sync.evidence.read",
            summary,
        )
        .company(self.company_id)
        .details(details)
    }

    /// Record a refused read in the audit log (Graph's answer whole), then either stop the
    /// collection (passing failures) or return the gap to store.
    async fn refused<T>(
        &self,
        source: &'static str,
        what: &str,
        permission: &str,
        e: GraphError,
    ) -> Result<Collected<T>, Stop> {
        let collected = gap::<T>(&e, what, permission);
        let why = match &collected {
            Collected::NotLicensed { reason, .. } => format!("not licensed: {reason}"),
            Collected::MissingPermission { permission, .. } => {
                format!("permission missing: grant {permission} and consent again")
            }
            _ => format!("failed: {e}"),
        };
        let mut details = graph_error_details(&e);
        if let Some(obj) = details.as_object_mut() {
            obj.insert("source".into(), source.into());
        }
        let event = self
            .entry(format!("Evidence: {source} not collected — {why}"), details)
            .failed();
        self.svc.record(event).await?;
        if stops_collection(&e) {
            return Err(Stop::Graph(source, e));
        }
        Ok(collected)
    }
}

impl Services {
    /// Run one evidence collection job. `progress` receives human progress lines.
    pub async fn run_evidence_sync(
        &self,
        job: &Job,
        progress: impl Fn(String) + Send + Sync,
    ) -> RunResult {
        let Some(company_id) = job.company_id else {
            return RunResult::Abort("evidence collection needs a company".into());
        };
        let started = self.now();
        let by = job.requester();
        let company = match self.company(company_id).await {
            Ok(c) => c,
            Err(e) => return RunResult::Abort(e.to_string()),
        };
        if company.is_archived() {
            let msg = format!(
                "{} is archived; restore the company first to collect evidence",
                company.name
            );
            let _ = self
                .record(
                    NewAuditEvent::new(started, by.actor.clone(), "sync.evidence", &msg)
                        .company(company_id)
                        .failed()
                        .details(serde_json::json!({"job_id": job.id, "requested_by": by.actor.0})),
                )
                .await;
            return RunResult::Abort(msg);
        }
        let Some(tenant) = company.tenant.clone().filter(|t| t.connected) else {
            return RunResult::Abort(format!(
                "{} is not connected to a Microsoft 365 tenant",
                company.name
            ));
        };
        let graph = match self.graph_client().await {
            Ok(g) => g,
            Err(e) => return RunResult::Abort(e.to_string()),
        };
        let mut run = Run {
            svc: self,
            graph: &graph,
            tenant: tenant.tenant_id.clone(),
            company_id,
            job_id: job.id,
            by: by.clone(),
            payloads: Vec::new(),
        };
        match self.collect(&mut run, &company, job, &progress).await {
            Ok(snapshot) => self.store_snapshot(&company, job, started, snapshot).await,
            Err(stop) => self.fail_collection(&company, job, started, stop).await,
        }
    }

    /// Every read, in order; the snapshot without its id.
    async fn collect(
        &self,
        run: &mut Run<'_>,
        company: &Company,
        job: &Job,
        progress: &(impl Fn(String) + Send + Sync),
    ) -> Result<EvidenceSnapshot, Stop> {
        let company_id = company.id;
        let tenant = run.tenant.clone();
        let graph = run.graph;

        progress("licences: reading subscribedSkus".into());
        let skus: Collected<Licences> = match graph.subscribed_skus(&tenant).await {
            Ok((skus, d)) => {
                run.hashed("subscribedSkus", d);
                Collected::Collected {
                    value: facts::licences_from_skus(&skus),
                }
            }
            Err(e) => {
                run.refused("subscribedSkus", "The licence list", permission::SKUS, e)
                    .await?
            }
        };

        progress("security defaults".into());
        let security_defaults = match graph.security_defaults(&tenant).await {
            Ok((sd, d)) => {
                run.hashed("policies/identitySecurityDefaultsEnforcementPolicy", d);
                Collected::Collected {
                    value: sd.is_enabled,
                }
            }
            Err(e) => {
                run.refused(
                    "policies/identitySecurityDefaultsEnforcementPolicy",
                    "Security defaults",
                    permission::POLICY,
                    e,
                )
                .await?
            }
        };

        progress("conditional access policies (paced: 1 request/s)".into());
        let ca_raw = match graph.conditional_access_policies_hashed(&tenant).await {
            Ok((p, d)) => {
                run.hashed("identity/conditionalAccess/policies", d);
                Collected::Collected { value: p }
            }
            Err(e) => {
                run.refused(
                    "identity/conditionalAccess/policies",
                    "Conditional Access",
                    permission::POLICY,
                    e,
                )
                .await?
            }
        };

        progress("role assignments".into());
        let roles = match graph.role_assignments(&tenant).await {
            Ok((a, d)) => {
                run.hashed("roleManagement/directory/roleAssignments", d);
                Collected::Collected { value: a }
            }
            Err(e) => {
                run.refused(
                    "roleManagement/directory/roleAssignments",
                    "Directory role assignments",
                    permission::ROLES,
                    e,
                )
                .await?
            }
        };

        // Names: CA policies and administrators, resolved in one read snapshot.
        let (ca_policies, admins) = {
            let ca_raw = ca_raw.clone();
            let roles = roles.clone();
            self.store
                .read(move |r| {
                    let names = StoreNames { r, company_id };
                    let ca = map_collected(ca_raw, |list| {
                        let mut v: Vec<_> = list
                            .iter()
                            .map(|p| facts::ca_policy_facts(p, &names))
                            .collect();
                        v.sort_by(|a, b| a.id.cmp(&b.id));
                        v
                    });
                    let admins = map_collected(roles, |list| admins_of(&list, &names));
                    Ok::<_, DomainError>((ca, admins))
                })
                .await?
        };

        progress("MFA registration report (paced: 5 requests / 10 s)".into());
        let admin_ids: Vec<String> = admins
            .value()
            .map(|a| a.iter().map(|x| x.user.object_id.clone()).collect())
            .unwrap_or_default();
        let (registration, admin_registered, registration_source) = self
            .read_registration(run, company_id, &admin_ids, progress)
            .await?;
        let (admins, registration_source) = self
            .admins_registered(run, admins, admin_registered, registration_source)
            .await?;

        progress("authentication methods policy".into());
        match graph.authentication_methods_policy(&tenant).await {
            Ok((_, d)) => run.hashed("policies/authenticationMethodsPolicy", d),
            Err(e) => {
                let _: Collected<()> = run
                    .refused(
                        "policies/authenticationMethodsPolicy",
                        "The authentication methods policy",
                        permission::POLICY,
                        e,
                    )
                    .await?;
            }
        }

        progress("Intune compliance policies".into());
        let (compliance_policies, summary) = self.read_compliance(run).await?;

        // Licences: the SKU list when readable, else what Graph's answers showed.
        let licences = match skus {
            Collected::Collected { value } => Collected::Collected { value },
            _ => Collected::Collected {
                value: Licences {
                    entra_p1: ca_policies.value().is_some() || registration.value().is_some(),
                    entra_p2: false,
                    intune: compliance_policies.value().is_some(),
                    source: "graph_answers".into(),
                    skus: Vec::new(),
                },
            },
        };
        let lic = licences.value().cloned().unwrap_or_default();
        let no_p1 = |what: &str| {
            format!(
                "{what} needs Microsoft Entra ID P1; subscribedSkus shows no active P1 or P2 subscription"
            )
        };
        let ca_policies = gate(ca_policies, lic.entra_p1, || no_p1("Conditional Access"));
        let registration = gate(registration, lic.entra_p1, || {
            no_p1("The MFA registration report")
        });
        let no_intune = || {
            "Device compliance needs Microsoft Intune; subscribedSkus shows no active Intune subscription"
                .to_string()
        };
        let compliance_policies = gate(compliance_policies, lic.intune, no_intune);

        progress("devices from the assets identity sync keeps".into());
        let devices = match &compliance_policies {
            Collected::Collected { .. } => {
                let tally = self
                    .store
                    .read(move |r| {
                        let mut t = DeviceTally::default();
                        r.for_each_asset(company_id, |a| t.add(&a))?;
                        Ok::<_, DomainError>(t)
                    })
                    .await?;
                Collected::Collected {
                    value: tally.finish(summary),
                }
            }
            other => other_gap(other),
        };

        let thresholds = self.evidence_settings(company_id).await?.thresholds;
        Ok(EvidenceSnapshot {
            id: 0,
            company_id,
            tenant_id: tenant,
            collected_at: self.now(),
            job_id: Some(job.id),
            thresholds,
            licences,
            security_defaults,
            ca_policies,
            admins,
            registration,
            registration_source,
            compliance_policies,
            devices,
            payloads: std::mem::take(&mut run.payloads),
        })
    }

    /// The registration report, tallied page by page. Returns the facts, what it said about
    /// each administrator, and the source when it was read.
    async fn read_registration(
        &self,
        run: &mut Run<'_>,
        company_id: u64,
        admin_ids: &[String],
        progress: &(impl Fn(String) + Send + Sync),
    ) -> Result<
        (
            Collected<RegistrationFacts>,
            HashMap<String, bool>,
            Option<RegistrationSource>,
        ),
        Stop,
    > {
        let mut pages = run.graph.user_registration_pages(&run.tenant);
        let mut tally = RegistrationTally::for_admins(admin_ids.iter().cloned());
        let mut n = 0u32;
        loop {
            match pages
                .next_page::<crate::graph::UserRegistrationDetails>()
                .await
            {
                Ok(Some(rows)) => {
                    n += 1;
                    tally = self
                        .store
                        .read(move |r| {
                            tally.add_page(r, company_id, rows)?;
                            Ok::<_, DomainError>(tally)
                        })
                        .await?;
                    if n.is_multiple_of(10) {
                        progress(format!("MFA registration report: {n} pages read"));
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let gap = run
                        .refused(
                            "reports/authenticationMethods/userRegistrationDetails",
                            "The MFA registration report",
                            permission::REPORT,
                            e,
                        )
                        .await?;
                    return Ok((gap, HashMap::new(), None));
                }
            }
        }
        run.hashed(
            "reports/authenticationMethods/userRegistrationDetails",
            pages.finish(),
        );
        let (facts, admins) = tally.finish();
        Ok((
            Collected::Collected { value: facts },
            admins,
            Some(RegistrationSource::Report),
        ))
    }

    /// Mark each administrator registered or not: from the report when it listed them, else
    /// (no P1) from their authentication methods, read in `$batch`es of 20.
    async fn admins_registered(
        &self,
        run: &mut Run<'_>,
        admins: Collected<Vec<AdminFacts>>,
        from_report: HashMap<String, bool>,
        source: Option<RegistrationSource>,
    ) -> Result<(Collected<Vec<AdminFacts>>, Option<RegistrationSource>), Stop> {
        let Collected::Collected { value: mut admins } = admins else {
            return Ok((admins, source));
        };
        if source == Some(RegistrationSource::Report) {
            for a in &mut admins {
                a.mfa_registered = from_report.get(&a.user.object_id).copied();
            }
            return Ok((Collected::Collected { value: admins }, source));
        }
        if admins.is_empty() {
            return Ok((Collected::Collected { value: admins }, source));
        }
        let mut source = source;
        let ids: Vec<String> = admins.iter().map(|a| a.user.object_id.clone()).collect();
        match run
            .graph
            .users_authentication_methods(&run.tenant, &ids)
            .await
        {
            Ok((results, d)) => {
                run.hashed("users/{id}/authentication/methods ($batch)", d);
                let mut failed: Vec<GraphError> = Vec::new();
                for (a, r) in admins.iter_mut().zip(results) {
                    match r {
                        Ok(methods) => a.mfa_registered = Some(registered_by_methods(&methods)),
                        Err(e) => failed.push(e),
                    }
                }
                if failed.len() < admins.len() {
                    source = Some(RegistrationSource::PerUserMethods);
                }
                // One audit row for the steps Graph refused (the first answer, whole, and how
                // many): the same refusal for every administrator would only repeat itself.
                let n = failed.len();
                if let Some(e) = failed.into_iter().next() {
                    let _: Collected<()> = run
                        .refused(
                            "users/{id}/authentication/methods",
                            &format!("The authentication methods of {n} administrator(s)"),
                            permission::METHODS,
                            e,
                        )
                        .await?;
                }
            }
            Err(e) => {
                let _: Collected<()> = run
                    .refused(
                        "$batch users/{id}/authentication/methods",
                        "Administrators' authentication methods",
                        permission::METHODS,
                        e,
                    )
                    .await?;
            }
        }
        Ok((Collected::Collected { value: admins }, source))
    }

    /// Compliance policies with each one's device status overview, and the tenant summary.
    async fn read_compliance(
        &self,
        run: &mut Run<'_>,
    ) -> Result<
        (
            Collected<Vec<crate::model::CompliancePolicyFacts>>,
            BTreeMap<String, i64>,
        ),
        Stop,
    > {
        let tenant = run.tenant.clone();
        let policies = match run.graph.device_compliance_policies_hashed(&tenant).await {
            Ok((p, d)) => {
                run.hashed("deviceManagement/deviceCompliancePolicies", d);
                p
            }
            Err(e) => {
                let gap = run
                    .refused(
                        "deviceManagement/deviceCompliancePolicies",
                        "Intune compliance policies",
                        permission::INTUNE,
                        e,
                    )
                    .await?;
                return Ok((gap, BTreeMap::new()));
            }
        };
        let mut out = Vec::with_capacity(policies.len());
        for p in &policies {
            let overview = match run.graph.device_status_overview(&tenant, &p.id).await {
                Ok((o, d)) => {
                    run.hashed(
                        &format!(
                            "deviceManagement/deviceCompliancePolicies/{}/deviceStatusOverview",
                            p.id
                        ),
                        d,
                    );
                    Some(o)
                }
                Err(e) => {
                    let _: Collected<()> = run
                        .refused(
                            "deviceManagement/deviceCompliancePolicies/{id}/deviceStatusOverview",
                            "A compliance policy's device status",
                            permission::INTUNE,
                            e,
                        )
                        .await?;
                    None
                }
            };
            out.push(facts::compliance_policy_facts(p, overview.as_ref()));
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        let mut summary = BTreeMap::new();
        match run.graph.compliance_summary_hashed(&tenant).await {
            Ok((s, d)) => {
                run.hashed(
                    "deviceManagement/deviceCompliancePolicyDeviceStateSummary",
                    d,
                );
                let v = serde_json::to_value(&s).unwrap_or_default();
                if let Some(obj) = v.as_object() {
                    for (k, n) in obj {
                        if let Some(n) = n.as_i64() {
                            summary.insert(k.clone(), n);
                        }
                    }
                }
            }
            Err(e) => {
                let _: Collected<()> = run
                    .refused(
                        "deviceManagement/deviceCompliancePolicyDeviceStateSummary",
                        "The device compliance summary",
                        permission::INTUNE,
                        e,
                    )
                    .await?;
            }
        }
        Ok((Collected::Collected { value: out }, summary))
    }

    /// Evaluate, then store the snapshot, its summary, the company's latest pointer and the
    /// audit entry in one transaction.
    async fn store_snapshot(
        &self,
        company: &Company,
        job: &Job,
        started: DateTime<Utc>,
        mut snapshot: EvidenceSnapshot,
    ) -> RunResult {
        let company_id = company.id;
        let previous = match self
            .store
            .read(move |r| {
                let latest = r.latest_evidence(company_id)?;
                match latest {
                    Some(l) => r.evidence_snapshot(company_id, l.id),
                    None => Ok(None),
                }
            })
            .await
        {
            Ok(p) => p,
            Err(e) => {
                return RunResult::Retry(format!("could not read the previous snapshot: {e}"));
            }
        };
        let by = job.requester();
        let finished = self.now();
        let secs = (finished - started).num_milliseconds() as f64 / 1000.0;
        let name = company.name.clone();
        let trigger = job.trigger.as_str().to_string();
        let job_id = job.id;
        // Evaluated before the write transaction (pure, but not free on a large tenant), so
        // the writer lock is held only for the writes; the id is known only inside it.
        let mut summary = super::read::summarise(&snapshot, previous.as_ref());
        let saved = self
            .store
            .write(move |w| {
                snapshot.id = w.next_id(keys::seq::EVIDENCE_SNAPSHOT)?;
                summary.id = snapshot.id;
                let failing: Vec<&str> = summary
                    .statuses
                    .iter()
                    .filter(|(_, s)| **s == crate::model::ControlStatus::Fail)
                    .map(|(id, _)| id.as_str())
                    .collect();
                let text = format!(
                    "Evidence collected for {name} (by {}): snapshot #{}, {} control(s) passing, {} failing{} in {secs:.1}s",
                    by.name,
                    snapshot.id,
                    summary.statuses.values().filter(|s| **s == crate::model::ControlStatus::Pass).count(),
                    failing.len(),
                    if failing.is_empty() { String::new() } else { format!(" ({})", failing.join(", ")) },
                );
                w.put_evidence_snapshot(&snapshot, &summary)?;
                w.append_audit(
                    NewAuditEvent::new(finished, by.actor.clone(), "sync.evidence", &text)
                        .company(company_id)
                        .details(serde_json::json!({
                            "job_id": job_id, "trigger": trigger, "requested_by": by.actor.0,
                            "snapshot_id": snapshot.id, "duration_secs": secs,
                            "statuses": summary.statuses, "payloads": snapshot.payloads.len(),
                        })),
                )?;
                let mut counts = BTreeMap::new();
                counts.insert("snapshot_id".to_string(), snapshot.id);
                counts.insert("graph_reads".to_string(), snapshot.payloads.len() as u64);
                for s in summary.statuses.values() {
                    *counts.entry(format!("controls_{}", s.as_str())).or_insert(0) += 1;
                }
                Ok::<_, DomainError>((counts, text))
            })
            .await;
        match saved {
            Ok((counts, summary)) => RunResult::Succeeded { counts, summary },
            Err(e) => RunResult::Retry(format!("could not store the snapshot: {e}")),
        }
    }

    async fn fail_collection(
        &self,
        company: &Company,
        job: &Job,
        started: DateTime<Utc>,
        stop: Stop,
    ) -> RunResult {
        let (msg, mut details, retry) = match &stop {
            Stop::Graph(source, g) => (
                format!("{source}: {g}"),
                graph_error_details(g),
                !matches!(g.kind, GraphErrorKind::Auth(_)),
            ),
            Stop::Domain(d) => (
                d.to_string(),
                serde_json::json!({"error": d.to_string()}),
                true,
            ),
        };
        let secs = (self.now() - started).num_milliseconds() as f64 / 1000.0;
        let by = job.requester();
        if let Some(obj) = details.as_object_mut() {
            obj.insert("trigger".into(), job.trigger.as_str().into());
            obj.insert("job_id".into(), job.id.into());
            obj.insert("requested_by".into(), by.actor.0.clone().into());
            obj.insert("duration_secs".into(), secs.into());
        }
        let summary = format!(
            "Evidence collection for {} failed ({}): {msg}; no snapshot was stored",
            company.name,
            job.trigger.as_str()
        );
        let _ = self
            .record(
                NewAuditEvent::new(self.now(), by.actor.clone(), "sync.evidence", &summary)
                    .company(company.id)
                    .failed()
                    .details(details),
            )
            .await;
        if retry {
            RunResult::Retry(msg)
        } else {
            RunResult::Abort(msg)
        }
    }
}

fn map_collected<T, U>(c: Collected<T>, f: impl FnOnce(T) -> U) -> Collected<U> {
    match c {
        Collected::Collected { value } => Collected::Collected { value: f(value) },
        Collected::NotLicensed { reason, graph_code } => {
            Collected::NotLicensed { reason, graph_code }
        }
        Collected::MissingPermission {
            permission,
            graph_code,
        } => Collected::MissingPermission {
            permission,
            graph_code,
        },
        Collected::Failed { error } => Collected::Failed { error },
    }
}

/// The same gap for another kind of fact.
fn other_gap<T, U>(c: &Collected<T>) -> Collected<U> {
    match c {
        Collected::NotLicensed { reason, graph_code } => Collected::NotLicensed {
            reason: reason.clone(),
            graph_code: graph_code.clone(),
        },
        Collected::MissingPermission {
            permission,
            graph_code,
        } => Collected::MissingPermission {
            permission: permission.clone(),
            graph_code: graph_code.clone(),
        },
        Collected::Failed { error } => Collected::Failed {
            error: error.clone(),
        },
        Collected::Collected { .. } => Collected::Failed {
            error: "not collected".into(),
        },
    }
}

/// Facts read although the licence is not active (a lapsed P1 still answers CA reads) are
/// not evidence of protection: shown as not licensed.
fn gate<T>(c: Collected<T>, licensed: bool, reason: impl FnOnce() -> String) -> Collected<T> {
    match c {
        Collected::Collected { .. } if !licensed => Collected::NotLicensed {
            reason: reason(),
            graph_code: None,
        },
        other => other,
    }
}

/// Administrators from role assignments: users holding a privileged role template
/// (directly, or through a role-assignable group), each with all their privileged roles.
fn admins_of(
    assignments: &[crate::graph::roles::RoleAssignment],
    names: &dyn Names,
) -> Vec<AdminFacts> {
    let mut by_user: BTreeMap<String, AdminFacts> = BTreeMap::new();
    let mut add = |user: UserRef, role: crate::model::RoleRef| {
        let entry = by_user
            .entry(user.object_id.clone())
            .or_insert_with(|| AdminFacts {
                user,
                roles: Vec::new(),
                mfa_registered: None,
            });
        if !entry.roles.contains(&role) {
            entry.roles.push(role);
            entry.roles.sort();
        }
    };
    for a in assignments {
        if !facts::is_privileged(&a.role_definition_id) {
            continue;
        }
        let role = facts::role_ref(&a.role_definition_id);
        let principal = a.principal.clone().unwrap_or_default();
        if principal.is_user() {
            let mut user = names.user(&a.principal_id);
            if user.display_name.is_empty() {
                user.display_name = principal.display_name.clone().unwrap_or_default();
            }
            if user.upn.is_empty() {
                user.upn = principal.user_principal_name.clone().unwrap_or_default();
            }
            add(user, role);
        } else if principal
            .odata_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("#microsoft.graph.group"))
        {
            for m in names.group(&a.principal_id).members {
                add(m, role.clone());
            }
        }
    }
    let mut out: Vec<AdminFacts> = by_user.into_values().collect();
    out.sort_by(|a, b| {
        a.user
            .upn
            .cmp(&b.user.upn)
            .then(a.user.object_id.cmp(&b.user.object_id))
    });
    out
}
