//! The home dashboard at `/` (#13). The company list stays at `/companies`.

use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::dashboard::DashboardPage;
use actix_web::web;
use serde::Deserialize;

/// Rows per page: a screenful at laptop width; 1,000 companies are 20 pages.
const PER_PAGE: usize = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(get));
}

#[derive(Deserialize)]
struct Q {
    page: Option<usize>,
    notice: Option<String>,
}

async fn get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<Q>,
) -> Result<DashboardPage, WebError> {
    let d = st.services.dashboard(q.page.unwrap_or(1), PER_PAGE).await?;
    Ok(DashboardPage::new(
        Chrome::new(&staff, "home", q.notice.as_deref()),
        d,
        st.services.now(),
    ))
}
