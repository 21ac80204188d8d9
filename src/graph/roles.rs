//! Directory role assignments through
//! `GET /v1.0/roleManagement/directory/roleAssignments?$expand=principal`.
//!
//! Evidence: who holds a privileged role. `roleDefinitionId` is the role's *template* id, the
//! same in every tenant; the expanded `principal` says whether it is a user, a group or a
//! service principal (`@odata.type`). Needs `RoleManagement.Read.Directory`.

use serde::{Deserialize, Serialize};

use super::hashed::PayloadDigest;
use super::{GraphClient, GraphError};

/// The expanded principal: only what naming it needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    #[serde(default, rename = "@odata.type")]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
}

impl Principal {
    /// A user (not a group or a service principal).
    pub fn is_user(&self) -> bool {
        self.odata_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("#microsoft.graph.user"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    pub id: String,
    pub principal_id: String,
    pub role_definition_id: String,
    #[serde(default)]
    pub directory_scope_id: Option<String>,
    #[serde(default)]
    pub principal: Option<Principal>,
}

impl GraphClient {
    pub async fn role_assignments(
        &self,
        tenant: &str,
    ) -> Result<(Vec<RoleAssignment>, PayloadDigest), GraphError> {
        let url = self.url("/v1.0/roleManagement/directory/roleAssignments?$expand=principal");
        self.get_all_hashed(tenant, &url).await
    }
}
