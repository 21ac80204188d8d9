//! Compliance evidence pages: Company → Compliance (controls of the latest snapshot, the
//! history chart, settings, "Collect evidence now"), the company's snapshots, one snapshot,
//! the evidence pack downloads, and the MSP-wide overview (`/compliance`).

use crate::domain::DomainError;
use crate::model::{Company, EvidenceSettings, EvidenceThresholds, JobKind, Trigger};
use crate::web::AppState;
use crate::web::api::evidence_pack::{
    PackError, PackFormat, collection_job, framework_param, respond,
};
use crate::web::csrf::StaffForm;
use crate::web::error::WebError;
use crate::web::ids::Id;
use crate::web::pager::{ListParams, Pager};
use crate::web::respond::{render, see_other};
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::compliance::{
    AssessmentView, ComplianceTab, FrameworkChoice, FrameworkLink, OverviewPage, SnapshotPage,
    SnapshotsPage, overview_columns, overview_lines, sort_by_name,
};
use crate::web::views::compliance_chart::history_chart;
use crate::web::views::confirm::ConfirmActionPage;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// Points on the history chart: the newest 60 collections (15 days at four a day).
const HISTORY_POINTS: usize = 60;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/compliance", web::get().to(overview_get))
        .route("/compliance/collect", web::get().to(collect_all_get))
        .route("/compliance/collect", web::post().to(collect_all_post))
        .route("/companies/{id}/compliance", web::get().to(tab_get))
        .route(
            "/companies/{id}/compliance/settings",
            web::post().to(settings_post),
        )
        .route(
            "/companies/{id}/compliance/export",
            web::get().to(export_get),
        )
        .route(
            "/companies/{id}/evidence/collect",
            web::get().to(collect_get),
        )
        .route(
            "/companies/{id}/evidence/collect",
            web::post().to(collect_post),
        )
        .route("/companies/{id}/evidence", web::get().to(snapshots_get))
        .route(
            "/companies/{id}/evidence/{snapshot_id}",
            web::get().to(snapshot_get),
        );
}

fn framework(v: Option<&str>) -> Result<Option<String>, WebError> {
    framework_param(v).map_err(WebError::BadRequest)
}

#[derive(Deserialize)]
struct TabQ {
    framework: Option<String>,
    notice: Option<String>,
}

/// The audit log of one collection: the company's evidence entries (`sync.evidence`, and
/// `sync.evidence.read` for each refused Graph read) from when its job's last attempt started
/// to when it ended, or all of the company's evidence entries when the job is gone. (The
/// audit filter has no job id; every entry also carries `job_id` in its details.)
async fn audit_href(st: &AppState, company_id: u64, job_id: Option<u64>) -> String {
    let job = match job_id {
        Some(id) => st.services.job(id).await.ok(),
        None => None,
    };
    match job.and_then(|j| Some((j.started_at?, j.finished_at?))) {
        Some((from, to)) => format!(
            "/audit?company={company_id}&kind=sync.evidence&from_at={}&to_at={}",
            from.format("%Y-%m-%dT%H:%M:%S"),
            (to + chrono::Duration::seconds(1)).format("%Y-%m-%dT%H:%M:%S")
        ),
        None => format!("/audit?company={company_id}&kind=sync.evidence"),
    }
}

/// The evidence collection queued or running for the company now, if any.
async fn active_collection(
    st: &AppState,
    company_id: u64,
) -> Result<Option<(u64, String)>, WebError> {
    let recent = st.services.jobs(Some(company_id), 1, 10).await?;
    Ok(recent
        .items
        .into_iter()
        .find(|j| j.kind.0 == JobKind::EVIDENCE_SYNC && j.state.is_active())
        .map(|j| (j.id, j.state.as_str().to_string())))
}

fn next_run(st: &AppState) -> String {
    if st
        .config
        .idle_job_kinds
        .iter()
        .any(|k| k == JobKind::EVIDENCE_SYNC)
    {
        return "not scheduled in this version".into();
    }
    st.schedules
        .iter()
        .find(|s| s.job_kind == JobKind::EVIDENCE_SYNC)
        .and_then(|s| s.next_after(st.services.now()))
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "not scheduled".into())
}

fn can_collect(c: &Company) -> bool {
    !c.is_archived() && c.tenant.as_ref().is_some_and(|t| t.connected)
}

