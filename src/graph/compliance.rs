//! Intune compliance policies and the tenant-wide compliance summary.
//!
//! Evidence: which compliance rules exist and how many devices meet them. Both need an
//! Intune-licensed tenant (same 400 "not applicable" answer as devices otherwise). The policy
//! list is polymorphic: each item's `@odata.type` names the platform
//! (`#microsoft.graph.windows10CompliancePolicy`, ...); platform settings are kept raw.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{GraphClient, GraphError};

/// One compliance policy (the abstract `deviceCompliancePolicy` base fields).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCompliancePolicy {
    #[serde(default, rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub version: Option<i32>,
    /// Platform-specific settings (`bitLockerEnabled`, `osMinimumVersion`, ...), as sent.
    #[serde(flatten)]
    pub settings: serde_json::Map<String, serde_json::Value>,
}

impl DeviceCompliancePolicy {
    /// The platform part of `@odata.type`, e.g. `windows10CompliancePolicy`.
    pub fn platform_type(&self) -> Option<&str> {
        self.odata_type
            .as_deref()
            .map(|t| t.trim_start_matches("#microsoft.graph."))
    }
}

/// `deviceCompliancePolicyDeviceStateSummary`: device counts per compliance state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceSummary {
    #[serde(default)]
    pub compliant_device_count: Option<i32>,
    #[serde(default)]
    pub non_compliant_device_count: Option<i32>,
    #[serde(default)]
    pub in_grace_period_count: Option<i32>,
    #[serde(default)]
    pub error_device_count: Option<i32>,
    #[serde(default)]
    pub conflict_device_count: Option<i32>,
    #[serde(default)]
    pub unknown_device_count: Option<i32>,
    #[serde(default)]
    pub not_applicable_device_count: Option<i32>,
    #[serde(default)]
    pub remediated_device_count: Option<i32>,
    #[serde(default)]
    pub config_manager_count: Option<i32>,
}

/// The summary is a singleton, but the docs' example wraps it in `"value"`; accept both.
#[derive(Deserialize)]
#[serde(untagged)]
enum SummaryBody {
    Wrapped { value: ComplianceSummary },
    WrappedList { value: Vec<ComplianceSummary> },
    Bare(ComplianceSummary),
}

impl SummaryBody {
    fn into_summary(self) -> ComplianceSummary {
        match self {
            SummaryBody::Wrapped { value } => value,
            SummaryBody::WrappedList { value } => value.into_iter().next().unwrap_or_default(),
            SummaryBody::Bare(s) => s,
        }
    }
}

/// `deviceComplianceDeviceOverview` of one policy: device counts per status (v1.0 has no
/// conflict count).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceStatusOverview {
    #[serde(default)]
    pub pending_count: Option<i64>,
    #[serde(default)]
    pub not_applicable_count: Option<i64>,
    #[serde(default)]
    pub success_count: Option<i64>,
    #[serde(default)]
    pub error_count: Option<i64>,
    #[serde(default)]
    pub failed_count: Option<i64>,
    #[serde(default)]
    pub configuration_version: Option<i64>,
}

impl GraphClient {
    /// Every compliance policy, with the digest of the pages (evidence).
    pub async fn device_compliance_policies_hashed(
        &self,
        tenant: &str,
    ) -> Result<(Vec<DeviceCompliancePolicy>, super::hashed::PayloadDigest), GraphError> {
        let url = self.url("/v1.0/deviceManagement/deviceCompliancePolicies");
        self.get_all_hashed(tenant, &url).await
    }

    /// The tenant-wide compliance counts, with their digest (evidence).
    pub async fn compliance_summary_hashed(
        &self,
        tenant: &str,
    ) -> Result<(ComplianceSummary, super::hashed::PayloadDigest), GraphError> {
        let url = self.url("/v1.0/deviceManagement/deviceCompliancePolicyDeviceStateSummary");
        let (body, digest) = self.get_one_hashed::<SummaryBody>(tenant, &url).await?;
        Ok((body.into_summary(), digest))
    }

    /// One policy's device status overview, with its digest.
    pub async fn device_status_overview(
        &self,
        tenant: &str,
        policy_id: &str,
    ) -> Result<(DeviceStatusOverview, super::hashed::PayloadDigest), GraphError> {
        let id: String = url::form_urlencoded::byte_serialize(policy_id.as_bytes()).collect();
        let url = self.url(&format!(
            "/v1.0/deviceManagement/deviceCompliancePolicies/{id}/deviceStatusOverview"
        ));
        self.get_one_hashed(tenant, &url).await
    }

    /// Every compliance policy of the tenant.
    pub async fn device_compliance_policies(
        &self,
        tenant: &str,
    ) -> Result<Vec<DeviceCompliancePolicy>, GraphError> {
        let url = self.url("/v1.0/deviceManagement/deviceCompliancePolicies");
        Ok(self.get_all(tenant, &url).await?.items)
    }

    /// The tenant-wide device compliance counts.
    pub async fn compliance_summary(&self, tenant: &str) -> Result<ComplianceSummary, GraphError> {
        let url = self.url("/v1.0/deviceManagement/deviceCompliancePolicyDeviceStateSummary");
        Ok(self
            .get_json::<SummaryBody>(tenant, &url)
            .await?
            .into_summary())
    }
}
