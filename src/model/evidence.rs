//! Compliance evidence: what one collection saw (a snapshot of normalised facts), and what the
//! controls made of it. Plain data: collection (`domain::evidence::collect`) fills a snapshot,
//! evaluation (`domain::evidence::evaluate`, pure) turns one into control results, the web layer
//! shows and exports them.
//!
//! A snapshot keeps *facts*, not Graph pages: counts for what passed and full lists only for
//! what an auditor must see by name (who is excluded, who is unregistered, which devices fail),
//! plus a SHA-256 of every raw payload it was built from. That keeps a 100 k-user tenant's
//! snapshot small enough to keep 400 days of them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One piece of evidence as collected: the facts, or why they are missing. Evaluation maps
/// `NotLicensed` to the `not_licensed` status and the others to `not_collected`, never to `fail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Collected<T> {
    Collected {
        value: T,
    },
    /// The tenant lacks the licence (e.g. Entra ID P1 for Conditional Access or the
    /// registration report, Intune for device compliance). `reason` is in words; `graph_code`
    /// is Graph's `error.code` when the answer said so, absent when decided from `subscribedSkus`.
    NotLicensed {
        reason: String,
        graph_code: Option<String>,
    },
    /// Our consent lacks a permission (Graph 403 `Authorization_RequestDenied`): the fix is
    /// "grant X and consent again", shown on the company, never a failed control.
    MissingPermission {
        permission: String,
        graph_code: Option<String>,
    },
    /// Any other failure, with what Graph said (status, code, request-id in `error`).
    Failed {
        error: String,
    },
}

impl<T> Collected<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Collected::Collected { value } => Some(value),
            _ => None,
        }
    }
}

/// A user named in evidence: enough to recognise and link them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserRef {
    /// Entra object id.
    pub object_id: String,
    pub display_name: String,
    pub upn: String,
    /// Our contact id when identity sync knows the user (for a link).
    pub contact_id: Option<u64>,
}

/// A device named in evidence (from the assets identity sync keeps).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeviceRef {
    pub asset_id: u64,
    pub hostname: String,
    /// `windows`, `macOS`, `iOS`, `android`, ... as Intune names the OS.
    pub platform: String,
}

/// Licences the tenant holds, decided from `subscribedSkus` (service plans of SKUs whose
/// `capabilityStatus` is `Enabled` or `Warning`), or from the 403/400 answers when the SKU list
/// could not be read (`source` says which).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Licences {
    pub entra_p1: bool,
    pub entra_p2: bool,
    pub intune: bool,
    /// `subscribed_skus` or `graph_answers`.
    pub source: String,
    /// SKU part numbers seen, with their capability status, for the report.
    pub skus: Vec<(String, String)>,
}

/// A group named in a policy, resolved to its members (from identity sync's memberships,
/// nested groups included) so "excluded: Break glass (2 members)" names the people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    pub object_id: String,
    /// Empty when identity sync does not know the group.
    pub display_name: String,
    pub members: Vec<UserRef>,
}

/// A directory role template named in a policy or an assignment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RoleRef {
    pub template_id: String,
    /// Microsoft's name for the role ("Global Administrator"); the id when unknown.
    pub display_name: String,
}

