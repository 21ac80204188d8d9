//! RS256 id_tokens with Entra's v2.0 claim set (contract §3.4).

use base64::Engine;
use chrono::{Duration, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, EndUserEmail, EndUserName, EndUserUsername, IdToken,
    IdTokenClaims, IssuerUrl, Nonce, StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::simulator::keys::KeyRing;
use crate::simulator::state::IdTokenFault;

/// Entra-specific claims beyond the OIDC standard set.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntraClaims {
    pub oid: String,
    pub tid: String,
    pub ver: String,
    pub nbf: i64,
}

impl AdditionalClaims for EntraClaims {}

type EntraIdToken = IdToken<
    EntraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

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
    let now = Utc::now();
    let (iat, exp) = if fault == Some(IdTokenFault::Expired) {
        (now - Duration::hours(2), now - Duration::hours(1))
    } else {
        (now, now + Duration::hours(1))
    };
    let iss_tid = if fault == Some(IdTokenFault::WrongIssuer) {
        "00000000-0000-0000-0000-0000000000ff"
    } else {
        s.tenant_id
    };
    let aud = if fault == Some(IdTokenFault::WrongAudience) {
        "00000000-0000-0000-0000-0000000000aa"
    } else {
        s.client_id
    };
    // Entra's `sub` is pairwise per app: stable for (user, app) but not the Graph id.
    let sub = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("{}:{}", s.client_id, s.oid).as_bytes(),
    ));
    let mut std_claims = StandardClaims::new(SubjectIdentifier::new(sub))
        .set_name(Some(EndUserName::new(s.name.to_string()).into()))
        .set_preferred_username(Some(EndUserUsername::new(s.upn.to_string())));
    if let Some(e) = s.email {
        std_claims = std_claims.set_email(Some(EndUserEmail::new(e.to_string())));
    }
    let issuer =
        IssuerUrl::new(format!("{}/{iss_tid}/v2.0", s.login_url)).map_err(|e| e.to_string())?;
    let extra = EntraClaims {
        oid: s.oid.into(),
        tid: s.tenant_id.into(),
        ver: "2.0".into(),
        nbf: iat.timestamp(),
    };
    let nonce = if fault == Some(IdTokenFault::MissingNonce) {
        None
    } else {
        s.nonce.map(|n| Nonce::new(n.to_string()))
    };
    let claims = IdTokenClaims::new(
        issuer,
        vec![Audience::new(aud.to_string())],
        exp,
        iat,
        std_claims,
        extra,
    )
    .set_nonce(nonce);
    let key = if fault == Some(IdTokenFault::UnknownKid) {
        keys.unpublished(key_index)
    } else {
        keys.active(key_index)
    };
    let tok = EntraIdToken::new(
        claims,
        key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&AccessToken::new(access_token.to_string())),
        None,
    )
    .map_err(|e| e.to_string())?;
    Ok(tok.to_string())
}
