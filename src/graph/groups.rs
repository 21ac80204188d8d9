//! Groups and their direct memberships through `GET /v1.0/groups/delta`.
//!
//! Selecting `members` turns on membership tracking: each group carries a `members@delta`
//! array of `{ "@odata.type", "id" }` entries, with `@removed` for members that left. In the
//! first round the array lists all current members; in later rounds only additions and
//! removals. A large group is split across pages: the same group id appears on several pages,
//! each with a slice of its members, so no single page's list is the whole membership.
//! [`GroupRound`] merges a round's pages per group id before anything is applied.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::wire::{Removed, open_enum};
use super::{GraphClient, GraphError, Page};

/// Properties the contact-group sync needs, plus `members` for memberships.
pub const GROUP_SELECT: &str =
    "id,displayName,description,mail,mailEnabled,securityEnabled,groupTypes,members";

/// A group as one page of a delta round reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeltaGroup {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub mail_enabled: Option<bool>,
    #[serde(default)]
    pub security_enabled: Option<bool>,
    /// `["Unified"]` = Microsoft 365 group; `DynamicMembership` marks dynamic groups.
    #[serde(default)]
    pub group_types: Option<Vec<String>>,
    /// This page's slice of membership changes (absent when none).
    #[serde(
        default,
        rename = "members@delta",
        skip_serializing_if = "Option::is_none"
    )]
    pub members_delta: Option<Vec<MemberChange>>,
    #[serde(default, rename = "@removed", skip_serializing_if = "Option::is_none")]
    pub removed: Option<Removed>,
}

impl DeltaGroup {
    pub fn is_removed(&self) -> bool {
        self.removed.is_some()
    }
}

open_enum! {
    /// The `@odata.type` of a member. Membership is direct only: a nested group is a member
    /// entry of type group, not its users.
    MemberType {
        User => "#microsoft.graph.user",
        Group => "#microsoft.graph.group",
        Device => "#microsoft.graph.device",
        ServicePrincipal => "#microsoft.graph.servicePrincipal",
        OrgContact => "#microsoft.graph.orgContact",
    }
}

/// One `members@delta` entry: a member added, or (with `@removed`) taken out.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct MemberChange {
    #[serde(default, rename = "@odata.type")]
    pub member_type: Option<MemberType>,
    pub id: String,
    #[serde(default, rename = "@removed", skip_serializing_if = "Option::is_none")]
    pub removed: Option<Removed>,
}

impl MemberChange {
    pub fn is_removed(&self) -> bool {
        self.removed.is_some()
    }
}

/// A group after merging every appearance in one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedGroup {
    /// Properties merged in page order: a later page's value wins, an absent one keeps the
    /// earlier (continuation pages of a split group may carry only `id` and members).
    pub group: DeltaGroup,
    /// Members added (first round: the complete membership), in first-seen order.
    pub members_added: Vec<MemberChange>,
    /// Members removed.
    pub members_removed: Vec<MemberChange>,
}

impl MergedGroup {
    /// The group was removed (and not restored later in the same round).
    pub fn is_removed(&self) -> bool {
        self.group.is_removed()
    }
}

/// Accumulates the pages of one groups delta round.
#[derive(Debug, Default)]
pub struct GroupRound {
    order: Vec<String>,
    groups: HashMap<String, Accumulated>,
}

/// WHY a plain list of changes (#11): a first round carries every membership of the tenant,
/// and it is read while the users round's last write (a first sync's contact list build) is
/// in flight: the sync's peak of memory. A map per group from member id to its change, and a
/// second copy of each id for the order, held three copies of every member id (about 27 MB
/// for 90,000 memberships); the list holds one, and [`GroupRound::finish`] nets it.
#[derive(Debug)]
struct Accumulated {
    group: DeltaGroup,
    /// Every member change of the round for this group, in the order read (a member may
    /// appear more than once: the last change wins, see [`net_members`]).
    members: Vec<MemberChange>,
}

impl GroupRound {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one page's groups. The same object can appear more than once in a round (split
    /// groups, replays): the last appearance wins, per property and per member.
    pub fn add_page(&mut self, groups: Vec<DeltaGroup>) {
        for mut g in groups {
            let changes = g.members_delta.take().unwrap_or_default();
            let acc = match self.groups.get_mut(&g.id) {
                Some(acc) => {
                    merge_into(&mut acc.group, g);
                    acc
                }
                None => {
                    self.order.push(g.id.clone());
                    self.groups.entry(g.id.clone()).or_insert(Accumulated {
                        group: g,
                        members: Vec::new(),
                    })
                }
            };
            if acc.members.is_empty() {
                acc.members = changes;
            } else {
                acc.members.extend(changes);
            }
        }
    }

