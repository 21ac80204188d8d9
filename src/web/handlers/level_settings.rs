//! Settings → Integrations → Level.io: the API key, Test connection, Disconnect, and the
//! group → company mapping page.

use super::{render, see_other};
use crate::domain::DomainError;
use crate::domain::levelio::LevelInput;
use crate::levelio::DEFAULT_API_URL;
use crate::web::AppState;
use crate::web::csrf::AdminForm;
use crate::web::error::WebError;
use crate::web::handlers::NoticeQuery;
use crate::web::session::{Admin, Staff};
use crate::web::views::Chrome;
use crate::web::views::confirm::ConfirmActionPage;
use crate::web::views::level_settings::{LevelGroupsPage, LevelPage};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/integrations/level", web::get().to(get))
        .route("/settings/integrations/level", web::post().to(save))
        .route("/settings/integrations/level/test", web::post().to(test))
        .route(
            "/settings/integrations/level/disconnect",
            web::get().to(disconnect_confirm),
        )
        .route(
            "/settings/integrations/level/disconnect",
            web::post().to(disconnect),
        )
        .route("/settings/integrations/level/groups", web::get().to(groups))
        .route(
            "/settings/integrations/level/groups",
            web::post().to(map_group),
        );
}

async fn page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    error: String,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    render(
        LevelPage {
            chrome: Chrome::new(staff, "settings", notice),
            level: st.services.level_view().await?,
            default_api_url: DEFAULT_API_URL.into(),
            error,
        },
        status,
        None,
    )
}

async fn get(
    Admin(staff): Admin,
    st: web::Data<AppState>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    page(
        &st,
        &staff,
        q.notice.as_deref(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
struct LevelForm {
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    api_url: String,
    #[serde(default)]
    warranty_field: String,
    #[serde(default)]
    date_order: String,
}

async fn save(
    st: web::Data<AppState>,
    form: AdminForm<LevelForm>,
) -> Result<HttpResponse, WebError> {
    let f = form.form;
    let input = LevelInput {
        api_key: f.api_key,
        api_url: f.api_url,
        warranty_field: f.warranty_field,
        day_first: f.date_order == "day_first",
    };
    match st
        .services
        .connect_level(form.staff.admin_actor()?, input)
        .await
    {
        Ok(_) => Ok(see_other("/settings/integrations/level?notice=level_saved")),
        Err(DomainError::Validation(v)) => {
            page(
                &st,
                &form.staff,
                None,
                v.to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn test(st: web::Data<AppState>, form: AdminForm<Empty>) -> Result<HttpResponse, WebError> {
    match st.services.test_level(form.staff.admin_actor()?).await {
        // A failed test is a result, shown on the page (and audited), not an error page.
        Ok(_) => Ok(see_other(
            "/settings/integrations/level?notice=level_tested#level-test",
        )),
        Err(DomainError::Conflict(m)) => {
            page(&st, &form.staff, None, m, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Disconnect is one click away from losing the key: confirm first (tests/app/confirm_pages.rs).
async fn disconnect_confirm(
    Admin(staff): Admin,
    st: web::Data<AppState>,
) -> Result<ConfirmActionPage, WebError> {
    let level = st.services.level_view().await?;
    if level.source != "settings" {
        return Err(DomainError::Conflict("No Level.io key is stored in Settings".into()).into());
    }
    Ok(ConfirmActionPage {
        chrome: Chrome::new(&staff, "settings", None),
        title: "Disconnect Level.io?".into(),
        happens: format!(
            "Tenantry forgets the API key …{}: syncs stop reading Level until a key is saved again.",
            level.key_last4
        ),
        kept: "Assets synced from Level, their merges and the group mappings stay.".into(),
        warning: String::new(),
        action: "/settings/integrations/level/disconnect".into(),
        button: "Disconnect",
        cancel: "/settings/integrations/level".into(),
    })
}

async fn disconnect(
    st: web::Data<AppState>,
    form: AdminForm<Empty>,
) -> Result<HttpResponse, WebError> {
    st.services
        .disconnect_level(form.staff.admin_actor()?)
        .await?;
    Ok(see_other(
        "/settings/integrations/level?notice=level_disconnected",
    ))
}

async fn groups_page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
) -> Result<HttpResponse, WebError> {
    let tree = st.services.level_groups().await?;
    let unmapped = tree
        .rows
        .iter()
        .filter(|r| r.effective_company_id.is_none())
        .count();
    render(
        LevelGroupsPage {
            chrome: Chrome::new(staff, "settings", notice),
            rows: tree.rows,
            companies: tree.companies,
            unmapped,
            error: tree.error,
        },
        StatusCode::OK,
        None,
    )
}

async fn groups(
    Admin(staff): Admin,
    st: web::Data<AppState>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    groups_page(&st, &staff, q.notice.as_deref()).await
}

#[derive(Deserialize)]
struct MapForm {
    group_id: String,
    #[serde(default)]
    company_id: String,
}

async fn map_group(
    st: web::Data<AppState>,
    form: AdminForm<MapForm>,
) -> Result<HttpResponse, WebError> {
    let company = match form.form.company_id.trim() {
        "" => None,
        c => Some(
            c.parse::<u64>()
                .map_err(|_| WebError::BadRequest("company_id must be a company".into()))?,
        ),
    };
    st.services
        .map_level_group(form.staff.admin_actor()?, &form.form.group_id, company)
        .await?;
    Ok(see_other(
        "/settings/integrations/level/groups?notice=level_group_mapped",
    ))
}
