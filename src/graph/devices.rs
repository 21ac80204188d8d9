//! Intune managed devices through `GET /v1.0/deviceManagement/managedDevices`.
//!
//! `managedDevice` has no delta function in v1.0, so every sync lists all devices and the
//! caller diffs locally (a device missing from a complete listing was retired). Intune needs a
//! licence: a tenant without it answers 400 "Request not applicable to target tenant." rather
//! than an empty list ([`super::FailureReason::IntuneNotAvailable`]).
//!
//! Property names checked against the v1.0 CSDL (`managedDevice`). Note the casing traps:
//! `azureADDeviceId` (capital AD), and the compliance value `noncompliant` (lower-case c,
//! unlike `nonCompliant` in the separate `complianceStatus` enum).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::open_enum;
use super::{GraphClient, GraphError, Page};

/// The properties the asset sync needs.
pub const DEVICE_SELECT: &str = "id,deviceName,operatingSystem,osVersion,serialNumber,\
complianceState,lastSyncDateTime,userId,userPrincipalName,azureADDeviceId,\
managedDeviceOwnerType,enrolledDateTime,model,manufacturer,isEncrypted,jailBroken";

open_enum! {
    /// `complianceState` of a managed device (CSDL enum `complianceState`).
    ComplianceState {
        Unknown => "unknown",
        Compliant => "compliant",
        Noncompliant => "noncompliant",
        Conflict => "conflict",
        Error => "error",
        InGracePeriod => "inGracePeriod",
        ConfigManager => "configManager",
    }
}

open_enum! {
    /// `managedDeviceOwnerType` (CSDL enum of the same name).
    OwnerType {
        Unknown => "unknown",
        Company => "company",
        Personal => "personal",
        UnknownFutureValue => "unknownFutureValue",
    }
}

/// One Intune device.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedDevice {
    /// Intune device id (not the Entra device object id).
    pub id: String,
    /// Hostname.
    #[serde(default)]
    pub device_name: Option<String>,
    #[serde(default)]
    pub operating_system: Option<String>,
    #[serde(default)]
    pub os_version: Option<String>,
    /// Can be an empty string for some platforms and enrolments.
    #[serde(default)]
    pub serial_number: Option<String>,
    #[serde(default)]
    pub compliance_state: Option<ComplianceState>,
    /// Last successful check-in.
    #[serde(default)]
    pub last_sync_date_time: Option<DateTime<Utc>>,
    /// Entra id of the device's user (may differ from the portal's "primary user").
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// Reference to the Entra device record (its `deviceId`, not its object id); an all-zero
    /// GUID when the device is not registered.
    #[serde(default, rename = "azureADDeviceId")]
    pub azure_ad_device_id: Option<String>,
    #[serde(default)]
    pub managed_device_owner_type: Option<OwnerType>,
    #[serde(default)]
    pub enrolled_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub manufacturer: Option<String>,
    /// Storage encrypted (evidence: "managed devices are encrypted").
    #[serde(default)]
    pub is_encrypted: Option<bool>,
    /// `True`, `False` or `Unknown` — a string in the CSDL, not a boolean.
    #[serde(default)]
    pub jail_broken: Option<String>,
}

impl ManagedDevice {
    /// `azureADDeviceId` unless it is missing or the all-zero "not registered" GUID.
    pub fn entra_device_id(&self) -> Option<&str> {
        self.azure_ad_device_id
            .as_deref()
            .filter(|id| !id.is_empty() && id.chars().any(|c| c != '0' && c != '-'))
    }
}

impl GraphClient {
    /// The URL of the first page of the device listing.
    pub fn managed_devices_url(&self) -> String {
        self.url(&format!(
            "/v1.0/deviceManagement/managedDevices?$select={DEVICE_SELECT}"
        ))
    }

    /// One page of the device listing (`None` = first page, else a next link).
    pub async fn managed_devices_page(
        &self,
        tenant: &str,
        link: Option<&str>,
    ) -> Result<Page<ManagedDevice>, GraphError> {
        let url = match link {
            Some(l) => l.to_string(),
            None => self.managed_devices_url(),
        };
        self.get_page(tenant, &url).await
    }

    /// Every managed device of the tenant (all pages).
    pub async fn managed_devices(&self, tenant: &str) -> Result<Vec<ManagedDevice>, GraphError> {
        Ok(self
            .get_all(tenant, &self.managed_devices_url())
            .await?
            .items)
    }
}
