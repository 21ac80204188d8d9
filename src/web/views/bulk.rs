//! "Sync selected": the confirmation page (what will sync, what is skipped and why) and the
//! result page (the jobs queued).

use super::Chrome;
use crate::domain::bulk_sync::BulkSyncLine;
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "companies/bulk_sync.html")]
pub struct BulkSyncPage {
    pub chrome: Chrome,
    pub lines: Vec<BulkSyncLine>,
    /// True once the syncs were queued (the result), false on the confirmation page.
    pub done: bool,
    /// The ids the confirm button posts, comma-separated.
    pub ids: String,
}

impl BulkSyncPage {
    pub fn will_sync(&self) -> usize {
        self.lines.iter().filter(|l| l.skipped().is_none()).count()
    }
}
