//! Companies: the list and edit answers, one company with its sync state, and the bodies
//! that create and edit one.

use super::jobs::Job;
use crate::domain::sync::identity::SyncReport as DomainSyncReport;
use crate::model;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A client company of the MSP.
#[derive(Debug, Serialize)]
pub struct Company {
    /// The company's id, used in every `/companies/{id}` path.
    pub id: u64,
    /// Display name (1–200 characters).
    pub name: String,
    /// Primary e-mail/web domain, lower case; empty when not set.
    pub domain: String,
    /// Free-text notes; empty when none.
    pub notes: String,
    /// `active` or `archived`.
    pub status: CompanyStatus,
    /// When the company was created.
    pub created_at: DateTime<Utc>,
    /// When its name, domain, notes, status, tenant link or guest policy last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was archived; null while active.
    pub archived_at: Option<DateTime<Utc>>,
    /// Its Microsoft Entra tenant once connected by admin consent; null before that.
    pub tenant: Option<TenantLink>,
    /// Guest accounts (`#EXT#`) are not kept as active contacts.
    pub exclude_guests: bool,
}

impl From<model::Company> for Company {
    fn from(c: model::Company) -> Self {
        Self {
            id: c.id,
            name: c.name,
            domain: c.domain,
            notes: c.notes,
            status: c.status.into(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            archived_at: c.archived_at,
            tenant: c.tenant.map(TenantLink::from),
            exclude_guests: c.exclude_guests,
        }
    }
}

/// Whether a company is worked on. Archived companies keep their data but do not sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CompanyStatus {
    /// Listed by default; syncs when connected.
    Active,
    /// Kept for the record; listed with `status=archived` or `status=all`.
    Archived,
}

impl From<model::CompanyStatus> for CompanyStatus {
    fn from(s: model::CompanyStatus) -> Self {
        match s {
            model::CompanyStatus::Active => Self::Active,
            model::CompanyStatus::Archived => Self::Archived,
        }
    }
}

/// A company's link to its Microsoft Entra tenant.
#[derive(Debug, Serialize)]
pub struct TenantLink {
    /// The Entra tenant id (a GUID).
    pub tenant_id: String,
    /// The tenant's display name as Microsoft reports it.
    pub tenant_name: String,
    /// When admin consent connected it.
    pub connected_at: DateTime<Utc>,
    /// False after a disconnect: the synced data is kept, syncing stops.
    pub connected: bool,
}

impl From<model::TenantLink> for TenantLink {
    fn from(t: model::TenantLink) -> Self {
        Self {
            tenant_id: t.tenant_id,
            tenant_name: t.tenant_name,
            connected_at: t.connected_at,
            connected: t.connected,
        }
    }
}

/// One company (`GET /companies/{id}`): every field of [`Company`], and its sync state.
#[derive(Debug, Serialize)]
pub struct CompanyDetail {
    /// The company's fields, at the top level of the object.
    #[serde(flatten)]
    pub company: Company,
    /// The last identity sync: when, whether it was clean, counts, and why devices are
    /// missing. Null before the first sync.
    pub last_sync: Option<SyncReport>,
    /// The identity sync queued or running now; null when none.
    pub active_sync: Option<Job>,
}

/// The outcome of a company's last identity sync.
#[derive(Debug, Serialize)]
pub struct SyncReport {
    /// When it ended; null if it never did.
    pub finished_at: Option<DateTime<Utc>>,
    /// True when users, groups and devices were all read.
    pub ok: bool,
    /// One line for people, as the company page shows it.
    pub summary: String,
    /// Set when Intune could not be read: the Graph answer, in words.
    pub devices_error: Option<String>,
    /// Counts by name (`contacts_created`, `groups_updated`, `assets_deactivated`, ...).
    pub counts: BTreeMap<String, u64>,
    /// The verdict, as on the job and in the audit log: `succeeded`,
    /// `succeeded_with_warnings` (e.g. no Intune licence) or `failed`.
    pub outcome: crate::model::SyncOutcome,
    /// Why it succeeded only with warnings (`{"kind", "message"}`); empty otherwise.
    pub warnings: Vec<crate::model::SyncWarning>,
}

impl From<DomainSyncReport> for SyncReport {
    fn from(r: DomainSyncReport) -> Self {
        let outcome = r.verdict().outcome;
        Self {
            finished_at: r.finished_at,
            ok: r.ok,
            summary: r.summary,
            devices_error: r.devices_error,
            counts: r.counts,
            outcome,
            warnings: r.warnings,
        }
    }
}

