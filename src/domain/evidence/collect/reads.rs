//! The reads that take more than one request: the registration report page by page with the
//! administrators' fallback through their methods, compliance policies with each one's
//! overview, and administrators from role assignments.

use std::collections::{BTreeMap, HashMap};

use super::run::{Run, Stop, permission};
use crate::domain::evidence::facts::{self, Names};
use crate::domain::evidence::registration::{RegistrationTally, registered_by_methods};
use crate::domain::{DomainError, Services};
use crate::graph::GraphError;
use crate::model::{AdminFacts, Collected, RegistrationFacts, RegistrationSource, UserRef};

impl Services {
    /// The registration report, tallied page by page. Returns the facts, what it said about
    /// each administrator, and the source when it was read.
    pub(super) async fn read_registration(
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
    pub(super) async fn admins_registered(
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
    pub(super) async fn read_compliance(
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
}

/// Administrators from role assignments: users holding a privileged role template
/// (directly, or through a role-assignable group), each with all their privileged roles.
pub(super) fn admins_of(
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
