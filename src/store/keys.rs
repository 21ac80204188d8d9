//! The names values are stored under in the string-keyed tables, each next to the others of
//! its table.
//!
//! A name's spelling is part of the database format. Renaming one does not fail anything: it
//! orphans what existing databases hold under the old name, so a setting quietly reverts to
//! "not configured", a pending consent is forgotten, a sequence starts again at 1 and its next
//! ids overwrite existing records. So each name is spelled once, here, the domain refers to it
//! by this name, and `tests::spellings_are_pinned` fails when one changes.

/// Keys of the `meta` table: what the appliance keeps for itself (JSON values).
pub mod meta {
    /// The schema version the database was migrated to; only the store writes it.
    pub(in crate::store) const SCHEMA_VERSION: &str = "schema_version";
    /// Digest of the one-time setup link's token, while no staff user exists.
    pub const SETUP_TOKEN: &str = "setup_token";

    /// A pending admin consent, by the digest of its `state` (single use).
    pub fn consent(state_digest: &str) -> String {
        format!("consent/{state_digest}")
    }

    /// The last slot the schedule `name` fired for.
    pub fn schedule_last(name: &str) -> String {
        format!("schedule_last/{name}")
    }

    /// The report of a company's last identity sync.
    pub fn sync_report(company_id: u64) -> String {
        format!("sync_report/{company_id}")
    }
}

/// Keys of the `settings` table: what staff configure in Settings or through the API (JSON
/// values; a secret one is sealed with the data key, see `secret_setting`).
pub mod settings {
    /// The Entra app registration's client id (its credentials are kept apart, sealed).
    pub const ENTRA_APP: &str = "entra_app";
    /// The app's client secret (sealed).
    pub const ENTRA_CLIENT_SECRET: &str = "entra_client_secret";
    /// The app's certificate with its private key: the domain's `StoredCertificate` as JSON,
    /// sealed.
    pub const ENTRA_CERTIFICATE: &str = "entra_certificate";
    /// The MSP's own tenant, once admin consent confirmed it.
    pub const MSP_TENANT: &str = "msp_tenant";
    /// Sign-in with Microsoft for staff.
    pub const STAFF_SSO: &str = "staff_sso";
}

/// Names of the id sequences in the `seq` table, one per kind of record.
pub mod seq {
    pub const COMPANY: &str = "company";
    pub const CONTACT: &str = "contact";
    pub const CONTACT_GROUP: &str = "contact_group";
    pub const ASSET: &str = "asset";
    pub const STAFF: &str = "staff";
    pub const API_TOKEN: &str = "api_token";
    pub const SUPPORT_REQUEST: &str = "support_request";
    pub const JOB: &str = "job";
    pub const AUDIT: &str = "audit";
    pub const EVIDENCE_SNAPSHOT: &str = "evidence_snapshot";
}

/// The collection half of a `sync_state` key (company id, collection): which Graph delta
/// query the state belongs to.
pub mod sync_state {
    pub const USERS: &str = "users";
    pub const GROUPS: &str = "groups";
    /// The Intune device sweep: only its `round` is used (Intune has no delta query).
    pub const DEVICES: &str = "devices";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stored name, spelled out. A failure here means a rename: keep the old spelling
    /// (existing databases hold data under it), or add a migration that moves the data.
    #[test]
    fn spellings_are_pinned() {
        let pinned = [
            (meta::SCHEMA_VERSION, "schema_version"),
            (meta::SETUP_TOKEN, "setup_token"),
            (&meta::consent("ab12"), "consent/ab12"),
            (&meta::schedule_last("identity"), "schedule_last/identity"),
            (&meta::sync_report(42), "sync_report/42"),
            (settings::ENTRA_APP, "entra_app"),
            (settings::ENTRA_CLIENT_SECRET, "entra_client_secret"),
            (settings::ENTRA_CERTIFICATE, "entra_certificate"),
            (settings::MSP_TENANT, "msp_tenant"),
            (settings::STAFF_SSO, "staff_sso"),
            (seq::COMPANY, "company"),
            (seq::CONTACT, "contact"),
            (seq::CONTACT_GROUP, "contact_group"),
            (seq::ASSET, "asset"),
            (seq::STAFF, "staff"),
            (seq::API_TOKEN, "api_token"),
            (seq::SUPPORT_REQUEST, "support_request"),
            (seq::JOB, "job"),
            (seq::AUDIT, "audit"),
            (seq::EVIDENCE_SNAPSHOT, "evidence_snapshot"),
            (sync_state::USERS, "users"),
            (sync_state::GROUPS, "groups"),
            (sync_state::DEVICES, "devices"),
        ];
        for (key, spelling) in pinned {
            assert_eq!(key, spelling, "a stored name changed");
        }
    }
}
