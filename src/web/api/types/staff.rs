//! Staff accounts and API tokens (admin tokens only), and the bodies that change them.

use crate::model;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A staff account: never its password hash.
#[derive(Debug, Serialize)]
pub struct User {
    /// The account's id (`/users/{id}`).
    pub id: u64,
    /// Sign-in e-mail address, lower case.
    pub email: String,
    /// Name shown in the PSA; may be empty.
    pub display_name: String,
    /// `admin` or `technician`.
    pub role: Role,
    /// A disabled account cannot sign in.
    pub disabled: bool,
    /// Whether a password is set (accounts may sign in with Microsoft only).
    pub has_password: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// The last successful sign-in; null if never.
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<model::StaffUser> for User {
    fn from(u: model::StaffUser) -> Self {
        Self {
            id: u.id,
            email: u.email.to_string(),
            display_name: u.display_name,
            role: u.role.into(),
            disabled: u.disabled,
            has_password: u.password_hash.is_some(),
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

/// What a staff account or an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Companies, contacts, assets, requests, syncs; not settings, users or tokens.
    Technician,
    /// Everything, including settings, staff accounts and API tokens.
    Admin,
}

impl From<model::Role> for Role {
    fn from(r: model::Role) -> Self {
        match r {
            model::Role::Technician => Self::Technician,
            model::Role::Admin => Self::Admin,
        }
    }
}

/// An API token's record. The token itself is shown once, when created ([`CreatedToken`]).
#[derive(Debug, Serialize)]
pub struct ApiToken {
    /// The token's id (`/tokens/{id}`).
    pub id: u64,
    /// Its name; the audit log names its actions `api:{name}`.
    pub name: String,
    /// `admin` or `technician`.
    pub role: Role,
    /// The first characters of the token, to recognise it in lists.
    pub prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Who created it, as the audit log names actors (`staff:{email}`, `api:{name}`).
    pub created_by: String,
    /// When it last authenticated a request; null if never.
    pub last_used_at: Option<DateTime<Utc>>,
    /// A revoked token is refused with 401.
    pub revoked: bool,
}

impl From<model::ApiToken> for ApiToken {
    fn from(t: model::ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            role: t.role.into(),
            prefix: t.prefix,
            created_at: t.created_at,
            created_by: t.created_by,
            last_used_at: t.last_used_at,
            revoked: t.revoked,
        }
    }
}

/// `POST /tokens` (201): the plain `token` is in this answer and never again.
#[derive(Debug, Serialize)]
pub struct CreatedToken {
    /// The bearer token to send as `Authorization: Bearer <token>`.
    pub token: String,
    /// The token's record, at the top level of the object.
    #[serde(flatten)]
    pub record: ApiToken,
}

/// `POST /users`. No `Debug`: it carries a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    /// Sign-in e-mail address (required, unique).
    pub email: String,
    /// Name shown in the PSA; optional.
    #[serde(default)]
    pub display_name: String,
    /// `admin` or `technician` (required).
    pub role: String,
    /// At least 12 characters; leave out for an account that signs in with Microsoft only.
    pub password: Option<String>,
}

/// `PATCH /users/{id}`: send at least one field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// `admin` or `technician`.
    pub role: Option<String>,
    /// True to disable the account (its sessions end), false to enable it.
    pub disabled: Option<bool>,
}

/// `POST /users/{id}/password`. No `Debug`: it carries a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The new password: 12 to 1024 characters.
    pub password: String,
}

/// `POST /tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// The token's name (required).
    pub name: String,
    /// `admin` or `technician` (default).
    pub role: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::golden::{assert_json, at};
    use super::*;

    fn token() -> model::ApiToken {
        model::ApiToken {
            id: 2,
            name: "ci".into(),
            role: model::Role::Technician,
            prefix: "tnt_ab12".into(),
            created_at: at(0),
            created_by: "staff:admin@example.com".into(),
            last_used_at: Some(at(9)),
            revoked: true,
        }
    }

    #[test]
    fn a_user_shows_no_password_hash() {
        let u = model::StaffUser {
            id: 1,
            email: model::Email::parse("Admin@Example.com").unwrap(),
            display_name: "Administrator".into(),
            role: model::Role::Admin,
            password_hash: Some("$argon2id$v=19$secret".into()),
            disabled: false,
            entra_object_id: Some("6a4cc212-96b2-450b-acc2-e879de730c7d".into()),
            created_at: at(0),
            last_login_at: None,
        };
        assert_json(
            &User::from(u),
            r#"
{
  "id": 1,
  "email": "admin@example.com",
  "display_name": "Administrator",
  "role": "admin",
  "disabled": false,
  "has_password": true,
  "created_at": "2026-01-31T08:00:00Z",
  "last_login_at": null
}"#,
        );
    }

    #[test]
    fn a_token_has_a_fixed_shape() {
        let golden = r#"
{
  "id": 2,
  "name": "ci",
  "role": "technician",
  "prefix": "tnt_ab12",
  "created_at": "2026-01-31T08:00:00Z",
  "created_by": "staff:admin@example.com",
  "last_used_at": "2026-01-31T08:09:00Z",
  "revoked": true
}"#;
        assert_json(&ApiToken::from(token()), golden);
    }

    #[test]
    fn a_created_token_carries_the_secret_first() {
        let created = CreatedToken {
            token: "tnt_ab12-the-whole-secret".into(),
            record: token().into(),
        };
        assert_json(
            &created,
            r#"
{
  "token": "tnt_ab12-the-whole-secret",
  "id": 2,
  "name": "ci",
  "role": "technician",
  "prefix": "tnt_ab12",
  "created_at": "2026-01-31T08:00:00Z",
  "created_by": "staff:admin@example.com",
  "last_used_at": "2026-01-31T08:09:00Z",
  "revoked": true
}"#,
        );
    }
}
