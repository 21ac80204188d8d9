//! The evidence pack of one company and framework, in the three forms an auditor asks for:
//! a printable HTML report (print it to PDF from the browser), JSON and CSV. The staff page's
//! export links and `GET /api/v1/companies/{id}/compliance/export` both answer through
//! [`respond`], and all three forms are built from the same [`AssessmentView`] the Compliance
//! tab shows, so they carry the same controls, statuses and facts.

use super::types::compliance::{Compliance, EvidencePack, PackCompany};
use crate::domain::DomainError;
use crate::model::{Company, ListQuery};
use crate::web::AppState;
use crate::web::views::compliance::{AssessmentView, EvidenceReport};
use actix_web::HttpResponse;
use actix_web::http::header;
use askama::Template;
use chrono::{DateTime, Utc};

/// The forms of the pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackFormat {
    Html,
    Json,
    Csv,
}

impl PackFormat {
    /// `html` (the default), `json` or `csv`; anything else is refused with the choices.
    pub fn parse(v: Option<&str>) -> Result<Self, String> {
        match v.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("html") => Ok(Self::Html),
            Some("json") => Ok(Self::Json),
            Some("csv") => Ok(Self::Csv),
            Some(other) => Err(format!("format {other:?} is not one of html, json, csv")),
        }
    }
    fn ext(self) -> &'static str {
        match self {
            Self::Html => "html",
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }
}

/// A framework id as asked for: absent or empty means the company's own frameworks; an id
/// Tenantry does not map to is refused with a stable code, so a typo in a script is not
/// mistaken for "every framework".
pub fn framework_param(v: Option<&str>) -> Result<Option<String>, String> {
    let Some(f) = v.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let all = crate::domain::evidence::frameworks();
    if all.iter().any(|x| x.id == f) {
        Ok(Some(f.to_string()))
    } else {
        let ids: Vec<String> = all.into_iter().map(|x| x.id).collect();
        Err(format!("framework {f:?} is not one of {}", ids.join(", ")))
    }
}

/// The job that collected `snapshot_id` (the assessment does not carry it): from the newest
/// snapshot's list entry when it is that one (the usual case: one small read), else from the
/// snapshot itself.
pub async fn collection_job(
    st: &AppState,
    company_id: u64,
    snapshot_id: u64,
) -> Result<Option<u64>, DomainError> {
    let newest = st
        .services
        .evidence_snapshots(
            company_id,
            ListQuery::new(Some(1), Some(1), None, None, None),
        )
        .await?;
    match newest.items.first() {
        Some(s) if s.id == snapshot_id => Ok(s.job_id),
        _ => Ok(st
            .services
            .evidence_snapshot(company_id, snapshot_id)
            .await?
            .job_id),
    }
}

/// Why a pack could not be made.
pub enum PackError {
    Domain(DomainError),
    /// Nothing collected yet for the company.
    NoEvidence(String),
    Internal(String),
}

impl From<DomainError> for PackError {
    fn from(e: DomainError) -> Self {
        Self::Domain(e)
    }
}

/// A file name that is safe in any browser and file system:
/// `contoso-dental-soc2-evidence-20260131-0815.csv`.
pub fn filename(company: &str, framework: Option<&str>, at: DateTime<Utc>, ext: &str) -> String {
    let mut slug = String::new();
    for c in company.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "company" } else { slug };
    format!(
        "{slug}-{}-evidence-{}.{ext}",
        framework.unwrap_or("all"),
        at.format("%Y%m%d-%H%M")
    )
}

/// A CSV cell: quoted when needed (RFC 4180), and defused when a spreadsheet would read it
/// as a formula (`=`, `+`, `-`, `@`, tab, carriage return first): prefixed with `'`, as OWASP
/// advises for CSV injection.
pub fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// The CSV header, pinned (scripts read columns by name).
pub const CSV_HEADER: &[&str] = &[
    "company",
    "framework",
    "snapshot_id",
    "collected_at",
    "control_id",
    "control",
    "status",
    "summary",
    "percent",
    "framework_controls",
    "fact_label",
    "fact",
];

