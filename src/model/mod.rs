//! Plain data and invariants. No I/O, no clock, no async.

mod alerts;
mod asset_merge;
mod audit;
mod audit_filter;
mod company;
mod directory;
mod evidence;
mod job;
mod list_order;
mod net;
mod outcome;
mod paging;
mod portal;
mod request;
mod secret;
mod staff;
mod sync;
pub mod utc_text;

pub use alerts::{
    AlertMessage, AlertRule, DailyCount, Incident, MessageKind, NotificationSettings, RuleSetting,
    SmtpSecurity, SmtpSettings, Webhook, WebhookFormat, WebhookInfo,
};
pub use asset_merge::{
    AssetMerge, ExistingAsset, FieldValue, GapCounts, GapKind, IntuneRecord, LevelRecord,
    MatchRule, MergeOutcome, MergeState, MergedAsset, OpenReview, PairDecision, PairDecisionKind,
    ReviewItem, ReviewReason, SourceKind, SourcesFilter, StoredDecision,
};
pub use audit::{AUDIT_KINDS, Actor, AuditEvent, AuditFilter, NewAuditEvent, Outcome};
pub use audit_filter::{AuditFilterInput, present as audit_present};
pub use company::{Company, CompanyInput, CompanyStatus, TenantLink};
pub use directory::{Asset, AssetSource, Contact, ContactGroup, Membership};
pub use evidence::{
    AdminFacts, Assessment, CaPolicyFacts, Collected, CompliancePolicyFacts, ControlResult,
    ControlStatus, DeviceFacts, DeviceRef, DriftChange, DriftKind, EvidenceSettings,
    EvidenceSnapshot, EvidenceThresholds, Fact, FactItem, FieldChange, FrameworkInfo, FrameworkRef,
    FrameworkScore, GroupRef, HistoryPoint, Licences, OverviewRow, PayloadHash, RegistrationFacts,
    RegistrationSource, RoleRef, SnapshotSummary, UserRef,
};
pub use job::{Job, JobFilter, JobKind, JobState, Progress, Requester, Trigger};
pub use list_order::{
    AssetFilter, AssetSort, CompanySort, ContactFilter, ContactSort, GroupSort, RequestSort,
    SearchQuery, search_words,
};
pub use net::IpNet;
pub use outcome::{SyncOutcome, SyncWarning, Tone, Verdict, WarningKind, audit_warnings};
pub use paging::{ListQuery, Page, SortDir};
pub use portal::{PortalSession, PortalSettings, parse_slug, slug_from_name};
pub use request::{
    Assignee, InternalNote, NewRequest, Reply, ReplyAuthor, ReplyBody, RequestStatus,
    SupportRequest,
};
pub use secret::Secret;
pub use staff::{ApiToken, Email, Role, Session, StaffUser, check_password};
pub use sync::{
    ChangeCounts, DeviceRecord, Field, GroupDelta, SyncState, UserDelta, counts_in_words,
    kind_in_words,
};

/// A numeric id in its one canonical spelling: `0`, or digits without a leading zero.
/// (`u64::from_str` also takes `+1` and `01`; one record should have one spelling.)
pub fn parse_id(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

/// Refused input, with the field and a reason people can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    pub field: &'static str,
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Trim and bound a free-text field.
pub fn clean_text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, ValidationError> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if v.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(v.to_string())
}
