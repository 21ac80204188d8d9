//! Level's group tree and which company each group (and its subtree) belongs to. Level has no
//! tenant object: an MSP maps the folder holding a client's devices to the client's company; a
//! device belongs to the company of its deepest mapped ancestor group, and devices under no
//! mapped group are ignored (and counted).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::super::authority::AdminActor;
use super::super::{DomainError, DomainResult, Services};
use super::describe_level_error;
use crate::levelio::Group;
use crate::model::{Actor, NewAuditEvent, ValidationError};
use crate::store::levelio as keys;

/// A group as remembered from the last listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredGroup {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
}

/// One row of the mapping page and of `GET /api/v1/settings/level/groups`, in tree order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub depth: usize,
    /// `Client / Workstations / Remote`.
    pub path: String,
    /// Mapped directly to this company.
    pub company_id: Option<u64>,
    /// The company its devices go to: its own mapping or its nearest mapped ancestor's.
    pub effective_company_id: Option<u64>,
    pub effective_company_name: Option<String>,
    /// A company whose name matches the group's, for an unmapped group.
    pub suggested_company_id: Option<u64>,
    pub suggested_company_name: Option<String>,
}

/// The tree and whether it is live.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupTree {
    pub rows: Vec<GroupRow>,
    /// Why Level could not be read now (the rows are then the last known tree).
    pub error: Option<String>,
    /// Every company (id, name), for choosing one.
    pub companies: Vec<(u64, String)>,
}

/// The company of the deepest mapped group at or above `group_id`.
pub fn owner_of(
    group_id: &str,
    parents: &HashMap<String, Option<String>>,
    map: &BTreeMap<String, u64>,
) -> Option<u64> {
    let mut cur = Some(group_id.to_string());
    let mut steps = 0;
    while let Some(g) = cur {
        if let Some(c) = map.get(&g) {
            return Some(*c);
        }
        // Bounded: a malformed tree with a cycle must not hang the sync.
        steps += 1;
        if steps > 64 {
            return None;
        }
        cur = parents.get(&g).cloned().flatten();
    }
    None
}

fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Rows in tree order (roots and siblings by name), with mapping and suggestions.
pub fn tree_rows(
    groups: &[StoredGroup],
    map: &BTreeMap<String, u64>,
    companies: &[(u64, String)],
) -> Vec<GroupRow> {
    let parents: HashMap<String, Option<String>> = groups
        .iter()
        .map(|g| (g.id.clone(), g.parent_id.clone()))
        .collect();
    let mut children: BTreeMap<Option<String>, Vec<&StoredGroup>> = BTreeMap::new();
    for g in groups {
        // A parent Level did not list makes the group a root rather than losing it.
        let parent = g.parent_id.clone().filter(|p| parents.contains_key(p));
        children.entry(parent).or_default().push(g);
    }
    for v in children.values_mut() {
        v.sort_by_key(|g| g.name.to_lowercase());
    }
    let name_of = |id: u64| companies.iter().find(|c| c.0 == id).map(|c| c.1.clone());
    let mut rows = Vec::new();
    let mut stack: Vec<(&StoredGroup, usize, String)> = children
        .get(&None)
        .map(|v| v.iter().rev().map(|g| (*g, 0, g.name.clone())).collect())
        .unwrap_or_default();
    while let Some((g, depth, path)) = stack.pop() {
        if rows.len() > groups.len() {
            break; // a cycle in a malformed tree
        }
        let effective = owner_of(&g.id, &parents, map);
        let suggestion = if effective.is_none() {
            let n = fold(&g.name);
            companies
                .iter()
                .find(|(_, c)| {
                    let f = fold(c);
                    !n.is_empty()
                        && !f.is_empty()
                        && (f == n
                            || (n.len() >= 4 && f.contains(&n))
                            || (f.len() >= 4 && n.contains(&f)))
                })
                .map(|(id, name)| (*id, name.clone()))
        } else {
            None
        };
        rows.push(GroupRow {
            id: g.id.clone(),
            name: g.name.clone(),
            parent_id: g.parent_id.clone(),
            depth,
            path: path.clone(),
            company_id: map.get(&g.id).copied(),
            effective_company_id: effective,
            effective_company_name: effective.and_then(name_of),
            suggested_company_id: suggestion.as_ref().map(|s| s.0),
            suggested_company_name: suggestion.map(|s| s.1),
        });
        if let Some(kids) = children.get(&Some(g.id.clone())) {
            for k in kids.iter().rev() {
                stack.push((*k, depth + 1, format!("{path} / {}", k.name)));
            }
        }
    }
    rows
}

impl Services {
    pub(super) async fn remember_level_groups(&self, groups: &[Group]) -> DomainResult<()> {
        let stored: Vec<StoredGroup> = groups
            .iter()
            .map(|g| StoredGroup {
                id: g.id.clone(),
                name: g.name.clone(),
                parent_id: g.parent_id.clone(),
            })
            .collect();
        self.store
            .write(move |w| Ok::<_, DomainError>(w.set_level_setting(keys::LEVEL_GROUPS, &stored)?))
            .await
    }

    /// Level group id → company id.
    pub async fn level_group_map(&self) -> DomainResult<BTreeMap<String, u64>> {
        Ok(self
            .store
            .read(|r| r.level_setting(keys::LEVEL_GROUP_MAP))
            .await?
            .unwrap_or_default())
    }

