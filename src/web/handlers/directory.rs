//! PSA → Contacts and PSA → Assets across every company, and the tables the company page reuses.

use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::pager::{ListParams, Pager};
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::directory::{AssetRow, AssetsPage, ContactRow, ContactsPage, Table};
use actix_web::web;
use std::collections::HashMap;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts", web::get().to(contacts_get))
        .route("/assets", web::get().to(assets_get));
}

pub async fn contact_table(
    st: &AppState,
    company: Option<u64>,
    params: &ListParams,
    base: &str,
    names: &HashMap<u64, String>,
) -> Result<Table<ContactRow>, WebError> {
    let q = params.query();
    let page = st.services.contacts(company, q.clone()).await?;
    let pager = Pager::new(base, &q, &page);
    let rows = page
        .items
        .into_iter()
        .map(|c| ContactRow {
            company: names.get(&c.company_id).cloned().unwrap_or_default(),
            contact: c,
        })
        .collect();
    Ok(Table { rows, pager })
}

pub async fn asset_table(
    st: &AppState,
    company: Option<u64>,
    params: &ListParams,
    base: &str,
    names: &HashMap<u64, String>,
) -> Result<Table<AssetRow>, WebError> {
    let q = params.query();
    let page = st.services.assets(company, q.clone()).await?;
    let pager = Pager::new(base, &q, &page);
    let rows = page
        .items
        .into_iter()
        .map(|a| AssetRow {
            company: names.get(&a.company_id).cloned().unwrap_or_default(),
            asset: a,
        })
        .collect();
    Ok(Table { rows, pager })
}

async fn contacts_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<ListParams>,
) -> Result<ContactsPage, WebError> {
    let names = st.services.company_names().await?;
    let p = contact_table(&st, None, &q, "/contacts", &names).await?;
    Ok(ContactsPage {
        chrome: Chrome::new(&staff, "psa", None),
        p,
        show_company: true,
    })
}

async fn assets_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<ListParams>,
) -> Result<AssetsPage, WebError> {
    let names = st.services.company_names().await?;
    let p = asset_table(&st, None, &q, "/assets", &names).await?;
    Ok(AssetsPage {
        chrome: Chrome::new(&staff, "psa", None),
        p,
        show_company: true,
    })
}
