//! Secrets at rest: ChaCha20-Poly1305 with a 32-byte key kept outside the database.
//!
//! The key file lives beside (or, under systemd, outside) the data directory so a copied
//! database alone does not reveal client secrets. Each sealed value carries its own random
//! nonce and a version prefix so the scheme can change later without guessing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use std::io::Write;
use std::path::Path;

const PREFIX: &str = "v1:";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("secret key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("a stored secret could not be decrypted (wrong secret key file?)")]
    Open,
}

/// Seals and opens secret strings.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
    /// Kept for [`SecretBox::derive`] and [`SecretBox::mac`]; never leaves this type.
    key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn from_key(key: [u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
            key,
        }
    }

    /// A box with its own key for one purpose (HMAC-SHA256 of the purpose under this key), so
    /// values sealed or signed for the browser can never be opened as stored secrets, and
    /// one purpose's values are worthless for another.
    pub fn derive(&self, purpose: &str) -> SecretBox {
        Self::from_key(hmac_sha256(&self.key, purpose.as_bytes()))
    }

    /// HMAC-SHA256 of `msg` under this box's key, URL-safe base64.
    pub fn mac(&self, msg: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(hmac_sha256(&self.key, msg.as_bytes()))
    }

    /// Is `tag` the [`SecretBox::mac`] of `msg`? Constant time.
    pub fn verify_mac(&self, msg: &str, tag: &str) -> bool {
        ct_eq(&self.mac(msg), tag)
    }

    /// Read the key file (64 hex characters), creating it with mode 0600 when absent.
    pub fn load_or_create(path: &Path) -> Result<Self, CryptoError> {
        let err = |reason: String| CryptoError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes =
                    hex::decode(text.trim()).map_err(|_| err("is not 64 hex characters".into()))?;
                let key: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| err("must hold exactly 32 bytes (64 hex characters)".into()))?;
                Ok(Self::from_key(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| err(e.to_string()))?;
                }
                let mut f = create_private(path).map_err(|e| err(e.to_string()))?;
                f.write_all(hex::encode(key).as_bytes())
                    .map_err(|e| err(e.to_string()))?;
                f.sync_all().map_err(|e| err(e.to_string()))?;
                Ok(Self::from_key(key))
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        // Encryption with a fresh nonce and an in-memory buffer cannot fail.
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{PREFIX}{}", B64.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<String, CryptoError> {
        let body = sealed.strip_prefix(PREFIX).ok_or(CryptoError::Open)?;
        let raw = B64.decode(body).map_err(|_| CryptoError::Open)?;
        if raw.len() < 12 {
            return Err(CryptoError::Open);
        }
        let (nonce, ct) = raw.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| CryptoError::Open)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Open)
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(msg);
    m.finalize().into_bytes().into()
}

/// SHA-256 hex digest (API tokens and session ids are stored only as digests).
pub fn digest_hex(value: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(value.as_bytes()))
}

/// A URL-safe random token with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Constant-time string comparison for secrets.
pub fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_key_file_is_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k");
        let a = SecretBox::load_or_create(&path).expect("create");
        let sealed = a.seal("s3cret");
        assert!(!sealed.contains("s3cret"));
        let b = SecretBox::load_or_create(&path).expect("reload");
        assert_eq!(b.open(&sealed).expect("open"), "s3cret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let other = SecretBox::from_key([7; 32]);
        assert!(other.open(&sealed).is_err());
    }

    #[test]
    fn derived_boxes_are_separate_and_macs_verify() {
        let root = SecretBox::from_key([3; 32]);
        let a = root.derive("a");
        let b = root.derive("b");
        assert!(b.open(&a.seal("x")).is_err());
        assert!(root.open(&a.seal("x")).is_err());
        assert_eq!(
            root.derive("a").open(&a.seal("x")).expect("same purpose"),
            "x"
        );
        let tag = a.mac("hello");
        assert!(a.verify_mac("hello", &tag));
        assert!(!a.verify_mac("hellO", &tag));
        assert!(!b.verify_mac("hello", &tag));
    }
}
