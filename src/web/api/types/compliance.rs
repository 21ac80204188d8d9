//! Compliance evidence: a company's assessment (controls, facts, framework references and
//! scores over one snapshot), its snapshots, the MSP-wide overview, the evidence settings and
//! the JSON evidence pack. The Compliance tab, the exports and these answers are built from
//! the same assessment, so they show the same controls, statuses and facts.

use crate::model;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The snapshot an assessment was evaluated over.
#[derive(Debug, Serialize)]
pub struct SnapshotRef {
    /// The snapshot's id (`/api/v1/companies/{id}/evidence/{snapshot_id}`).
    pub id: u64,
    /// When the evidence was collected.
    pub collected_at: DateTime<Utc>,
    /// The collection job (its audit entries carry the same job id); null if unknown.
    pub job_id: Option<u64>,
    /// The snapshot drift is measured against; null for the first.
    pub previous_snapshot_id: Option<u64>,
}

/// One line of evidence, optionally naming a contact or an asset of the company.
#[derive(Debug, Serialize)]
pub struct FactItem {
    pub text: String,
    pub contact_id: Option<u64>,
    pub asset_id: Option<u64>,
}

/// A labelled group of evidence lines ("Excluded users", "Not registered", ...).
#[derive(Debug, Serialize)]
pub struct Fact {
    pub label: String,
    pub items: Vec<FactItem>,
}

/// A framework control a Tenantry control maps to.
#[derive(Debug, Serialize)]
pub struct FrameworkRef {
    /// `soc2`, `iso27001`, `cis8`, `nist_csf2`, `cyber_essentials`, `hipaa`.
    pub framework: String,
    /// The framework's own id (`CC6.1`, `A.5.17`, `PR.AA-03`).
    pub control_id: String,
    pub title: String,
}

/// A field of a policy that changed between two snapshots.
#[derive(Debug, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// A Conditional Access or compliance policy added, removed or changed.
#[derive(Debug, Serialize)]
pub struct DriftChange {
    /// `conditional_access_policy` or `compliance_policy`.
    pub object: String,
    pub id: String,
    pub display_name: String,
    /// `added`, `removed` or `changed`.
    pub kind: model::DriftKind,
    pub fields: Vec<FieldChange>,
}

/// One control evaluated over the snapshot.
#[derive(Debug, Serialize)]
pub struct Control {
    /// Stable id (`mfa_all_users`, `device_compliance`, ...).
    pub id: String,
    pub title: String,
    /// `pass`, `fail`, `not_licensed`, `not_collected` or `manual`.
    pub status: model::ControlStatus,
    /// The status in words ("Not licensed").
    pub status_label: String,
    /// Why, in one sentence.
    pub summary: String,
    /// The measured percentage for controls that have one; null otherwise.
    pub percent: Option<f64>,
    /// The evidence behind the status.
    pub facts: Vec<Fact>,
    /// Policy drift since the previous snapshot (the drift control only).
    pub drift: Vec<DriftChange>,
    /// The framework controls this control supports.
    pub frameworks: Vec<FrameworkRef>,
}

impl From<model::ControlResult> for Control {
    fn from(c: model::ControlResult) -> Self {
        Self {
            status_label: c.status.label().to_string(),
            id: c.id,
            title: c.title,
            status: c.status,
            summary: c.summary,
            percent: c.percent,
            facts: c
                .facts
                .into_iter()
                .map(|f| Fact {
                    label: f.label,
                    items: f
                        .items
                        .into_iter()
                        .map(|i| FactItem {
                            text: i.text,
                            contact_id: i.contact_id,
                            asset_id: i.asset_id,
                        })
                        .collect(),
                })
                .collect(),
            drift: c
                .drift
                .into_iter()
                .map(|d| DriftChange {
                    object: d.object,
                    id: d.id,
                    display_name: d.display_name,
                    kind: d.kind,
                    fields: d
                        .fields
                        .into_iter()
                        .map(|f| FieldChange {
                            field: f.field,
                            before: f.before,
                            after: f.after,
                        })
                        .collect(),
                })
                .collect(),
            frameworks: c
                .frameworks
                .into_iter()
                .map(|f| FrameworkRef {
                    framework: f.framework,
                    control_id: f.control_id,
                    title: f.title,
                })
                .collect(),
        }
    }
}

