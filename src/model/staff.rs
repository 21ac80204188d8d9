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

/// Characters allowed in the part before the `@` besides ASCII letters and digits: RFC 5322's
/// unquoted `dot-atom` set.
const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~.-";

impl Email {
    /// A practical address check: one `@`; before it, 1–64 characters of letters, digits and
    /// ``!#$%&'*+/=?^_`{|}~.-`` without a leading, trailing or doubled dot; after it, a domain
    /// of dot-separated letter-digit-hyphen labels (at least two); 254 characters in all.
    ///
    /// WHY stricter than RFC 5322: quoted local parts, comments and IP-literal domains are
    /// valid there but never a staff login, and refusing them keeps markup and header tricks
    /// (`"><script>…@x.example`) out of a field that ends up in pages, logs and mail headers.
    /// Only staff addresses use this type; synced contacts keep whatever Entra holds.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let v = s.trim().to_lowercase();
        match address_problem(&v) {
            None => Ok(Self(v)),
            Some(why) => Err(ValidationError::new(
                "email",
                format!("must be an e-mail address like name@example.com: {why}"),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What is wrong with `v` as an address, in words; `None` when it is fine.
fn address_problem(v: &str) -> Option<String> {
    if v.is_empty() {
        return Some("it is empty".into());
    }
    if v.len() > 254 {
        return Some("it is longer than 254 characters".into());
    }
    let mut parts = v.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Some("it needs exactly one @".into());
    };
    if local.is_empty() {
        return Some("there is nothing before the @".into());
    }
    if local.len() > 64 {
        return Some("the part before the @ is longer than 64 characters".into());
    }
    if let Some(c) = local
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !LOCAL_SPECIALS.contains(*c))
    {
        return Some(format!("{c:?} is not allowed before the @"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some(
            "the part before the @ cannot start or end with a dot or hold two dots in a row".into(),
        );
    }
    if domain.is_empty() {
        return Some("there is no domain after the @".into());
    }
    if domain.len() > 255 {
        return Some("the domain is longer than 255 characters".into());
    }
    if !domain.contains('.') {
        return Some("the domain needs a dot, like example.com".into());
    }
    for label in domain.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Some("each dot-separated part of the domain needs 1 to 63 characters".into());
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Some("the domain may only hold letters, digits, hyphens and dots".into());
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("a part of the domain cannot start or end with a hyphen".into());
        }
    }
    None
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
        assert_eq!(Role::parse("admin"), Ok(Role::Admin));
        assert!(Role::parse("root").is_err());
        assert!(check_password("short").is_err());
    }

    #[test]
    fn staff_emails_must_be_addresses_and_say_why_not() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_label = format!("a@{}.com", "b".repeat(64));
        let too_long = format!("{}@{}.example.com", "a".repeat(64), "b".repeat(180));
        let ok_max = format!("{}@example.com", "a".repeat(64));
        // (input, Ok(normalised) or Err(words the reason contains))
        let cases: Vec<(&str, Result<&str, &str>)> = vec![
            ("Ann@Example.com", Ok("ann@example.com")),
            (
                "first.last+tag@mail.example.co.uk",
                Ok("first.last+tag@mail.example.co.uk"),
            ),
            ("o'brien@example.ie", Ok("o'brien@example.ie")),
            (
                "x_y#ext#@contoso.onmicrosoft.com",
                Ok("x_y#ext#@contoso.onmicrosoft.com"),
            ),
            (
                "!#$%&'*+/=?^_`{|}~-@x-1.example",
                Ok("!#$%&'*+/=?^_`{|}~-@x-1.example"),
            ),
            (&ok_max, Ok(ok_max.as_str())),
            ("", Err("empty")),
            ("nope", Err("exactly one @")),
            ("a@b@example.com", Err("exactly one @")),
            (
                "\"><script>alert(1)</script>@x.example",
                Err("'\"' is not allowed"),
            ),
            ("a b@example.com", Err("' ' is not allowed")),
            ("a\u{7}@example.com", Err("not allowed before the @")),
            ("ä@example.com", Err("'ä' is not allowed")),
            ("@example.com", Err("nothing before the @")),
            (".a@example.com", Err("dot")),
            ("a.@example.com", Err("dot")),
            ("a..b@example.com", Err("two dots")),
            (&long_local, Err("longer than 64")),
            ("a@", Err("no domain")),
            ("a@b", Err("needs a dot")),
            ("a@example..com", Err("1 to 63")),
            ("a@.example.com", Err("1 to 63")),
            ("a@example.com.", Err("1 to 63")),
            (&long_label, Err("1 to 63")),
            ("a@exa_mple.com", Err("letters, digits, hyphens")),
            ("a@[127.0.0.1]", Err("letters, digits, hyphens")),
            ("a@-example.com", Err("hyphen")),
            ("a@example-.com", Err("hyphen")),
            (&too_long, Err("longer than 254")),
        ];
        for (input, want) in cases {
            match (Email::parse(input), want) {
                (Ok(e), Ok(norm)) => assert_eq!(e.as_str(), norm, "{input:?}"),
                (Err(e), Err(words)) => {
                    assert_eq!(e.field, "email");
                    assert!(
                        e.reason.contains(words) && e.reason.contains("name@example.com"),
                        "{input:?}: {}",
                        e.reason
                    );
                }
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
