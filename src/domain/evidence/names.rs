//! Names for the people, groups and roles evidence mentions, from what identity sync keeps:
//! users through the contact-by-object-id index, groups through theirs with members resolved
//! through nested groups (a member of a group in an excluded group is excluded too).

use std::collections::{BTreeMap, HashSet, VecDeque};

use super::facts::Names;
use crate::domain::membership::MAX_GROUPS_WALKED;
use crate::model::{GroupRef, UserRef};
use crate::store::{Reader, StoreError};

/// Lookups inside one read snapshot.
pub struct StoreNames<'a> {
    pub r: &'a Reader,
    pub company_id: u64,
}

impl StoreNames<'_> {
    fn try_user(&self, object_id: &str) -> Result<UserRef, StoreError> {
        let oid = object_id.to_ascii_lowercase();
        Ok(match self.r.contact_by_oid(self.company_id, &oid)? {
            Some((c, _)) => UserRef {
                object_id: oid,
                display_name: c.display_name,
                upn: c.upn,
                contact_id: Some(c.id),
            },
            None => UserRef {
                object_id: oid,
                display_name: String::new(),
                upn: String::new(),
                contact_id: None,
            },
        })
    }

    fn try_group(&self, object_id: &str) -> Result<GroupRef, StoreError> {
        let oid = object_id.to_ascii_lowercase();
        let Some((group, _)) = self.r.group_by_oid(self.company_id, &oid)? else {
            return Ok(GroupRef {
                object_id: oid,
                display_name: String::new(),
                members: Vec::new(),
            });
        };
        // Breadth first over nesting; each group once, so cycles end; bounded like the
        // portal's membership walk.
        let mut members: BTreeMap<u64, UserRef> = BTreeMap::new();
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([group.id]);
        while let Some(gid) = queue.pop_front() {
            if !seen.insert(gid) || seen.len() > MAX_GROUPS_WALKED {
                continue;
            }
            for contact_id in self.r.group_member_ids(self.company_id, gid)? {
                if members.contains_key(&contact_id) {
                    continue;
                }
                if let Some(c) = self.r.contact(self.company_id, contact_id)? {
                    members.insert(
                        contact_id,
                        UserRef {
                            object_id: c.entra_object_id.clone().unwrap_or_default(),
                            display_name: c.display_name,
                            upn: c.upn,
                            contact_id: Some(c.id),
                        },
                    );
                }
            }
            for child in self.r.nested_groups(self.company_id, gid)? {
                if child.active {
                    queue.push_back(child.id);
                }
            }
        }
        let mut members: Vec<UserRef> = members.into_values().collect();
        members.sort();
        Ok(GroupRef {
            object_id: oid,
            display_name: group.display_name,
            members,
        })
    }
}

impl Names for StoreNames<'_> {
    fn user(&self, object_id: &str) -> UserRef {
        self.try_user(object_id).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read a contact for evidence");
            UserRef {
                object_id: object_id.to_ascii_lowercase(),
                display_name: String::new(),
                upn: String::new(),
                contact_id: None,
            }
        })
    }

    fn group(&self, object_id: &str) -> GroupRef {
        self.try_group(object_id).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read a group for evidence");
            GroupRef {
                object_id: object_id.to_ascii_lowercase(),
                display_name: String::new(),
                members: Vec::new(),
            }
        })
    }
}