/// One Conditional Access policy, normalised: what the controls and the drift diff read.
/// Lists are sorted so two snapshots of the same policy compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaPolicyFacts {
    pub id: String,
    pub display_name: String,
    /// `enabled`, `disabled`, `enabledForReportingButNotEnforced`.
    pub state: String,
    /// Users as sent: object ids or `All`, `None`, `GuestsOrExternalUsers`.
    pub include_users: Vec<String>,
    /// Excluded users, resolved to names where identity sync knows them.
    pub exclude_users: Vec<UserRef>,
    pub include_groups: Vec<GroupRef>,
    pub exclude_groups: Vec<GroupRef>,
    pub include_roles: Vec<RoleRef>,
    pub exclude_roles: Vec<RoleRef>,
    /// `All`, `Office365`, `MicrosoftAdminPortals`, app ids.
    pub include_applications: Vec<String>,
    pub exclude_applications: Vec<String>,
    pub include_user_actions: Vec<String>,
    /// `all`, `browser`, `mobileAppsAndDesktopClients`, `exchangeActiveSync`, `other`.
    pub client_app_types: Vec<String>,
    pub user_risk_levels: Vec<String>,
    pub sign_in_risk_levels: Vec<String>,
    /// Other conditions that narrow where the policy applies (platforms, locations, device
    /// filter), in words; empty when none.
    pub narrowing: Vec<String>,
    /// `AND` / `OR`.
    pub grant_operator: String,
    /// `block`, `mfa`, `compliantDevice`, `domainJoinedDevice`, `passwordChange`, ...
    pub built_in_controls: Vec<String>,
    /// The authentication strength's name and its `requirementsSatisfied` (`mfa`), if any.
    pub authentication_strength: Option<(String, String)>,
    pub modified_at: Option<DateTime<Utc>>,
}

/// An administrator: a principal holding one of Microsoft's privileged role templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminFacts {
    pub user: UserRef,
    pub roles: Vec<RoleRef>,
    /// From the registration report, or per-user methods without P1; None when neither was
    /// readable.
    pub mfa_registered: Option<bool>,
}

/// Where the MFA registration facts came from (the fallback chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationSource {
    /// `reports/authenticationMethods/userRegistrationDetails` (needs P1).
    Report,
    /// `users/{id}/authentication/methods`, read in `$batch`es of 20 (admins only).
    PerUserMethods,
}

/// MFA registration of the tenant's enabled member users (guests counted apart).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationFacts {
    pub members_total: u64,
    pub members_registered: u64,
    /// Enabled members without a registered strong method (full list: auditors want names).
    pub members_unregistered: Vec<UserRef>,
    /// Registered but not capable (a method disabled by policy).
    pub members_registered_not_capable: Vec<UserRef>,
    pub guests_total: u64,
    pub guests_registered: u64,
}

/// An Intune compliance policy, normalised for the controls and the drift diff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompliancePolicyFacts {
    pub id: String,
    pub display_name: String,
    /// The platform part of `@odata.type` (`windows10CompliancePolicy`, `iosCompliancePolicy`).
    pub policy_type: String,
    /// The platform it covers in Intune's device OS names (`windows`, `iOS`, `macOS`, `android`).
    pub platform: String,
    pub version: Option<i32>,
    pub modified_at: Option<DateTime<Utc>>,
    /// Settings as sent, flattened to `name → JSON text`, for the field-level diff.
    pub settings: BTreeMap<String, String>,
    /// From `deviceStatusOverview` when read.
    pub compliant: Option<u64>,
    pub non_compliant: Option<u64>,
    pub in_grace: Option<u64>,
    pub error: Option<u64>,
}

/// Managed devices as identity sync keeps them (evidence does not re-read devices).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceFacts {
    /// Active Intune-managed devices.
    pub managed_total: u64,
    pub compliant: u64,
    pub non_compliant: Vec<DeviceRef>,
    pub in_grace: Vec<DeviceRef>,
    /// Unknown / error / conflict / not evaluated.
    pub other_state: Vec<DeviceRef>,
    pub encrypted: u64,
    pub not_encrypted: Vec<DeviceRef>,
    /// Devices whose encryption state identity sync has not read yet.
    pub encryption_unknown: u64,
    /// Platform → number of managed devices.
    pub platforms: BTreeMap<String, u64>,
    /// Tenant-wide counts from `deviceCompliancePolicyDeviceStateSummary`, for the report.
    pub summary: BTreeMap<String, i64>,
}

