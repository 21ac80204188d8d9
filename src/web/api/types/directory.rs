//! A company's directory as identity sync fills it: contacts, contact groups and assets.

use crate::model;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// A person at a client company (an Entra user once synced).
#[derive(Debug, Serialize)]
pub struct Contact {
    /// The contact's id.
    pub id: u64,
    /// The company it belongs to.
    pub company_id: u64,
    /// Display name.
    pub display_name: String,
    /// E-mail address; empty when unknown.
    pub email: String,
    /// Department; empty when unknown.
    pub department: String,
    /// Job title; empty when unknown.
    pub job_title: String,
    /// User principal name; empty for contacts entered by hand.
    pub upn: String,
    /// `accountEnabled` in Entra.
    pub account_enabled: bool,
    /// False once the user was deleted or disabled in Entra: kept, never silently purged.
    pub active: bool,
    /// A guest account (`#EXT#`) in the company's tenant.
    pub is_guest: bool,
    /// Entra object id when synced; null for contacts entered by hand.
    pub entra_object_id: Option<String>,
    /// When the contact was first stored.
    #[serde(serialize_with = "crate::model::utc_text::serialize")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::model::utc_text::serialize")]
    pub updated_at: DateTime<Utc>,
    /// Ids of the contact groups it is a direct member of (as the last sync saw them),
    /// ascending. Membership through nested groups is not listed.
    pub group_ids: Vec<u64>,
}

impl From<model::Contact> for Contact {
    fn from(c: model::Contact) -> Self {
        Self {
            id: c.id,
            company_id: c.company_id,
            display_name: c.display_name,
            email: c.email,
            department: c.department,
            job_title: c.job_title,
            upn: c.upn,
            account_enabled: c.account_enabled,
            active: c.active,
            is_guest: c.is_guest,
            entra_object_id: c.entra_object_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
            // Filled from the membership index, read with the page (`with_group_ids`).
            group_ids: Vec::new(),
        }
    }
}

/// A group of contacts (an Entra group once synced).
#[derive(Debug, Serialize)]
pub struct ContactGroup {
    /// The group's id (as used in portal settings' `allowed_group_ids`).
    pub id: u64,
    /// The company it belongs to.
    pub company_id: u64,
    /// Display name.
    pub display_name: String,
    /// Description; empty when none.
    pub description: String,
    /// A mail-enabled group (distribution list or Microsoft 365 group).
    pub mail_enabled: bool,
    /// False once the group was deleted in Entra.
    pub active: bool,
    /// Entra object id when synced; null otherwise.
    pub entra_object_id: Option<String>,
    /// Members, as counted from the memberships of the last sync.
    pub member_count: u64,
    /// When it last changed.
    #[serde(serialize_with = "crate::model::utc_text::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl From<model::ContactGroup> for ContactGroup {
    fn from(g: model::ContactGroup) -> Self {
        Self {
            id: g.id,
            company_id: g.company_id,
            display_name: g.display_name,
            description: g.description,
            mail_enabled: g.mail_enabled,
            active: g.active,
            entra_object_id: g.entra_object_id,
            member_count: g.member_count,
            updated_at: g.updated_at,
        }
    }
}