/// A framework's score: controls passing / controls evaluable (pass or fail); the others
/// are counted apart and never as passing.
#[derive(Debug, Clone, Serialize)]
pub struct Score {
    pub framework: String,
    pub name: String,
    /// passing × 100 / evaluable, rounded down; null when nothing was evaluable.
    pub percent: Option<u8>,
    pub passing: u32,
    pub evaluable: u32,
    pub not_licensed: u32,
    pub not_collected: u32,
    pub manual: u32,
}

impl From<model::FrameworkScore> for Score {
    fn from(s: model::FrameworkScore) -> Self {
        Self {
            framework: s.framework,
            name: s.name,
            percent: s.percent,
            passing: s.passing,
            evaluable: s.evaluable,
            not_licensed: s.not_licensed,
            not_collected: s.not_collected,
            manual: s.manual,
        }
    }
}

/// A SKU the tenant subscribes to.
#[derive(Debug, Serialize)]
pub struct Sku {
    pub sku: String,
    /// `Enabled`, `Warning`, `Suspended`, `Deleted`, ...
    pub status: String,
}

/// The licences the tenant holds, as decided at collection.
#[derive(Debug, Serialize)]
pub struct Licences {
    pub entra_p1: bool,
    pub entra_p2: bool,
    pub intune: bool,
    /// `subscribed_skus`, or `graph_answers` when the SKU list was unreadable.
    pub source: String,
    pub skus: Vec<Sku>,
}

impl From<model::Licences> for Licences {
    fn from(l: model::Licences) -> Self {
        Self {
            entra_p1: l.entra_p1,
            entra_p2: l.entra_p2,
            intune: l.intune,
            source: l.source,
            skus: l
                .skus
                .into_iter()
                .map(|(sku, status)| Sku { sku, status })
                .collect(),
        }
    }
}

/// The SHA-256 of a raw Graph payload the snapshot was built from.
#[derive(Debug, Serialize)]
pub struct PayloadHash {
    /// What was read (`identity/conditionalAccess/policies`, `subscribedSkus`, ...).
    pub source: String,
    pub pages: u32,
    /// Lower-case hex over the pages' bodies as received, in order.
    pub sha256: String,
    /// Graph's `request-id` of the first page.
    pub request_id: Option<String>,
    pub http_status: u16,
}

impl From<model::PayloadHash> for PayloadHash {
    fn from(p: model::PayloadHash) -> Self {
        Self {
            source: p.source,
            pages: p.pages,
            sha256: p.sha256,
            request_id: p.request_id,
            http_status: p.http_status,
        }
    }
}

/// `GET /companies/{id}/compliance`: the latest snapshot evaluated.
#[derive(Debug, Serialize)]
pub struct Compliance {
    pub company_id: u64,
    /// The framework asked for; null: the company's chosen frameworks.
    pub framework: Option<String>,
    pub snapshot: SnapshotRef,
    /// Null when the licences could not be decided.
    pub licences: Option<Licences>,
    /// Security defaults on; null when unreadable.
    pub security_defaults: Option<bool>,
    /// "Grant X and consent again": permissions the tenant's consent lacks.
    pub permission_problems: Vec<String>,
    pub controls: Vec<Control>,
    /// The asked framework's score (null when no framework was asked for; see `scores`).
    pub score: Option<Score>,
    /// Every assessed framework's score.
    pub scores: Vec<Score>,
    pub payloads: Vec<PayloadHash>,
}

