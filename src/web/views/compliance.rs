//! Compliance evidence pages: the company's Compliance tab, its snapshots, the MSP-wide
//! overview and the printable evidence report. The controls are turned into [`ControlView`]s
//! once, here, and the page, the report and the CSV export all read those, so they cannot
//! show different facts.

use super::Chrome;
use super::compliance_chart::Chart;
use crate::model::{
    Assessment, Company, ControlResult, ControlStatus, EvidenceSettings, FrameworkInfo,
    FrameworkScore, OverviewRow, PayloadHash, SnapshotSummary,
};
use crate::web::pager::Pager;
use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};

/// The grid's columns: control id and a short header. The order is the (1–10);
/// a control the overview reports that is not listed here is shown after these.
pub const CONTROL_COLUMNS: &[(&str, &str)] = &[
    ("mfa_all_users", "MFA all users"),
    ("mfa_admins", "MFA admins"),
    ("legacy_auth_blocked", "Legacy auth blocked"),
    ("admins_mfa_registered", "Admins registered"),
    ("mfa_registration_coverage", "MFA coverage"),
    ("device_compliance", "Device compliance"),
    ("compliance_policy_per_platform", "Policy per platform"),
    ("ca_requires_compliant_device", "CA compliant device"),
    ("device_encryption", "Encryption"),
    ("policy_drift", "Policy drift"),
];

/// The badge class for a status (colour), always shown with its words.
pub fn status_class(s: ControlStatus) -> &'static str {
    match s {
        ControlStatus::Pass => "pass",
        ControlStatus::Fail => "fail",
        ControlStatus::NotLicensed => "not-licensed",
        ControlStatus::NotCollected => "not-collected",
        ControlStatus::Manual => "manual",
    }
}

/// One line of evidence, with where it links (a contact's page, the asset in the company's
/// Assets tab) when it names one.
#[derive(Debug, Clone, PartialEq)]
pub struct FactLine {
    pub text: String,
    pub href: Option<String>,
}

/// A labelled group of lines ("Excluded users", "Changed: Require MFA").
#[derive(Debug, Clone, PartialEq)]
pub struct FactGroup {
    pub label: String,
    pub lines: Vec<FactLine>,
}

/// A control as every view of it shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlView {
    pub id: String,
    pub title: String,
    pub status: ControlStatus,
    pub summary: String,
    pub percent: Option<String>,
    pub groups: Vec<FactGroup>,
    /// "SOC 2 CC6.1, ISO/IEC 27001:2022 A.5.17" — framework names, not ids.
    pub refs: Vec<String>,
}

impl ControlView {
    pub fn class(&self) -> &'static str {
        status_class(self.status)
    }
    pub fn label(&self) -> &'static str {
        self.status.label()
    }
}

