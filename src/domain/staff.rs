//! Staff accounts, password sign-in, sessions and the first-admin bootstrap.

use super::{DomainError, DomainResult, Services};
use crate::crypto::{digest_hex, random_token};
use crate::model::{
    Actor, Email, NewAuditEvent, Role, Session, StaffUser, ValidationError, check_password,
};
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Failed sign-ins allowed per account and per client address within [`LoginLimiter::WINDOW`].
const MAX_FAILURES_PER_ACCOUNT: usize = 5;
const MAX_FAILURES_PER_IP: usize = 20;

/// In-memory limiter of failed sign-ins, per IP and per account. In memory on purpose: a
/// restart forgets it, but an attacker cannot restart the service, and it keeps the hot
/// path free of writes.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<DateTime<Utc>>>>,
}

impl LoginLimiter {
    const WINDOW_MINUTES: i64 = 15;

    fn recent(&self, key: &str, now: DateTime<Utc>) -> (usize, Option<DateTime<Utc>>) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let window = Duration::minutes(Self::WINDOW_MINUTES);
        let list = map.entry(key.to_string()).or_default();
        list.retain(|t| now - *t < window);
        (list.len(), list.first().map(|t| *t + window))
    }

    /// Refuse when either the account or the address has too many recent failures.
    pub fn check(&self, ip: &str, email: &str, now: DateTime<Utc>) -> DomainResult<()> {
        for (key, max) in [
            (format!("ip:{ip}"), MAX_FAILURES_PER_IP),
            (format!("acct:{email}"), MAX_FAILURES_PER_ACCOUNT),
        ] {
            let (n, until) = self.recent(&key, now);
            if n >= max {
                let secs = until
                    .map(|u| (u - now).num_seconds().max(1) as u64)
                    .unwrap_or(60);
                return Err(DomainError::RateLimited {
                    retry_after_secs: secs,
                });
            }
        }
        Ok(())
    }

    pub fn fail(&self, ip: &str, email: &str, now: DateTime<Utc>) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for key in [format!("ip:{ip}"), format!("acct:{email}")] {
            map.entry(key).or_default().push(now);
        }
        // Bound memory: forget addresses with nothing recent.
        if map.len() > 10_000 {
            let window = Duration::minutes(Self::WINDOW_MINUTES);
            map.retain(|_, v| v.last().is_some_and(|t| now - *t < window));
        }
    }

    pub fn clear_account(&self, email: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&format!("acct:{email}"));
    }
}

/// argon2id hash, on the blocking pool (it is deliberately slow).
pub async fn hash_password(pw: String) -> DomainResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| DomainError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| DomainError::Internal(e.to_string()))?
}

async fn verify_password(pw: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        // Unknown users are checked against a fixed hash so timing does not reveal which
        // e-mail addresses have accounts.
        let phc = phc.unwrap_or_else(|| DUMMY_HASH.to_string());
        PasswordHash::new(&phc)
            .is_ok_and(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8hoGpEGPb1Zd1HUNVt2XmdEi3o/D8BDtTuq/FKAwtyM";

/// A new staff account as entered by an admin.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    pub password: Option<String>,
}

impl NewStaff {
    pub fn parse(
        email: &str,
        display_name: &str,
        role: &str,
        password: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let password = password
            .filter(|p| !p.is_empty())
            .map(|p| check_password(p).map(|_| p.to_string()))
            .transpose()?;
        Ok(Self {
            email: Email::parse(email)?,
            display_name: StaffUser::parse_display_name(display_name)?,
            role: Role::parse(role)?,
            password,
        })
    }
}

/// What a signed-in request carries.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: StaffUser,
    pub session: Session,
    pub session_digest: String,
}

