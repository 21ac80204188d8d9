//! Microsoft 365: the Entra app registration (`/settings/entra`), the MSP's own tenant, and
//! the consent URL that connects a company.

use crate::domain::consent::MspTenant as DomainMspTenant;
use crate::domain::entra::{CertificateSummary, EntraAppView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The Entra app registration the appliance uses (never its secret or private key).
#[derive(Debug, Serialize)]
pub struct EntraSettings {
    /// The app's client id; empty when none is set.
    pub client_id: String,
    /// Whether a client secret is set.
    pub has_secret: bool,
    /// Where the registration comes from: `settings` (saved here), `config` (the
    /// configuration file) or `none`.
    pub source: &'static str,
    /// What token requests use: `certificate`, `secret` or `none`.
    pub credential: &'static str,
    /// The certificate credential; null when none is stored or configured.
    pub certificate: Option<Certificate>,
    /// Register this redirect URI on the app for admin consent.
    pub redirect_uri: String,
    /// The Microsoft Graph application permissions the app needs.
    pub permissions: Vec<&'static str>,
    /// The MSP's own tenant once connected; null before that.
    pub msp_tenant: Option<MspTenant>,
}

impl EntraSettings {
    /// The effective registration, and what the appliance adds to it.
    pub fn new(
        app: EntraAppView,
        redirect_uri: String,
        permissions: Vec<&'static str>,
        msp_tenant: Option<DomainMspTenant>,
    ) -> Self {
        Self {
            client_id: app.client_id,
            has_secret: app.has_secret,
            source: app.source,
            credential: app.credential,
            certificate: app.certificate.map(Certificate::from),
            redirect_uri,
            permissions,
            msp_tenant: msp_tenant.map(MspTenant::from),
        }
    }
}

/// The certificate credential: what identifies it, never its key.
#[derive(Debug, Serialize)]
pub struct Certificate {
    /// Upper-case hex SHA-1 thumbprint, as the Entra admin center lists it.
    pub thumbprint: String,
    /// The certificate's subject.
    pub subject: String,
    /// notAfter for people, `YYYY-MM-DD HH:MM UTC`.
    pub expires: String,
    /// notAfter.
    pub expires_at: DateTime<Utc>,
    /// Past notAfter: token requests with it will fail.
    pub expired: bool,
    /// `settings` (uploaded here) or `config` (the configuration file).
    pub source: &'static str,
}

impl From<CertificateSummary> for Certificate {
    fn from(c: CertificateSummary) -> Self {
        Self {
            thumbprint: c.thumbprint,
            subject: c.subject,
            expires: c.expires,
            expires_at: c.expires_at,
            expired: c.expired,
            source: c.source,
        }
    }
}

/// The MSP's own Microsoft tenant.
#[derive(Debug, Serialize)]
pub struct MspTenant {
    /// The Entra tenant id (a GUID).
    pub tenant_id: String,
    /// The tenant's display name.
    pub tenant_name: String,
    /// When admin consent connected it.
    pub connected_at: DateTime<Utc>,
}

impl From<DomainMspTenant> for MspTenant {
    fn from(t: DomainMspTenant) -> Self {
        Self {
            tenant_id: t.tenant_id,
            tenant_name: t.tenant_name,
            connected_at: t.connected_at,
        }
    }
}

/// `POST /companies/{id}/connect`: where a Global Administrator of the client's tenant
/// grants admin consent.
#[derive(Debug, Serialize)]
pub struct ConsentUrl {
    /// Open in a browser; Microsoft redirects back to the appliance, which connects the
    /// company and queues its first sync.
    pub consent_url: String,
}

/// `PUT /settings/entra`. No `Debug`: it carries the secret and the private key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntraBody {
    /// The app's client id (required).
    pub client_id: String,
    /// Empty or omitted: keep the stored secret.
    #[serde(default)]
    pub client_secret: String,
    /// PEM certificate uploaded to the app registration; with `private_key_pem`, token
    /// requests use it instead of the secret. Both omitted: the stored certificate is kept.
    #[serde(default)]
    pub certificate_pem: String,
    /// PEM private key of `certificate_pem`.
    #[serde(default)]
    pub private_key_pem: String,
}

#[cfg(test)]
mod tests {
    use super::super::golden::{assert_json, at};
    use super::*;

    #[test]
    fn entra_settings_have_a_fixed_shape() {
        let app = EntraAppView {
            client_id: "5d0c7a1e-2b3f-4c5d-8e9f-0a1b2c3d4e5f".into(),
            has_secret: true,
            source: "settings",
            certificate: Some(CertificateSummary {
                thumbprint: "0A1B2C".into(),
                subject: "CN=Tenantry".into(),
                expires: "2027-01-31 08:00 UTC".into(),
                expires_at: at(0) + chrono::Duration::days(365),
                expired: false,
                source: "settings",
            }),
            credential: "certificate",
        };
        let msp = DomainMspTenant {
            tenant_id: "b7e1c6a2-0f7c-4d1e-9a53-3f0e1d2c4b5a".into(),
            tenant_name: "Northwind MSP".into(),
            connected_at: at(1),
        };
        let view = EntraSettings::new(
            app,
            "https://tenantry.example/connect/callback".into(),
            vec!["User.Read.All", "Group.Read.All"],
            Some(msp),
        );
        assert_json(
            &view,
            r#"
{
  "client_id": "5d0c7a1e-2b3f-4c5d-8e9f-0a1b2c3d4e5f",
  "has_secret": true,
  "source": "settings",
  "credential": "certificate",
  "certificate": {
    "thumbprint": "0A1B2C",
    "subject": "CN=Tenantry",
    "expires": "2027-01-31 08:00 UTC",
    "expires_at": "2027-01-31T08:00:00Z",
    "expired": false,
    "source": "settings"
  },
  "redirect_uri": "https://tenantry.example/connect/callback",
  "permissions": [
    "User.Read.All",
    "Group.Read.All"
  ],
  "msp_tenant": {
    "tenant_id": "b7e1c6a2-0f7c-4d1e-9a53-3f0e1d2c4b5a",
    "tenant_name": "Northwind MSP",
    "connected_at": "2026-01-31T08:01:00Z"
  }
}"#,
        );
    }

    #[test]
    fn a_consent_url_is_one_field() {
        let u = ConsentUrl {
            consent_url: "https://login.example/adminconsent?client_id=x".into(),
        };
        assert_json(
            &u,
            r#"
{
  "consent_url": "https://login.example/adminconsent?client_id=x"
}"#,
        );
    }
}
