//! Fixed RS256 signing keys and the JWKS document.
//!
//! WHY fixed keys shipped as files: generating RSA keys at runtime is slow in debug builds and
//! would make every run's tokens unverifiable against a cached JWKS. Three keys allow a rotation
//! knob: the JWKS publishes the active and the previous key (as Entra does during roll-over), and
//! the third one stays unpublished so the "unknown kid" id_token fault has a key to sign with.

use base64::Engine;
use openidconnect::core::{CoreJsonWebKey, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const PEMS: [&str; 3] = [
    include_str!("keys/k1.pem"),
    include_str!("keys/k2.pem"),
    include_str!("keys/k3.pem"),
];

/// The three signing keys with their `kid`s.
pub struct KeyRing {
    keys: Vec<(String, CoreRsaPrivateSigningKey)>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("kids", &self.keys.iter().map(|k| &k.0).collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// Parses the shipped PEMs. Errors only if the shipped files are broken.
    pub fn load() -> std::io::Result<Self> {
        let mut keys = Vec::new();
        for pem in PEMS {
            // Entra kids look like base64url thumbprints; derive one from the key material.
            let digest = Sha256::digest(pem.as_bytes());
            let kid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..20]);
            let key = CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.clone())))
                .map_err(|e| std::io::Error::other(format!("simulator signing key: {e}")))?;
            keys.push((kid, key));
        }
        Ok(KeyRing { keys })
    }

    /// The key that signs new tokens at rotation step `index`.
    pub fn active(&self, index: usize) -> &CoreRsaPrivateSigningKey {
        &self.keys[index % self.keys.len()].1
    }

    /// A key that is never in the JWKS at rotation step `index`.
    pub fn unpublished(&self, index: usize) -> &CoreRsaPrivateSigningKey {
        &self.keys[(index + 1) % self.keys.len()].1
    }

    /// JWKS at rotation step `index`: the active key, plus the previous one after a rotation.
    /// Every key carries the templated `issuer`, as in Entra's tenant-independent key set.
    pub fn jwks(&self, index: usize, login_url: &str) -> Value {
        let mut out = Vec::new();
        let n = self.keys.len();
        let mut idx = vec![index % n];
        if index > 0 {
            idx.push((index + n - 1) % n);
        }
        for i in idx {
            let vk: CoreJsonWebKey = self.keys[i].1.as_verification_key();
            let mut v = serde_json::to_value(&vk).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("use".into(), json!("sig"));
                m.insert(
                    "issuer".into(),
                    json!(format!("{login_url}/{{tenantid}}/v2.0")),
                );
            }
            out.push(v);
        }
        json!({ "keys": out })
    }
}
