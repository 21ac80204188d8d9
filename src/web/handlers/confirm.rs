//! Confirmation pages for the forms that destroy or disconnect: company Disconnect, MSP-tenant
//! Disconnect, Remove certificate, Revoke API token. (Archive has its own, in companies.rs.)
//!
//! A button on an ordinary page is a link to `GET <the form's path>`, which answers with what
//! will happen and what is kept, and a red button posting the real form. The POST handlers
//! are untouched, so the API and scripts posting directly behave as before. A one-click
//! destroying form on an ordinary page fails tests/app/confirm_pages.rs.

use crate::domain::DomainError;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::ids::Id;
use crate::web::session::Admin;
use crate::web::views::Chrome;
use crate::web::views::confirm::ConfirmActionPage;
use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/companies/{id}/disconnect",
        web::get().to(company_disconnect_get),
    )
    .route(
        "/settings/integrations/entra/disconnect",
        web::get().to(msp_disconnect_get),
    )
    .route(
        "/settings/integrations/entra/certificate/remove",
        web::get().to(certificate_remove_get),
    )
    .route(
        "/settings/tokens/{id}/revoke",
        web::get().to(token_revoke_get),
    );
}

async fn company_disconnect_get(
    Admin(staff): Admin,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> Result<ConfirmActionPage, WebError> {
    let c = st.services.company(id.get()).await?;
    // The company page offers Disconnect disabled while archived; a typed or old link gets the
    // same reason rather than a confirmation for an action the page says is unavailable.
    if c.is_archived() {
        return Err(DomainError::Conflict(format!(
            "{} is archived: restore it first to disconnect it.",
            c.name
        ))
        .into());
    }
    // Nothing to confirm: say so now rather than after the button.
    let Some(t) = c.tenant.as_ref().filter(|t| t.connected) else {
        return Err(DomainError::Conflict(format!("{} is not connected", c.name)).into());
    };
    Ok(ConfirmActionPage {
        chrome: Chrome::new(&staff, "psa", None),
        title: format!("Disconnect {} from Microsoft 365?", c.name),
        happens: format!(
            "Syncing with the tenant {} ({}) stops: scheduled syncs, Sync With M365, Sync now and \
             the API skip {}, and its support portal no longer signs anyone in with Microsoft.",
            t.tenant_name, t.tenant_id, c.name
        ),
        kept: "Contacts and assets stay; syncing stops. Nothing changes in Microsoft 365: the \
               consent stays in the tenant until one of its admins removes Tenantry's app, and \
               Sync With M365 connects the company again."
            .into(),
        warning: String::new(),
        action: format!("/companies/{}/disconnect", c.id),
        button: "Disconnect",
        cancel: format!("/companies/{}", c.id),
    })
}

async fn msp_disconnect_get(
    Admin(staff): Admin,
    st: web::Data<AppState>,
) -> Result<ConfirmActionPage, WebError> {
    let Some(t) = st.services.msp_tenant().await? else {
        return Err(DomainError::Conflict("The MSP tenant is not connected.".into()).into());
    };
    let sso = st.services.staff_sso().await?;
    let warning = if !sso.enabled {
        String::new()
    } else if sso.local_login_loopback_only {
        "Staff sign in with Microsoft, and password sign-in is allowed only from this machine: \
         once the tenant is disconnected, nobody can sign in from anywhere else."
            .into()
    } else {
        "Staff sign in with Microsoft: once the tenant is disconnected, only staff with a \
         password can sign in."
            .into()
    };
    Ok(ConfirmActionPage {
        chrome: Chrome::new(&staff, "settings", None),
        title: "Disconnect your MSP tenant?".into(),
        happens: format!(
            "Tenantry forgets your own tenant {} ({}): staff can no longer sign in with \
             Microsoft until it is connected again.",
            t.tenant_name, t.tenant_id
        ),
        kept: "Client companies stay connected and keep syncing; the app registration and its \
               credentials stay. Connect links the tenant again."
            .into(),
        warning,
        action: "/settings/integrations/entra/disconnect".into(),
        button: "Disconnect",
        cancel: "/settings/integrations/entra".into(),
    })
}

async fn certificate_remove_get(
    Admin(staff): Admin,
    st: web::Data<AppState>,
) -> Result<ConfirmActionPage, WebError> {
    let app = st.services.entra_app().await?;
    // Only a certificate stored in settings can be removed here; one from the configuration
    // file is removed there.
    let Some(c) = app.certificate.filter(|c| c.source == "settings") else {
        return Err(DomainError::NotFound("stored certificate").into());
    };
    let warning = if app.has_secret {
        String::new()
    } else {
        "No client secret is stored: syncs and sign-in with Microsoft fail until you save a \
         certificate or a secret."
            .into()
    };
    Ok(ConfirmActionPage {
        chrome: Chrome::new(&staff, "settings", None),
        title: "Remove the certificate?".into(),
        happens: format!(
            "Tenantry deletes the certificate {} ({}) and its private key from this appliance; \
             token requests use the client secret instead.",
            c.thumbprint, c.subject
        ),
        kept: "The app registration and its client secret stay. The certificate stays uploaded \
               to the app registration in Entra until you delete it there."
            .into(),
        warning,
        action: "/settings/integrations/entra/certificate/remove".into(),
        button: "Remove certificate",
        cancel: "/settings/integrations/entra#certificate".into(),
    })
}

async fn token_revoke_get(
    Admin(staff): Admin,
    st: web::Data<AppState>,
    id: web::Path<Id>,
) -> Result<ConfirmActionPage, WebError> {
    let id = id.get();
    let t = st
        .services
        .api_tokens()
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(DomainError::NotFound("API token"))?;
    if t.revoked {
        return Err(
            DomainError::Conflict(format!("The API token {} is already revoked.", t.name)).into(),
        );
    }
    Ok(ConfirmActionPage {
        chrome: Chrome::new(&staff, "settings", None),
        title: format!("Revoke the API token {}?", t.name),
        happens: format!(
            "Scripts and integrations using {} ({}…) are refused from their next call. A revoked \
             token cannot be used again: create a new one to give access back.",
            t.name, t.prefix
        ),
        kept:
            "The token stays in the list, marked Revoked, and what it did stays in the audit log."
                .into(),
        warning: String::new(),
        action: format!("/settings/tokens/{}/revoke", t.id),
        button: "Revoke token",
        cancel: "/settings/tokens".into(),
    })
}
