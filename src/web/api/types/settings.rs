//! Sign-in settings: staff sign-in with Microsoft (`/settings/sso`) and each company's
//! support portal (`/companies/{id}/portal`).

use crate::domain::sso::StaffSso;
use crate::model;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Staff sign-in with Microsoft (Settings → Authentication).
#[derive(Debug, Serialize)]
pub struct SsoSettings {
    /// "Sign in with Microsoft" for staff, against the connected MSP tenant.
    pub enabled: bool,
    /// A first Microsoft sign-in links to the staff account whose e-mail equals the user's
    /// mail or user principal name in the MSP directory; later sign-ins match by object id.
    pub match_email: bool,
    /// Members (direct or nested) of this Entra group get a technician account at their
    /// first sign-in; empty: nobody is created automatically.
    pub auto_create_group_id: String,
    /// Password sign-in only from the machine itself (break-glass through an SSH tunnel).
    pub local_login_loopback_only: bool,
    /// When the settings were last saved; null if never.
    pub updated_at: Option<DateTime<Utc>>,
    /// Register this on the Entra app (shared by staff and portal sign-in).
    pub redirect_uri: String,
    /// The connected MSP tenant staff sign in against; null while none is connected.
    pub msp_tenant_id: Option<String>,
}

impl SsoSettings {
    /// The stored settings, and what the appliance adds to them.
    pub fn new(s: StaffSso, redirect_uri: String, msp_tenant_id: Option<String>) -> Self {
        Self {
            enabled: s.enabled,
            match_email: s.match_email,
            auto_create_group_id: s.auto_create_group_id,
            local_login_loopback_only: s.local_login_loopback_only,
            updated_at: s.updated_at,
            redirect_uri,
            msp_tenant_id,
        }
    }
}

/// `PUT /settings/sso`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoBody {
    /// Required.
    pub enabled: bool,
    /// Default true.
    #[serde(default = "yes")]
    pub match_email: bool,
    /// An Entra group object id, or empty (the default).
    #[serde(default)]
    pub auto_create_group_id: String,
    /// Default false.
    #[serde(default)]
    pub local_login_loopback_only: bool,
}

fn yes() -> bool {
    true
}

/// A company's support portal: its address and who may sign in.
#[derive(Debug, Serialize)]
pub struct PortalSettings {
    /// The company.
    pub company_id: u64,
    /// The portal lives at `/portal/{slug}`.
    pub slug: String,
    /// "Sign in with Microsoft" against the company's own tenant.
    pub sso_enabled: bool,
    /// Contact groups allowed in; empty means every active contact of the company. Members of
    /// groups nested in an allowed group (at any depth) are allowed too.
    pub allowed_group_ids: Vec<u64>,
    /// Members of this contact group (nested groups included) see every request of their
    /// company; null when none.
    pub admin_group_id: Option<u64>,
    /// When the settings were last saved; null if never.
    pub updated_at: Option<DateTime<Utc>>,
    /// Path of the portal on this appliance (`/portal/{slug}`).
    pub path: String,
}

impl From<model::PortalSettings> for PortalSettings {
    fn from(s: model::PortalSettings) -> Self {
        Self {
            path: format!("/portal/{}", s.slug),
            company_id: s.company_id,
            slug: s.slug,
            sso_enabled: s.sso_enabled,
            allowed_group_ids: s.allowed_group_ids,
            admin_group_id: s.admin_group_id,
            updated_at: s.updated_at,
        }
    }
}

/// `PUT /companies/{id}/portal`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalBody {
    /// Required.
    pub sso_enabled: bool,
    /// Omitted: keep the current address.
    #[serde(default)]
    pub slug: Option<String>,
    /// Contact groups allowed in (empty: every active contact). Members of groups nested in
    /// them, at any depth, count too.
    #[serde(default)]
    pub allowed_group_ids: Vec<u64>,
    /// Portal admins; members of nested groups count too.
    #[serde(default)]
    pub admin_group_id: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::super::golden::{assert_json, at};
    use super::*;

    #[test]
    fn sso_settings_have_a_fixed_shape() {
        let s = StaffSso {
            enabled: true,
            match_email: false,
            auto_create_group_id: "f509c49b-d6a2-4d72-b9c4-cb75c3a0e9df".into(),
            local_login_loopback_only: true,
            updated_at: Some(at(0)),
        };
        assert_json(
            &SsoSettings::new(
                s,
                "https://tenantry.example/auth/callback".into(),
                Some("b7e1c6a2-0f7c-4d1e-9a53-3f0e1d2c4b5a".into()),
            ),
            r#"
{
  "enabled": true,
  "match_email": false,
  "auto_create_group_id": "f509c49b-d6a2-4d72-b9c4-cb75c3a0e9df",
  "local_login_loopback_only": true,
  "updated_at": "2026-01-31T08:00:00Z",
  "redirect_uri": "https://tenantry.example/auth/callback",
  "msp_tenant_id": "b7e1c6a2-0f7c-4d1e-9a53-3f0e1d2c4b5a"
}"#,
        );
    }

    #[test]
    fn portal_settings_have_a_fixed_shape() {
        let s = model::PortalSettings {
            company_id: 1,
            slug: "contoso-dental".into(),
            sso_enabled: true,
            allowed_group_ids: vec![2, 5],
            admin_group_id: Some(2),
            updated_at: None,
        };
        assert_json(
            &PortalSettings::from(s),
            r#"
{
  "company_id": 1,
  "slug": "contoso-dental",
  "sso_enabled": true,
  "allowed_group_ids": [
    2,
    5
  ],
  "admin_group_id": 2,
  "updated_at": null,
  "path": "/portal/contoso-dental"
}"#,
        );
    }

    #[test]
    fn an_sso_body_without_optional_fields_takes_the_defaults() {
        let b: SsoBody = serde_json::from_str(r#"{"enabled": true}"#).unwrap();
        assert!(b.match_email && !b.local_login_loopback_only && b.auto_create_group_id.is_empty());
        assert!(serde_json::from_str::<SsoBody>(r#"{"enabled": true, "x": 1}"#).is_err());
    }
}
