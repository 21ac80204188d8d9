//! `POST /{tenant}/oauth2/v2.0/token`: client credentials and authorization code (+PKCE).
//!
//! Error codes follow docs/microsoft.md#token-errors and docs/microsoft.md#code-redemption:
//! 7000215 bad secret (401 invalid_client), 700016 app not in tenant (400 unauthorized_client,
//! also for unconsented/revoked tenants), 90002 unknown tenant (400 invalid_tenant), 54005 code
//! already redeemed, 70008 unknown/expired code, 501481 PKCE verifier mismatch, 500112 redirect
//! URI differs from the one at /authorize.
//! A `client_assertion` (certificate credential) is checked in `assertion.rs`, with its own
//! codes (700027, 700024, 700023, 700021, 50048, 50027, 90011).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use chrono::Duration;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::assertion;
use super::idtoken::{self, Subject};
use super::{aad_error, is_multi};
use crate::simulator::state::{IssuedToken, SharedRef, SimState};

const GRAPH_DEFAULT: [&str; 2] = [
    "https://graph.microsoft.com/.default",
    "00000003-0000-0000-c000-000000000000/.default",
];

fn basic_auth(req: &HttpRequest) -> Option<(String, String)> {
    let v = req.headers().get("authorization")?.to_str().ok()?;
    let b = v.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    let dec = |x: &str| {
        serde_urlencoded::from_str::<HashMap<String, String>>(&format!("v={x}"))
            .ok()
            .and_then(|m| m.get("v").cloned())
    };
    Some((dec(u)?, dec(p)?))
}

