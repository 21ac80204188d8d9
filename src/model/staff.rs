//! MSP staff, their sessions and API tokens.

use super::{ValidationError, clean_text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works in the PSA: companies, contacts, assets, syncs. Cannot change settings or users.
    Technician,
    /// Everything, including settings, staff accounts and API tokens.
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s.trim() {
            "admin" => Ok(Role::Admin),
            "technician" => Ok(Role::Technician),
            other => Err(ValidationError::new(
                "role",
                format!("{other:?} is not a role (admin or technician)"),
            )),
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Technician => "technician",
        }
    }
}

/// A normalised (trimmed, lower-case) e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let v = s.trim().to_lowercase();
        let ok = v.len() <= 254
            && v.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !v.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(v))
        } else {
            Err(ValidationError::new(
                "email",
                "must be an e-mail address like name@example.com",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffUser {
    pub id: u64,
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    /// argon2id PHC string; None for accounts that only sign in with Microsoft.
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub entra_object_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl StaffUser {
    pub fn parse_display_name(s: &str) -> Result<String, ValidationError> {
        clean_text("display_name", s, 200, false)
    }
}

/// A server-side session. The cookie holds a random id; the store keeps only its digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: u64,
    /// Per-session token every state-changing form must echo.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: u64,
    pub name: String,
    pub role: Role,
    /// First characters of the token, to recognise it in lists; the token itself is never stored.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

/// Passwords: at least 12 characters, at most 1024 (argon2 cost is bounded).
pub fn check_password(pw: &str) -> Result<(), ValidationError> {
    let n = pw.chars().count();
    if n < 12 {
        return Err(ValidationError::new(
            "password",
            "must be at least 12 characters",
        ));
    }
    if n > 1024 {
        return Err(ValidationError::new(
            "password",
            "must be at most 1024 characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_roles_parse() {
        assert_eq!(
            Email::parse(" Admin@Example.COM ").map(|e| e.to_string()),
            Ok("admin@example.com".into())
        );
        assert!(Email::parse("nope").is_err());
        assert!(Email::parse("a@b").is_err());
        assert_eq!(Role::parse("admin"), Ok(Role::Admin));
        assert!(Role::parse("root").is_err());
        assert!(check_password("short").is_err());
    }
}
