//! The tenant's licences through `GET /v1.0/subscribedSkus` (not paged).
//!
//! Evidence decides Entra ID P1/P2 and Intune from the *service plans* of subscriptions that
//! still work (`capabilityStatus` `Enabled` or `Warning`, the grace period), not from SKU
//! names: the same plan comes in many SKUs (docs/microsoft.md#evidence-reads).

use serde::{Deserialize, Serialize};

use super::hashed::PayloadDigest;
use super::{GraphClient, GraphError};

/// Service plan ids (the same in every tenant).
pub const ENTRA_P1_PLAN: &str = "41781fb2-bc02-4b7c-bd55-b576c07bb09d";
pub const ENTRA_P2_PLAN: &str = "eec0eb4f-6444-4f95-aba0-50c24d67f998";
pub const INTUNE_PLAN: &str = "c1ec4a95-1f05-45b3-a911-aa3fa01094f5";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlan {
    pub service_plan_id: String,
    #[serde(default)]
    pub service_plan_name: Option<String>,
    #[serde(default)]
    pub provisioning_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    #[serde(default)]
    pub sku_id: Option<String>,
    #[serde(default)]
    pub sku_part_number: Option<String>,
    /// `Enabled`, `Warning`, `Suspended`, `Deleted`, `LockedOut`.
    #[serde(default)]
    pub capability_status: Option<String>,
    #[serde(default)]
    pub service_plans: Vec<ServicePlan>,
}

impl SubscribedSku {
    /// The subscription still grants its plans: `Enabled`, or `Warning` (grace period).
    pub fn is_usable(&self) -> bool {
        self.capability_status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("Enabled") || s.eq_ignore_ascii_case("Warning"))
    }

    pub fn has_plan(&self, plan_id: &str) -> bool {
        self.service_plans
            .iter()
            .any(|p| p.service_plan_id.eq_ignore_ascii_case(plan_id))
    }
}

impl GraphClient {
    pub async fn subscribed_skus(
        &self,
        tenant: &str,
    ) -> Result<(Vec<SubscribedSku>, PayloadDigest), GraphError> {
        self.get_all_hashed(tenant, &self.url("/v1.0/subscribedSkus"))
            .await
    }
}
