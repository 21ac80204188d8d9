//! Collections: one page at a time, or all pages.
//!
//! Graph returns collections as `{"value": [...], "@odata.nextLink": ...}`; delta rounds end
//! with `@odata.deltaLink` instead. Links are followed verbatim (they are absolute and encode
//! the query, `$select` included); rebuilding them from `$skiptoken` is unsupported. A page may
//! be empty and still have a next link.
//!
//! The page-at-a-time form exists for the sync: it applies each page and records the link it
//! got, so an interrupted 20,000-user round can resume from the last applied page and the
//! delta link is stored in the same transaction as the changes it covers.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::GraphClient;
use super::error::{GraphError, GraphErrorKind};

/// One page of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// More pages follow: GET this next (verbatim).
    pub next_link: Option<String>,
    /// Last page of a delta round: store this and GET it at the next sync.
    pub delta_link: Option<String>,
}

impl<T> Page<T> {
    /// No further page in this round or listing.
    pub fn is_last(&self) -> bool {
        self.next_link.is_none()
    }
}

/// The wire shape. `value` is required: a body without it is not a collection page (wrong
/// endpoint, or an HTML error page behind a 200), and must not read as "no items".
#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub(crate) struct RawPage<T> {
    pub(crate) value: Vec<T>,
    #[serde(default, rename = "@odata.nextLink")]
    pub(crate) next_link: Option<String>,
    #[serde(default, rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

impl GraphClient {
    /// GET one page of a collection at `url` (a start URL from [`GraphClient::url`], or a next
    /// or delta link from an earlier page).
    pub async fn get_page<T: DeserializeOwned>(
        &self,
        tenant: &str,
        url: &str,
    ) -> Result<Page<T>, GraphError> {
        let raw: RawPage<T> = self.get_json(tenant, url).await?;
        Ok(Page {
            items: raw.value,
            next_link: raw.next_link.filter(|l| !l.is_empty()),
            delta_link: raw.delta_link.filter(|l| !l.is_empty()),
        })
    }

    /// GET every page starting at `url` and return all items in page order, with the final
    /// delta link if the collection is a delta round. For small collections (policies,
    /// organization) and for the full device listing; the delta sync pages itself.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        tenant: &str,
        url: &str,
    ) -> Result<Page<T>, GraphError> {
        let mut items = Vec::new();
        let mut current = url.to_string();
        loop {
            let page = self.get_page::<T>(tenant, &current).await?;
            items.extend(page.items);
            match page.next_link {
                // A server that links a page to itself would keep us here forever.
                Some(next) if next == current => {
                    let mut info = GraphError::blank(GraphErrorKind::Decode);
                    info.detail = Some("next link repeats the page just read".into());
                    return Err(GraphError::new(info));
                }
                Some(next) => current = next,
                None => {
                    return Ok(Page {
                        items,
                        next_link: None,
                        delta_link: page.delta_link,
                    });
                }
            }
        }
    }
}
