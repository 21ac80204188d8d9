//! Settings → Authentication (staff sign-in with Microsoft) and PSA → Companies → [company] →
//! Support Portal → Authentication.

use super::{render, see_other};
use crate::domain::DomainError;
use crate::domain::portal::PortalInput;
use crate::domain::sso::StaffSso;
use crate::model::ListQuery;
use crate::web::AppState;
use crate::web::csrf::AdminForm;
use crate::web::error::WebError;
use crate::web::handlers::NoticeQuery;
use crate::web::ids::Id;
use crate::web::session::{Admin, Staff};
use crate::web::views::Chrome;
use crate::web::views::sso_settings::{
    GroupChoice, PortalAuthPage, PortalListPage, PortalRow, StaffSsoPage,
};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/authentication", web::get().to(staff_sso_get))
        .route("/settings/authentication", web::post().to(staff_sso_post))
        .route("/companies/{id}/portal", web::get().to(portal_get))
        .route("/companies/{id}/portal", web::post().to(portal_post))
        .route("/portals", web::get().to(portals_get));
}

async fn staff_sso_page(
    st: &AppState,
    staff: &Staff,
    sso: StaffSso,
    notice: Option<&str>,
    error: String,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let msp = st.services.msp_tenant().await?;
    render(
        StaffSsoPage {
            chrome: Chrome::new(staff, "settings", notice),
            sso,
            msp_tenant: msp.map(|m| format!("{} ({})", m.tenant_name, m.tenant_id)),
            redirect_uri: st.services.signin_redirect_uri(),
            error,
        },
        status,
        None,
    )
}

async fn staff_sso_get(
    Admin(staff): Admin,
    st: web::Data<AppState>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    let sso = st.services.staff_sso().await?;
    staff_sso_page(
        &st,
        &staff,
        sso,
        q.notice.as_deref(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
struct StaffSsoForm {
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    match_email: Option<String>,
    #[serde(default)]
    auto_create_group_id: String,
    #[serde(default)]
    local_login_loopback_only: Option<String>,
}

async fn staff_sso_post(
    st: web::Data<AppState>,
    form: AdminForm<StaffSsoForm>,
) -> Result<HttpResponse, WebError> {
    let f = form.form;
    let wanted = StaffSso {
        enabled: f.enabled.is_some(),
        match_email: f.match_email.is_some(),
        auto_create_group_id: f.auto_create_group_id,
        local_login_loopback_only: f.local_login_loopback_only.is_some(),
        updated_at: None,
    };
    match st
        .services
        .update_staff_sso(form.staff.admin_actor()?, wanted.clone())
        .await
    {
        Ok(_) => Ok(see_other("/settings/authentication?notice=sso_saved")),
        Err(DomainError::Validation(v)) => {
            staff_sso_page(
                &st,
                &form.staff,
                wanted,
                None,
                v.to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(DomainError::Conflict(m)) => {
            staff_sso_page(&st, &form.staff, wanted, None, m, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn portal_page(
    st: &AppState,
    staff: &Staff,
    company_id: u64,
    settings: Option<crate::model::PortalSettings>,
    notice: Option<&str>,
    error: String,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let company = st.services.company(company_id).await?;
    let settings = match settings {
        Some(s) => s,
        None => st.services.portal_settings(company_id).await?,
    };
    let all = ListQuery::new(Some(1), Some(10_000), None, None, None);
    let groups = st
        .services
        .contact_groups(company_id, all)
        .await?
        .items
        .into_iter()
        .filter(|g| g.active)
        .map(|g| GroupChoice {
            allowed: settings.allowed_group_ids.contains(&g.id),
            admin: settings.admin_group_id == Some(g.id),
            id: g.id,
            name: g.display_name,
            members: g.member_count,
        })
        .collect();
    render(
        PortalAuthPage {
            chrome: Chrome::new(staff, "psa", notice),
            portal_url: format!("{}/portal/{}", st.config.public_url, settings.slug),
            redirect_uri: st.services.signin_redirect_uri(),
            company,
            settings,
            groups,
            error,
        },
        status,
        None,
    )
}

async fn portal_get(
    Admin(staff): Admin,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    portal_page(
        &st,
        &staff,
        id.get(),
        None,
        q.notice.as_deref(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

async fn portal_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: AdminForm<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let pairs = form.form;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut bad = None;
    let mut allowed = Vec::new();
    for (_, v) in pairs.iter().filter(|(n, _)| n == "allowed_group") {
        match v.parse::<u64>() {
            Ok(g) => allowed.push(g),
            Err(_) => bad = Some(format!("groups: {v:?} is not a group id")),
        }
    }
    let admin_group_id = match get("admin_group").unwrap_or_default() {
        "" => None,
        v => match v.parse::<u64>() {
            Ok(g) => Some(g),
            Err(_) => {
                bad = Some(format!("admin_group: {v:?} is not a group id"));
                None
            }
        },
    };
    let input = PortalInput {
        slug: get("slug").unwrap_or_default().to_string(),
        sso_enabled: get("sso_enabled").is_some(),
        allowed_group_ids: allowed,
        admin_group_id,
    };
    let result = match bad {
        Some(msg) => Err(DomainError::Validation(crate::model::ValidationError::new(
            "groups", msg,
        ))),
        None => {
            st.services
                .update_portal_settings(form.staff.admin_actor()?, id.get(), input.clone())
                .await
        }
    };
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/companies/{}/portal?notice=portal_saved",
            id.get()
        ))),
        Err(DomainError::Validation(v)) => {
            let mut shown = st.services.portal_settings(id.get()).await?;
            shown.slug = input.slug;
            shown.sso_enabled = input.sso_enabled;
            shown.allowed_group_ids = input.allowed_group_ids;
            shown.admin_group_id = input.admin_group_id;
            portal_page(
                &st,
                &form.staff,
                id.get(),
                Some(shown),
                None,
                v.to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(DomainError::Conflict(m)) => {
            portal_page(
                &st,
                &form.staff,
                id.get(),
                None,
                None,
                m,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// PSA → Support Portal: every active company's portal. Any staff member may look; the
/// Authentication tab it links to is for admins.
async fn portals_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<crate::web::pager::ListParams>,
) -> Result<PortalListPage, WebError> {
    let query = q.query();
    let page = st.services.portal_overview(query.clone()).await?;
    let pager = crate::web::pager::Pager::new("/portals", &query, &page);
    let rows = page
        .items
        .into_iter()
        .map(|(company, settings)| PortalRow {
            url: format!("{}/portal/{}", st.config.public_url, settings.slug),
            company,
            settings,
        })
        .collect();
    Ok(PortalListPage {
        chrome: Chrome::new(&staff, "psa", None),
        rows,
        pager,
    })
}