/// Build the tab for `company` (`settings_error` re-shows a refused settings form).
async fn tab(
    st: &AppState,
    staff: &Staff,
    company: Company,
    framework: Option<String>,
    notice: Option<&str>,
    settings: Option<EvidenceSettings>,
    settings_error: String,
) -> Result<ComplianceTab, WebError> {
    let s = &st.services;
    let all = crate::domain::evidence::frameworks();
    let saved = s.evidence_settings(company.id).await?;
    let chosen: Vec<_> = all
        .iter()
        .filter(|f| saved.frameworks.is_empty() || saved.frameworks.contains(&f.id))
        .cloned()
        .collect();
    let base = format!("/companies/{}/compliance", company.id);
    let mut selector = vec![FrameworkLink {
        label: "All chosen".into(),
        href: base.clone(),
        current: framework.is_none(),
    }];
    for f in &chosen {
        selector.push(FrameworkLink {
            label: f.name.clone(),
            href: format!("{base}?framework={}", f.id),
            current: framework.as_deref() == Some(f.id.as_str()),
        });
    }
    // A framework the company does not use can still be looked at through the URL.
    if let Some(f) = framework.as_deref()
        && !chosen.iter().any(|c| c.id == f)
        && let Some(info) = all.iter().find(|x| x.id == f)
    {
        selector.push(FrameworkLink {
            label: info.name.clone(),
            href: format!("{base}?framework={f}"),
            current: true,
        });
    }
    let assessment = s.compliance(company.id, framework.as_deref()).await?;
    let job_id = match &assessment {
        Some(a) => collection_job(st, company.id, a.snapshot_id).await?,
        None => None,
    };
    let chart_frameworks: Vec<_> = match framework.as_deref() {
        Some(f) => all.iter().filter(|x| x.id == f).cloned().collect(),
        None => chosen.clone(),
    };
    let history = s.compliance_history(company.id, HISTORY_POINTS).await?;
    let settings = settings.unwrap_or(saved);
    let choices = all
        .iter()
        .map(|f| FrameworkChoice {
            id: f.id.clone(),
            name: f.name.clone(),
            checked: settings.frameworks.is_empty() || settings.frameworks.contains(&f.id),
        })
        .collect();
    let active_job = active_collection(st, company.id).await?;
    // The notice rides in the URL: once the queued collection has ended, a reload says so
    // instead of "queued" (as the company page does for syncs).
    let notice = match notice {
        Some("evidence_queued") if active_job.is_none() => Some("evidence_finished"),
        other => other,
    };
    Ok(ComplianceTab {
        chrome: Chrome::new(staff, "psa", notice),
        framework_name: framework
            .as_deref()
            .and_then(|f| all.iter().find(|x| x.id == f))
            .map(|f| f.name.clone())
            .unwrap_or_default(),
        framework_query: framework
            .as_deref()
            .map(|f| format!("&framework={f}"))
            .unwrap_or_default(),
        assessment: assessment.as_ref().map(|a| AssessmentView::new(a, &all)),
        chart: history_chart(&history, &chart_frameworks),
        audit_href: audit_href(st, company.id, job_id).await,
        next_run: next_run(st),
        can_collect: can_collect(&company),
        active_job,
        selector,
        settings,
        choices,
        settings_error,
        company,
    })
}

