//! API tokens: shown once at creation, stored only as a SHA-256 digest.

use super::{DomainError, DomainResult, Services};
use crate::crypto::{digest_hex, random_token};
use crate::domain::authority::AdminActor;
use crate::model::{Actor, ApiToken, NewAuditEvent, Role, clean_text};
use crate::store::keys;

/// Every token starts with this, so secret scanners and people can recognise one.
pub const TOKEN_PREFIX: &str = "tnt_";

/// Digests of the tokens whose "last used" stamp is being written. A burst of requests with
/// one token (a script's 50 connections) all find the stamp a minute old at once; each
/// writing it would be a commit with an fsync, queued behind the others, on the request's
/// path. The first writes it; the others go on, and later ones read the fresh stamp.
/// Process-wide: digests of random tokens do not collide between appliances in one process.
static STAMPING: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// A stamp write in flight; dropping it lets the token be stamped again.
struct Stamping(String);

impl Stamping {
    /// None when another request is already writing this token's stamp.
    fn start(digest: String) -> Option<Self> {
        let mut set = STAMPING.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(digest.clone()).then_some(Stamping(digest))
    }
}

impl Drop for Stamping {
    fn drop(&mut self) {
        STAMPING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.0);
    }
}

impl Services {
    /// Create a token; returns the plain token (never stored) and its record.
    pub async fn create_api_token(
        &self,
        admin: AdminActor,
        name: &str,
        role: Role,
    ) -> DomainResult<(String, ApiToken)> {
        let actor: Actor = admin.into();
        let name = clean_text("name", name, 100, true)?;
        let plain = format!("{TOKEN_PREFIX}{}", random_token(32));
        let digest = digest_hex(&plain);
        let now = self.now();
        let prefix: String = plain.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let token = self
            .store
            .write(move |w| {
                let t = ApiToken {
                    id: w.next_id(keys::seq::API_TOKEN)?,
                    name,
                    role,
                    prefix,
                    created_at: now,
                    created_by: actor.0.clone(),
                    last_used_at: None,
                    revoked: false,
                };
                w.put_api_token(&t, Some(&digest))?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    actor,
                    "api_token.create",
                    format!("Created {} API token {:?}", t.role.as_str(), t.name),
                ))?;
                Ok::<_, DomainError>(t)
            })
            .await?;
        Ok((plain, token))
    }

    /// The live token behind a bearer value. `last_used_at` is refreshed at most once a minute
    /// so API traffic does not turn every read into a write.
    pub async fn api_token_for(&self, plain: &str) -> DomainResult<Option<ApiToken>> {
        if !plain.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let digest = digest_hex(plain);
        let now = self.now();
        let key = digest.clone();
        let found = self
            .store
            .read(move |r| r.api_token_by_hash(&key))
            .await?
            .filter(|t| !t.revoked);
        if let Some(t) = found.as_ref().filter(|t| {
            t.last_used_at
                .is_none_or(|at| (now - at).num_seconds() > 60)
        }) && let Some(_stamping) = Stamping::start(digest)
        {
            let mut t = t.clone();
            t.last_used_at = Some(now);
            self.store.write(move |w| w.put_api_token(&t, None)).await?;
        }
        Ok(found)
    }

    pub async fn api_tokens(&self) -> DomainResult<Vec<ApiToken>> {
        let mut all = self.store.read(|r| r.all_api_tokens()).await?;
        all.sort_by_key(|t| std::cmp::Reverse(t.id));
        Ok(all)
    }

    pub async fn revoke_api_token(&self, admin: AdminActor, id: u64) -> DomainResult<ApiToken> {
        let actor: Actor = admin.into();
        let now = self.now();
        self.store
            .write(move |w| {
                let mut t = w.api_token(id)?.ok_or(DomainError::NotFound("API token"))?;
                if t.revoked {
                    return Err(DomainError::Conflict(format!(
                        "token {:?} is already revoked",
                        t.name
                    )));
                }
                t.revoked = true;
                w.put_api_token(&t, None)?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    actor,
                    "api_token.revoke",
                    format!("Revoked API token {:?}", t.name),
                ))?;
                Ok(t)
            })
            .await
    }
}
