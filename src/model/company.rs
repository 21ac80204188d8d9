//! Client companies of the MSP.

use super::{ValidationError, clean_text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CompanyStatus {
    Active,
    Archived,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Company {
    pub id: u64,
    pub name: String,
    /// Primary e-mail/web domain, lower case (optional).
    pub domain: String,
    pub notes: String,
    pub status: CompanyStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
    /// The client's Entra tenant, once connected by admin consent.
    #[serde(default)]
    pub tenant: Option<TenantLink>,
    /// Guest accounts (`#EXT#`) are not kept as active contacts.
    #[serde(default)]
    pub exclude_guests: bool,
}

/// A company's link to its Microsoft Entra tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantLink {
    pub tenant_id: String,
    pub tenant_name: String,
    pub connected_at: DateTime<Utc>,
    /// False after Disconnect: data is kept, syncing stops.
    pub connected: bool,
}

impl Company {
    pub fn is_archived(&self) -> bool {
        self.status == CompanyStatus::Archived
    }
    /// Scheduled and manual syncs run only for connected, active companies.
    pub fn syncs(&self) -> bool {
        !self.is_archived() && self.tenant.as_ref().is_some_and(|t| t.connected)
    }
}

/// Validated input for creating or editing a company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyInput {
    pub name: String,
    pub domain: String,
    pub notes: String,
}

impl CompanyInput {
    pub fn parse(name: &str, domain: &str, notes: &str) -> Result<Self, ValidationError> {
        let name = clean_text("name", name, 200, true)?;
        let domain = clean_text("domain", domain, 253, false)?.to_lowercase();
        if !domain.is_empty()
            && (!domain.contains('.')
                || domain.starts_with('.')
                || domain.ends_with('.')
                || !domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        {
            return Err(ValidationError::new(
                "domain",
                "must be a domain name like contoso.com",
            ));
        }
        let notes = clean_text("notes", notes, 5000, false)?;
        Ok(Self {
            name,
            domain,
            notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_input_is_checked() {
        assert!(
            CompanyInput::parse("  Contoso ", "Contoso.COM", "")
                .is_ok_and(|c| c.name == "Contoso" && c.domain == "contoso.com")
        );
        assert_eq!(CompanyInput::parse(" ", "", "").unwrap_err().field, "name");
        assert_eq!(
            CompanyInput::parse("A", "not a domain", "")
                .unwrap_err()
                .field,
            "domain"
        );
        assert_eq!(
            CompanyInput::parse(&"x".repeat(201), "", "")
                .unwrap_err()
                .field,
            "name"
        );
    }
}
