//! askama view structs, one per template. Every page inside the app carries a [`Chrome`]
//! (who is signed in, the CSRF token for the sign-out form, the active section).

pub mod asset_merge;
pub mod audit;
pub mod bulk;
pub mod companies;
pub mod compliance;
pub mod compliance_chart;
pub mod confirm;
pub mod dashboard;
pub mod directory;
pub mod entra;
pub mod jobs;
pub mod level_settings;
pub mod notifications;
pub mod password_sign_in;
pub mod portal;
pub mod requests;
pub mod settings;
pub mod sso_settings;

use super::session::Staff;

/// The layout's data.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub email: String,
    pub is_admin: bool,
    pub csrf: String,
    pub section: &'static str,
    pub notice: String,
    /// Requests that still need the MSP (the nav's badge).
    pub open_requests: u64,
}

impl Chrome {
    pub fn new(staff: &Staff, section: &'static str, notice: Option<&str>) -> Self {
        Self {
            email: staff.email().to_string(),
            is_admin: staff.is_admin(),
            csrf: staff.csrf().to_string(),
            section,
            notice: notice.map(notice_text).unwrap_or_default().to_string(),
            open_requests: staff.open_requests(),
        }
    }
}

/// Notices come as fixed codes in the redirect URL (`?notice=created`), never as free text,
/// so a crafted link cannot make the UI say something we did not write.
fn notice_text(code: &str) -> &'static str {
    match code {
        "company_created" => "Company created.",
        "request_assigned" => "Assignee saved.",
        "request_note_added" => "Internal note added. The customer does not see it.",
        "company_saved" => "Company saved.",
        "company_archived" => "Company archived. It is read-only and will not sync until restored.",
        "company_restored" => "Company restored.",
        "user_created" => "Staff account created.",
        "user_saved" => "Staff account saved.",
        "password_reset" => "Password changed; that person's sessions were ended.",
        "token_revoked" => "API token revoked.",
        "signed_out" => "You are signed out.",
        "entra_saved" => "App registration saved.",
        "sso_saved" => "Authentication settings saved.",
        "level_saved" => "Level.io connection saved.",
        "level_tested" => "Connection tested; the result is below.",
        "level_disconnected" => "Level.io disconnected. Synced assets and group mappings are kept.",
        "level_group_mapped" => "Group mapping saved.",
        "notifications_saved" => "Notification settings saved.",
        "notification_test_queued" => {
            "Test notification queued. It is sent in the background; failures show in the audit log."
        }
        "portal_saved" => "Support portal settings saved.",
        "entra_certificate_saved" => {
            "Certificate saved. Token requests now sign in with it instead of the client secret."
        }
        "entra_certificate_removed" => "Certificate removed.",
        "msp_connected" => "Connected. Your tenant granted Tenantry's read-only permissions.",
        "msp_disconnected" => "MSP tenant disconnected.",
        "sync_all_queued" => "Sync queued for every connected company.",
        "nothing_to_sync" => "No connected, active company to sync.",
        "sync_queued" => "Sync queued",
        "sync_finished" => "Sync finished.",
        "request_reply_sent" => "Reply sent. The customer sees it in their support portal.",
        "request_status_saved" => "Status saved.",
        "evidence_queued" => {
            "Evidence collection queued. It runs in the background; reload to see the new snapshot."
        }
        "evidence_finished" => "Evidence collection finished.",
        "evidence_all_queued" => "Evidence collection queued for every connected, active company.",
        "evidence_nothing_queued" => {
            "Nothing queued: no connected, active company without a collection already under way."
        }
        "evidence_settings_saved" => "Compliance settings saved.",
        "assets_merged" => {
            "Assets merged. They stay one asset at every sync; Unmerge on its page splits them."
        }
        "assets_kept_apart" => "Kept apart. The pair stays two assets and is not offered again.",
        "asset_unmerged" => {
            "Asset unmerged: its Level record is an asset of its own again, and the pair is kept apart from now on."
        }
        "tenant_disconnected" => {
            "Disconnected from Microsoft 365. Contacts and assets are kept; syncing stopped."
        }
        _ => "",
    }
}