/// The hash of one raw Graph payload a snapshot was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadHash {
    /// What was read: `identity/conditionalAccess/policies`, `subscribedSkus`, ...
    pub source: String,
    /// Pages (or batch responses) hashed together, in order.
    pub pages: u32,
    /// Lower-case hex SHA-256 over the pages' bodies as received, in order.
    pub sha256: String,
    /// Graph's `request-id` of the first page, for matching against Microsoft's logs.
    pub request_id: Option<String>,
    pub http_status: u16,
}

/// Per-company settings the controls read (copied into each snapshot, so an old snapshot
/// evaluates the way it did).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceThresholds {
    /// Control 5: minimum % of enabled member users registered for MFA (default 95).
    pub mfa_registration_pct: u8,
    /// Control 6: minimum % of managed devices compliant (default 90).
    pub device_compliance_pct: u8,
}

impl Default for EvidenceThresholds {
    fn default() -> Self {
        Self {
            mfa_registration_pct: 95,
            device_compliance_pct: 90,
        }
    }
}

/// One immutable, dated evidence collection for one company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceSnapshot {
    pub id: u64,
    pub company_id: u64,
    pub tenant_id: String,
    pub collected_at: DateTime<Utc>,
    /// The job that collected it (its audit entries carry the same job id).
    pub job_id: Option<u64>,
    pub thresholds: EvidenceThresholds,
    pub licences: Collected<Licences>,
    /// `policies/identitySecurityDefaultsEnforcementPolicy` → `isEnabled`.
    pub security_defaults: Collected<bool>,
    pub ca_policies: Collected<Vec<CaPolicyFacts>>,
    /// Holders of the privileged role templates, from role assignments.
    pub admins: Collected<Vec<AdminFacts>>,
    pub registration: Collected<RegistrationFacts>,
    pub registration_source: Option<RegistrationSource>,
    pub compliance_policies: Collected<Vec<CompliancePolicyFacts>>,
    pub devices: Collected<DeviceFacts>,
    pub payloads: Vec<PayloadHash>,
}

/// A snapshot's list entry (no facts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotSummary {
    pub id: u64,
    pub company_id: u64,
    pub collected_at: DateTime<Utc>,
    pub job_id: Option<u64>,
    /// Control id → status, as evaluated when the snapshot was stored.
    pub statuses: BTreeMap<String, ControlStatus>,
    /// Framework id → score percent (None when nothing was evaluable).
    pub scores: BTreeMap<String, Option<u8>>,
    pub mfa_registration_pct: Option<f64>,
    pub device_compliance_pct: Option<f64>,
    /// CA or compliance policies changed since the previous snapshot.
    pub drift: bool,
}

/// A control's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlStatus {
    Fail,
    NotCollected,
    NotLicensed,
    Manual,
    Pass,
}

impl ControlStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ControlStatus::Pass => "pass",
            ControlStatus::Fail => "fail",
            ControlStatus::NotLicensed => "not_licensed",
            ControlStatus::NotCollected => "not_collected",
            ControlStatus::Manual => "manual",
        }
    }
    /// In words, for badges and exports.
    pub fn label(&self) -> &'static str {
        match self {
            ControlStatus::Pass => "Pass",
            ControlStatus::Fail => "Fail",
            ControlStatus::NotLicensed => "Not licensed",
            ControlStatus::NotCollected => "Not collected",
            ControlStatus::Manual => "Manual",
        }
    }
    /// Counted in a framework score (pass or fail); the others are shown apart.
    pub fn is_evaluable(&self) -> bool {
        matches!(self, ControlStatus::Pass | ControlStatus::Fail)
    }
}

/// One line of evidence behind a control, in words an auditor reads, optionally linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactItem {
    pub text: String,
    pub asset_id: Option<u64>,
    pub contact_id: Option<u64>,
}

/// A labelled group of fact lines ("Excluded users", "Not registered", ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub label: String,
    pub items: Vec<FactItem>,
}

