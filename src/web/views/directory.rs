use super::Chrome;
use crate::model::{Asset, Contact};
use crate::web::pager::Pager;
use askama::Template;
use askama_web::WebTemplate;

pub struct ContactRow {
    pub contact: Contact,
    pub company: String,
}

pub struct AssetRow {
    pub asset: Asset,
    pub company: String,
    /// The service clock's date, for the warranty badge.
    pub today: chrono::NaiveDate,
}

impl AssetRow {
    /// The Sources column: "Intune", "Level", "Intune + Level" (and its badge class).
    pub fn sources_label(&self) -> (&'static str, &'static str) {
        (
            super::asset_merge::sources_label(&self.asset),
            super::asset_merge::sources_class(&self.asset),
        )
    }

    /// One of its records is in an open review pair.
    pub fn needs_review(&self) -> bool {
        self.asset.merge.state == crate::model::MergeState::NeedsReview
    }

    /// Unmerge applies to an active asset holding both an Intune and a Level record.
    pub fn can_unmerge(&self) -> bool {
        self.asset.active
            && self
                .asset
                .has_source(crate::model::SourceKind::Intune.as_str())
            && self
                .asset
                .has_source(crate::model::SourceKind::Level.as_str())
    }

    /// How its records came together, in words.
    pub fn merge_words(&self) -> &'static str {
        super::asset_merge::merge_words(&self.asset)
    }

    /// Each field with its value, source and when that source saw it (the asset page).
    pub fn provenance(&self) -> Vec<super::asset_merge::ProvenanceRow> {
        super::asset_merge::provenance(&self.asset)
    }

    /// The warranty end with its badge, when Level gave one.
    pub fn warranty(&self) -> Option<super::asset_merge::WarrantyView> {
        super::asset_merge::warranty_of(&self.asset.merge, self.today)
    }

    /// Intune's compliance state in words, the badge class that colours it, and what it
    /// means (shown on hover), instead of raw values like `inGracePeriod`.
    pub fn compliance(&self) -> (&'static str, &'static str, &'static str) {
        let state = self.asset.compliance_state.as_str();
        let (label, class) = crate::domain::portal::compliance_label(state);
        (
            label,
            class,
            crate::domain::portal::compliance_meaning(state),
        )
    }
}

pub struct Table<R> {
    pub rows: Vec<R>,
    pub pager: Pager,
    pub f: crate::web::filters::FilterView,
    /// Why the list would be empty without a search or filter (its empty state's words).
    pub why_empty: WhyEmpty,
}

/// Why a list with no search and no filter is empty. Three reasons read differently: nothing
/// ever ran, a run found nothing, or the tenant cannot have these records (no Intune licence:
/// a state of the tenant, said neutrally, not a fault).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WhyEmpty {
    /// No sync has finished yet (or the list spans every company).
    #[default]
    NeverSynced,
    /// The last sync ran and found nothing.
    SyncedEmpty,
    /// The last sync could not read devices because the tenant has no Intune licence.
    IntuneNotLicensed,
    /// The last sync could not read devices for another reason (its words).
    DevicesUnreadable(String),
}

impl<R> Table<R> {
    pub fn never_synced(&self) -> bool {
        self.why_empty == WhyEmpty::NeverSynced
    }
    pub fn intune_not_licensed(&self) -> bool {
        self.why_empty == WhyEmpty::IntuneNotLicensed
    }
    /// The reason Intune could not be read, when that is why the list is empty.
    pub fn devices_error(&self) -> &str {
        match &self.why_empty {
            WhyEmpty::DevicesUnreadable(e) => e,
            _ => "",
        }
    }
}

impl AssetRow {
    /// A source's name as people know it.
    pub fn source_name(source: &str) -> &str {
        match source {
            "intune" => "Microsoft Intune",
            "levelio" => "Level.io",
            other => other,
        }
    }

    /// A source's details as (name, value) lines, in the order received, values as text.
    pub fn details(s: &crate::model::AssetSource) -> Vec<(String, String)> {
        match s.details.as_object() {
            Some(m) => m
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => "—".to_string(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect(),
            None => Vec::new(),
        }
    }
}

/// An asset's page.
#[derive(Template, WebTemplate)]
#[template(path = "directory/asset.html")]
pub struct AssetPage {
    pub chrome: Chrome,
    pub company: crate::model::Company,
    pub row: AssetRow,
    pub primary_user: Option<Contact>,
    /// Open review pairs naming one of its records.
    pub review: Vec<crate::model::OpenReview>,
    /// Decisions staff made about its records, remembered across syncs.
    pub decisions: Vec<DecisionRow>,
}

/// A remembered decision about a pair of records (asset page).
pub struct DecisionRow {
    pub intune_id: String,
    pub level_id: String,
    /// Merged by hand (else kept apart: unmerge or Keep apart).
    pub merged: bool,
    pub by: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Template)]
#[template(path = "directory/contacts.html")]
pub struct ContactsPage {
    pub chrome: Chrome,
    pub p: Table<ContactRow>,
    pub show_company: bool,
}

#[derive(Template)]
#[template(path = "directory/assets.html")]
pub struct AssetsPage {
    pub chrome: Chrome,
    pub p: Table<AssetRow>,
    pub show_company: bool,
}

/// A contact's page: who they are in Entra, their groups and their devices.
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "directory/contact.html")]
pub struct ContactPage {
    pub chrome: super::Chrome,
    pub company: crate::model::Company,
    pub detail: crate::domain::directory::ContactDetail,
    pub devices: Vec<AssetRow>,
}

/// Company → Assets → Review: the open pairs with Merge / Keep apart.
#[derive(Template, WebTemplate)]
#[template(path = "directory/review.html")]
pub struct ReviewPage {
    pub chrome: Chrome,
    pub company: crate::model::Company,
    /// The sub-tabs' counts (review, gap reports).
    pub counts: crate::model::GapCounts,
    /// The sub-tab shown ("review").
    pub sub: &'static str,
    pub rows: Vec<crate::model::OpenReview>,
    /// Open pairs in all.
    pub total: u64,
    /// Back to the first page (None on it) and on to the next (None on the last).
    pub first_url: Option<String>,
    pub next_url: Option<String>,
}

// The list pages answer through pooled buffers (see `web::body`).
crate::web::body::pooled_page!(ContactsPage, AssetsPage);