    /// The group tree, read live from Level when connected (and remembered), else the last
    /// known one with the reason.
    pub async fn level_groups(&self) -> DomainResult<GroupTree> {
        let error = match self.level_client().await {
            Ok(client) => match client.groups().await {
                Ok(groups) => {
                    self.remember_level_groups(&groups).await?;
                    None
                }
                Err(e) => Some(describe_level_error(&e)),
            },
            Err(DomainError::Conflict(m)) => Some(m),
            Err(e) => return Err(e),
        };
        let (groups, map, companies) = self
            .store
            .read(|r| {
                let groups: Vec<StoredGroup> =
                    r.level_setting(keys::LEVEL_GROUPS)?.unwrap_or_default();
                let map: BTreeMap<String, u64> =
                    r.level_setting(keys::LEVEL_GROUP_MAP)?.unwrap_or_default();
                let companies: Vec<(u64, String)> = r
                    .all_companies()?
                    .into_iter()
                    .map(|c| (c.id, c.name))
                    .collect();
                Ok::<_, DomainError>((groups, map, companies))
            })
            .await?;
        Ok(GroupTree {
            rows: tree_rows(&groups, &map, &companies),
            error,
            companies,
        })
    }

    /// Level groups mapped to `company_id` directly.
    pub async fn company_level_groups(&self, company_id: u64) -> DomainResult<Vec<String>> {
        self.company(company_id).await?;
        Ok(self
            .level_group_map()
            .await?
            .into_iter()
            .filter(|(_, c)| *c == company_id)
            .map(|(g, _)| g)
            .collect())
    }

    /// Makes `group_ids` (and their subtrees) exactly the groups mapped to the company. A group
    /// mapped to another company moves here (the audit row says so).
    pub async fn set_company_level_groups(
        &self,
        admin: AdminActor,
        company_id: u64,
        group_ids: Vec<String>,
    ) -> DomainResult<Vec<String>> {
        let actor: Actor = admin.into();
        let company = self.company(company_id).await?;
        let now = self.now();
        let mut wanted: Vec<String> = group_ids
            .into_iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect();
        wanted.sort();
        wanted.dedup();
        if wanted.len() > 1000 {
            return Err(ValidationError::new("group_ids", "has too many groups").into());
        }
        let result = wanted.clone();
        self.store
            .write(move |w| {
                let known: Vec<StoredGroup> =
                    w.level_setting(keys::LEVEL_GROUPS)?.unwrap_or_default();
                let name = |id: &str| known.iter().find(|g| g.id == id).map(|g| g.name.clone());
                if let Some(bad) = wanted.iter().find(|g| name(g).is_none()) {
                    return Err(ValidationError::new(
                        "group_ids",
                        format!("names a group Level did not list ({bad}); reload the groups"),
                    )
                    .into());
                }
                let mut map: BTreeMap<String, u64> =
                    w.level_setting(keys::LEVEL_GROUP_MAP)?.unwrap_or_default();
                let moved: Vec<(String, u64)> = wanted
                    .iter()
                    .filter_map(|g| {
                        map.get(g)
                            .filter(|c| **c != company_id)
                            .map(|c| (g.clone(), *c))
                    })
                    .collect();
                map.retain(|_, c| *c != company_id);
                for g in &wanted {
                    map.insert(g.clone(), company_id);
                }
                w.set_level_setting(keys::LEVEL_GROUP_MAP, &map)?;
                let names: Vec<String> = wanted.iter().filter_map(|g| name(g)).collect();
                let summary = if names.is_empty() {
                    format!("Level.io groups unmapped from {}", company.name)
                } else {
                    format!(
                        "Level.io groups mapped to {}: {}",
                        company.name,
                        names.join(", ")
                    )
                };
                w.append_audit(
                    NewAuditEvent::new(now, actor, "settings.level_groups", summary)
                        .company(company_id)
                        .details(serde_json::json!({"group_ids": wanted, "moved_from": moved})),
                )?;
                Ok::<_, DomainError>(())
            })
            .await?;
        Ok(result)
    }

    /// Maps one group (and its subtree) to a company, or with `None` unmaps it.
    pub async fn map_level_group(
        &self,
        admin: AdminActor,
        group_id: &str,
        company_id: Option<u64>,
    ) -> DomainResult<()> {
        let actor: Actor = admin.into();
        let company = match company_id {
            Some(c) => Some(self.company(c).await?),
            None => None,
        };
        let group_id = group_id.trim().to_string();
        let now = self.now();
        self.store
            .write(move |w| {
                let known: Vec<StoredGroup> =
                    w.level_setting(keys::LEVEL_GROUPS)?.unwrap_or_default();
                let Some(group) = known.iter().find(|g| g.id == group_id) else {
                    return Err(ValidationError::new(
                        "group_id",
                        "names a group Level did not list; reload the groups",
                    )
                    .into());
                };
                let mut map: BTreeMap<String, u64> =
                    w.level_setting(keys::LEVEL_GROUP_MAP)?.unwrap_or_default();
                let before = map.get(&group_id).copied();
                let event = match &company {
                    Some(c) => {
                        map.insert(group_id.clone(), c.id);
                        NewAuditEvent::new(
                            now,
                            actor,
                            "settings.level_groups",
                            format!("Level.io group {} mapped to {}", group.name, c.name),
                        )
                        .company(c.id)
                    }
                    None => {
                        map.remove(&group_id);
                        NewAuditEvent::new(
                            now,
                            actor,
                            "settings.level_groups",
                            format!("Level.io group {} unmapped", group.name),
                        )
                    }
                };
                w.set_level_setting(keys::LEVEL_GROUP_MAP, &map)?;
                w.append_audit(event.details(serde_json::json!({
                    "group_id": group_id, "before": before, "after": company.as_ref().map(|c| c.id),
                })))?;
                Ok::<_, DomainError>(())
            })
            .await
    }
}
