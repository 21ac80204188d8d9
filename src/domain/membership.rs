//! Group membership as Entra grants access: a member of a group nested in a group (at any
//! depth) counts as a member of the outer group.
//!
//! WHY a walk at check time rather than a flattened table kept by sync: a portal check needs
//! the answer for one contact and a few groups, so walking the nesting links of those groups
//! reads only what it needs, while flattening would rewrite many rows on every nesting change.

use crate::store::{Reader, StoreError};
use std::collections::{HashSet, VecDeque};

/// The most groups one check walks through. Real directories nest a handful of levels; the
/// bound keeps a pathological directory from turning every portal request into a long walk.
/// A contact only reachable past it is refused (fail closed), and the cut is logged.
pub const MAX_GROUPS_WALKED: usize = 500;

/// Is the contact a member of any of `roots`, directly or through groups nested in them at
/// any depth? Breadth first, so direct membership of a root is found before any nesting is
/// read; each group is visited once, so cycles end. Groups deleted in Entra (inactive) pass
/// nothing on through nesting.
pub fn member_of_any(
    r: &Reader,
    company_id: u64,
    roots: &[u64],
    contact_id: u64,
) -> Result<bool, StoreError> {
    let mut seen: HashSet<u64> = HashSet::new();
    let mut queue: VecDeque<u64> = roots.iter().copied().collect();
    while let Some(group_id) = queue.pop_front() {
        if !seen.insert(group_id) {
            continue;
        }
        if seen.len() > MAX_GROUPS_WALKED {
            tracing::warn!(
                company_id,
                contact_id,
                "group nesting deeper or wider than {MAX_GROUPS_WALKED} groups; membership check stopped"
            );
            return Ok(false);
        }
        if r.is_member(company_id, group_id, contact_id)? {
            return Ok(true);
        }
        for child in r.nested_groups(company_id, group_id)? {
            if child.active && !seen.contains(&child.id) {
                queue.push_back(child.id);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests;
