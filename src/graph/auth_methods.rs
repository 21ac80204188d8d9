//! Authentication methods: the tenant's policy (`GET /v1.0/policies/authenticationMethodsPolicy`)
//! and each user's registered methods (`GET /v1.0/users/{id}/authentication/methods`, read
//! through `$batch` in 20s as peers do at scale).
//!
//! The per-user read is the fallback when the registration report is unavailable (no P1):
//! Microsoft advises against iterating it over a whole population, so evidence reads it only
//! for administrators. Needs `UserAuthenticationMethod.Read.All`.

use serde::{Deserialize, Serialize};

use super::hashed::PayloadDigest;
use super::{GraphClient, GraphError};

/// One registered method: its type is all evidence needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AuthenticationMethod {
    #[serde(default, rename = "@odata.type")]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

/// Method types that are a second factor (`microsoft.graph.` prefix and `AuthenticationMethod`
/// suffix removed). A password is not; e-mail is for password reset only; a temporary access
/// pass expires.
const STRONG: &[&str] = &[
    "microsoftAuthenticator",
    "phone",
    "fido2",
    "softwareOath",
    "windowsHelloForBusiness",
    "platformCredential",
    "x509Certificate",
    "hardwareOath",
];

impl AuthenticationMethod {
    /// `microsoftAuthenticator`, `password`, `phone`, ...
    pub fn kind(&self) -> &str {
        self.odata_type
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches("#microsoft.graph.")
            .trim_end_matches("AuthenticationMethod")
    }

    pub fn is_strong(&self) -> bool {
        let k = self.kind();
        STRONG.iter().any(|s| s.eq_ignore_ascii_case(k))
    }
}

#[derive(Deserialize)]
struct MethodsBody {
    #[serde(default)]
    value: Vec<AuthenticationMethod>,
}

impl GraphClient {
    /// The tenant's authentication methods policy, as sent (kept for its hash and which
    /// methods are enabled).
    pub async fn authentication_methods_policy(
        &self,
        tenant: &str,
    ) -> Result<(serde_json::Value, PayloadDigest), GraphError> {
        let url = self.url("/v1.0/policies/authenticationMethodsPolicy");
        self.get_one_hashed(tenant, &url).await
    }

    /// Each user's registered methods, in the order of `user_ids`, read in batches of 20.
    pub async fn users_authentication_methods(
        &self,
        tenant: &str,
        user_ids: &[String],
    ) -> Result<
        (
            Vec<Result<Vec<AuthenticationMethod>, GraphError>>,
            PayloadDigest,
        ),
        GraphError,
    > {
        let urls: Vec<String> = user_ids
            .iter()
            .map(|id| format!("/users/{id}/authentication/methods"))
            .collect();
        let (bodies, digest) = self.batch_get(tenant, &urls).await?;
        let methods = bodies
            .into_iter()
            .map(|b| {
                b.and_then(|v| {
                    serde_json::from_value::<MethodsBody>(v)
                        .map(|m| m.value)
                        .map_err(|e| {
                            let mut info = GraphError::blank(super::error::GraphErrorKind::Decode);
                            info.detail = Some(e.to_string());
                            GraphError::new(info)
                        })
                })
            })
            .collect();
        Ok((methods, digest))
    }
}
