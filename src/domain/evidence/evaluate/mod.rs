//! The controls: pure functions from a snapshot (and the previous one, for drift) to results.
//! No I/O, no clock: every test builds a snapshot and reads the verdict.
//!
//! Every control first passes its gates (`gates`): a missing licence is `not_licensed`, a
//! missing permission or a failed read `not_collected` — never `fail`. Security defaults count
//! for the MFA and legacy-authentication controls (1–3) even without Entra ID P1. The rules,
//! control by control, are in docs/evidence.md.
//!
//! - `ca`: reading one Conditional Access policy (enforced? whom? what grant? who excluded?).
//! - `mfa` (1, 2), `legacy_auth` (3), `registration` (4, 5), `devices` (6, 7, 9),
//!   `device_access` (8), `drift` (10).
//! - `words`: how facts are written; `roles`: the 14 privileged roles.

mod ca;
mod device_access;
mod devices;
mod drift;
mod gates;
mod legacy_auth;
mod mfa;
mod registration;
mod roles;
mod words;

#[cfg(test)]
pub(crate) mod test_snapshot;
#[cfg(test)]
mod tests;

pub use ca::BREAK_GLASS_ALLOWANCE;
pub use roles::{PRIVILEGED_ROLES, is_privileged, privileged_role_name};

use crate::model::{ControlResult, EvidenceSnapshot};

pub const MFA_ALL_USERS: &str = "mfa_all_users";
pub const MFA_ADMINS: &str = "mfa_admins";
pub const LEGACY_AUTH_BLOCKED: &str = "legacy_auth_blocked";
pub const ADMINS_MFA_REGISTERED: &str = "admins_mfa_registered";
pub const MFA_REGISTRATION_COVERAGE: &str = "mfa_registration_coverage";
pub const DEVICE_COMPLIANCE: &str = "device_compliance";
pub const COMPLIANCE_POLICY_PER_PLATFORM: &str = "compliance_policy_per_platform";
pub const CA_REQUIRES_COMPLIANT_DEVICE: &str = "ca_requires_compliant_device";
pub const DEVICE_ENCRYPTION: &str = "device_encryption";
pub const POLICY_DRIFT: &str = "policy_drift";

/// Every control, in the order they are shown: stable id and title.
pub const CONTROLS: [(&str, &str); 10] = [
    (MFA_ALL_USERS, "MFA required for all users"),
    (MFA_ADMINS, "Administrators must use MFA"),
    (LEGACY_AUTH_BLOCKED, "Legacy authentication blocked"),
    (
        ADMINS_MFA_REGISTERED,
        "Every administrator is registered for MFA",
    ),
    (MFA_REGISTRATION_COVERAGE, "MFA registration coverage"),
    (DEVICE_COMPLIANCE, "Device compliance"),
    (
        COMPLIANCE_POLICY_PER_PLATFORM,
        "A compliance policy for every platform",
    ),
    (
        CA_REQUIRES_COMPLIANT_DEVICE,
        "Access requires a compliant or hybrid-joined device",
    ),
    (DEVICE_ENCRYPTION, "Managed devices are encrypted"),
    (POLICY_DRIFT, "No unreviewed policy drift"),
];

/// A control's title (its id when unknown, which only a typo could cause).
pub fn title_of(id: &str) -> &str {
    CONTROLS
        .iter()
        .find(|(control, _)| *control == id)
        .map(|(_, title)| *title)
        .unwrap_or(id)
}

/// Every control, in order, over `current`; `previous` is the snapshot before it (drift).
/// Framework references are left empty here; `frameworks::assess` fills them and the scores.
pub fn evaluate(
    current: &EvidenceSnapshot,
    previous: Option<&EvidenceSnapshot>,
) -> Vec<ControlResult> {
    vec![
        mfa::mfa_all_users(current),
        mfa::mfa_admins(current),
        legacy_auth::legacy_auth_blocked(current),
        registration::admins_mfa_registered(current),
        registration::mfa_registration_coverage(current),
        devices::device_compliance(current),
        devices::compliance_policy_per_platform(current),
        device_access::ca_requires_compliant_device(current),
        devices::device_encryption(current),
        drift::policy_drift(current, previous),
    ]
}
