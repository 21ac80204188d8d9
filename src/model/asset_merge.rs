//! What the asset merge reads and decides (docs/levelio.md#merge-rules): one record per source
//! device, the assets that already exist with the source ids they carry, the decisions staff
//! made (unmerge, manual merge), and the outcome (assets with field-level provenance, review
//! items, retirements). Plain data; the rules are `domain::assets::merge`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One of the two sources an asset can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Intune,
    Level,
}

impl SourceKind {
    /// The name stored in `AssetSource.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Intune => "intune",
            SourceKind::Level => "levelio",
        }
    }
}

/// An Intune managed device as the merge needs it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntuneRecord {
    pub company_id: u64,
    pub id: String,
    pub hostname: String,
    pub serial_number: String,
    /// `operatingSystem` (Windows, macOS, iOS, Android, …).
    pub os: String,
    pub os_version: String,
    pub compliance_state: String,
    pub enrolled_at: Option<DateTime<Utc>>,
    /// Primary user, as shown (UPN).
    pub primary_user: Option<String>,
    pub manufacturer: String,
    pub model: String,
    /// `lastSyncDateTime`.
    pub last_seen: Option<DateTime<Utc>>,
}

/// A Level device as the merge needs it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LevelRecord {
    pub company_id: u64,
    pub id: String,
    pub hostname: String,
    pub serial_number: String,
    /// `platform` (Windows, Mac, Linux).
    pub platform: String,
    /// `role` (workstation, server, domain_controller).
    pub role: String,
    /// `operating_system.full_operating_system` when included.
    pub os: String,
    pub online: bool,
    /// `last_seen_at`, optional in Level's answers.
    pub last_seen: Option<DateTime<Utc>>,
    pub last_reboot: Option<DateTime<Utc>>,
    pub security_score: Option<i64>,
    pub last_logged_in_user: Option<String>,
    pub maintenance_mode: bool,
    pub manufacturer: String,
    pub model: String,
    /// Warranty end as resolved from custom field values: an ISO date, or the raw text when
    /// it could not be parsed.
    pub warranty: Option<String>,
}

/// An asset that exists already, with the source records it is linked to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingAsset {
    pub company_id: u64,
    pub asset_id: u64,
    pub intune_id: Option<String>,
    pub level_id: Option<String>,
}

/// A decision staff made about a pair, remembered across syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairDecisionKind {
    /// Unmerge or "Keep apart": the pair never auto-merges again.
    KeepApart,
    /// A manual merge from the review queue: the pair stays merged.
    Merge,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairDecision {
    pub company_id: u64,
    pub intune_id: String,
    pub level_id: String,
    pub kind: PairDecisionKind,
}

/// How an asset's records came together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// One source only.
    Single,
    /// Already linked (rule 0).
    Linked,
    /// Staff merged the pair.
    Manual,
    /// Same normalised serial, one candidate (rule 2).
    Serial,
    /// Same hostname, one candidate on each side (rule 3).
    Hostname,
}

/// One field of an asset with the source that gave it and when that source last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValue {
    pub value: String,
    pub source: SourceKind,
    pub seen_at: Option<DateTime<Utc>>,
}

/// An asset as the merge decides it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedAsset {
    pub company_id: u64,
    /// The existing asset this is (`None`: a new asset).
    pub asset_id: Option<u64>,
    pub intune_id: Option<String>,
    pub level_id: Option<String>,
    pub rule: MatchRule,
    /// Field name → value with provenance; empty values are left out.
    pub fields: BTreeMap<String, FieldValue>,
}

/// Why a pair needs a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewReason {
    /// The serial matches but hostnames and platforms both differ.
    SerialMatchButHostAndPlatformDiffer,
    /// The serial is reported by more than one device, and the hostname does not decide.
    SerialSharedByMany,
    /// The hostname matches more than one device on a side.
    HostnameTie,
    /// The hostname matches but both sides report different, valid serials.
    HostnameMatchSerialsDiffer,
}

impl ReviewReason {
    pub fn describe(self) -> &'static str {
        match self {
            ReviewReason::SerialMatchButHostAndPlatformDiffer => {
                "Same serial number, but the hostname and the platform differ"
            }
            ReviewReason::SerialSharedByMany => {
                "The serial number is reported by more than one device"
            }
            ReviewReason::HostnameTie => "The hostname matches more than one device",
            ReviewReason::HostnameMatchSerialsDiffer => {
                "Same hostname, but the serial numbers differ"
            }
        }
    }
}

/// A pair the merge did not decide.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReviewItem {
    pub company_id: u64,
    pub intune_id: String,
    pub level_id: String,
    pub reason: ReviewReason,
}

/// Everything one merge decides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MergeOutcome {
    /// One per physical machine still seen by a source, ordered by company, then asset id
    /// (new assets last, by source id).
    pub assets: Vec<MergedAsset>,
    pub review: Vec<ReviewItem>,
    /// Existing assets no source sees any more: kept, inactive, with their history.
    pub retired: Vec<u64>,
    /// `(from, into)`: an existing asset whose record joined another asset (a duplicate that
    /// merged); `from` becomes inactive.
    pub absorbed: Vec<(u64, u64)>,
}

