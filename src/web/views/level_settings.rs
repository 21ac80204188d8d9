//! Settings → Integrations → Level.io and its group mapping page.

use super::Chrome;
use crate::domain::levelio::{GroupRow, LevelView};
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "settings/level.html")]
pub struct LevelPage {
    pub chrome: Chrome,
    pub level: LevelView,
    pub default_api_url: String,
    pub error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/level_groups.html")]
pub struct LevelGroupsPage {
    pub chrome: Chrome,
    pub rows: Vec<GroupRow>,
    pub companies: Vec<(u64, String)>,
    pub unmapped: usize,
    pub error: Option<String>,
}

impl LevelGroupsPage {
    /// Indentation of a row, in `rem`.
    pub fn indent(&self, depth: &usize) -> String {
        format!("{}", (*depth as f32) * 1.25)
    }

    /// The company preselected for a row: its mapping, else the name suggestion.
    pub fn selected(&self, r: &GroupRow, company: &u64) -> bool {
        r.company_id.or(r.suggested_company_id) == Some(*company)
    }
}
