//! Single-user lookups for sign-in decisions: one user's directory record and the groups it
//! belongs to (transitively), both read app-only from the user's own tenant.
//!
//! WHY Graph and not ID token claims: the `email` claim is unverified and mutable, and the
//! `groups` claim needs a manifest change and is replaced by an overage marker past 200
//! groups. The directory itself is authoritative for both.

use serde::Deserialize;

use super::{GraphClient, GraphError};

/// The directory fields a sign-in decision needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryUser {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    /// `Member` or `Guest`.
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
    /// Present on directoryObject collections. WHY read it: the docs list the OData cast among
    /// the "advanced query" features; if Graph ever answered the uncast list, directory roles
    /// and administrative units would otherwise pass as groups.
    #[serde(rename = "@odata.type", default)]
    odata_type: Option<String>,
}

/// Object ids must be GUIDs: they become a path segment.
fn valid_object_id(id: &str) -> bool {
    id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn bad_id(id: &str) -> GraphError {
    let mut info = GraphError::blank(super::GraphErrorKind::Decode);
    info.detail = Some(format!("{id:?} is not a directory object id"));
    GraphError::new(info)
}

impl GraphClient {
    /// `GET /v1.0/users/{id}` with the fields above.
    pub async fn user(&self, tenant: &str, id: &str) -> Result<DirectoryUser, GraphError> {
        if !valid_object_id(id) {
            return Err(bad_id(id));
        }
        let url = self.url(&format!(
            "/v1.0/users/{id}?$select=id,displayName,userPrincipalName,mail,userType,accountEnabled"
        ));
        self.get_json(tenant, &url).await
    }

    /// Ids of every group `user_id` belongs to, directly or through nested groups
    /// (`GET /v1.0/users/{id}/transitiveMemberOf/microsoft.graph.group`, all pages).
    pub async fn user_group_ids(
        &self,
        tenant: &str,
        user_id: &str,
    ) -> Result<Vec<String>, GraphError> {
        if !valid_object_id(user_id) {
            return Err(bad_id(user_id));
        }
        let url = self.url(&format!(
            "/v1.0/users/{user_id}/transitiveMemberOf/microsoft.graph.group?$select=id&$top=999"
        ));
        let page = self.get_all::<IdOnly>(tenant, &url).await?;
        Ok(page
            .items
            .into_iter()
            .filter(|g| {
                g.odata_type
                    .as_deref()
                    .is_none_or(|t| t.eq_ignore_ascii_case("#microsoft.graph.group"))
            })
            .map(|g| g.id.to_ascii_lowercase())
            .collect())
    }
}