/// Where an asset stands between its sources (`Asset.merge.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeState {
    /// One source only (every asset written before Level existed decodes as this).
    #[default]
    Single,
    /// Intune and Level records of the same machine.
    Merged,
    /// One of its records is in an open review pair: a human decides.
    NeedsReview,
    /// No source sees it any more, or it was absorbed into another asset: kept, with history.
    Inactive,
}

impl MergeState {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MergeState::Single => "single",
            MergeState::Merged => "merged",
            MergeState::NeedsReview => "needs_review",
            MergeState::Inactive => "inactive",
        }
    }
}

/// What the Level merge keeps on an asset (`Asset.merge`). Absent on assets written before
/// schema v12: the default is a single-source asset without provenance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AssetMerge {
    pub state: MergeState,
    /// How its records came together at the last merge (None: never merged by the Level phase).
    pub rule: Option<MatchRule>,
    /// Field name → value, the source that gave it and when that source saw it (the asset
    /// page's provenance). Names: see `domain::assets::provenance`.
    pub fields: BTreeMap<String, FieldValue>,
    /// Warranty end when Level's warranty field held a readable date.
    pub warranty_end: Option<chrono::NaiveDate>,
    /// Level's warranty text when no date could be read from it (shown, flagged).
    pub warranty_text: Option<String>,
    /// The asset this one's record joined (a duplicate that merged): set with `Inactive`.
    pub absorbed_into: Option<u64>,
}

/// The asset list's *Sources* filter (and the gap reports, which are two of its lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourcesFilter {
    /// Active assets with an Intune record and no Level record.
    IntuneOnly,
    /// Active assets with a Level record and no Intune record ("in Level but not in Intune").
    LevelOnly,
    /// Active assets with both.
    Merged,
    /// Active assets with a record in an open review pair.
    NeedsReview,
    /// Intune-only computers (Windows, macOS): "in Intune but not in Level", agents missing.
    /// Phones and tablets never carry an agent, so they are not a gap.
    NoAgent,
}

impl SourcesFilter {
    pub const ALL: [SourcesFilter; 5] = [
        SourcesFilter::IntuneOnly,
        SourcesFilter::LevelOnly,
        SourcesFilter::Merged,
        SourcesFilter::NeedsReview,
        SourcesFilter::NoAgent,
    ];

    /// The query-string and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SourcesFilter::IntuneOnly => "intune_only",
            SourcesFilter::LevelOnly => "level_only",
            SourcesFilter::Merged => "merged",
            SourcesFilter::NeedsReview => "needs_review",
            SourcesFilter::NoAgent => "no_agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The byte its list is stored under (part of the index format: never renumber).
    pub fn tag(self) -> u8 {
        match self {
            SourcesFilter::IntuneOnly => b'i',
            SourcesFilter::LevelOnly => b'l',
            SourcesFilter::Merged => b'm',
            SourcesFilter::NeedsReview => b'r',
            SourcesFilter::NoAgent => b'a',
        }
    }
}

/// The two gap reports of a company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// In Intune but not in Level: computers without an RMM agent.
    NoAgent,
    /// In Level but not in Intune: unmanaged by Intune.
    Unmanaged,
}

impl GapKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::NoAgent => "no_agent",
            GapKind::Unmanaged => "unmanaged",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "no_agent" => Some(GapKind::NoAgent),
            "unmanaged" => Some(GapKind::Unmanaged),
            _ => None,
        }
    }
    /// The asset list that is this report.
    pub fn filter(self) -> SourcesFilter {
        match self {
            GapKind::NoAgent => SourcesFilter::NoAgent,
            GapKind::Unmanaged => SourcesFilter::LevelOnly,
        }
    }
}

/// A company's gap and review counts, from counters (one read each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapCounts {
    /// In Intune but not in Level (computers only).
    pub no_agent: u64,
    /// In Level but not in Intune.
    pub unmanaged: u64,
    /// Open review pairs.
    pub review: u64,
    /// Active merged assets.
    pub merged: u64,
}

/// A decision kept in the store, with who made it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDecision {
    pub kind: PairDecisionKind,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// An open review pair as stored and as the Review tab shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenReview {
    pub company_id: u64,
    pub intune_id: String,
    pub level_id: String,
    pub reason: ReviewReason,
    /// The assets holding each record now (None: not written yet).
    pub intune_asset: Option<u64>,
    pub level_asset: Option<u64>,
    /// What each side reports, to decide without opening both assets.
    pub intune_hostname: String,
    pub intune_serial: String,
    pub level_hostname: String,
    pub level_serial: String,
    /// When the pair was first sent to review.
    pub since: DateTime<Utc>,
}

impl OpenReview {
    /// The pair's key in the API and forms: `<intune id>|<level id>` (ids never hold `|`).
    pub fn key(&self) -> String {
        format!("{}|{}", self.intune_id, self.level_id)
    }
}
