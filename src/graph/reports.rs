//! MFA and SSPR registration through
//! `GET /v1.0/reports/authenticationMethods/userRegistrationDetails`.
//!
//! Evidence: who registered a strong method. Needs Entra ID P1/P2; an unlicensed tenant
//! answers 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`
//! ([`super::FailureReason::NotLicensed`]). The report lags by hours and omits soft-deleted
//! users. Reports are throttled to 5 requests per 10 s per tenant: follow next links serially.
//!
//! `defaultMfaMethod` exists only in beta; v1.0 has `userPreferredMethodForSecondaryAuthentication`
//! and `systemPreferredAuthenticationMethods` instead.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{GraphClient, GraphError};

/// One user's registration state.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRegistrationDetails {
    /// The user's object id (joins to `DeltaUser::id`).
    pub id: String,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub user_display_name: Option<String>,
    /// `member` / `guest` — lower case here, unlike `user.userType`.
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub is_admin: Option<bool>,
    /// Registered a strong method and the policy allows it.
    #[serde(default)]
    pub is_mfa_capable: Option<bool>,
    /// Registered a strong method (maybe not allowed by policy).
    #[serde(default)]
    pub is_mfa_registered: Option<bool>,
    #[serde(default)]
    pub is_passwordless_capable: Option<bool>,
    #[serde(default)]
    pub is_sspr_capable: Option<bool>,
    #[serde(default)]
    pub is_sspr_enabled: Option<bool>,
    #[serde(default)]
    pub is_sspr_registered: Option<bool>,
    #[serde(default)]
    pub is_system_preferred_authentication_method_enabled: Option<bool>,
    /// Open set: `microsoftAuthenticatorPush`, `softwareOneTimePasscode`, `fido2`, ...
    #[serde(default)]
    pub methods_registered: Vec<String>,
    #[serde(default)]
    pub system_preferred_authentication_methods: Vec<String>,
    /// `push`, `oath`, `sms`, `none`, ...; the docs' example shows `""` when unset.
    #[serde(default)]
    pub user_preferred_method_for_secondary_authentication: Option<String>,
    /// When the report row was refreshed, not when the user registered.
    #[serde(default)]
    pub last_updated_date_time: Option<DateTime<Utc>>,
}

impl GraphClient {
    /// Every row of the registration report.
    pub async fn user_registration_details(
        &self,
        tenant: &str,
    ) -> Result<Vec<UserRegistrationDetails>, GraphError> {
        let url = self.url("/v1.0/reports/authenticationMethods/userRegistrationDetails");
        Ok(self.get_all(tenant, &url).await?.items)
    }

    /// The report page by page, hashed (evidence: a 100 k-user tenant's report is not held
    /// whole). Paced to 5 requests / 10 s per tenant.
    pub fn user_registration_pages(&self, tenant: &str) -> super::hashed::HashedPages<'_> {
        let url = self.url("/v1.0/reports/authenticationMethods/userRegistrationDetails");
        self.hashed_pages(tenant, &url)
    }
}
