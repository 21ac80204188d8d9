//! A client company's support portal: who may sign in, and their sessions.

use super::ValidationError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Per-company portal settings (PSA → Support Portal → Authentication).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalSettings {
    pub company_id: u64,
    /// The portal lives at `/portal/{slug}`.
    pub slug: String,
    /// "Sign in with Microsoft" against the company's own tenant.
    pub sso_enabled: bool,
    /// Contact groups allowed in; empty means every active contact of the company. Members of
    /// groups nested in an allowed group (at any depth) are allowed too, as in Entra.
    #[serde(default)]
    pub allowed_group_ids: Vec<u64>,
    /// Members of this contact group (nested groups included) see every request of their
    /// company.
    #[serde(default)]
    pub admin_group_id: Option<u64>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl PortalSettings {
    /// Settings of a company whose portal was never configured: off, slug from its name.
    pub fn default_for(company_id: u64, company_name: &str) -> Self {
        Self {
            company_id,
            slug: slug_from_name(company_name, company_id),
            sso_enabled: false,
            allowed_group_ids: Vec::new(),
            admin_group_id: None,
            updated_at: None,
        }
    }
}

/// Lower-case letters, digits and single dashes; 2–63 characters; not a reserved word.
pub fn parse_slug(s: &str) -> Result<String, ValidationError> {
    let v = s.trim().to_ascii_lowercase();
    let ok = (2..=63).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.starts_with('-')
        && !v.ends_with('-')
        && !v.contains("--");
    if !ok {
        return Err(ValidationError::new(
            "slug",
            "must be 2–63 lower-case letters, digits and single dashes, like contoso-dental",
        ));
    }
    if ["callback", "signin", "signout", "static", "api"].contains(&v.as_str()) {
        return Err(ValidationError::new("slug", format!("{v:?} is reserved")));
    }
    Ok(v)
}

/// `Contoso Dental, Inc.` → `contoso-dental-inc`; falls back to `company-{id}`.
pub fn slug_from_name(name: &str, company_id: u64) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    parse_slug(&out).unwrap_or_else(|_| format!("company-{company_id}"))
}

/// A signed-in portal user's server-side session; the cookie holds a random id whose digest
/// keys this record. Kept apart from staff sessions: own cookie, own table, own lifetime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalSession {
    pub company_id: u64,
    pub contact_id: u64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_joined_by_hyphens() {
        assert_eq!(
            slug_from_name("Contoso Dental, Inc.", 1),
            "contoso-dental-inc"
        );
        assert_eq!(slug_from_name("Ä", 7), "company-7");
        assert!(parse_slug("api").is_err());
        assert!(parse_slug("a--b").is_err());
        assert!(parse_slug("-ab").is_err());
        assert_eq!(parse_slug(" Fabrikam-1 "), Ok("fabrikam-1".into()));
    }
}
