//! The tenant itself through `GET /v1.0/organization`.
//!
//! Used on connect to confirm which tenant consented (the `tenant` query parameter of the
//! consent callback is not proof; a token for that tenant and its `/organization` are) and to
//! label it. The endpoint returns a collection with exactly one item.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::GraphErrorKind;
use super::{GraphClient, GraphError};

/// One verified domain of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedDomain {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub is_default: Option<bool>,
    #[serde(default)]
    pub is_initial: Option<bool>,
    /// `Managed` or `Federated`.
    #[serde(default, rename = "type")]
    pub domain_type: Option<String>,
    /// e.g. `"Email, OfficeCommunicationsOnline"`.
    #[serde(default)]
    pub capabilities: Option<String>,
}

/// A service plan assigned to the tenant: a hint (not proof) of licences such as Entra P1
/// (`AADPremiumService`) or Intune (`SCO`); the real signal is each API's own error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedPlan {
    #[serde(default)]
    pub assigned_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub capability_status: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub service_plan_id: Option<String>,
}

/// The tenant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// Tenant GUID: must equal the tenant we asked for.
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub tenant_type: Option<String>,
    #[serde(default)]
    pub country_letter_code: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub verified_domains: Vec<VerifiedDomain>,
    #[serde(default)]
    pub assigned_plans: Vec<AssignedPlan>,
}

impl Organization {
    /// The default verified domain's name, if any.
    pub fn default_domain(&self) -> Option<&str> {
        self.verified_domains
            .iter()
            .find(|d| d.is_default == Some(true))
            .and_then(|d| d.name.as_deref())
    }
}

impl GraphClient {
    /// The tenant's organization object.
    pub async fn organization(&self, tenant: &str) -> Result<Organization, GraphError> {
        let page = self
            .get_all::<Organization>(tenant, &self.url("/v1.0/organization"))
            .await?;
        page.items.into_iter().next().ok_or_else(|| {
            let mut info = GraphError::blank(GraphErrorKind::Decode);
            info.path = Some("/v1.0/organization".into());
            info.detail = Some("the organization collection was empty".into());
            GraphError::new(info)
        })
    }
}
