//! What a company's directory holds: contacts, contact groups, memberships and assets.
//! Identity sync fills these from Entra ID and Intune; Level.io adds asset sources later.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: u64,
    pub company_id: u64,
    pub display_name: String,
    pub email: String,
    pub department: String,
    pub job_title: String,
    pub upn: String,
    /// `accountEnabled` in Entra.
    pub account_enabled: bool,
    /// False once the user was deleted or disabled in Entra: kept, never silently purged.
    pub active: bool,
    pub is_guest: bool,
    /// Entra object id when synced; None for contacts entered by hand.
    pub entra_object_id: Option<String>,
    // Read by hand in the form the store writes (`utc_text`): a list page decodes 50.
    // Written by hand too, the same text as chrono's: a sync encodes 100 k contacts.
    #[serde(
        serialize_with = "super::utc_text::serialize",
        deserialize_with = "super::utc_text::deserialize"
    )]
    pub created_at: DateTime<Utc>,
    #[serde(
        serialize_with = "super::utc_text::serialize",
        deserialize_with = "super::utc_text::deserialize"
    )]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactGroup {
    pub id: u64,
    pub company_id: u64,
    pub display_name: String,
    pub description: String,
    pub mail_enabled: bool,
    pub active: bool,
    pub entra_object_id: Option<String>,
    pub member_count: u64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub company_id: u64,
    pub group_id: u64,
    pub contact_id: u64,
}

/// Where one view of an asset came from. An asset can carry several (Intune and Level.io
/// merged by serial number and hostname).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetSource {
    /// `intune` or `levelio`.
    pub source: String,
    pub external_id: String,
    #[serde(serialize_with = "super::utc_text::serialize_opt")]
    pub last_seen: Option<DateTime<Utc>>,
    /// Source-specific details kept as received (compliance, agent, warranty...).
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub id: u64,
    pub company_id: u64,
    pub hostname: String,
    pub os: String,
    pub os_version: String,
    pub serial_number: String,
    /// Intune `complianceState` (compliant, noncompliant, inGracePeriod, ...) or empty.
    pub compliance_state: String,
    // Timestamps written by hand, the same text as chrono's (`utc_text`): a sync encodes
    // 100 k assets with three each.
    #[serde(serialize_with = "super::utc_text::serialize_opt")]
    pub last_check_in: Option<DateTime<Utc>>,
    pub primary_user_contact_id: Option<u64>,
    pub active: bool,
    pub sources: Vec<AssetSource>,
    #[serde(
        serialize_with = "super::utc_text::serialize",
        deserialize_with = "super::utc_text::deserialize"
    )]
    pub updated_at: DateTime<Utc>,
    /// Merge state, field provenance and warranty (docs/levelio.md#storage); default for
    /// rows written before schema v16.
    #[serde(default)]
    pub merge: super::AssetMerge,
}

impl Asset {
    /// Does a source of this kind (`intune`, `levelio`) hold a record of it?
    pub fn has_source(&self, source: &str) -> bool {
        self.sources.iter().any(|s| s.source == source)
    }

    /// Intune's `isEncrypted` for this device, when Intune manages it and said.
    pub fn intune_encrypted(&self) -> Option<bool> {
        self.sources
            .iter()
            .find(|s| s.source == "intune")
            .and_then(|s| s.details.get("isEncrypted"))
            .and_then(|v| v.as_bool())
    }
}