/// One framework control a Tenantry control maps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkRef {
    /// `soc2`, `iso27001`, `cis8`, `nist_csf2`, `cyber_essentials`, `hipaa`.
    pub framework: String,
    /// The framework's own id: `CC6.1`, `A.5.17`, `6.3`, `PR.AA-03`, ...
    pub control_id: String,
    pub title: String,
}

/// A field that changed between two snapshots of the same policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    Added,
    Removed,
    Changed,
}

/// A CA or compliance policy added, removed or changed since the previous snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftChange {
    /// `conditional_access_policy` or `compliance_policy`.
    pub object: String,
    pub id: String,
    pub display_name: String,
    pub kind: DriftKind,
    pub fields: Vec<FieldChange>,
}

/// One control evaluated over one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlResult {
    /// Stable id: `mfa_all_users`, `mfa_admins`, `legacy_auth_blocked`, `admins_mfa_registered`,
    /// `mfa_registration_coverage`, `device_compliance`, `compliance_policy_per_platform`,
    /// `ca_requires_compliant_device`, `device_encryption`, `policy_drift`.
    pub id: String,
    pub title: String,
    pub status: ControlStatus,
    /// One sentence: why this status ("Enabled policy CA001 requires MFA for all users and all
    /// apps; 1 user excluded.").
    pub summary: String,
    pub facts: Vec<Fact>,
    /// The measured percentage, for controls that have one (5, 6, 9).
    pub percent: Option<f64>,
    /// Control 10's changes (empty for the others).
    pub drift: Vec<DriftChange>,
    pub frameworks: Vec<FrameworkRef>,
}

/// A framework's score over one snapshot: passing / evaluable; the rest shown apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkScore {
    pub framework: String,
    pub name: String,
    pub passing: u32,
    pub evaluable: u32,
    pub not_licensed: u32,
    pub not_collected: u32,
    pub manual: u32,
    /// passing × 100 / evaluable, rounded down; None when nothing was evaluable.
    pub percent: Option<u8>,
}

/// Everything the Compliance tab, the API and the exports show for one company: the latest
/// complete snapshot evaluated, filtered to the chosen framework (or all the company's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub company_id: u64,
    pub snapshot_id: u64,
    pub collected_at: DateTime<Utc>,
    pub previous_snapshot_id: Option<u64>,
    pub licences: Option<Licences>,
    pub security_defaults: Option<bool>,
    /// "Grant X and consent again" lines, from `MissingPermission` facts.
    pub permission_problems: Vec<String>,
    pub controls: Vec<ControlResult>,
    pub scores: Vec<FrameworkScore>,
    pub payloads: Vec<PayloadHash>,
}

/// A framework Tenantry maps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkInfo {
    /// `soc2`, `iso27001`, `cis8`, `nist_csf2`, `cyber_essentials`, `hipaa`.
    pub id: String,
    /// "SOC 2", "ISO/IEC 27001:2022", ...
    pub name: String,
}

/// Per-company evidence settings (Compliance tab → Settings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceSettings {
    /// Frameworks the company is assessed against; all when empty.
    pub frameworks: Vec<String>,
    pub thresholds: EvidenceThresholds,
}

/// One row of the MSP-wide overview: a company and each control's status in its latest
/// snapshot (absent: never collected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewRow {
    pub company_id: u64,
    pub company_name: String,
    pub collected_at: Option<DateTime<Utc>>,
    /// Control id → status.
    pub statuses: BTreeMap<String, ControlStatus>,
    /// Number of failing controls (the "sort by worst" key), then not collected.
    pub failing: u32,
    pub not_collected: u32,
}

/// One point of a company's history chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    pub snapshot_id: u64,
    pub collected_at: DateTime<Utc>,
    pub mfa_registration_pct: Option<f64>,
    pub device_compliance_pct: Option<f64>,
    /// Framework id → score percent.
    pub scores: BTreeMap<String, Option<u8>>,
    pub drift: bool,
}