fn issue(st: &mut SimState, tenant_id: &str, client_id: &str, app_only: bool) -> (String, i64) {
    let token = format!(
        "sim.{}.{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let life = st.login.token_lifetime_secs;
    // Long-running demos issue tokens forever; drop expired ones now and then.
    if st.tokens.len() > 10_000 {
        let now = crate::simulator::clock::now();
        st.tokens.retain(|_, t| t.expires > now);
    }
    st.tokens.insert(
        token.clone(),
        IssuedToken {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            expires: crate::simulator::clock::now() + Duration::seconds(life),
            app_only,
        },
    );
    (token, life)
}

/// The `aud` values a client assertion posted to `segment` may carry: the token endpoint of
/// the same tenant, named by its GUID or any verified domain (v2.0, or the v1 `/oauth2/token`).
/// For `organizations`/`common`, only that endpoint itself.
fn token_audiences(
    st: &SimState,
    login: &str,
    segment: &str,
    tenant_id: Option<&str>,
) -> Vec<String> {
    let mut names = vec![segment.to_string()];
    if let Some(t) = tenant_id.and_then(|id| st.tenants.get(id)) {
        names.push(t.id().to_string());
        names.extend(t.domains().into_iter().map(str::to_string));
    }
    names
        .iter()
        .flat_map(|n| {
            [
                format!("{login}/{n}/oauth2/v2.0/token"),
                format!("{login}/{n}/oauth2/token"),
            ]
        })
        .collect()
}

pub async fn token(
    shared: web::Data<SharedRef>,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let segment = path.into_inner();
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let mut st = shared.lock();
    let login = st.login_url.clone();
    let err = |status: u16, error: &str, code: u32, desc: &str| {
        aad_error(&login, status, error, code, desc)
    };
    let multi = is_multi(&segment);
    let tenant_id = st.resolve_id(&segment);
    if !multi && tenant_id.is_none() {
        return err(
            400,
            "invalid_tenant",
            90002,
            &format!(
                "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        );
    }
    let grant = get("grant_type");
    if grant.is_empty() {
        return err(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    }
    if grant != "client_credentials" && grant != "authorization_code" {
        return err(
            400,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant}'."),
        );
    }
    let (client_id, secret) = match basic_auth(&req) {
        Some((u, p)) => (u, p),
        None => (
            get("client_id").to_string(),
            get("client_secret").to_string(),
        ),
    };
    if client_id.is_empty() {
        return err(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    }
    let dir = tenant_id.clone().unwrap_or_else(|| segment.clone());
    let Some(app) = st.apps.get(&client_id).cloned() else {
        return err(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{dir}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        );
    };
    let assertion = get("client_assertion");
    if secret.is_empty() && assertion.is_empty() {
        return err(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    if !assertion.is_empty() {
        // Certificate credential (private_key_jwt); see assertion.rs for the checks and codes.
        let audiences = token_audiences(&st, &login, &segment, tenant_id.as_deref());
        let certs = st
            .app_certificates
            .get(&client_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let request = assertion::Request {
            client_id: &client_id,
            assertion_type: form.get("client_assertion_type").map(String::as_str),
            assertion,
            audiences: &audiences,
            now: crate::simulator::clock::now(),
        };
        if let Err(r) = assertion::verify(&request, certs) {
            return err(r.status, r.error, r.code, &r.desc);
        }
    } else if secret != app.client_secret || app.client_secret.is_empty() {
        return err(
            401,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        );
    }
    if app.secret_expired && assertion.is_empty() {
        return err(
            401,
            "invalid_client",
            7000222,
            &format!(
                "The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app or consider using certificate credentials for added security."
            ),
        );
    }
    if grant == "client_credentials" {
        let Some(tid) = tenant_id.filter(|_| !multi) else {
            return err(
                400,
                "invalid_request",
                9001023,
                "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
            );
        };
        let scope = get("scope");
        if scope.is_empty() {
            return err(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            );
        }
        if !GRAPH_DEFAULT.contains(&scope) {
            return err(
                400,
                "invalid_scope",
                70011,
                &format!(
                    "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
                ),
            );
        }
        let consented = st
            .tenants
            .get(&tid)
            .is_some_and(|t| t.consents.contains(&client_id));
        if let Some(t) = st.tenants.get_mut(&tid) {
            t.record(
                "token:client_credentials",
                if consented { 200 } else { 400 },
                None,
                None,
                "",
            );
        }
        if !consented {
            return err(
                400,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tid}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
                ),
            );
        }
        let (at, life) = issue(&mut st, &tid, &client_id, true);
        let body = json!({ "token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": at });
        return HttpResponse::Ok()
            .content_type("application/json; charset=utf-8")
            .body(body.to_string());
    }
    // authorization_code
    let code = get("code");
    if code.is_empty() {
        return err(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'code'.",
        );
    }
    let Some(grant) = st.codes.get(code).cloned() else {
        return err(
            400,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        );
    };
    if grant.redeemed {
        return err(
            400,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        );
    }
    if grant.expires <= crate::simulator::clock::now() || grant.client_id != client_id {
        return err(
            400,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        );
    }
    if grant.segment != segment.to_ascii_lowercase()
        && tenant_id.as_deref() != Some(grant.tenant_id.as_str())
    {
        return err(
            400,
            "invalid_grant",
            700005,
            "Provided Authorization Code is intended to use against other tenant, thus rejected.",
        );
    }
    let redirect_uri = get("redirect_uri");
    if redirect_uri != grant.redirect_uri {
        return err(
            400,
            "invalid_grant",
            500112,
            &format!(
                "The reply address '{redirect_uri}' does not match the reply address '{}' provided when requesting Authorization code.",
                grant.redirect_uri
            ),
        );
    }
    let verifier = get("code_verifier");
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if verifier.is_empty() || computed != grant.challenge {
        return err(
            400,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        );
    }
    if let Some(g) = st.codes.get_mut(code) {
        g.redeemed = true;
    }
    let (at, life) = issue(&mut st, &grant.tenant_id, &client_id, false);
    let user = st
        .tenants
        .get(&grant.tenant_id)
        .and_then(|t| t.users.get(&t.tg, &grant.user_id));
    let s = |k: &str| {
        user.as_ref()
            .and_then(|u| u.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let (name, upn, mail) = (
        s("displayName").unwrap_or_default(),
        s("userPrincipalName").unwrap_or_default(),
        s("mail"),
    );
    let mut body = json!({ "token_type": "Bearer", "scope": grant.scope, "expires_in": life, "ext_expires_in": life, "access_token": at });
    if grant.scope.split(' ').any(|x| x == "openid") {
        let subject = Subject {
            login_url: &login,
            tenant_id: &grant.tenant_id,
            client_id: &client_id,
            oid: &grant.user_id,
            name: &name,
            upn: &upn,
            email: if grant.scope.split(' ').any(|x| x == "email") {
                mail.as_deref()
            } else {
                None
            },
            nonce: grant.nonce.as_deref(),
        };
        match idtoken::sign(
            &shared.keys,
            st.key_index,
            &subject,
            &at,
            st.login.id_token_fault,
        ) {
            Ok(t) => body["id_token"] = Value::String(t),
            Err(e) => {
                return err(
                    500,
                    "server_error",
                    50000,
                    &format!("Simulator could not sign the id_token: {e}"),
                );
            }
        }
    }
    if let Some(t) = st.tenants.get_mut(&grant.tenant_id) {
        t.record("token:authorization_code", 200, None, None, "");
    }
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}