/// A device of a client company, merged from its sources.
#[derive(Debug, Serialize)]
pub struct Asset {
    /// The asset's id.
    pub id: u64,
    /// The company it belongs to.
    pub company_id: u64,
    /// Device name.
    pub hostname: String,
    /// Operating system (`Windows`, `iOS`, ...); empty when unknown.
    pub os: String,
    /// Operating system version; empty when unknown.
    pub os_version: String,
    /// Serial number; empty when unknown.
    pub serial_number: String,
    /// Intune `complianceState` (compliant, noncompliant, inGracePeriod, ...) or empty.
    pub compliance_state: String,
    /// The last check-in any source reported; null when none did.
    pub last_check_in: Option<DateTime<Utc>>,
    /// The contact who is the device's primary user; null when none.
    pub primary_user_contact_id: Option<u64>,
    /// False once Intune no longer lists the device (kept, never deleted).
    pub active: bool,
    /// Where the asset was seen, one entry per source.
    pub sources: Vec<AssetSource>,
    /// When it last changed.
    #[serde(serialize_with = "crate::model::utc_text::serialize")]
    pub updated_at: DateTime<Utc>,
    /// Where it stands between its sources: `single` (one source), `merged` (Intune and
    /// Level records of one machine), `needs_review` (a record is in an open review pair),
    /// `inactive` (no source sees it, or it joined another asset).
    pub merge_state: &'static str,
    /// How its records came together at the last merge: `single`, `linked`, `manual`,
    /// `serial`, `hostname`; null before any sync with Level.
    pub merged_by: Option<model::MatchRule>,
    /// The asset this one's record joined when two duplicates merged; null otherwise.
    pub absorbed_into: Option<u64>,
    /// Warranty end from Level's warranty field (`2027-03-31`); null when none or not a date.
    pub warranty_end: Option<chrono::NaiveDate>,
    /// Level's warranty text when it is not a date Tenantry can read; null otherwise.
    pub warranty_text: Option<String>,
}

impl From<model::Asset> for Asset {
    fn from(a: model::Asset) -> Self {
        let merge = a.merge;
        let sources = a
            .sources
            .into_iter()
            .map(|s| AssetSource::with_fields(s, &merge.fields))
            .collect();
        Self {
            id: a.id,
            company_id: a.company_id,
            hostname: a.hostname,
            os: a.os,
            os_version: a.os_version,
            serial_number: a.serial_number,
            compliance_state: a.compliance_state,
            last_check_in: a.last_check_in,
            primary_user_contact_id: a.primary_user_contact_id,
            active: a.active,
            sources,
            updated_at: a.updated_at,
            merge_state: merge.state.as_str(),
            merged_by: merge.rule,
            absorbed_into: merge.absorbed_into,
            warranty_end: merge.warranty_end,
            warranty_text: merge.warranty_text,
        }
    }
}

/// One source's view of an asset.
#[derive(Debug, Serialize)]
pub struct AssetSource {
    /// `intune` (more sources may be added within v1).
    pub source: String,
    /// The device's id in that source.
    pub external_id: String,
    /// When that source last saw the device; null when it does not say.
    pub last_seen: Option<DateTime<Utc>>,
    /// Source-specific details kept as received (compliance, model, manufacturer, ...); an
    /// open object whose keys depend on the source.
    pub details: serde_json::Value,
    /// The asset's fields this source gave (its provenance): field name → value and when this
    /// source saw it. Names: `hostname`, `serial_number`, `manufacturer`, `model`, `os`,
    /// `os_version`, `compliance_state`, `primary_user`, `enrolled_at`, `intune_last_sync`,
    /// `online`, `agent_last_seen`, `platform`, `role`, `security_score`,
    /// `last_logged_in_user`, `maintenance_mode`, `warranty_end` (open: more may be added).
    /// Empty before any sync with Level.
    pub fields: BTreeMap<String, SourceField>,
}

/// One field an asset took from a source.
#[derive(Debug, Serialize)]
pub struct SourceField {
    /// The value, as text.
    pub value: String,
    /// When that source last saw the device; null when it does not say.
    pub seen_at: Option<DateTime<Utc>>,
}

