//! Users through `GET /v1.0/users/delta`.
//!
//! The first round (no link) returns every current user; later rounds, started from the stored
//! delta link, return only users whose *selected* properties changed, plus `@removed` entries.
//! Delta links expire after 7 days ([`super::GraphErrorKind::DeltaExpired`]).
//!
//! Every property except `id` is optional: removed entries carry only `id` and `@removed`.
//! We do not send `Prefer: return=minimal`, so an updated user comes with all selected
//! properties that have a value; an absent property therefore means "no value" (cleared or
//! never set), and mapping `None` to "empty" is correct for upserts.

use serde::{Deserialize, Serialize};

use super::wire::Removed;
use super::{GraphClient, GraphError, Page};

/// The properties the contact sync needs. Without `$select` the default set lacks
/// `department`; with it, only changes to these properties make a user reappear in delta.
pub const USER_SELECT: &str =
    "id,displayName,mail,userPrincipalName,department,jobTitle,accountEnabled,userType";

/// A user as a delta round reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeltaUser {
    /// Entra object id (equals `oid` in ID tokens); the stable key.
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Null for users without a mailbox; fall back to the UPN for display only.
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    /// `false` = disabled account: an update, not a removal.
    #[serde(default)]
    pub account_enabled: Option<bool>,
    /// `Member` or `Guest` (capitalised here, unlike the registration report's `userType`).
    #[serde(default)]
    pub user_type: Option<String>,
    /// Present when the user was deleted (`deleted`) or soft-deleted (`changed`).
    #[serde(default, rename = "@removed", skip_serializing_if = "Option::is_none")]
    pub removed: Option<Removed>,
}

impl DeltaUser {
    pub fn is_removed(&self) -> bool {
        self.removed.is_some()
    }

    /// `userType` says Guest (case-insensitive; directory data is not consistently cased).
    pub fn is_guest(&self) -> bool {
        self.user_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("guest"))
    }
}

impl GraphClient {
    /// The URL that starts a full users round.
    pub fn users_delta_start_url(&self) -> String {
        self.url(&format!("/v1.0/users/delta?$select={USER_SELECT}"))
    }

    /// One page of a users delta round: `link` is `None` to start a full round, or the next
    /// link or stored delta link to continue. Query options are only sent on the first
    /// request; links carry them.
    pub async fn users_delta_page(
        &self,
        tenant: &str,
        link: Option<&str>,
    ) -> Result<Page<DeltaUser>, GraphError> {
        let url = match link {
            Some(l) => l.to_string(),
            None => self.users_delta_start_url(),
        };
        self.get_page(tenant, &url).await
    }
}
