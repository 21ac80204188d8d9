//! JSON of `/api/v1/settings/level…` and `/api/v1/companies/{id}/level-groups`.

use serde::{Deserialize, Serialize};

use crate::domain::levelio::{GroupRow, GroupTree, LevelTest, LevelView};

/// The Level.io connection (the key is never returned: only its last four characters).
#[derive(Debug, Serialize)]
pub struct LevelSettings {
    pub connected: bool,
    /// `settings`, `config` or `none`.
    pub source: &'static str,
    pub api_url: String,
    pub key_last4: String,
    pub connected_at: Option<String>,
    pub warranty_field: String,
    /// `day_first` (DD/MM/YYYY) or `month_first` (MM/DD/YYYY).
    pub date_order: &'static str,
    pub last_test: Option<LevelTestResult>,
}

impl From<LevelView> for LevelSettings {
    fn from(v: LevelView) -> Self {
        LevelSettings {
            connected: v.connected,
            source: v.source,
            api_url: v.api_url,
            key_last4: v.key_last4,
            connected_at: v.connected_at.map(|t| t.to_rfc3339()),
            warranty_field: v.warranty_field,
            date_order: if v.day_first {
                "day_first"
            } else {
                "month_first"
            },
            last_test: v.last_test.map(Into::into),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LevelTestResult {
    pub at: String,
    pub ok: bool,
    pub message: String,
    pub groups: usize,
    pub devices: usize,
    pub custom_fields: usize,
}

impl From<LevelTest> for LevelTestResult {
    fn from(t: LevelTest) -> Self {
        LevelTestResult {
            at: t.at.to_rfc3339(),
            ok: t.ok,
            message: t.message,
            groups: t.groups,
            devices: t.devices,
            custom_fields: t.custom_fields,
        }
    }
}

/// `PUT /api/v1/settings/level`. An empty or absent `api_key` keeps the stored key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelBody {
    #[serde(default)]
    pub api_key: String,
    #[serde(default)]
    pub api_url: String,
    #[serde(default)]
    pub warranty_field: String,
    /// `day_first` or `month_first` (default).
    #[serde(default)]
    pub date_order: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LevelGroup {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub depth: usize,
    pub path: String,
    pub company_id: Option<u64>,
    pub effective_company_id: Option<u64>,
    pub suggested_company_id: Option<u64>,
    pub suggested_company_name: Option<String>,
}

impl From<GroupRow> for LevelGroup {
    fn from(g: GroupRow) -> Self {
        LevelGroup {
            id: g.id,
            name: g.name,
            parent_id: g.parent_id,
            depth: g.depth,
            path: g.path,
            company_id: g.company_id,
            effective_company_id: g.effective_company_id,
            suggested_company_id: g.suggested_company_id,
            suggested_company_name: g.suggested_company_name,
        }
    }
}

/// `GET /api/v1/settings/level/groups`: the tree in order; `error` when Level could not be
/// read now (the groups are then the last known ones).
#[derive(Debug, Serialize)]
pub struct LevelGroups {
    pub groups: Vec<LevelGroup>,
    pub error: Option<String>,
}

impl From<GroupTree> for LevelGroups {
    fn from(t: GroupTree) -> Self {
        LevelGroups {
            groups: t.rows.into_iter().map(Into::into).collect(),
            error: t.error,
        }
    }
}

/// `PUT /api/v1/companies/{id}/level-groups`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelGroupsBody {
    pub group_ids: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CompanyLevelGroups {
    pub company_id: u64,
    pub group_ids: Vec<String>,
}