impl AssetSource {
    /// The source's record, with the fields of `provenance` it gave.
    fn with_fields(
        s: model::AssetSource,
        provenance: &BTreeMap<String, model::FieldValue>,
    ) -> Self {
        let fields = provenance
            .iter()
            .filter(|(_, f)| f.source.as_str() == s.source)
            .map(|(k, f)| {
                (
                    k.clone(),
                    SourceField {
                        value: f.value.clone(),
                        seen_at: f.seen_at,
                    },
                )
            })
            .collect();
        Self {
            source: s.source,
            external_id: s.external_id,
            last_seen: s.last_seen,
            details: s.details,
            fields,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::golden::{assert_json, at};
    use super::*;
    use serde_json::json;

    #[test]
    fn a_contact_has_a_fixed_shape() {
        let c = model::Contact {
            id: 4,
            company_id: 1,
            display_name: "Björn Yılmaz".into(),
            email: "bjorn@contoso.example".into(),
            department: "Operations".into(),
            job_title: "Manager".into(),
            upn: "bjorn@contoso.example".into(),
            account_enabled: true,
            active: false,
            is_guest: false,
            entra_object_id: Some("71083f3c-038c-42f5-b83f-c3bba9f2287c".into()),
            created_at: at(0),
            updated_at: at(1),
        };
        let golden = r#"
{
  "id": 4,
  "company_id": 1,
  "display_name": "Björn Yılmaz",
  "email": "bjorn@contoso.example",
  "department": "Operations",
  "job_title": "Manager",
  "upn": "bjorn@contoso.example",
  "account_enabled": true,
  "active": false,
  "is_guest": false,
  "entra_object_id": "71083f3c-038c-42f5-b83f-c3bba9f2287c",
  "created_at": "2026-01-31T08:00:00Z",
  "updated_at": "2026-01-31T08:01:00Z",
  "group_ids": [
    2,
    5
  ]
}"#;
        let mut c = Contact::from(c);
        c.group_ids = vec![2, 5];
        assert_json(&c, golden);
    }

    #[test]
    fn a_contact_group_has_a_fixed_shape() {
        let g = model::ContactGroup {
            id: 2,
            company_id: 1,
            display_name: "All Staff".into(),
            description: "Everyone".into(),
            mail_enabled: true,
            active: true,
            entra_object_id: None,
            member_count: 6,
            updated_at: at(3),
        };
        let golden = r#"
{
  "id": 2,
  "company_id": 1,
  "display_name": "All Staff",
  "description": "Everyone",
  "mail_enabled": true,
  "active": true,
  "entra_object_id": null,
  "member_count": 6,
  "updated_at": "2026-01-31T08:03:00Z"
}"#;
        assert_json(&ContactGroup::from(g), golden);
    }

    #[test]
    fn an_asset_has_a_fixed_shape() {
        let a = model::Asset {
            id: 9,
            company_id: 1,
            hostname: "PC-0042".into(),
            os: "Windows".into(),
            os_version: "10.0.26100".into(),
            serial_number: "SN-42".into(),
            compliance_state: "compliant".into(),
            last_check_in: Some(at(4)),
            primary_user_contact_id: Some(4),
            active: true,
            sources: vec![model::AssetSource {
                source: "intune".into(),
                external_id: "d1".into(),
                last_seen: None,
                details: json!({"model": "Latitude 7440"}),
            }],
            updated_at: at(5),
            merge: model::AssetMerge {
                state: model::MergeState::Merged,
                rule: Some(model::MatchRule::Serial),
                fields: BTreeMap::from([
                    (
                        "model".to_string(),
                        model::FieldValue {
                            value: "Latitude 7440".into(),
                            source: model::SourceKind::Intune,
                            seen_at: Some(at(4)),
                        },
                    ),
                    (
                        "role".to_string(),
                        model::FieldValue {
                            value: "workstation".into(),
                            source: model::SourceKind::Level,
                            seen_at: None,
                        },
                    ),
                ]),
                warranty_end: chrono::NaiveDate::from_ymd_opt(2027, 3, 31),
                warranty_text: None,
                absorbed_into: None,
            },
        };
        let golden = r#"
{
  "id": 9,
  "company_id": 1,
  "hostname": "PC-0042",
  "os": "Windows",
  "os_version": "10.0.26100",
  "serial_number": "SN-42",
  "compliance_state": "compliant",
  "last_check_in": "2026-01-31T08:04:00Z",
  "primary_user_contact_id": 4,
  "active": true,
  "sources": [
    {
      "source": "intune",
      "external_id": "d1",
      "last_seen": null,
      "details": {
        "model": "Latitude 7440"
      },
      "fields": {
        "model": {
          "value": "Latitude 7440",
          "seen_at": "2026-01-31T08:04:00Z"
        }
      }
    }
  ],
  "updated_at": "2026-01-31T08:05:00Z",
  "merge_state": "merged",
  "merged_by": "serial",
  "absorbed_into": null,
  "warranty_end": "2027-03-31",
  "warranty_text": null
}"#;
        assert_json(&Asset::from(a), golden);
    }
}