/// A framework id in its name ("soc2" → "SOC 2").
fn framework_name(frameworks: &[FrameworkInfo], id: &str) -> String {
    frameworks
        .iter()
        .find(|f| f.id == id)
        .map(|f| f.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// "92.5 %", "100 %": tenths rounded down, as the evaluation words them (94.99 % must not
/// read as a threshold of 95 % met).
pub fn percent_text(v: f64) -> String {
    format!("{} %", tenths(v))
}

/// `v` to one decimal, rounded down, without a trailing ".0".
pub fn tenths(v: f64) -> String {
    let t = (v * 10.0).floor() as i64;
    if t % 10 == 0 {
        format!("{}", t / 10)
    } else {
        format!("{}.{}", t / 10, (t % 10).abs())
    }
}

impl ControlView {
    pub fn new(company_id: u64, c: &ControlResult, frameworks: &[FrameworkInfo]) -> Self {
        // The drift control's changes are among its facts already (the evaluation words
        // them), so `c.drift` is not listed twice.
        let groups: Vec<FactGroup> = c
            .facts
            .iter()
            .map(|f| FactGroup {
                label: f.label.clone(),
                lines: f
                    .items
                    .iter()
                    .map(|i| FactLine {
                        text: i.text.clone(),
                        href: match (i.contact_id, i.asset_id) {
                            (Some(cid), _) => {
                                Some(format!("/companies/{company_id}/contacts/{cid}"))
                            }
                            (None, Some(aid)) => {
                                Some(format!("/companies/{company_id}/assets/{aid}"))
                            }
                            (None, None) => None,
                        },
                    })
                    .collect(),
            })
            .collect();
        Self {
            id: c.id.clone(),
            title: c.title.clone(),
            status: c.status,
            summary: c.summary.clone(),
            percent: c.percent.map(percent_text),
            groups,
            refs: c
                .frameworks
                .iter()
                .map(|r| {
                    format!(
                        "{} {}",
                        framework_name(frameworks, &r.framework),
                        r.control_id
                    )
                })
                .collect(),
        }
    }
}

/// What the tab, the report and the exports show of one assessment.
#[derive(Debug, Clone)]
pub struct AssessmentView {
    pub snapshot_id: u64,
    pub collected_at: DateTime<Utc>,
    pub previous_snapshot_id: Option<u64>,
    pub controls: Vec<ControlView>,
    pub scores: Vec<FrameworkScore>,
    /// "Entra ID P1: yes · P2: no · Intune: yes (from subscribedSkus)".
    pub licences: String,
    /// "On", "Off", or why it is unknown.
    pub security_defaults: String,
    pub permission_problems: Vec<String>,
    pub payloads: Vec<PayloadHash>,
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

impl AssessmentView {
    pub fn new(a: &Assessment, frameworks: &[FrameworkInfo]) -> Self {
        let licences = match &a.licences {
            Some(l) => format!(
                "Entra ID P1: {} · P2: {} · Intune: {} (from {})",
                yes_no(l.entra_p1),
                yes_no(l.entra_p2),
                yes_no(l.intune),
                if l.source == "subscribed_skus" {
                    "the tenant's subscriptions"
                } else {
                    "Microsoft Graph's answers"
                }
            ),
            None => "Licences could not be read.".into(),
        };
        let security_defaults = match a.security_defaults {
            Some(true) => "On".into(),
            Some(false) => "Off".into(),
            None => "Could not be read".into(),
        };
        Self {
            snapshot_id: a.snapshot_id,
            collected_at: a.collected_at,
            previous_snapshot_id: a.previous_snapshot_id,
            controls: a
                .controls
                .iter()
                .map(|c| ControlView::new(a.company_id, c, frameworks))
                .collect(),
            scores: a.scores.clone(),
            licences,
            security_defaults,
            permission_problems: a.permission_problems.clone(),
            payloads: a.payloads.clone(),
        }
    }
}

/// A link of the framework selector.
pub struct FrameworkLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// A framework checkbox of the settings form.
pub struct FrameworkChoice {
    pub id: String,
    pub name: String,
    pub checked: bool,
}

/// Company → Compliance.
#[derive(Template, WebTemplate)]
#[template(path = "compliance/tab.html")]
pub struct ComplianceTab {
    pub chrome: Chrome,
    pub company: Company,
    pub selector: Vec<FrameworkLink>,
    /// The framework picked in the selector, by name; empty: the company's frameworks.
    pub framework_name: String,
    /// `&framework=soc2` for export links; empty for all.
    pub framework_query: String,
    pub assessment: Option<AssessmentView>,
    pub chart: Chart,
    pub settings: EvidenceSettings,
    pub choices: Vec<FrameworkChoice>,
    pub settings_error: String,
    /// The next scheduled collection, in words.
    pub next_run: String,
    /// The audit log around the collection that made the snapshot.
    pub audit_href: String,
    /// Whether the company can be collected from (connected, not archived).
    pub can_collect: bool,
    /// A collection queued or running now ("queued", "running"), with its job id.
    pub active_job: Option<(u64, String)>,
}

/// Company → Compliance → Snapshots.
#[derive(Template, WebTemplate)]
#[template(path = "compliance/snapshots.html")]
pub struct SnapshotsPage {
    pub chrome: Chrome,
    pub company: Company,
    pub rows: Vec<SnapshotSummary>,
    pub pager: Pager,
    pub frameworks: Vec<FrameworkInfo>,
}

impl SnapshotsPage {
    /// "0 pass · 2 fail · 1 not licensed" for a row.
    pub fn counts(&self, s: &SnapshotSummary) -> String {
        let mut parts = Vec::new();
        for status in [
            ControlStatus::Pass,
            ControlStatus::Fail,
            ControlStatus::NotLicensed,
            ControlStatus::NotCollected,
            ControlStatus::Manual,
        ] {
            let n = s.statuses.values().filter(|v| **v == status).count();
            if n > 0 {
                parts.push(format!("{n} {}", status.label().to_lowercase()));
            }
        }
        parts.join(" · ")
    }
    pub fn pct(&self, v: &Option<f64>) -> String {
        v.map(percent_text).unwrap_or_else(|| "—".into())
    }
}

/// One collection of evidence, in full.
#[derive(Template, WebTemplate)]
#[template(path = "compliance/snapshot.html")]
pub struct SnapshotPage {
    pub chrome: Chrome,
    pub company: Company,
    pub tenant_id: String,
    pub job_id: Option<u64>,
    pub audit_href: String,
    pub assessment: AssessmentView,
    /// (source, state in words, detail) per source of evidence.
    pub sources: Vec<(String, String, String)>,
    pub registration_source: String,
    pub thresholds: String,
}

/// The printable evidence pack.
#[derive(Template, WebTemplate)]
#[template(path = "compliance/report.html")]
pub struct EvidenceReport {
    pub company: Company,
    pub framework_name: String,
    pub generated_at: DateTime<Utc>,
    pub assessment: AssessmentView,
    pub tenant: String,
}

/// One cell of the overview grid.
pub struct OverviewCell {
    pub status: Option<ControlStatus>,
}

impl OverviewCell {
    pub fn class(&self) -> &'static str {
        self.status.map(status_class).unwrap_or("none")
    }
    pub fn label(&self) -> &'static str {
        self.status.map(|s| s.label()).unwrap_or("—")
    }
}

pub struct OverviewLine {
    pub row: OverviewRow,
    pub cells: Vec<OverviewCell>,
}

/// Compliance (MSP-wide): every active company × every control.
#[derive(Template, WebTemplate)]
#[template(path = "compliance/overview.html")]
pub struct OverviewPage {
    pub chrome: Chrome,
    /// (id, header) per column.
    pub columns: Vec<(String, String)>,
    pub lines: Vec<OverviewLine>,
    /// `worst` or `name`.
    pub sort: &'static str,
}

/// The grid's columns for `rows`: the known controls in order, then any other the rows name.
pub fn overview_columns(rows: &[OverviewRow]) -> Vec<(String, String)> {
    let mut cols: Vec<(String, String)> = CONTROL_COLUMNS
        .iter()
        .map(|(id, h)| (id.to_string(), h.to_string()))
        .collect();
    for r in rows {
        for id in r.statuses.keys() {
            if !cols.iter().any(|(c, _)| c == id) {
                cols.push((id.clone(), id.replace('_', " ")));
            }
        }
    }
    cols
}

/// The overview by company name (case-insensitive), instead of worst first.
pub fn sort_by_name(rows: &mut [OverviewRow]) {
    rows.sort_by_key(|r| (r.company_name.to_lowercase(), r.company_id));
}

/// The grid: one line per company, one cell per column.
pub fn overview_lines(rows: Vec<OverviewRow>, columns: &[(String, String)]) -> Vec<OverviewLine> {
    rows.into_iter()
        .map(|row| OverviewLine {
            cells: columns
                .iter()
                .map(|(id, _)| OverviewCell {
                    status: row.statuses.get(id).copied(),
                })
                .collect(),
            row,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DriftChange, DriftKind, Fact, FactItem, FieldChange, FrameworkRef};

    fn frameworks() -> Vec<FrameworkInfo> {
        vec![FrameworkInfo {
            id: "soc2".into(),
            name: "SOC 2".into(),
        }]
    }

    fn control() -> ControlResult {
        ControlResult {
            id: "device_compliance".into(),
            title: "Device compliance".into(),
            status: ControlStatus::Fail,
            summary: "2 of 10 devices are not compliant.".into(),
            facts: vec![Fact {
                label: "Not compliant".into(),
                items: vec![
                    FactItem {
                        text: "LAPTOP-7 (windows)".into(),
                        asset_id: Some(5),
                        contact_id: None,
                    },
                    FactItem {
                        text: "Ann Lee".into(),
                        asset_id: None,
                        contact_id: Some(12),
                    },
                    FactItem {
                        text: "plain".into(),
                        asset_id: None,
                        contact_id: None,
                    },
                ],
            }],
            percent: Some(80.0),
            drift: vec![DriftChange {
                object: "conditional_access_policy".into(),
                id: "p1".into(),
                display_name: "Require MFA".into(),
                kind: DriftKind::Changed,
                fields: vec![FieldChange {
                    field: "state".into(),
                    before: "enabled".into(),
                    after: "enabledForReportingButNotEnforced".into(),
                }],
            }],
            frameworks: vec![
                FrameworkRef {
                    framework: "soc2".into(),
                    control_id: "CC6.8".into(),
                    title: "t".into(),
                },
                FrameworkRef {
                    framework: "hipaa".into(),
                    control_id: "§164.312(a)(1)".into(),
                    title: "t".into(),
                },
            ],
        }
    }

    #[test]
    fn facts_link_contacts_and_assets() {
        let v = ControlView::new(7, &control(), &frameworks());
        assert_eq!(v.percent.as_deref(), Some("80 %"));
        assert_eq!(v.class(), "fail");
        assert_eq!(v.label(), "Fail");
        let lines = &v.groups[0].lines;
        assert_eq!(lines[0].href.as_deref(), Some("/companies/7/assets/5"));
        assert_eq!(lines[1].href.as_deref(), Some("/companies/7/contacts/12"));
        assert_eq!(lines[2].href, None);
        assert_eq!(v.groups.len(), 1, "drift is worded in the facts, not twice");
        assert_eq!(v.refs, ["SOC 2 CC6.8", "hipaa §164.312(a)(1)"]);
    }

    #[test]
    fn percentages_round_down_to_tenths() {
        assert_eq!(percent_text(72.79), "72.7 %");
        assert_eq!(percent_text(94.999), "94.9 %");
        assert_eq!(percent_text(100.0), "100 %");
        assert_eq!(percent_text(0.05), "0 %");
    }

    #[test]
    fn the_grid_has_every_known_control_then_the_others() {
        let row = OverviewRow {
            company_id: 1,
            company_name: "A".into(),
            collected_at: None,
            statuses: [
                ("mfa_admins".to_string(), ControlStatus::Fail),
                ("new_control".to_string(), ControlStatus::Pass),
            ]
            .into(),
            failing: 1,
            not_collected: 0,
        };
        let cols = overview_columns(std::slice::from_ref(&row));
        assert_eq!(cols.len(), CONTROL_COLUMNS.len() + 1);
        assert_eq!(cols.last().map(|c| c.1.as_str()), Some("new control"));
        let lines = overview_lines(vec![row], &cols);
        assert_eq!(lines[0].cells[1].label(), "Fail");
        assert_eq!(lines[0].cells[0].label(), "—");
        assert_eq!(lines[0].cells[0].class(), "none");
    }
}
