//! RS256 id_tokens with Entra's v2.0 claim set (docs/microsoft.md#id-token-claims).
//!
//! WHY hand-built JWTs: Entra sends `aud` as a plain string and adds `oid`/`tid`/`ver`/`nbf`;
//! openidconnect's token builder would serialise `aud` as an array. The signature itself comes
//! from openidconnect's RSA key (`PrivateSigningKey::sign`), so relying parties verify it with
//! the standard JWKS path.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use openidconnect::PrivateSigningKey;
use openidconnect::core::CoreJwsSigningAlgorithm;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::simulator::keys::KeyRing;
use crate::simulator::state::IdTokenFault;

/// Who signed in, to which app.
pub struct Subject<'a> {
    pub login_url: &'a str,
    pub tenant_id: &'a str,
    pub client_id: &'a str,
    pub oid: &'a str,
    pub name: &'a str,
    pub upn: &'a str,
    pub email: Option<&'a str>,
    pub nonce: Option<&'a str>,
}

/// Signs an id_token; `fault` deliberately breaks one property for relying-party tests.
pub fn sign(
    keys: &KeyRing,
    key_index: usize,
    s: &Subject<'_>,
    access_token: &str,
    fault: Option<IdTokenFault>,
) -> Result<String, String> {
    let now = crate::simulator::clock::now();
    let (iat, exp) = if fault == Some(IdTokenFault::Expired) {
        (now - Duration::hours(2), now - Duration::hours(1))
    } else {
        (now, now + Duration::hours(1))
    };
    let foreign = "00000000-0000-0000-0000-0000000000bb";
    let iss_tid = match fault {
        Some(IdTokenFault::WrongIssuer) => "00000000-0000-0000-0000-0000000000ff",
        Some(IdTokenFault::ForeignTenant) => foreign,
        _ => s.tenant_id,
    };
    let tid = if fault == Some(IdTokenFault::ForeignTenant) {
        foreign
    } else {
        s.tenant_id
    };
    let aud = if fault == Some(IdTokenFault::WrongAudience) {
        "00000000-0000-0000-0000-0000000000aa"
    } else {
        s.client_id
    };
    // Entra's `sub` is pairwise per app: stable for (user, app) but not the Graph id.
    let sub = URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("{}:{}", s.client_id, s.oid).as_bytes(),
    ));
    // at_hash: left half of SHA-256 of the access token (OIDC core §3.1.3.6).
    let at_hash = URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]);
    let key = if fault == Some(IdTokenFault::UnknownKid) {
        keys.unpublished(key_index)
    } else {
        keys.active(key_index)
    };
    let kid = openidconnect::JsonWebKey::key_id(&key.as_verification_key())
        .map(|k| k.as_str().to_string())
        .unwrap_or_default();
    let mut claims = Map::new();
    let mut put = |k: &str, v: Value| {
        claims.insert(k.to_string(), v);
    };
    put("aud", json!(aud));
    put("iss", json!(format!("{}/{iss_tid}/v2.0", s.login_url)));
    put("iat", json!(iat.timestamp()));
    put("nbf", json!(iat.timestamp()));
    put("exp", json!(exp.timestamp()));
    if let Some(e) = s.email {
        put("email", json!(e));
    }
    put("name", json!(s.name));
    if let Some(n) = s
        .nonce
        .filter(|_| fault != Some(IdTokenFault::MissingNonce))
    {
        if fault == Some(IdTokenFault::WrongNonce) {
            put("nonce", json!(format!("{n}-other")));
        } else {
            put("nonce", json!(n));
        }
    }
    put("oid", json!(s.oid));
    put("preferred_username", json!(s.upn));
    put("rh", json!("0.sim"));
    put("sub", json!(sub));
    put("tid", json!(tid));
    put(
        "uti",
        json!(URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())),
    );
    put("ver", json!("2.0"));
    put("at_hash", json!(at_hash));
    let header = json!({ "typ": "JWT", "alg": "RS256", "kid": kid });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string())
    );
    let sig = key
        .sign(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            signing_input.as_bytes(),
        )
        .map_err(|e| e.to_string())?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}