impl Compliance {
    pub fn new(a: model::Assessment, framework: Option<&str>) -> Self {
        let scores: Vec<Score> = a.scores.into_iter().map(Score::from).collect();
        let score = framework.and_then(|f| scores.iter().find(|s| s.framework == f).cloned());
        Self {
            company_id: a.company_id,
            framework: framework.map(str::to_string),
            snapshot: SnapshotRef {
                id: a.snapshot_id,
                collected_at: a.collected_at,
                job_id: None,
                previous_snapshot_id: a.previous_snapshot_id,
            },
            licences: a.licences.map(Into::into),
            security_defaults: a.security_defaults,
            permission_problems: a.permission_problems,
            controls: a.controls.into_iter().map(Into::into).collect(),
            score,
            scores,
            payloads: a.payloads.into_iter().map(Into::into).collect(),
        }
    }

    /// With the collection job's id (the assessment does not carry it).
    pub fn with_job(mut self, job_id: Option<u64>) -> Self {
        self.snapshot.job_id = job_id;
        self
    }
}

/// How one source of evidence fared in a collection.
#[derive(Debug, Serialize)]
pub struct SourceState {
    /// `licences`, `security_defaults`, `conditional_access`, `admins`, `registration`,
    /// `compliance_policies`, `devices`.
    pub source: String,
    /// `collected`, `not_licensed`, `missing_permission` or `failed`.
    pub state: String,
    /// Why, when not collected (Graph's code, the permission to grant, the error).
    pub detail: String,
}

impl SourceState {
    pub fn of<T>(source: &str, c: &model::Collected<T>) -> Self {
        let (state, detail) = match c {
            model::Collected::Collected { .. } => ("collected", String::new()),
            model::Collected::NotLicensed { reason, graph_code } => (
                "not_licensed",
                match graph_code {
                    Some(code) => format!("{reason} ({code})"),
                    None => reason.clone(),
                },
            ),
            model::Collected::MissingPermission { permission, .. } => (
                "missing_permission",
                format!("grant {permission} and consent again"),
            ),
            model::Collected::Failed { error } => ("failed", error.clone()),
        };
        Self {
            source: source.to_string(),
            state: state.to_string(),
            detail,
        }
    }

    /// Every source of a snapshot, in collection order.
    pub fn all(s: &model::EvidenceSnapshot) -> Vec<Self> {
        vec![
            Self::of("licences", &s.licences),
            Self::of("security_defaults", &s.security_defaults),
            Self::of("conditional_access", &s.ca_policies),
            Self::of("admins", &s.admins),
            Self::of("registration", &s.registration),
            Self::of("compliance_policies", &s.compliance_policies),
            Self::of("devices", &s.devices),
        ]
    }
}

/// `GET /companies/{id}/evidence/{snapshot_id}`: one snapshot, evaluated, with how each
/// source of evidence fared.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    #[serde(flatten)]
    pub assessment: Compliance,
    pub tenant_id: String,
    /// Where the MFA registration facts came from: `report`, `per_user_methods`, or null.
    pub registration_source: Option<model::RegistrationSource>,
    pub thresholds: Thresholds,
    pub sources: Vec<SourceState>,
}

/// A snapshot in the list (`GET /companies/{id}/evidence`).
#[derive(Debug, Serialize)]
pub struct SnapshotItem {
    pub id: u64,
    pub collected_at: DateTime<Utc>,
    pub job_id: Option<u64>,
    /// Control id → status, as evaluated when stored.
    pub statuses: BTreeMap<String, model::ControlStatus>,
    /// Framework id → score percent (null when nothing was evaluable).
    pub scores: BTreeMap<String, Option<u8>>,
    pub mfa_registration_pct: Option<f64>,
    pub device_compliance_pct: Option<f64>,
    /// Policies changed since the previous snapshot.
    pub drift: bool,
}

