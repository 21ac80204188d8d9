//! OpenID discovery documents and the JWKS.
//!
//! WHY the `{tenantid}` placeholder: for `organizations`/`common` Entra publishes a templated
//! issuer that no token ever carries literally; a relying party that compares it verbatim (or a
//! library that insists issuer == discovery URL) fails exactly as it would against Microsoft.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{aad_error, is_multi};
use crate::simulator::state::SharedRef;

pub async fn openid_configuration(
    shared: web::Data<SharedRef>,
    path: web::Path<String>,
) -> HttpResponse {
    let segment = path.into_inner();
    let mut st = shared.lock();
    let login = st.login_url.clone();
    let (issuer, seg) = if is_multi(&segment) {
        (
            format!("{login}/{{tenantid}}/v2.0"),
            segment.to_ascii_lowercase(),
        )
    } else {
        match st.resolve_id(&segment) {
            Some(tid) => {
                if let Some(t) = st.tenants.get_mut(&tid) {
                    t.record("openid-configuration", 200, None, None, "");
                }
                (format!("{login}/{tid}/v2.0"), tid)
            }
            None => {
                return aad_error(
                    &login,
                    400,
                    "invalid_tenant",
                    90002,
                    &format!(
                        "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
                    ),
                );
            }
        }
    };
    let doc = json!({
        "token_endpoint": format!("{login}/{seg}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{login}/{seg}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{}/oidc/userinfo", st.graph_url),
        "authorization_endpoint": format!("{login}/{seg}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{login}/{seg}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{login}/{seg}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{login}/{seg}/kerberos"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    });
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(doc.to_string())
}

pub async fn jwks(shared: web::Data<SharedRef>) -> HttpResponse {
    let (idx, login) = {
        let st = shared.lock();
        (st.key_index, st.login_url.clone())
    };
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(shared.keys.jwks(idx, &login).to_string())
}
