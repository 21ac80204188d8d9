//! Security defaults through `GET /v1.0/policies/identitySecurityDefaultsEnforcementPolicy`.
//!
//! When on, Microsoft requires MFA registration for everyone, MFA for administrators and
//! blocks legacy authentication, without any licence: a tenant without P1 is protected this
//! way (docs/microsoft.md#evidence-reads).

use serde::{Deserialize, Serialize};

use super::hashed::PayloadDigest;
use super::{GraphClient, GraphError};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityDefaults {
    #[serde(default)]
    pub is_enabled: bool,
}

impl GraphClient {
    pub async fn security_defaults(
        &self,
        tenant: &str,
    ) -> Result<(SecurityDefaults, PayloadDigest), GraphError> {
        let url = self.url("/v1.0/policies/identitySecurityDefaultsEnforcementPolicy");
        self.get_one_hashed(tenant, &url).await
    }
}