async fn tab_get(
    staff: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<TabQ>,
) -> Result<ComplianceTab, WebError> {
    let f = framework(q.framework.as_deref())?;
    let company = st.services.company(id.get()).await?;
    tab(
        &st,
        &staff,
        company,
        f,
        q.notice.as_deref(),
        None,
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    mfa_registration_pct: String,
    #[serde(default)]
    device_compliance_pct: String,
    /// One `framework_<id>` field per ticked checkbox (a form cannot send a list that the
    /// urlencoded decoder gathers, so each framework has its own name).
    #[serde(flatten)]
    rest: std::collections::BTreeMap<String, String>,
}

/// A threshold as typed: a whole percentage from 1 to 100.
fn threshold(name: &str, v: &str) -> Result<u8, String> {
    v.trim()
        .parse::<u8>()
        .ok()
        .filter(|n| (1..=100).contains(n))
        .ok_or_else(|| format!("{name} must be a whole percentage from 1 to 100 (got {v:?})."))
}

async fn settings_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: StaffForm<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let StaffForm { staff, form: f } = form;
    // Archived companies are read-only: the tab shows no form, and the domain refuses a posted one.
    let company = st.services.company(id.get()).await?;
    let frameworks: Vec<String> = f
        .rest
        .keys()
        .filter_map(|k| k.strip_prefix("framework_"))
        .map(str::to_string)
        .collect();
    let all = crate::domain::evidence::frameworks();
    let mut error = String::new();
    let mfa = threshold("The MFA registration threshold", &f.mfa_registration_pct);
    let dev = threshold("The device compliance threshold", &f.device_compliance_pct);
    if let Some(bad) = frameworks.iter().find(|x| !all.iter().any(|a| &a.id == *x)) {
        error = format!("{bad:?} is not a framework Tenantry maps to.");
    } else if frameworks.is_empty() {
        error = "Choose at least one framework.".into();
    }
    let saved = st.services.evidence_settings(company.id).await?;
    for e in [&mfa, &dev] {
        if let (Err(e), true) = (e, error.is_empty()) {
            error = e.clone();
        }
    }
    // A value that could not be read is re-shown as it is saved, with the reason above.
    let mfa_pct = mfa.unwrap_or(saved.thresholds.mfa_registration_pct);
    let dev_pct = dev.unwrap_or(saved.thresholds.device_compliance_pct);
    // Every framework ticked is stored as "all" (the default follows new frameworks).
    let stored = if frameworks.len() == all.len() {
        Vec::new()
    } else {
        frameworks.clone()
    };
    let settings = EvidenceSettings {
        frameworks: stored,
        thresholds: EvidenceThresholds {
            mfa_registration_pct: mfa_pct,
            device_compliance_pct: dev_pct,
        },
    };
    if error.is_empty() {
        match st
            .services
            .set_evidence_settings(staff.actor(), company.id, settings.clone())
            .await
        {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/companies/{}/compliance?notice=evidence_settings_saved",
                    company.id
                )));
            }
            Err(DomainError::Validation(v)) => error = v.to_string(),
            Err(e) => return Err(e.into()),
        }
    }
    // Re-show what was typed, with the reason.
    let shown = EvidenceSettings {
        frameworks: if frameworks.is_empty() {
            vec![String::new()]
        } else {
            frameworks
        },
        ..settings
    };
    let page = tab(&st, &staff, company, None, None, Some(shown), error).await?;
    render(page, StatusCode::UNPROCESSABLE_ENTITY, None)
}

