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
}

pub struct Table<R> {
    pub rows: Vec<R>,
    pub pager: Pager,
}

#[derive(Template, WebTemplate)]
#[template(path = "directory/contacts.html")]
pub struct ContactsPage {
    pub chrome: Chrome,
    pub p: Table<ContactRow>,
    pub show_company: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "directory/assets.html")]
pub struct AssetsPage {
    pub chrome: Chrome,
    pub p: Table<AssetRow>,
    pub show_company: bool,
}
