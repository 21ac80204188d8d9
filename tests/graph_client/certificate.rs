//! Certificate credentials (`private_key_jwt`): the token request carries a signed client
//! assertion instead of a secret, and the assertion is what Microsoft's "certificate
//! credentials" page asks for. Thumbprints and the public key come from openssl
//! (tests/fixtures/certs/README.md), not from the product's own parser.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::Value;
use sha2::Sha256;
use tenantry::graph::{
    CLIENT_ASSERTION_TYPE, ClientCertificate, ClientSecret, Credential, client_assertion,
};

use crate::fake::{CLIENT_ID, Canned, Fake, TENANT};

const CERT: &str = include_str!("../fixtures/certs/test-only-cert.pem");
const KEY: &str = include_str!("../fixtures/certs/test-only-key.pem");
const PUBKEY: &str = include_str!("../fixtures/certs/test-only-pubkey.pem");
const OTHER_PUBKEY: &str = include_str!("../fixtures/certs/test-only-other-pubkey.pem");
/// `openssl x509 -in test-only-cert.pem -outform der | openssl dgst -sha1 -binary | base64url`
/// (SHA-1 fingerprint 83:67:F8:28:B4:4B:05:A2:21:D2:50:AF:AE:D1:6A:CD:A2:92:C0:90).
const X5T: &str = "g2f4KLRLBaIh0lCvrtFqzaKSwJA";
/// The same with SHA-256.
const X5T_S256: &str = "XXmkWbe8KZXFfDE2ruogSFkHLdOUtue4iEWxSZoZ1CQ";

const ORG: &str = include_str!("fixtures/organization.json");

fn certificate() -> Credential {
    Credential::Certificate(Arc::new(
        ClientCertificate::from_pem(KEY, CERT).expect("fixture pair"),
    ))
}

fn decode(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

/// Header, claims, and whether the PS256 signature verifies with `public_pem`.
fn open(jwt: &str, public_pem: &str) -> (Value, Value, bool) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    let key = RsaPublicKey::from_public_key_pem(public_pem).expect("openssl public key");
    let sig = rsa::pss::Signature::try_from(
        URL_SAFE_NO_PAD
            .decode(parts[2])
            .expect("signature")
            .as_slice(),
    )
    .expect("signature bytes");
    let ok = rsa::pss::VerifyingKey::<Sha256>::new(key)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .is_ok();
    (decode(parts[0]), decode(parts[1]), ok)
}

fn only_token_form(fake: &Fake) -> HashMap<String, String> {
    let forms = fake.token_forms();
    assert_eq!(forms.len(), 1, "{forms:?}");
    forms.into_iter().next().expect("one")
}

#[tokio::test]
async fn a_certificate_sends_a_signed_assertion_instead_of_a_secret() {
    let fake = Fake::start().await;
    fake.script("/v1.0/organization", vec![Canned::ok(ORG)]);
    let client = fake.client_with_credential(certificate());
    client.organization(TENANT).await.expect("organization");

    let form = only_token_form(&fake);
    assert!(!form.contains_key("client_secret"), "{form:?}");
    assert_eq!(form["client_assertion_type"], CLIENT_ASSERTION_TYPE);
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "https://graph.microsoft.com/.default");

    let (header, claims, verified) = open(&form["client_assertion"], PUBKEY);
    assert!(
        verified,
        "PS256 signature verifies with the certificate's key"
    );
    assert_eq!(header["alg"], "PS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(
        header["x5t"], X5T,
        "SHA-1 thumbprint as openssl computes it"
    );
    assert_eq!(header["x5t#S256"], X5T_S256);

    let token_url = format!("{}/{TENANT}/oauth2/v2.0/token", fake.base);
    assert_eq!(
        claims["aud"],
        token_url.as_str(),
        "aud is the URL posted to"
    );
    assert_eq!(claims["iss"], CLIENT_ID);
    assert_eq!(claims["sub"], CLIENT_ID);
    let jti = claims["jti"].as_str().expect("jti");
    assert!(uuid::Uuid::parse_str(jti).is_ok(), "jti is a GUID: {jti}");
    let now = chrono::Utc::now().timestamp();
    let (iat, nbf, exp) = (
        claims["iat"].as_i64().expect("iat"),
        claims["nbf"].as_i64().expect("nbf"),
        claims["exp"].as_i64().expect("exp"),
    );
    assert!((now - iat).abs() < 60, "iat is now");
    assert_eq!(nbf, iat);
    assert_eq!(exp - nbf, 600, "valid for ten minutes");
    fake.stop().await;
}

#[tokio::test]
async fn the_signature_does_not_verify_with_another_key() {
    let fake = Fake::start().await;
    fake.script("/v1.0/organization", vec![Canned::ok(ORG)]);
    let client = fake.client_with_credential(certificate());
    client.organization(TENANT).await.expect("organization");
    let form = only_token_form(&fake);
    let (_, _, verified) = open(&form["client_assertion"], OTHER_PUBKEY);
    assert!(!verified, "the check above is a real check");
    fake.stop().await;
}

#[tokio::test]
async fn every_token_request_signs_a_fresh_assertion() {
    let fake = Fake::start().await;
    fake.script("/v1.0/organization", vec![Canned::ok(ORG)]);
    let client = fake.client_with_credential(certificate());
    client.organization(TENANT).await.expect("tenant a");
    client
        .organization("northwindtraders.onmicrosoft.com")
        .await
        .expect("tenant b");
    let forms = fake.token_forms();
    assert_eq!(forms.len(), 2);
    let claims: Vec<Value> = forms
        .iter()
        .map(|f| open(&f["client_assertion"], PUBKEY).1)
        .collect();
    assert_ne!(claims[0]["jti"], claims[1]["jti"], "jti is unique");
    assert_eq!(
        claims[1]["aud"],
        format!(
            "{}/northwindtraders.onmicrosoft.com/oauth2/v2.0/token",
            fake.base
        )
        .as_str(),
        "aud follows the tenant"
    );
    fake.stop().await;
}

#[test]
fn client_assertion_serves_other_flows_and_is_none_for_a_secret() {
    let url = "https://login.example/contoso.example/oauth2/v2.0/token";
    let secret = Credential::ClientSecret(ClientSecret::new("s"));
    assert_eq!(
        client_assertion(&secret, CLIENT_ID, url, chrono::Utc::now()),
        Ok(None)
    );
    let jwt = client_assertion(&certificate(), CLIENT_ID, url, chrono::Utc::now())
        .expect("signs")
        .expect("an assertion");
    let (_, claims, verified) = open(&jwt, PUBKEY);
    assert!(verified);
    assert_eq!(claims["aud"], url);
}

#[test]
fn a_certificate_credential_never_prints_its_key() {
    let printed = format!("{:?}", certificate());
    assert!(
        printed.contains("8367F828B44B05A221D250AFAED16ACDA292C090"),
        "{printed}"
    );
    let key_body = KEY.lines().nth(1).expect("a base64 line");
    assert!(!printed.contains(&key_body[..20]), "{printed}");
    assert!(!printed.contains("PRIVATE"), "{printed}");
}
