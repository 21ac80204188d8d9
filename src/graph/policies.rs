//! Conditional Access policies through `GET /v1.0/identity/conditionalAccess/policies`.
//!
//! Evidence, not sync: who must use MFA, what is blocked. Needs Entra ID P1; an unlicensed
//! tenant answers 403. Conditional Access is throttled to one request per second per tenant and
//! sends no `Retry-After`, so the caller should call it serially; the retry policy's backoff
//! covers the 429s that still happen.
//!
//! Only the parts the evidence logic reads are typed; the rest of `conditions` and the session
//! controls are kept as raw JSON so nothing Microsoft adds is lost.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::open_enum;
use super::{GraphClient, GraphError};

open_enum! {
    /// `conditionalAccessPolicyState`.
    PolicyState {
        Enabled => "enabled",
        Disabled => "disabled",
        /// Report-only.
        EnabledForReportingButNotEnforced => "enabledForReportingButNotEnforced",
    }
}

/// Users, groups and roles a policy targets. Entries are object ids or the special strings
/// `All`, `None`, `GuestsOrExternalUsers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyUsers {
    #[serde(default)]
    pub include_users: Vec<String>,
    #[serde(default)]
    pub exclude_users: Vec<String>,
    #[serde(default)]
    pub include_groups: Vec<String>,
    #[serde(default)]
    pub exclude_groups: Vec<String>,
    #[serde(default)]
    pub include_roles: Vec<String>,
    #[serde(default)]
    pub exclude_roles: Vec<String>,
}

/// Applications a policy targets (`All`, `Office365`, app ids, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyApplications {
    #[serde(default)]
    pub include_applications: Vec<String>,
    #[serde(default)]
    pub exclude_applications: Vec<String>,
    #[serde(default)]
    pub include_user_actions: Vec<String>,
}

/// The typed part of `conditions`; the whole object is kept in
/// [`ConditionalAccessPolicy::conditions_raw`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyConditions {
    #[serde(default)]
    pub users: Option<PolicyUsers>,
    #[serde(default)]
    pub applications: Option<PolicyApplications>,
    /// `all`, `browser`, `mobileAppsAndDesktopClients`, `exchangeActiveSync`, `other`, ...
    #[serde(default)]
    pub client_app_types: Vec<String>,
}

/// The authentication strength a policy requires (a way to demand MFA without `mfa` in
/// `builtInControls`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationStrength {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// `mfa` when the strength is a second factor (every built-in one is).
    #[serde(default)]
    pub requirements_satisfied: Option<String>,
}

/// Grant controls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantControls {
    /// `AND` or `OR`.
    #[serde(default)]
    pub operator: Option<String>,
    /// `block`, `mfa`, `compliantDevice`, ... (an open set: `verifiedID` already appears).
    #[serde(default)]
    pub built_in_controls: Vec<String>,
    #[serde(default)]
    pub custom_authentication_factors: Vec<String>,
    #[serde(default)]
    pub terms_of_use: Vec<String>,
    #[serde(default)]
    pub authentication_strength: Option<AuthenticationStrength>,
}

/// One Conditional Access policy.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessPolicy {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub state: Option<PolicyState>,
    /// Null for older policies.
    #[serde(default)]
    pub created_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub modified_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub template_id: Option<String>,
    /// The whole `conditions` object as sent.
    #[serde(default, rename = "conditions")]
    pub conditions_raw: Option<serde_json::Value>,
    #[serde(default)]
    pub grant_controls: Option<GrantControls>,
    #[serde(default)]
    pub session_controls: Option<serde_json::Value>,
}

impl ConditionalAccessPolicy {
    /// The typed view of `conditions` (users, applications, client app types).
    pub fn conditions(&self) -> Option<PolicyConditions> {
        let raw = self.conditions_raw.clone()?;
        serde_json::from_value(raw).ok()
    }

    /// Does the policy demand MFA? Either `mfa` in `builtInControls` or an authentication
    /// strength: checking only the first misses policies built on strengths.
    pub fn requires_mfa(&self) -> bool {
        self.grant_controls.as_ref().is_some_and(|g| {
            g.built_in_controls
                .iter()
                .any(|c| c.eq_ignore_ascii_case("mfa"))
                || g.authentication_strength.is_some()
        })
    }

    /// Enforced (not disabled, not report-only).
    pub fn is_enforced(&self) -> bool {
        self.state == Some(PolicyState::Enabled)
    }
}

impl GraphClient {
    /// Every Conditional Access policy of the tenant.
    pub async fn conditional_access_policies(
        &self,
        tenant: &str,
    ) -> Result<Vec<ConditionalAccessPolicy>, GraphError> {
        let url = self.url("/v1.0/identity/conditionalAccess/policies");
        Ok(self.get_all(tenant, &url).await?.items)
    }

    /// The same, with the digest of the pages (evidence). Paced to 1 request/s per tenant.
    pub async fn conditional_access_policies_hashed(
        &self,
        tenant: &str,
    ) -> Result<(Vec<ConditionalAccessPolicy>, super::hashed::PayloadDigest), GraphError> {
        let url = self.url("/v1.0/identity/conditionalAccess/policies");
        self.get_all_hashed(tenant, &url).await
    }
}
