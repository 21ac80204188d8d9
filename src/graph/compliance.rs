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

impl GraphClient {
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
        Ok(match self.get_json::<SummaryBody>(tenant, &url).await? {
            SummaryBody::Wrapped { value } => value,
            SummaryBody::WrappedList { value } => value.into_iter().next().unwrap_or_default(),
            SummaryBody::Bare(s) => s,
        })
    }
}