async fn collect_get(
    staff: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> Result<ConfirmActionPage, WebError> {
    let c = st.services.company(id.get()).await?;
    if c.is_archived() {
        return Err(WebError::Conflict(format!(
            "{} is archived: restore it before collecting evidence.",
            c.name
        )));
    }
    let Some(t) = c.tenant.as_ref().filter(|t| t.connected) else {
        return Err(WebError::Conflict(format!(
            "{} is not connected to Microsoft 365: use Sync With M365 first.",
            c.name
        )));
    };
    Ok(ConfirmActionPage {
        chrome: Chrome::new(&staff, "psa", None),
        title: format!("Collect evidence for {} now?", c.name),
        happens: format!(
            "Tenantry reads Conditional Access policies, MFA registration, role assignments, \
             Intune compliance policies, security defaults and licences from the tenant {} ({}) \
             — read-only — and stores a new dated snapshot. It runs in the background; the \
             Compliance tab shows it when it is done.",
            t.tenant_name, t.tenant_id
        ),
        kept: "Earlier snapshots stay as they were; nothing changes in Microsoft 365.".into(),
        warning: String::new(),
        action: format!("/companies/{}/evidence/collect", c.id),
        button: "Collect evidence now",
        cancel: format!("/companies/{}/compliance", c.id),
    })
}

#[derive(Deserialize)]
struct Empty {}

async fn collect_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, WebError> {
    let id = id.get();
    st.services
        .queue_evidence_collection(form.staff.actor(), id, Trigger::CompanyButton)
        .await?;
    Ok(see_other(&format!(
        "/companies/{id}/compliance?notice=evidence_queued"
    )))
}

async fn collect_all_get(
    staff: Staff,
    st: web::Data<AppState>,
) -> Result<ConfirmActionPage, WebError> {
    let rows = st.services.compliance_overview().await?;
    Ok(ConfirmActionPage {
        chrome: Chrome::new(&staff, "compliance", None),
        title: "Collect evidence for every company now?".into(),
        happens: format!(
            "Tenantry queues a read-only evidence collection for each of the {} connected, \
             active companies (a company already collecting is skipped). They run in the \
             background, a few at a time.",
            rows.len()
        ),
        kept: "Earlier snapshots stay as they were; archived and unconnected companies are \
               left alone; nothing changes in Microsoft 365."
            .into(),
        warning: String::new(),
        action: "/compliance/collect".into(),
        button: "Collect evidence now for all",
        cancel: "/compliance".into(),
    })
}

async fn collect_all_post(
    st: web::Data<AppState>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, WebError> {
    let n = st
        .services
        .queue_evidence_collection_all(form.staff.actor(), Trigger::Manual)
        .await?;
    Ok(see_other(if n == 0 {
        "/compliance?notice=evidence_nothing_queued"
    } else {
        "/compliance?notice=evidence_all_queued"
    }))
}

async fn snapshots_get(
    staff: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ListParams>,
) -> Result<SnapshotsPage, WebError> {
    let company = st.services.company(id.get()).await?;
    let query = q.query();
    let page = st
        .services
        .evidence_snapshots(company.id, query.clone())
        .await?;
    let pager = Pager::new(
        &format!("/companies/{}/evidence", company.id),
        &query,
        &page,
    );
    Ok(SnapshotsPage {
        chrome: Chrome::new(&staff, "psa", None),
        company,
        rows: page.items,
        pager,
        frameworks: crate::domain::evidence::frameworks(),
    })
}

async fn snapshot_get(
    staff: Staff,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
) -> Result<SnapshotPage, WebError> {
    let (company_id, snapshot_id) = path.into_inner();
    let company = st.services.company(company_id.get()).await?;
    let s = st
        .services
        .evidence_snapshot(company.id, snapshot_id.get())
        .await?;
    let a = st.services.assessment_of(company.id, s.id, None).await?;
    let all = crate::domain::evidence::frameworks();
    let sources = source_rows(&s);
    Ok(SnapshotPage {
        chrome: Chrome::new(&staff, "psa", None),
        audit_href: audit_href(&st, company.id, s.job_id).await,
        tenant_id: s.tenant_id.clone(),
        job_id: s.job_id,
        assessment: AssessmentView::new(&a, &all),
        sources,
        registration_source: match s.registration_source {
            Some(crate::model::RegistrationSource::Report) => {
                "the registration report (userRegistrationDetails)".into()
            }
            Some(crate::model::RegistrationSource::PerUserMethods) => {
                "each admin's authentication methods (no Entra ID P1)".into()
            }
            None => "not read".into(),
        },
        thresholds: format!(
            "MFA registration ≥ {} %, device compliance ≥ {} %",
            s.thresholds.mfa_registration_pct, s.thresholds.device_compliance_pct
        ),
        company,
    })
}

/// (what, state in words, detail) for each source of evidence of a snapshot.
fn source_rows(s: &crate::model::EvidenceSnapshot) -> Vec<(String, String, String)> {
    use crate::model::Collected;
    fn row<T>(what: &str, c: &Collected<T>) -> (String, String, String) {
        let (state, detail) = match c {
            Collected::Collected { .. } => ("Collected", String::new()),
            Collected::NotLicensed { reason, graph_code } => (
                "Not licensed",
                match graph_code {
                    Some(code) => format!("{reason} (Graph: {code})"),
                    None => reason.clone(),
                },
            ),
            Collected::MissingPermission { permission, .. } => (
                "Permission missing",
                format!("Grant {permission} to Tenantry's app and consent again."),
            ),
            Collected::Failed { error } => ("Failed", error.clone()),
        };
        (what.to_string(), state.to_string(), detail)
    }
    vec![
        row("Licences (subscribedSkus)", &s.licences),
        row("Security defaults", &s.security_defaults),
        row("Conditional Access policies", &s.ca_policies),
        row("Administrators (role assignments)", &s.admins),
        row("MFA registration", &s.registration),
        row("Intune compliance policies", &s.compliance_policies),
        row("Managed devices", &s.devices),
    ]
}

#[derive(Deserialize)]
struct ExportQ {
    format: Option<String>,
    framework: Option<String>,
}

async fn export_get(
    _staff: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ExportQ>,
) -> Result<HttpResponse, WebError> {
    let format = PackFormat::parse(q.format.as_deref()).map_err(WebError::BadRequest)?;
    let f = framework(q.framework.as_deref())?;
    let company = st.services.company(id.get()).await?;
    match respond(&st, &company, f.as_deref(), format).await {
        Ok(r) => Ok(r),
        Err(PackError::Domain(e)) => Err(e.into()),
        Err(PackError::NoEvidence(m)) => Err(WebError::NotFound(m)),
        Err(PackError::Internal(e)) => Err(WebError::Internal(anyhow::anyhow!(e))),
    }
}

#[derive(Deserialize)]
struct OverviewQ {
    sort: Option<String>,
    notice: Option<String>,
}

async fn overview_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<OverviewQ>,
) -> Result<OverviewPage, WebError> {
    let mut rows = st.services.compliance_overview().await?;
    let sort = match q.sort.as_deref() {
        Some("name") => {
            sort_by_name(&mut rows);
            "name"
        }
        _ => "worst",
    };
    let columns = overview_columns(&rows);
    Ok(OverviewPage {
        chrome: Chrome::new(&staff, "compliance", q.notice.as_deref()),
        lines: overview_lines(rows, &columns),
        columns,
        sort,
    })
}
