//! What an identity sync applies, independent of how Microsoft Graph spells it: the Graph
//! client's DTOs are mapped into these by the domain, so the apply logic can be tested on its
//! own and a Graph quirk cannot leak into storage.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A property in a delta item: not sent (keep what we have), sent as null (clear it), or a value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Field<T> {
    #[default]
    Unchanged,
    Cleared,
    Set(T),
}

impl<T: Default> Field<T> {
    /// Apply to `target`; true when it changed the value.
    pub fn apply_to(self, target: &mut T) -> bool
    where
        T: PartialEq,
    {
        let new = match self {
            Field::Unchanged => return false,
            Field::Cleared => T::default(),
            Field::Set(v) => v,
        };
        if *target == new {
            false
        } else {
            *target = new;
            true
        }
    }

    pub fn value(self) -> Option<T> {
        match self {
            Field::Set(v) => Some(v),
            _ => None,
        }
    }
}

/// One user from `/users/delta`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserDelta {
    pub oid: String,
    /// `@removed` present (deleted, or moved out of scope).
    pub removed: bool,
    pub display_name: Field<String>,
    pub mail: Field<String>,
    pub upn: Field<String>,
    pub department: Field<String>,
    pub job_title: Field<String>,
    pub account_enabled: Field<bool>,
    pub user_type: Field<String>,
}

/// One group from `/groups/delta`, with the membership changes seen on this page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupDelta {
    pub oid: String,
    pub removed: bool,
    pub display_name: Field<String>,
    pub description: Field<String>,
    pub mail_enabled: Field<bool>,
    /// User object ids added to the group (in a full round: every member).
    pub members_added: Vec<String>,
    pub members_removed: Vec<String>,
    /// Object ids of groups nested in this one, added (in a full round: every nested group).
    pub groups_added: Vec<String>,
    pub groups_removed: Vec<String>,
}

/// One Intune managed device (Intune has no delta: the full list every run).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeviceRecord {
    pub device_id: String,
    pub hostname: String,
    pub os: String,
    pub os_version: String,
    pub serial_number: String,
    pub compliance_state: String,
    pub last_check_in: Option<DateTime<Utc>>,
    pub user_oid: Option<String>,
    pub model: String,
    pub manufacturer: String,
    pub is_encrypted: Option<bool>,
    pub jail_broken: Option<String>,
}

/// Per company and collection (`users`, `groups`): where the current round stands.
/// Saved in the same transaction as the page of changes it covers, so a crash resumes from
/// the last applied page and never skips or repeats changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SyncState {
    /// Round number; objects seen in a full round are stamped with it.
    pub round: u64,
    /// This round is a full one (first sync, or the delta token expired).
    pub full: bool,
    /// Resume point inside a round (the last `@odata.nextLink` not yet fetched).
    pub next_link: Option<String>,
    /// The `@odata.deltaLink` ending the last completed round.
    pub delta_link: Option<String>,
    pub delta_saved_at: Option<DateTime<Utc>>,
    pub round_started_at: Option<DateTime<Utc>>,
    /// Changes applied so far in this round, so a resumed round reports its whole effect.
    #[serde(default)]
    pub round_counts: ChangeCounts,
}

/// Counts a sync reports (and the audit log records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChangeCounts {
    pub created: u64,
    pub updated: u64,
    pub deactivated: u64,
}

impl ChangeCounts {
    pub fn add(&mut self, o: ChangeCounts) {
        self.created += o.created;
        self.updated += o.updated;
        self.deactivated += o.deactivated;
    }
}

const ACTIONS: [&str; 3] = ["created", "updated", "deactivated"];

/// One kind's counts in words, zeros included: "contacts: 300 added, 2 updated, 0 deactivated".
pub fn kind_in_words(counts: &std::collections::BTreeMap<String, u64>, kind: &str) -> String {
    let n = |a: &str| counts.get(&format!("{kind}_{a}")).copied().unwrap_or(0);
    format!(
        "{kind}: {} added, {} updated, {} deactivated",
        n("created"),
        n("updated"),
        n("deactivated")
    )
}

/// Sync counts in words, by object kind (see [`kind_in_words`]): kinds in the order given, a
/// kind with no counts at all left out, other keys after them with their names in words.
pub fn counts_in_words(counts: &std::collections::BTreeMap<String, u64>, kinds: &[&str]) -> String {
    let key_of = |kind: &str| ACTIONS.map(|a| format!("{kind}_{a}"));
    let present: Vec<&str> = kinds
        .iter()
        .copied()
        .filter(|k| key_of(k).iter().any(|key| counts.contains_key(key)))
        .collect();
    let mut parts: Vec<String> = present.iter().map(|k| kind_in_words(counts, k)).collect();
    let used: Vec<String> = present.iter().flat_map(|k| key_of(k)).collect();
    for (k, v) in counts.iter().filter(|(k, _)| !used.contains(*k)) {
        parts.push(format!("{}: {v}", k.replace('_', " ")));
    }
    parts.join("; ")
}

#[cfg(test)]
mod words_tests {
    #[test]
    fn counts_read_as_words_not_snake_case() {
        let counts = [
            ("contacts_created", 300),
            ("contacts_updated", 2),
            ("assets_created", 5),
            ("pages_read", 4),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(
            super::counts_in_words(&counts, &["contacts", "groups", "assets"]),
            "contacts: 300 added, 2 updated, 0 deactivated; assets: 5 added, 0 updated, 0 deactivated; pages read: 4"
        );
    }
}
