//! Staff accounts, password sign-in, sessions and the first-admin bootstrap. Password
//! hashing lives in [`super::password`], the attempt limits in [`super::login_limit`].

use super::{DomainError, DomainResult, Services};
use crate::crypto::{digest_hex, random_token};
use crate::domain::authority::AdminActor;
use crate::model::{
    Actor, Email, NewAuditEvent, Role, Session, StaffUser, ValidationError, check_password,
};
use crate::store::keys;
use chrono::Duration;

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
    /// Check a password sign-in; failures are rate limited and audited. The attempt is
    /// admitted and charged by the limiter before the hash runs (see
    /// [`super::login_limit`]), and the hash waits for a slot of the bounded hasher.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        ip: &str,
    ) -> DomainResult<(StaffUser, String)> {
        let now = self.now();
        let email_norm = email.trim().to_lowercase();
        let attempt = self.limiter.begin(&email_norm, ip, now)?;
        let key = email_norm.clone();
        let checked = async {
            let user = self.store.read(move |r| r.staff_by_email(&key)).await?;
            let stored = user.as_ref().and_then(|u| u.password_hash.clone());
            let ok = self.passwords.verify(password.to_string(), stored).await?;
            Ok::<_, DomainError>((user, ok))
        }
        .await;
        let (user, ok) = match checked {
            Ok(v) => v,
            Err(e) => {
                // Not checked (hasher busy, store failed): not a failed guess either.
                self.limiter.refund(attempt);
                return Err(e);
            }
        };
        match user {
            Some(u) if ok && !u.disabled => {
                self.limiter.succeeded(attempt, self.now());
                let cookie = self.start_session(u.clone(), ip, "password").await?;
                Ok((u, cookie))
            }
            other => {
                // The charge taken by `begin` stands: this was a failure.
                drop(attempt);
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
            .read(move |r| Ok::<_, DomainError>(signed_in(r, digest, now)?))
            .await
    }

    /// [`Self::session`] and how many support requests still need the MSP (the nav's
    /// badge on every staff page), in one read: a page's first hop to the store.
    pub async fn session_with_open_requests(
        &self,
        cookie: &str,
    ) -> DomainResult<Option<(SignedIn, u64)>> {
        let digest = digest_hex(cookie);
        let now = self.now();
        self.store
            .read(move |r| {
                let Some(s) = signed_in(r, digest, now)? else {
                    return Ok(None);
                };
                Ok::<_, DomainError>(Some((s, r.unfinished_request_count()?)))
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

    pub async fn create_staff(&self, admin: AdminActor, new: NewStaff) -> DomainResult<StaffUser> {
        let actor: Actor = admin.into();
        let now = self.now();
        let hash = match new.password.clone() {
            Some(p) => Some(self.passwords.hash(p).await?),
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
                    id: w.next_id(keys::seq::STAFF)?,
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
        admin: AdminActor,
        email: &str,
        password: &str,
    ) -> DomainResult<StaffUser> {
        let actor: Actor = admin.into();
        check_password(password)?;
        let email = Email::parse(email)?;
        let hash = self.passwords.hash(password.to_string()).await?;
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
        admin: AdminActor,
        id: u64,
        role: Role,
        disabled: bool,
    ) -> DomainResult<StaffUser> {
        let actor: Actor = admin.into();
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
                let u = self
                    .create_staff(crate::domain::authority::AdminActor::system(), new)
                    .await?;
                Ok(Bootstrap::AdminCreated(u.email.to_string()))
            }
            _ => {
                let token = random_token(24);
                let digest = digest_hex(&token);
                self.store
                    .write(move |w| w.set_meta(keys::meta::SETUP_TOKEN, &digest))
                    .await?;
                Ok(Bootstrap::SetupToken(token))
            }
        }
    }

    /// Redeem the setup token: creates the first admin (only while no user exists).
    pub async fn complete_setup(&self, token: &str, new: NewStaff) -> DomainResult<StaffUser> {
        let digest = digest_hex(token);
        let stored: Option<String> = self.store.read(|r| r.meta(keys::meta::SETUP_TOKEN)).await?;
        let valid = stored.is_some_and(|s| crate::crypto::ct_eq(&s, &digest));
        if !valid || self.staff_count().await? > 0 {
            return Err(DomainError::Forbidden(
                "This setup link is not valid (or setup is already done).".into(),
            ));
        }
        let u = self
            .create_staff(
                crate::domain::authority::AdminActor::system(),
                NewStaff {
                    role: Role::Admin,
                    ..new
                },
            )
            .await?;
        self.store
            .write(|w| w.delete_meta(keys::meta::SETUP_TOKEN))
            .await?;
        Ok(u)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Bootstrap {
    AlreadyDone,
    AdminCreated(String),
    SetupToken(String),
}

/// The live session with this digest and its enabled staff member, inside a caller's read.
fn signed_in(
    r: &crate::store::Reader,
    digest: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<SignedIn>, crate::store::StoreError> {
    let Some(session) = r.session(&digest)? else {
        return Ok(None);
    };
    if session.expires_at <= now {
        return Ok(None);
    }
    let Some(user) = r.staff(session.user_id)?.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    Ok(Some(SignedIn {
        user,
        session,
        session_digest: digest,
    }))
}
