//! Compliance evidence through the API: collect (202 with the job; 409 for archived or
//! unconnected companies), the latest assessment, snapshots, the MSP-wide overview, the
//! evidence pack, and the company's evidence settings (as the Compliance tab has them).
//! An unknown framework id is refused with 400 `unknown_framework`.

use super::audit::{list_query, present};
use super::evidence_pack::{PackError, PackFormat, collection_job, framework_param, respond};
use super::types::compliance::{
    Compliance, EvidenceSettings, EvidenceSettingsBody, Overview, QueuedCount, Snapshot,
    SnapshotItem, SourceState,
};
use super::types::jobs::QueuedJob;
use super::types::page;
use super::{ApiCaller, ApiError, ApiPage, ApiResult};
use crate::model::{self, Trigger};
use crate::web::AppState;
use crate::web::ids::Id;
use crate::web::views::compliance::{overview_columns, sort_by_name};
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/companies/{id}/evidence/collect", web::post().to(collect))
        .route(
            "/companies/{id}/evidence/settings",
            web::get().to(settings_get),
        )
        .route(
            "/companies/{id}/evidence/settings",
            web::put().to(settings_put),
        )
        .route("/companies/{id}/evidence", web::get().to(snapshots))
        .route(
            "/companies/{id}/evidence/{snapshot_id}",
            web::get().to(snapshot),
        )
        .route("/companies/{id}/compliance", web::get().to(compliance))
        .route("/companies/{id}/compliance/export", web::get().to(export))
        .route("/compliance", web::get().to(overview))
        .route("/compliance/collect", web::post().to(collect_all));
}

fn framework(v: Option<&str>) -> ApiResult<Option<String>> {
    framework_param(v).map_err(|m| ApiError::new(400, "unknown_framework", m))
}

fn no_evidence(name: &str) -> ApiError {
    ApiError::new(
        404,
        "no_evidence",
        format!("No evidence has been collected for {name} yet; POST …/evidence/collect first."),
    )
}

async fn collect(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<HttpResponse> {
    let q = st
        .services
        .queue_evidence_collection(who.actor(), id.get(), Trigger::Api)
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("location", format!("/api/v1/jobs/{}", q.job.id)))
        .json(QueuedJob {
            job: q.job.into(),
            created: q.created,
        }))
}

/// Every connected, active company; 202 with how many were queued (the jobs themselves are
/// under `/api/v1/jobs`).
async fn collect_all(who: ApiCaller, st: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let n = st
        .services
        .queue_evidence_collection_all(who.actor(), Trigger::Api)
        .await?;
    Ok(HttpResponse::Accepted().json(QueuedCount { queued: n }))
}

#[derive(Debug, Deserialize)]
struct FrameworkQ {
    framework: Option<String>,
}

async fn compliance(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<FrameworkQ>,
) -> ApiResult<web::Json<Compliance>> {
    let f = framework(q.framework.as_deref())?;
    let company = st.services.company(id.get()).await?;
    let Some(a) = st.services.compliance(company.id, f.as_deref()).await? else {
        return Err(no_evidence(&company.name));
    };
    let job = collection_job(&st, company.id, a.snapshot_id).await?;
    Ok(web::Json(Compliance::new(a, f.as_deref()).with_job(job)))
}

#[derive(Debug, Deserialize)]
struct PageQ {
    page: Option<String>,
    per_page: Option<String>,
}

async fn snapshots(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<PageQ>,
) -> ApiResult<web::Json<ApiPage<SnapshotItem>>> {
    let list = list_query(q.page.as_deref(), q.per_page.as_deref(), None, None, None)?;
    let company = st.services.company(id.get()).await?;
    Ok(web::Json(page(
        st.services.evidence_snapshots(company.id, list).await?,
    )))
}

async fn snapshot(
    _: ApiCaller,
    st: web::Data<AppState>,
    path: web::Path<(Id, Id)>,
    q: web::Query<FrameworkQ>,
) -> ApiResult<web::Json<Snapshot>> {
    let (company, snapshot) = path.into_inner();
    let f = framework(q.framework.as_deref())?;
    let s = st
        .services
        .evidence_snapshot(company.get(), snapshot.get())
        .await?;
    let a = st
        .services
        .assessment_of(company.get(), snapshot.get(), f.as_deref())
        .await?;
    Ok(web::Json(Snapshot {
        sources: SourceState::all(&s),
        tenant_id: s.tenant_id,
        registration_source: s.registration_source,
        thresholds: s.thresholds.into(),
        assessment: Compliance::new(a, f.as_deref()).with_job(s.job_id),
    }))
}

#[derive(Debug, Deserialize)]
struct OverviewQ {
    sort: Option<String>,
}

async fn overview(
    _: ApiCaller,
    st: web::Data<AppState>,
    q: web::Query<OverviewQ>,
) -> ApiResult<web::Json<Overview>> {
    let by_name = match present(q.sort.as_deref()) {
        None | Some("worst") => false,
        Some("name") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "sort {other:?} is not one of worst, name"
            )));
        }
    };
    let mut rows = st.services.compliance_overview().await?;
    if by_name {
        sort_by_name(&mut rows);
    }
    let controls = overview_columns(&rows).into_iter().map(|c| c.0).collect();
    Ok(web::Json(Overview {
        controls,
        total: rows.len(),
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize)]
struct ExportQ {
    format: Option<String>,
    framework: Option<String>,
}

async fn export(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<ExportQ>,
) -> ApiResult<HttpResponse> {
    let format = PackFormat::parse(present(q.format.as_deref()))
        .map_err(|m| ApiError::new(400, "unknown_format", m))?;
    let f = framework(q.framework.as_deref())?;
    let company = st.services.company(id.get()).await?;
    match respond(&st, &company, f.as_deref(), format).await {
        Ok(r) => Ok(r),
        Err(PackError::Domain(e)) => Err(e.into()),
        Err(PackError::NoEvidence(_)) => Err(no_evidence(&company.name)),
        Err(PackError::Internal(e)) => {
            tracing::error!(error = %e, "evidence pack failed");
            Err(ApiError::new(
                500,
                "internal",
                "internal error; see the service log",
            ))
        }
    }
}

async fn settings_get(
    _: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> ApiResult<web::Json<EvidenceSettings>> {
    let s = st.services.evidence_settings(id.get()).await?;
    Ok(web::Json(EvidenceSettings::new(
        s,
        crate::domain::evidence::frameworks(),
    )))
}

async fn settings_put(
    who: ApiCaller,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    body: web::Json<EvidenceSettingsBody>,
) -> ApiResult<web::Json<EvidenceSettings>> {
    let body = body.into_inner();
    for f in &body.frameworks {
        framework(Some(f))?;
    }
    let company = st.services.company(id.get()).await?;
    let saved = st
        .services
        .set_evidence_settings(
            who.actor(),
            company.id,
            model::EvidenceSettings {
                frameworks: body.frameworks,
                thresholds: model::EvidenceThresholds {
                    mfa_registration_pct: body.thresholds.mfa_registration_pct,
                    device_compliance_pct: body.thresholds.device_compliance_pct,
                },
            },
        )
        .await?;
    Ok(web::Json(EvidenceSettings::new(
        saved,
        crate::domain::evidence::frameworks(),
    )))
}