impl Services {
    /// Check a password sign-in; failures are rate limited and audited.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        ip: &str,
    ) -> DomainResult<(StaffUser, String)> {
        let now = self.now();
        let email_norm = email.trim().to_lowercase();
        self.limiter.check(ip, &email_norm, now)?;
        let key = email_norm.clone();
        let user = self.store.read(move |r| r.staff_by_email(&key)).await?;
        let ok = verify_password(
            password.to_string(),
            user.as_ref().and_then(|u| u.password_hash.clone()),
        )
        .await;
        match user {
            Some(u) if ok && !u.disabled => {
                self.limiter.clear_account(&email_norm);
                let cookie = self.start_session(u.clone(), ip, "password").await?;
                Ok((u, cookie))
            }
            other => {
                self.limiter.fail(ip, &email_norm, now);
                let reason = match &other {
                    Some(u) if ok && u.disabled => "account disabled",
                    Some(_) => "wrong password",
                    None => "unknown account",
                };
                self.record(
                    NewAuditEvent::new(
                        now,
                        Actor::anonymous(ip),
                        "staff.sign_in",
                        format!("Sign-in refused for {email_norm}: {reason}"),
                    )
                    .failed(),
                )
                .await?;
                Err(DomainError::Unauthorized(
                    "The e-mail or password is not right, or the account is disabled.".into(),
                ))
            }
        }
    }

    /// Create a server-side session (a fresh id at every sign-in) and return the cookie value.
    pub async fn start_session(
        &self,
        user: StaffUser,
        ip: &str,
        method: &str,
    ) -> DomainResult<String> {
        let now = self.now();
        let cookie = random_token(32);
        let digest = digest_hex(&cookie);
        let session = Session {
            user_id: user.id,
            csrf_token: random_token(32),
            created_at: now,
            expires_at: now + Duration::hours(i64::from(self.config.session_hours)),
            ip: ip.to_string(),
        };
        let method = method.to_string();
        self.store
            .write(move |w| {
                w.put_session(&digest, &session)?;
                let mut u = user;
                u.last_login_at = Some(now);
                w.put_staff(&u)?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    Actor::staff(u.email.as_str()),
                    "staff.sign_in",
                    format!("{} signed in ({method})", u.email),
                ))?;
                Ok::<_, DomainError>(())
            })
            .await?;
        Ok(cookie)
    }

    /// The live session and user behind a cookie value, if any.
    pub async fn session(&self, cookie: &str) -> DomainResult<Option<SignedIn>> {
        let digest = digest_hex(cookie);
        let now = self.now();
        self.store
            .read(move |r| {
                let Some(session) = r.session(&digest)? else {
                    return Ok(None);
                };
                if session.expires_at <= now {
                    return Ok(None);
                }
                let Some(user) = r.staff(session.user_id)?.filter(|u| !u.disabled) else {
                    return Ok(None);
                };
                Ok::<_, DomainError>(Some(SignedIn {
                    user,
                    session,
                    session_digest: digest,
                }))
            })
            .await
    }

    pub async fn sign_out(&self, signed_in: &SignedIn) -> DomainResult<()> {
        let now = self.now();
        let digest = signed_in.session_digest.clone();
        let email = signed_in.user.email.to_string();
        self.store
            .write(move |w| {
                w.delete_session(&digest)?;
                w.purge_sessions(now)?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    Actor::staff(&email),
                    "staff.sign_out",
                    format!("{email} signed out"),
                ))?;
                Ok::<_, DomainError>(())
            })
            .await
    }

    pub async fn staff_users(&self) -> DomainResult<Vec<StaffUser>> {
        let mut all = self.store.read(|r| r.all_staff()).await?;
        all.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(all)
    }

    pub async fn staff_user(&self, id: u64) -> DomainResult<StaffUser> {
        self.store
            .read(move |r| r.staff(id))
            .await?
            .ok_or(DomainError::NotFound("staff user"))
    }

    pub async fn staff_count(&self) -> DomainResult<u64> {
        Ok(self.store.read(|r| r.staff_count()).await?)
    }

    pub async fn create_staff(&self, actor: Actor, new: NewStaff) -> DomainResult<StaffUser> {
        let now = self.now();
        let hash = match new.password.clone() {
            Some(p) => Some(hash_password(p).await?),
            None => None,
        };
        self.store
            .write(move |w| {
                if w.staff_by_email(new.email.as_str())?.is_some() {
                    return Err(DomainError::Conflict(format!(
                        "a staff account for {} already exists",
                        new.email
                    )));
                }
                let u = StaffUser {
                    id: w.next_id("staff")?,
                    email: new.email,
                    display_name: new.display_name,
                    role: new.role,
                    password_hash: hash,
                    disabled: false,
                    entra_object_id: None,
                    created_at: now,
                    last_login_at: None,
                };
                w.put_staff(&u)?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    actor,
                    "staff.create",
                    format!("Created {} account {}", u.role.as_str(), u.email),
                ))?;
                Ok(u)
            })
            .await
    }

    /// Set a new password and end the user's sessions.
    pub async fn reset_password(
        &self,
        actor: Actor,
        email: &str,
        password: &str,
    ) -> DomainResult<StaffUser> {
        check_password(password)?;
        let email = Email::parse(email)?;
        let hash = hash_password(password.to_string()).await?;
        let now = self.now();
        self.store
            .write(move |w| {
                let mut u = w
                    .staff_by_email(email.as_str())?
                    .ok_or(DomainError::NotFound("staff user"))?;
                u.password_hash = Some(hash);
                w.put_staff(&u)?;
                w.delete_sessions_of(u.id)?;
                w.append_audit(NewAuditEvent::new(
                    now,
                    actor,
                    "staff.reset_password",
                    format!("Password reset for {}", u.email),
                ))?;
                Ok(u)
            })
            .await
    }

    /// Change role or enabled state. The last enabled admin cannot demote or disable themself away.
    pub async fn update_staff(
        &self,
        actor: Actor,
        id: u64,
        role: Role,
        disabled: bool,
    ) -> DomainResult<StaffUser> {
        let now = self.now();
        self.store
            .write(move |w| {
                let mut u = w.staff(id)?.ok_or(DomainError::NotFound("staff user"))?;
                let was_active_admin = u.role == Role::Admin && !u.disabled;
                let stays_active_admin = role == Role::Admin && !disabled;
                if was_active_admin && !stays_active_admin {
                    let admins = w
                        .all_staff()?
                        .iter()
                        .filter(|s| s.role == Role::Admin && !s.disabled)
                        .count();
                    if admins <= 1 {
                        return Err(DomainError::Conflict(
                            "this is the last enabled admin; make someone else admin first".into(),
                        ));
                    }
                }
                let before = (u.role, u.disabled);
                u.role = role;
                u.disabled = disabled;
                w.put_staff(&u)?;
                if disabled {
                    w.delete_sessions_of(u.id)?;
                }
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        actor,
                        "staff.update",
                        format!(
                            "Updated {}: role {}, {}",
                            u.email,
                            role.as_str(),
                            if disabled { "disabled" } else { "enabled" }
                        ),
                    )
                    .details(
                        serde_json::json!({"before": {"role": before.0, "disabled": before.1}}),
                    ),
                )?;
                Ok(u)
            })
            .await
    }

    /// First start: create the first admin from the environment, or return a one-time setup
    /// token (whose digest is stored) for the setup page. Does nothing once a user exists.
    pub async fn bootstrap(
        &self,
        email: Option<String>,
        password: Option<String>,
    ) -> DomainResult<Bootstrap> {
        if self.staff_count().await? > 0 {
            return Ok(Bootstrap::AlreadyDone);
        }
        match (email, password) {
            (Some(e), Some(p)) => {
                let new = NewStaff::parse(&e, "Administrator", "admin", Some(&p))?;
                let u = self.create_staff(Actor::system(), new).await?;
                Ok(Bootstrap::AdminCreated(u.email.to_string()))
            }
            _ => {
                let token = random_token(24);
                let digest = digest_hex(&token);
                self.store
                    .write(move |w| w.set_meta("setup_token", &digest))
                    .await?;
                Ok(Bootstrap::SetupToken(token))
            }
        }
    }

    /// Redeem the setup token: creates the first admin (only while no user exists).
    pub async fn complete_setup(&self, token: &str, new: NewStaff) -> DomainResult<StaffUser> {
        let digest = digest_hex(token);
        let stored: Option<String> = self.store.read(|r| r.meta("setup_token")).await?;
        let valid = stored.is_some_and(|s| crate::crypto::ct_eq(&s, &digest));
        if !valid || self.staff_count().await? > 0 {
            return Err(DomainError::Forbidden(
                "This setup link is not valid (or setup is already done).".into(),
            ));
        }
        let u = self
            .create_staff(
                Actor::system(),
                NewStaff {
                    role: Role::Admin,
                    ..new
                },
            )
            .await?;
        self.store.write(|w| w.delete_meta("setup_token")).await?;
        Ok(u)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Bootstrap {
    AlreadyDone,
    AdminCreated(String),
    SetupToken(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_five_account_failures() {
        let l = LoginLimiter::default();
        let now = crate::clock::Clock::now(&crate::clock::SystemClock);
        for _ in 0..5 {
            assert!(l.check("1.2.3.4", "a@b.c", now).is_ok());
            l.fail("1.2.3.4", "a@b.c", now);
        }
        assert!(matches!(
            l.check("9.9.9.9", "a@b.c", now),
            Err(DomainError::RateLimited { .. })
        ));
        assert!(l.check("9.9.9.9", "other@b.c", now).is_ok());
        assert!(
            l.check("9.9.9.9", "a@b.c", now + Duration::minutes(16))
                .is_ok()
        );
    }

    #[test]
    fn dummy_hash_is_a_valid_phc_string() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