/// One row per fact line (a control without facts has one row with the fact columns empty),
/// in the page's order.
pub fn csv(company: &str, framework: Option<&str>, a: &AssessmentView) -> String {
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    };
    line(
        &CSV_HEADER.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        &mut out,
    );
    let collected = a
        .collected_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for c in &a.controls {
        let base = [
            company.to_string(),
            framework.unwrap_or("all").to_string(),
            a.snapshot_id.to_string(),
            collected.clone(),
            c.id.clone(),
            c.title.clone(),
            c.status.as_str().to_string(),
            c.summary.clone(),
            c.percent.clone().unwrap_or_default(),
            c.refs.join("; "),
        ];
        let mut wrote = false;
        for g in &c.groups {
            for l in &g.lines {
                let mut row = base.to_vec();
                row.push(g.label.clone());
                row.push(l.text.clone());
                line(&row, &mut out);
                wrote = true;
            }
        }
        if !wrote {
            let mut row = base.to_vec();
            row.extend([String::new(), String::new()]);
            line(&row, &mut out);
        }
    }
    out
}

/// The pack of `company` for `framework` (None: the company's frameworks), in `format`.
pub async fn respond(
    st: &AppState,
    company: &Company,
    framework: Option<&str>,
    format: PackFormat,
) -> Result<HttpResponse, PackError> {
    let s = &st.services;
    let Some(a) = s.compliance(company.id, framework).await? else {
        return Err(PackError::NoEvidence(format!(
            "No evidence has been collected for {} yet.",
            company.name
        )));
    };
    let frameworks = crate::domain::evidence::frameworks();
    let view = AssessmentView::new(&a, &frameworks);
    let now = s.now();
    let name = filename(&company.name, framework, a.collected_at, format.ext());
    let framework_name = framework
        .and_then(|f| frameworks.iter().find(|x| x.id == f))
        .map(|f| f.name.clone())
        .unwrap_or_else(|| "All chosen frameworks".into());
    let (content_type, disposition, body) = match format {
        PackFormat::Csv => (
            "text/csv; charset=utf-8",
            "attachment",
            csv(&company.name, framework, &view),
        ),
        PackFormat::Json => {
            let job = collection_job(st, company.id, a.snapshot_id).await?;
            let pack = EvidencePack {
                company: PackCompany {
                    id: company.id,
                    name: company.name.clone(),
                },
                generated_at: now,
                assessment: Compliance::new(a, framework).with_job(job),
            };
            let body = serde_json::to_string_pretty(&pack)
                .map_err(|e| PackError::Internal(e.to_string()))?;
            ("application/json", "attachment", body)
        }
        PackFormat::Html => {
            let report = EvidenceReport {
                tenant: company
                    .tenant
                    .as_ref()
                    .map(|t| format!("{} ({})", t.tenant_name, t.tenant_id))
                    .unwrap_or_default(),
                company: company.clone(),
                framework_name,
                generated_at: now,
                assessment: view,
            };
            let body = report
                .render()
                .map_err(|e| PackError::Internal(e.to_string()))?;
            // Opens in the browser (to read and print), and still saves under its name.
            ("text/html; charset=utf-8", "inline", body)
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{name}\""),
        ))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("a=b"), "a=b");
    }

    #[test]
    fn file_names_are_plain_ascii() {
        let at = Utc.with_ymd_and_hms(2026, 1, 31, 8, 15, 0).unwrap();
        assert_eq!(
            filename("Contoso Dental, Ltd.", Some("soc2"), at, "csv"),
            "contoso-dental-ltd-soc2-evidence-20260131-0815.csv"
        );
        assert_eq!(
            filename("\"Ünïcode\" \r\n", None, at, "json"),
            "n-code-all-evidence-20260131-0815.json"
        );
        assert_eq!(
            filename("***", None, at, "html"),
            "company-all-evidence-20260131-0815.html"
        );
    }

    #[test]
    fn formats_parse_with_html_by_default() {
        assert_eq!(PackFormat::parse(None), Ok(PackFormat::Html));
        assert_eq!(PackFormat::parse(Some("csv")), Ok(PackFormat::Csv));
        assert!(PackFormat::parse(Some("pdf")).is_err());
    }
}