    /// Number of distinct groups seen so far.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The merged groups, in first-seen order.
    pub fn finish(mut self) -> Vec<MergedGroup> {
        let mut out = Vec::with_capacity(self.order.len());
        for id in self.order {
            let Some(acc) = self.groups.remove(&id) else {
                continue;
            };
            let (added, removed) = net_members(acc.members);
            out.push(MergedGroup {
                group: acc.group,
                members_added: added,
                members_removed: removed,
            });
        }
        out
    }
}

/// A group's member changes in the order read, netted: each member once, in first-seen
/// order, with its last change; split into (added, removed).
fn net_members(changes: Vec<MemberChange>) -> (Vec<MemberChange>, Vec<MemberChange>) {
    let picks: Option<Vec<usize>> = {
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(changes.len());
        for (i, m) in changes.iter().enumerate() {
            last.insert(m.id.as_str(), i);
        }
        // No member twice (every first round, most later ones): each change is its last.
        (last.len() != changes.len()).then(|| {
            changes
                .iter()
                .filter_map(|m| last.remove(m.id.as_str()))
                .collect()
        })
    };
    let netted: Vec<MemberChange> = match picks {
        None => changes,
        Some(picks) => {
            let mut slots: Vec<Option<MemberChange>> = changes.into_iter().map(Some).collect();
            picks
                .into_iter()
                .filter_map(|i| slots.get_mut(i).and_then(Option::take))
                .collect()
        }
    };
    netted.into_iter().partition(|m| !m.is_removed())
}

/// Merge a later appearance of a group into the earlier one.
fn merge_into(into: &mut DeltaGroup, later: DeltaGroup) {
    fn take<T>(slot: &mut Option<T>, later: Option<T>) {
        if later.is_some() {
            *slot = later;
        }
    }
    if later.removed.is_some() {
        // Removed after being seen: the removal is the last word on its properties too.
        into.removed = later.removed;
        return;
    }
    // A normal appearance after a removal means it was restored within the round.
    into.removed = None;
    take(&mut into.display_name, later.display_name);
    take(&mut into.description, later.description);
    take(&mut into.mail, later.mail);
    take(&mut into.mail_enabled, later.mail_enabled);
    take(&mut into.security_enabled, later.security_enabled);
    take(&mut into.group_types, later.group_types);
}

impl GraphClient {
    /// The URL that starts a full groups round.
    pub fn groups_delta_start_url(&self) -> String {
        self.url(&format!("/v1.0/groups/delta?$select={GROUP_SELECT}"))
    }

    /// One page of a groups delta round (`None` starts a full round). Feed the pages of a
    /// round to a [`GroupRound`] before applying memberships.
    pub async fn groups_delta_page(
        &self,
        tenant: &str,
        link: Option<&str>,
    ) -> Result<Page<DeltaGroup>, GraphError> {
        let url = match link {
            Some(l) => l.to_string(),
            None => self.groups_delta_start_url(),
        };
        self.get_page(tenant, &url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(json: &str) -> DeltaGroup {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    #[test]
    fn replayed_member_last_change_wins_and_restore_clears_removal() {
        let mut round = GroupRound::new();
        round.add_page(vec![group(
            r##"{"id":"g","displayName":"A","members@delta":[{"@odata.type":"#microsoft.graph.user","id":"u1"}]}"##,
        )]);
        round.add_page(vec![group(
            r##"{"id":"g","@removed":{"reason":"changed"}}"##,
        )]);
        round.add_page(vec![group(
            r##"{"id":"g","members@delta":[{"@odata.type":"#microsoft.graph.user","id":"u1","@removed":{"reason":"deleted"}}]}"##,
        )]);
        let merged = round.finish();
        assert_eq!(merged.len(), 1);
        assert!(!merged[0].is_removed());
        assert_eq!(merged[0].group.display_name.as_deref(), Some("A"));
        assert!(merged[0].members_added.is_empty());
        assert_eq!(merged[0].members_removed.len(), 1);
    }

    #[test]
    fn members_come_once_in_first_seen_order_with_their_last_change() {
        let member = |id: &str, removed: bool| {
            let gone = if removed {
                r#","@removed":{"reason":"deleted"}"#
            } else {
                ""
            };
            format!(r##"{{"@odata.type":"#microsoft.graph.user","id":"{id}"{gone}}}"##)
        };
        let page = |members: &[String]| {
            group(&format!(
                r#"{{"id":"g","members@delta":[{}]}}"#,
                members.join(",")
            ))
        };
        let mut round = GroupRound::new();
        round.add_page(vec![page(&[
            member("u1", false),
            member("u2", false),
            member("u3", false),
        ])]);
        // u2 leaves, u4 joins, u1 leaves and comes back, u3 leaves.
        round.add_page(vec![page(&[
            member("u2", true),
            member("u4", false),
            member("u1", true),
        ])]);
        round.add_page(vec![page(&[member("u1", false), member("u3", true)])]);
        let merged = round.finish();
        let ids = |v: &[MemberChange]| v.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&merged[0].members_added), ["u1", "u4"]);
        assert_eq!(ids(&merged[0].members_removed), ["u2", "u3"]);
    }
}