impl From<model::SnapshotSummary> for SnapshotItem {
    fn from(s: model::SnapshotSummary) -> Self {
        Self {
            id: s.id,
            collected_at: s.collected_at,
            job_id: s.job_id,
            statuses: s.statuses,
            scores: s.scores,
            mfa_registration_pct: s.mfa_registration_pct,
            device_compliance_pct: s.device_compliance_pct,
            drift: s.drift,
        }
    }
}

/// One company in the MSP-wide overview.
#[derive(Debug, Serialize)]
pub struct OverviewItem {
    pub company_id: u64,
    pub company_name: String,
    /// The latest collection; null: never collected.
    pub collected_at: Option<DateTime<Utc>>,
    /// Control id → status in the latest snapshot.
    pub statuses: BTreeMap<String, model::ControlStatus>,
    pub failing: u32,
    pub not_collected: u32,
}

impl From<model::OverviewRow> for OverviewItem {
    fn from(r: model::OverviewRow) -> Self {
        Self {
            company_id: r.company_id,
            company_name: r.company_name,
            collected_at: r.collected_at,
            statuses: r.statuses,
            failing: r.failing,
            not_collected: r.not_collected,
        }
    }
}

/// `GET /compliance`: every active, connected company, worst first.
#[derive(Debug, Serialize)]
pub struct Overview {
    /// Control ids, in the grid's column order.
    pub controls: Vec<String>,
    pub items: Vec<OverviewItem>,
    pub total: usize,
}

/// The two thresholds a company sets.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Minimum % of enabled member users registered for MFA (1–100).
    pub mfa_registration_pct: u8,
    /// Minimum % of managed devices compliant (1–100).
    pub device_compliance_pct: u8,
}

impl From<model::EvidenceThresholds> for Thresholds {
    fn from(t: model::EvidenceThresholds) -> Self {
        Self {
            mfa_registration_pct: t.mfa_registration_pct,
            device_compliance_pct: t.device_compliance_pct,
        }
    }
}

/// A framework Tenantry maps to.
#[derive(Debug, Serialize)]
pub struct Framework {
    pub id: String,
    pub name: String,
}

/// `GET /companies/{id}/evidence/settings`.
#[derive(Debug, Serialize)]
pub struct EvidenceSettings {
    /// The frameworks the company is assessed against (every one when empty).
    pub frameworks: Vec<String>,
    pub thresholds: Thresholds,
    /// Every framework id that can be chosen.
    pub available_frameworks: Vec<Framework>,
}

impl EvidenceSettings {
    pub fn new(s: model::EvidenceSettings, all: Vec<model::FrameworkInfo>) -> Self {
        Self {
            frameworks: s.frameworks,
            thresholds: s.thresholds.into(),
            available_frameworks: all
                .into_iter()
                .map(|f| Framework {
                    id: f.id,
                    name: f.name,
                })
                .collect(),
        }
    }
}

/// `PUT /companies/{id}/evidence/settings`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceSettingsBody {
    /// Framework ids; empty: every framework.
    pub frameworks: Vec<String>,
    pub thresholds: Thresholds,
}

/// `POST /compliance/collect`: how many collections were queued (companies already
/// collecting are skipped; the jobs are under `/api/v1/jobs`).
#[derive(Debug, Serialize)]
pub struct QueuedCount {
    pub queued: usize,
}

/// The company an evidence pack is about.
#[derive(Debug, Serialize)]
pub struct PackCompany {
    pub id: u64,
    pub name: String,
}

/// The JSON evidence pack (`…/compliance/export?format=json`): the assessment as the page
/// shows it, with the company and when the pack was made.
#[derive(Debug, Serialize)]
pub struct EvidencePack {
    pub company: PackCompany,
    pub generated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub assessment: Compliance,
}

// The golden snapshots beside this file (the API-type scan reads this folder's files).
#[cfg(test)]
#[path = "compliance_tests.rs"]
mod tests;