/// `POST /companies`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyBody {
    /// Required, 1–200 characters.
    pub name: String,
    /// A domain name like `contoso.com`; optional.
    #[serde(default)]
    pub domain: String,
    /// Up to 5000 characters; optional.
    #[serde(default)]
    pub notes: String,
}

/// `PATCH /companies/{id}`: fields left out keep their value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyPatch {
    /// New name.
    pub name: Option<String>,
    /// New domain (empty clears it).
    pub domain: Option<String>,
    /// New notes (empty clears them).
    pub notes: Option<String>,
    /// Exclude guest accounts from this company's contacts.
    pub exclude_guests: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::super::golden::{assert_json, at};
    use super::*;

    fn company() -> model::Company {
        model::Company {
            id: 7,
            name: "Contoso Dental".into(),
            domain: "contoso.com".into(),
            notes: "Front desk opens at 8".into(),
            status: model::CompanyStatus::Archived,
            created_at: at(0),
            updated_at: at(5),
            archived_at: Some(at(5)),
            tenant: Some(model::TenantLink {
                tenant_id: "67b0c974-d9a3-40a6-a0c9-23fc3e9515a0".into(),
                tenant_name: "Contoso".into(),
                connected_at: at(1),
                connected: true,
            }),
            exclude_guests: true,
        }
    }

    const COMPANY: &str = r#"
{
  "id": 7,
  "name": "Contoso Dental",
  "domain": "contoso.com",
  "notes": "Front desk opens at 8",
  "status": "archived",
  "created_at": "2026-01-31T08:00:00Z",
  "updated_at": "2026-01-31T08:05:00Z",
  "archived_at": "2026-01-31T08:05:00Z",
  "tenant": {
    "tenant_id": "67b0c974-d9a3-40a6-a0c9-23fc3e9515a0",
    "tenant_name": "Contoso",
    "connected_at": "2026-01-31T08:01:00Z",
    "connected": true
  },
  "exclude_guests": true
}"#;

    #[test]
    fn a_company_has_a_fixed_shape() {
        assert_json(&Company::from(company()), COMPANY);
        let unconnected = model::Company {
            status: model::CompanyStatus::Active,
            archived_at: None,
            tenant: None,
            ..company()
        };
        let json = serde_json::to_value(Company::from(unconnected)).unwrap();
        assert_eq!(json["status"], "active");
        assert!(json["archived_at"].is_null() && json["tenant"].is_null());
    }

    #[test]
    fn a_company_detail_adds_its_sync_state() {
        let detail = CompanyDetail {
            company: company().into(),
            last_sync: Some(
                DomainSyncReport {
                    finished_at: Some(at(2)),
                    ok: false,
                    summary: "Identity sync of Contoso: contacts +6 ~0 -0".into(),
                    devices_error: Some("Intune is not licensed".into()),
                    counts: [("contacts_created".to_string(), 6)].into(),
                    warnings: vec![crate::model::SyncWarning::intune_not_licensed()],
                }
                .into(),
            ),
            active_sync: None,
        };
        assert_json(
            &detail,
            r#"
{
  "id": 7,
  "name": "Contoso Dental",
  "domain": "contoso.com",
  "notes": "Front desk opens at 8",
  "status": "archived",
  "created_at": "2026-01-31T08:00:00Z",
  "updated_at": "2026-01-31T08:05:00Z",
  "archived_at": "2026-01-31T08:05:00Z",
  "tenant": {
    "tenant_id": "67b0c974-d9a3-40a6-a0c9-23fc3e9515a0",
    "tenant_name": "Contoso",
    "connected_at": "2026-01-31T08:01:00Z",
    "connected": true
  },
  "exclude_guests": true,
  "last_sync": {
    "finished_at": "2026-01-31T08:02:00Z",
    "ok": false,
    "summary": "Identity sync of Contoso: contacts +6 ~0 -0",
    "devices_error": "Intune is not licensed",
    "counts": {
      "contacts_created": 6
    },
    "outcome": "succeeded_with_warnings",
    "warnings": [
      {
        "kind": "intune_not_licensed",
        "message": "Intune not licensed — devices not synced"
      }
    ]
  },
  "active_sync": null
}"#,
        );
    }
}
