//! PSA → Companies: list (active / archived), create, edit, archive and restore (with a
//! confirmation page), and the detail page with its tabs.

use super::{render, see_other};
use crate::domain::companies::CompanyFilter;
use crate::model::{AuditFilter, CompanyInput, ListQuery};
use crate::web::AppState;
use crate::web::csrf::StaffForm;
use crate::web::error::WebError;
use crate::web::filters::{AssetFilterParams, ContactFilterParams};
use crate::web::handlers::directory::{asset_table, contact_table};
use crate::web::ids::Id;
use crate::web::pager::{self, ListParams, Pager};
use crate::web::session::Staff;
use crate::web::views::Chrome;
use crate::web::views::companies::{
    CompaniesPage, CompanyFormPage, CompanyListRow, CompanyPage, ConfirmPage, GroupRow,
};
use crate::web::views::directory::WhyEmpty;
use actix_web::{HttpResponse, Responder, web};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/companies", web::get().to(list_get))
        .route("/companies", web::post().to(create_post))
        .route("/companies/new", web::get().to(new_get))
        .route("/companies/{id}", web::get().to(detail_get))
        .route("/companies/{id}/edit", web::get().to(edit_get))
        .route("/companies/{id}/edit", web::post().to(edit_post))
        .route("/companies/{id}/archive", web::get().to(archive_get))
        .route("/companies/{id}/archive", web::post().to(archive_post))
        .route("/companies/{id}/restore", web::get().to(restore_get))
        .route("/companies/{id}/restore", web::post().to(restore_post))
        .route("/companies/{id}/sync", web::post().to(sync_post))
        .route("/companies/{id}/guests", web::post().to(guests_post))
        .route(
            "/companies/{id}/disconnect",
            web::post().to(disconnect_post),
        );
}

#[derive(Deserialize)]
struct ListQ {
    tab: Option<String>,
    notice: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

async fn list_get(
    staff: Staff,
    st: web::Data<AppState>,
    q: web::Query<ListQ>,
) -> Result<CompaniesPage, WebError> {
    let archived = q.tab.as_deref() == Some("archived");
    let filter = if archived {
        CompanyFilter::Archived
    } else {
        CompanyFilter::Active
    };
    let services = &st.services;
    let (query, page, cursors) =
        pager::fetch(&q.list, move |q| services.companies(filter, q)).await?;
    let base = if archived {
        "/companies?tab=archived"
    } else {
        "/companies"
    };
    let pager = Pager::new(base, &query, &page).with(&cursors);
    let now = st.services.now();
    // The rows' last syncs in one read (a read per row was most of this page's cost).
    let mut reports = st
        .services
        .sync_reports(page.items.iter().map(|c| c.id))
        .await?;
    let mut rows = Vec::with_capacity(page.items.len());
    for company in page.items {
        let report = reports.remove(&company.id);
        rows.push(CompanyListRow {
            last_sync_age: report
                .as_ref()
                .and_then(|r| r.finished_at)
                .map(|t| age(now - t))
                .unwrap_or_default(),
            last_sync: report.map(|r| r.verdict()),
            company,
        });
    }
    Ok(CompaniesPage {
        chrome: Chrome::new(&staff, "psa", q.notice.as_deref()),
        rows,
        archived,
        pager,
    })
}

#[derive(Deserialize)]
struct CompanyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    notes: String,
}

fn form_page(staff: &Staff, id: Option<u64>, f: CompanyForm, error: String) -> CompanyFormPage {
    CompanyFormPage {
        chrome: Chrome::new(staff, "psa", None),
        id,
        name: f.name,
        domain: f.domain,
        notes: f.notes,
        error,
    }
}

/// Re-show the form with the reason when the input is refused.
fn refused(
    staff: &Staff,
    id: Option<u64>,
    f: CompanyForm,
    error: String,
) -> Result<HttpResponse, WebError> {
    render(
        form_page(staff, id, f, error),
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        None,
    )
}

async fn new_get(staff: Staff) -> CompanyFormPage {
    form_page(
        &staff,
        None,
        CompanyForm {
            name: String::new(),
            domain: String::new(),
            notes: String::new(),
        },
        String::new(),
    )
}

async fn create_post(
    st: web::Data<AppState>,
    form: StaffForm<CompanyForm>,
) -> Result<HttpResponse, WebError> {
    let StaffForm { staff, form: f } = form;
    let input = match CompanyInput::parse(&f.name, &f.domain, &f.notes) {
        Ok(i) => i,
        Err(e) => return refused(&staff, None, f, e.to_string()),
    };
    let c = st.services.create_company(staff.actor(), input).await?;
    Ok(see_other(&format!(
        "/companies/{}?notice=company_created",
        c.id
    )))
}

