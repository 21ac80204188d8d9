//! One collection in progress: where its hashes go, how a refused read becomes a gap in the
//! snapshot or stops the collection, and the audit entry each refusal leaves.

use crate::domain::entra::graph_error_details;
use crate::domain::{DomainError, Services};
use crate::graph::{FailureReason, GraphClient, GraphError, GraphErrorKind, PayloadDigest};
use crate::model::{Collected, NewAuditEvent, PayloadHash, Requester};

/// The permission each read needs, named in "grant X and consent again".
pub(super) mod permission {
    pub const SKUS: &str = "Organization.Read.All";
    pub const POLICY: &str = "Policy.Read.All";
    pub const REPORT: &str = "AuditLog.Read.All";
    pub const ROLES: &str = "RoleManagement.Read.Directory";
    pub const METHODS: &str = "UserAuthenticationMethod.Read.All";
    pub const INTUNE: &str = "DeviceManagementConfiguration.Read.All";
}

/// Why a collection stopped: Graph failed for a passing reason, or we could not store.
pub(super) enum Stop {
    Graph(&'static str, GraphError),
    Domain(DomainError),
}

impl From<DomainError> for Stop {
    fn from(e: DomainError) -> Self {
        Stop::Domain(e)
    }
}

impl From<crate::store::StoreError> for Stop {
    fn from(e: crate::store::StoreError) -> Self {
        Stop::Domain(e.into())
    }
}

/// A failure that retrying later can fix (or that stops every read: credentials, consent).
fn stops_collection(e: &GraphError) -> bool {
    match e.reason() {
        FailureReason::Throttled | FailureReason::Transport => true,
        FailureReason::CredentialsRejected
        | FailureReason::ConsentMissing
        | FailureReason::TenantNotFound => true,
        // An unreadable 2xx body (cut off, a proxy's page) is as passing as a 5xx.
        FailureReason::Other => {
            matches!(e.kind, GraphErrorKind::Auth(_) | GraphErrorKind::Decode)
                || e.status.is_some_and(|s| s >= 500)
        }
        _ => false,
    }
}

/// A refused read as a gap in the snapshot.
fn gap<T>(e: &GraphError, what: &str, permission: &str) -> Collected<T> {
    match e.reason() {
        FailureReason::NotLicensed => Collected::NotLicensed {
            reason: format!(
                "{what} needs Microsoft Entra ID P1; the tenant's licence does not include it"
            ),
            graph_code: e.code.clone(),
        },
        FailureReason::IntuneNotAvailable => Collected::NotLicensed {
            reason: format!("{what} needs Microsoft Intune, which this tenant does not have"),
            graph_code: e.code.clone(),
        },
        FailureReason::PermissionDenied => Collected::MissingPermission {
            permission: permission.to_string(),
            graph_code: e.code.clone(),
        },
        _ => Collected::Failed {
            error: e.to_string(),
        },
    }
}

/// One collection in progress.
pub(super) struct Run<'a> {
    pub(super) svc: &'a Services,
    pub(super) graph: &'a GraphClient,
    pub(super) tenant: String,
    pub(super) company_id: u64,
    pub(super) job_id: u64,
    pub(super) by: Requester,
    pub(super) payloads: Vec<PayloadHash>,
}

impl Run<'_> {
    pub(super) fn hashed(&mut self, source: &str, d: PayloadDigest) {
        self.payloads.push(PayloadHash {
            source: source.to_string(),
            pages: d.pages,
            sha256: d.sha256,
            request_id: d.request_id,
            http_status: d.status,
        });
    }

    /// An audit entry of this collection, as the requester.
    pub(super) fn entry(
        &self,
        summary: impl Into<String>,
        details: serde_json::Value,
    ) -> NewAuditEvent {
        let mut details = match details {
            serde_json::Value::Object(m) => serde_json::Value::Object(m),
            _ => serde_json::json!({}),
        };
        if let Some(obj) = details.as_object_mut() {
            obj.insert("requested_by".into(), self.by.actor.0.clone().into());
            obj.insert("job_id".into(), self.job_id.into());
        }
        NewAuditEvent::new(
            self.svc.now(),
            self.by.actor.clone(),
            "sync.evidence.read",
            summary,
        )
        .company(self.company_id)
        .details(details)
    }

    /// Record a refused read in the audit log (Graph's answer whole), then either stop the
    /// collection (passing failures) or return the gap to store.
    pub(super) async fn refused<T>(
        &self,
        source: &'static str,
        what: &str,
        permission: &str,
        e: GraphError,
    ) -> Result<Collected<T>, Stop> {
        let collected = gap::<T>(&e, what, permission);
        let why = match &collected {
            Collected::NotLicensed { reason, .. } => format!("not licensed: {reason}"),
            Collected::MissingPermission { permission, .. } => {
                format!("permission missing: grant {permission} and consent again")
            }
            _ => format!("failed: {e}"),
        };
        let mut details = graph_error_details(&e);
        if let Some(obj) = details.as_object_mut() {
            obj.insert("source".into(), source.into());
        }
        let event = self
            .entry(format!("Evidence: {source} not collected — {why}"), details)
            .failed();
        self.svc.record(event).await?;
        if stops_collection(&e) {
            return Err(Stop::Graph(source, e));
        }
        Ok(collected)
    }
}

pub(super) fn map_collected<T, U>(c: Collected<T>, f: impl FnOnce(T) -> U) -> Collected<U> {
    match c {
        Collected::Collected { value } => Collected::Collected { value: f(value) },
        Collected::NotLicensed { reason, graph_code } => {
            Collected::NotLicensed { reason, graph_code }
        }
        Collected::MissingPermission {
            permission,
            graph_code,
        } => Collected::MissingPermission {
            permission,
            graph_code,
        },
        Collected::Failed { error } => Collected::Failed { error },
    }
}

/// The same gap for another kind of fact.
pub(super) fn other_gap<T, U>(c: &Collected<T>) -> Collected<U> {
    match c {
        Collected::NotLicensed { reason, graph_code } => Collected::NotLicensed {
            reason: reason.clone(),
            graph_code: graph_code.clone(),
        },
        Collected::MissingPermission {
            permission,
            graph_code,
        } => Collected::MissingPermission {
            permission: permission.clone(),
            graph_code: graph_code.clone(),
        },
        Collected::Failed { error } => Collected::Failed {
            error: error.clone(),
        },
        Collected::Collected { .. } => Collected::Failed {
            error: "not collected".into(),
        },
    }
}

/// Facts read although the licence is not active (a lapsed P1 still answers CA reads) are
/// not evidence of protection: shown as not licensed.
pub(super) fn gate<T>(
    c: Collected<T>,
    licensed: bool,
    reason: impl FnOnce() -> String,
) -> Collected<T> {
    match c {
        Collected::Collected { .. } if !licensed => Collected::NotLicensed {
            reason: reason(),
            graph_code: None,
        },
        other => other,
    }
}
