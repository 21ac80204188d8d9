//! The `evidence_sync` job for one company: read what the controls need from Graph (paced to
//! Microsoft's per-tenant limits), decide licences, resolve names through identity sync's
//! indexes, and store one immutable snapshot with its evaluated summary in ONE transaction.
//!
//! A read that Graph refuses for a reason that will not change by retrying (no licence, a
//! permission missing from the consent, an odd 4xx) becomes a gap in the snapshot (recorded
//! with Graph's answer in the audit log). A read that fails for a passing reason (throttled,
//! 5xx or network beyond the client's retries) fails the whole collection: the job retries,
//! and no half snapshot is ever stored as current.
//!
//! - `run`: one collection's state; refused reads → gaps or a stop, audited.
//! - `reads`: the multi-step reads (registration with its fallback, compliance, admins).
//! - `finish`: the one-transaction snapshot write, or a clean failure.

mod finish;
mod reads;
mod run;

use super::facts::{self, DeviceTally};
use super::names::StoreNames;
use crate::domain::jobs::RunResult;
use crate::domain::{DomainError, Services};
use crate::model::{Collected, Company, EvidenceSnapshot, Job, Licences, NewAuditEvent};
use reads::admins_of;
use run::{Run, Stop, gate, map_collected, other_gap, permission};

impl Services {
    /// Run one evidence collection job. `progress` receives human progress lines;
    /// `reading_done` is called once every Graph read is done and only the snapshot's store
    /// work is left (its worker may start its next job: `jobs::SlotRelease`).
    pub async fn run_evidence_sync(
        &self,
        job: &Job,
        progress: impl Fn(String) + Send + Sync,
        reading_done: impl Fn() + Send + Sync,
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
            Ok(snapshot) => {
                reading_done();
                self.store_snapshot(&company, job, started, snapshot).await
            }
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
        let (ca_policies, admins) = self
            .store
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
            .await?;

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
        // Devices come from the assets identity sync keeps, so only a missing Intune licence
        // (not a refused policy read) leaves them out.
        let devices = match &compliance_policies {
            Collected::NotLicensed { .. } => other_gap(&compliance_policies),
            _ => {
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
}