async fn edit_get(
    staff: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> Result<HttpResponse, WebError> {
    let c = st.services.company_to_edit(id.get()).await?;
    let f = CompanyForm {
        name: c.name,
        domain: c.domain,
        notes: c.notes,
    };
    render(
        form_page(&staff, Some(c.id), f, String::new()),
        actix_web::http::StatusCode::OK,
        None,
    )
}

async fn edit_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: StaffForm<CompanyForm>,
) -> Result<HttpResponse, WebError> {
    let StaffForm { staff, form: f } = form;
    let input = match CompanyInput::parse(&f.name, &f.domain, &f.notes) {
        Ok(i) => i,
        Err(e) => return refused(&staff, Some(id.get()), f, e.to_string()),
    };
    st.services
        .update_company(staff.actor(), id.get(), input)
        .await?;
    Ok(see_other(&format!(
        "/companies/{}?notice=company_saved",
        id.get()
    )))
}

async fn confirm(
    staff: Staff,
    st: web::Data<AppState>,
    id: u64,
    archive: bool,
) -> Result<ConfirmPage, WebError> {
    let company = st.services.company(id).await?;
    Ok(ConfirmPage {
        chrome: Chrome::new(&staff, "psa", None),
        company,
        archive,
        verb: if archive { "Archive" } else { "Restore" },
    })
}

async fn archive_get(
    staff: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> Result<ConfirmPage, WebError> {
    confirm(staff, st, id.get(), true).await
}

async fn restore_get(
    staff: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> Result<ConfirmPage, WebError> {
    confirm(staff, st, id.get(), false).await
}

#[derive(Deserialize)]
struct Empty {}

async fn archive_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, WebError> {
    st.services
        .archive_company(form.staff.actor(), id.get())
        .await?;
    Ok(see_other(&format!(
        "/companies/{}?notice=company_archived",
        id.get()
    )))
}

async fn restore_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, WebError> {
    st.services
        .restore_company(form.staff.actor(), id.get())
        .await?;
    Ok(see_other(&format!(
        "/companies/{}?notice=company_restored",
        id.get()
    )))
}

#[derive(Deserialize)]
struct DetailQ {
    tab: Option<String>,
    notice: Option<String>,
    #[serde(flatten)]
    list: ListParams,
    #[serde(flatten)]
    assets_f: AssetFilterParams,
    #[serde(flatten)]
    contacts_f: ContactFilterParams,
}

async fn detail_get(
    staff: Staff,
    st: web::Data<AppState>,
    id: web::Path<Id>,
    q: web::Query<DetailQ>,
) -> Result<impl Responder, WebError> {
    let tab = match q.tab.as_deref() {
        Some("contacts") => "contacts",
        Some("assets") => "assets",
        Some("groups") => "groups",
        Some("portal") => "portal",
        _ => "overview",
    };
    // The header and tab badges in one read, with the contacts tab's group choices.
    let head = st
        .services
        .company_head(id.get(), tab == "contacts")
        .await?;
    let company = head.company;
    let (contact_count, asset_count, report) = (head.contact_count, head.asset_count, head.report);
    let asset_counts = Some(head.gap_counts);
    let sub = match q.assets_f.sources.as_deref() {
        Some("no_agent") => "no_agent",
        Some("level_only") => "unmanaged",
        _ => "all",
    };
    let names = std::collections::HashMap::from([(company.id, company.name.clone())]);
    let base = format!("/companies/{}?tab={tab}", company.id);
    let (contacts, assets) = match tab {
        "contacts" => (
            Some(
                contact_table(
                    &st,
                    Some(company.id),
                    &q.list,
                    &q.contacts_f,
                    &base,
                    Some(&names),
                    head.group_choices,
                )
                .await?,
            ),
            None,
        ),
        "assets" => {
            let mut t = asset_table(
                &st,
                Some(company.id),
                &q.list,
                &q.assets_f,
                &base,
                Some(&names),
            )
            .await?;
            t.why_empty = why_no_assets(report.as_ref());
            (None, Some(t))
        }
        _ => (None, None),
    };
    let groups = if tab == "groups" {
        Some(group_table(&st, company.id, &q.list, &base).await?)
    } else {
        None
    };
    let recent = if tab == "overview" {
        let filter = AuditFilter {
            company_id: Some(company.id),
            ..Default::default()
        };
        st.services.audit_page(filter, 1, 10).await?.items
    } else {
        Vec::new()
    };
    let (history, history_pager) = if tab == "overview" {
        sync_history(&st, company.id, &q.list).await?
    } else {
        (Vec::new(), None)
    };
    let job = head.sync_job;
    // The notice rides in the URL, so a page reloaded after the sync ended would still say
    // "queued": once no sync is queued or running, it says the sync finished instead.
    let notice = match q.notice.as_deref() {
        Some("sync_queued") if job.is_none() => Some("sync_finished"),
        other => other,
    };
    Ok(CompanyPage {
        report,
        job,
        chrome: Chrome::new(&staff, "psa", notice),
        company,
        tab,
        contact_count,
        asset_count,
        asset_counts,
        sub,
        recent,
        contacts,
        assets,
        groups,
        show_company: false,
        history,
        history_pager,
    })
}

/// Why a company has no assets, from its last sync: never synced, synced and found none, or
/// Intune could not be read (no licence: neutral; anything else: the error).
fn why_no_assets(report: Option<&crate::domain::sync::identity::SyncReport>) -> WhyEmpty {
    let Some(r) = report else {
        return WhyEmpty::NeverSynced;
    };
    if r.warnings
        .iter()
        .any(|w| w.kind == crate::model::WarningKind::IntuneNotLicensed)
    {
        return WhyEmpty::IntuneNotLicensed;
    }
    match &r.devices_error {
        Some(e) => WhyEmpty::DevicesUnreadable(e.clone()),
        None => WhyEmpty::SyncedEmpty,
    }
}

/// Rows of the company's sync history shown per page of the overview.
const HISTORY_PER_PAGE: usize = 10;

/// The company's last runs, newest first, through the jobs index (its `page` is the history's).
async fn sync_history(
    st: &AppState,
    company_id: u64,
    list: &ListParams,
) -> Result<(Vec<crate::web::views::jobs::JobRow>, Option<Pager>), WebError> {
    let filter = crate::model::JobFilter {
        company_id: Some(company_id),
        ..Default::default()
    };
    let page = st
        .services
        .jobs_filtered(filter, list.page.unwrap_or(1), HISTORY_PER_PAGE)
        .await?;
    let now = st.services.now();
    let names = std::collections::HashMap::new();
    let query = ListQuery::new(Some(page.page), Some(HISTORY_PER_PAGE), None, None, None);
    let pager = Pager::new(
        &format!("/companies/{company_id}?tab=overview"),
        &query,
        &page,
    );
    let rows = page
        .items
        .into_iter()
        .map(|j| crate::web::handlers::jobs::row(j, &names, now))
        .collect();
    Ok((rows, Some(pager)))
}

/// "Sync With M365": not connected → admin consent on the customer's tenant (the initial sync
/// is queued on return); connected → queue a background sync; archived → refused.
async fn sync_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, WebError> {
    use crate::domain::tenants::SyncWithM365;
    let id = id.get();
    match st
        .services
        .sync_with_m365(form.staff.actor(), id, crate::model::Trigger::CompanyButton)
        .await?
    {
        SyncWithM365::Consent { url } => Ok(crate::web::respond::to_microsoft(&url, None)),
        SyncWithM365::Queued(_) => Ok(see_other(&format!("/companies/{id}?notice=sync_queued"))),
    }
}

#[derive(Deserialize)]
struct GuestForm {
    #[serde(default)]
    exclude_guests: Option<String>,
}

async fn guests_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: StaffForm<GuestForm>,
) -> Result<HttpResponse, WebError> {
    let exclude = form.form.exclude_guests.is_some();
    st.services
        .set_guest_policy(form.staff.actor(), id.get(), exclude)
        .await?;
    Ok(see_other(&format!(
        "/companies/{}?notice=company_saved",
        id.get()
    )))
}

async fn disconnect_post(
    st: web::Data<AppState>,
    id: web::Path<Id>,
    form: crate::web::csrf::AdminForm<Empty>,
) -> Result<HttpResponse, WebError> {
    st.services
        .disconnect_company_tenant(form.staff.admin_actor()?, id.get())
        .await?;
    Ok(see_other(&format!(
        "/companies/{}?notice=tenant_disconnected",
        id.get()
    )))
}

/// The Groups tab: synced contact groups with their sizes and the portal rule that uses each.
async fn group_table(
    st: &AppState,
    company_id: u64,
    params: &crate::web::pager::ListParams,
    base: &str,
) -> Result<crate::web::views::directory::Table<GroupRow>, WebError> {
    let q = params.query();
    let page = st.services.contact_groups(company_id, q.clone()).await?;
    let portal = st.services.portal_settings(company_id).await?;
    let pager = crate::web::pager::Pager::new(base, &q, &page);
    let rows = page
        .items
        .into_iter()
        .map(|g| {
            let allowed = portal.allowed_group_ids.contains(&g.id);
            let admin = portal.admin_group_id == Some(g.id);
            let portal_rule = match (allowed, admin) {
                (true, true) => "Allowed into the portal; portal admins",
                (true, false) => "Allowed into the portal",
                (false, true) => "Portal admins",
                (false, false) => "",
            }
            .to_string();
            GroupRow {
                group: g,
                portal_rule,
            }
        })
        .collect();
    Ok(crate::web::views::directory::Table {
        rows,
        pager,
        f: Default::default(),
        why_empty: Default::default(),
    })
}

/// "just now", "12 min ago", "3 h ago", "2 d ago".
fn age(d: chrono::Duration) -> String {
    match d.num_minutes() {
        m if m < 1 => "just now".into(),
        m if m < 60 => format!("{m} min ago"),
        m if m < 48 * 60 => format!("{} h ago", m / 60),
        m => format!("{} d ago", m / (24 * 60)),
    }
}
