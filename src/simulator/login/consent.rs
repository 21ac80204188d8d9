//! `GET /{tenant}/v2.0/adminconsent` (docs/microsoft.md#admin-consent): a consent page with
//! Accept/Cancel links.
//!
//! Accept grants consent in the chosen tenant and redirects with
//! `admin_consent=True&tenant=..&scope=..&state=..`; Cancel redirects with
//! `error=access_denied&error_subcode=cancel&error_description=AADSTS65004..`.
//! A bad `redirect_uri` or unknown app renders Microsoft's error page instead of redirecting.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};

use super::authorize::find_user;
use super::page::{self, Back};
use super::{error_page, esc, is_multi, with_query};
use crate::simulator::state::{App, SharedRef, SimState};

type Params = HashMap<String, String>;

/// Validates app + redirect URI + tenant; returns the app and candidate tenant ids.
fn check(
    st: &SimState,
    segment: &str,
    q: &Params,
) -> Result<(App, Vec<String>), Box<HttpResponse>> {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let client_id = get("client_id");
    let Some(app) = st.apps.get(client_id).cloned() else {
        return Err(Box::new(error_page(
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{segment}'."
            ),
            &Back::Unverified(get("redirect_uri").to_string()),
        )));
    };
    let redirect_uri = get("redirect_uri");
    if !app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(Box::new(error_page(
            50011,
            &format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."
            ),
            // The registered address, not the one that failed the check.
            &Back::app(
                &app.name,
                app.redirect_uris.first().map(String::as_str).unwrap_or(""),
            ),
        )));
    }
    let tenants = if is_multi(segment) {
        let hint = get("login_hint");
        st.tenants
            .values()
            .filter(|t| hint.is_empty() || find_user(t, hint).is_some())
            .map(|t| t.id().to_string())
            .collect()
    } else {
        match st.resolve_id(segment) {
            Some(t) => vec![t],
            None => {
                return Err(Box::new(error_page(
                    90002,
                    &format!(
                        "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
                    ),
                    &Back::app(&app.name, redirect_uri),
                )));
            }
        }
    };
    Ok((app, tenants))
}

pub async fn adminconsent(
    shared: web::Data<SharedRef>,
    path: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let segment = path.into_inner();
    let q: Params = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let st = shared.lock();
    let (app, tenants) = match check(&st, &segment, &q) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let decision = format!("{}/{}/v2.0/adminconsent/decision", st.login_url, segment);
    let link = |tid: &str, approve: bool| {
        let mut p: Vec<(String, String)> = q.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        p.push(("tenant_id".into(), tid.into()));
        p.push(("approve".into(), approve.to_string()));
        format!(
            "{decision}?{}",
            serde_urlencoded::to_string(&p).unwrap_or_default()
        )
    };
    let name_of = |tid: &str| {
        st.tenants
            .get(tid)
            .map(|t| (t.tg.name.clone(), t.tg.domain.clone()))
            .unwrap_or_default()
    };
    // One tenant: Accept beside Cancel. Several (`organizations`, where Entra would have the
    // admin sign in first): one Accept per tenant, listed like the account picker.
    let (for_tenant, choices, accept) = match tenants.as_slice() {
        [tid] => {
            let (name, domain) = name_of(tid);
            (
                format!(
                    "<p class=\"tenant\">For <strong>{}</strong> <small>{}</small></p>",
                    esc(&name),
                    esc(&domain)
                ),
                String::new(),
                format!(
                    "<p><a class=\"accept button primary\" id=\"accept\" data-tenant=\"{}\" href=\"{}\">Accept</a></p>",
                    esc(tid),
                    esc(&link(tid, true))
                ),
            )
        }
        many => {
            let rows: String = many
                .iter()
                .map(|tid| {
                    let (name, domain) = name_of(tid);
                    format!(
                        "<li><a class=\"accept account\" id=\"accept-{0}\" data-tenant=\"{0}\" href=\"{1}\">Accept for <strong>{2}</strong> <small>{3}</small></a></li>",
                        esc(tid),
                        esc(&link(tid, true)),
                        esc(&name),
                        esc(&domain)
                    )
                })
                .collect();
            (
                String::new(),
                format!("<p>Accept for which organization?</p><ul class=\"accounts\">{rows}</ul>"),
                String::new(),
            )
        }
    };
    let cancel_tid = tenants.first().cloned().unwrap_or_default();
    let body = format!(
        "<h1>Permissions requested</h1><p class=\"muted\">Review for your organization</p>\
         <p class=\"app\"><strong>{}</strong><br><small>{}</small></p>{for_tenant}\
         <p>This app would like to:</p><ul class=\"perms\"><li>Read directory data (users and groups)</li>\
         <li>Read Microsoft Intune devices and device configuration</li>\
         <li>Read your organization's policies</li><li>Read usage and sign-in method reports</li></ul>\
         <p><small>If you accept, this app can read these for all users in your organization. \
         In this simulator nothing leaves your machine.</small></p>{choices}\
         <div class=\"buttons\"><p><a id=\"cancel\" class=\"button\" href=\"{}\">Cancel</a></p>{accept}</div>",
        esc(&app.name),
        esc(&app.client_id),
        esc(&link(&cancel_tid, false))
    );
    page::ok("Permissions requested", &body)
}

pub async fn decision(
    shared: web::Data<SharedRef>,
    path: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let segment = path.into_inner();
    let q: Params = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let mut st = shared.lock();
    let (app, tenants) = match check(&st, &segment, &q) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tid = get("tenant_id");
    let redirect_uri = get("redirect_uri");
    if !tenants.iter().any(|t| t == tid) {
        return error_page(
            90002,
            &format!("Tenant '{tid}' not found."),
            &Back::app(&app.name, redirect_uri),
        );
    }
    let state = get("state");
    let approve = get("approve") == "true";
    let forced = st
        .tenants
        .get(tid)
        .and_then(|t| t.settings.consent_error.clone())
        .filter(|_| approve);
    if let Some(e) = forced {
        let desc = format!("AADSTS{}: {}", e.aadsts, e.description);
        let mut p = vec![
            ("admin_consent", "True"),
            ("error", e.error.as_str()),
            ("error_description", desc.as_str()),
        ];
        if !state.is_empty() {
            p.push(("state", state));
        }
        return HttpResponse::Found()
            .insert_header(("Location", with_query(redirect_uri, &p)))
            .finish();
    }
    if let Some(t) = st.tenants.get_mut(tid) {
        if approve {
            t.consents.insert(app.client_id.clone());
        }
        t.record("adminconsent", 302, None, None, "");
    }
    let mut p: Vec<(&str, &str)> = if approve {
        vec![
            ("admin_consent", "True"),
            ("tenant", tid),
            ("scope", "https://graph.microsoft.com/.default"),
        ]
    } else {
        vec![
            ("error", "access_denied"),
            ("error_subcode", "cancel"),
            (
                "error_description",
                "AADSTS65004: User declined to consent to access the app.",
            ),
        ]
    };
    if !state.is_empty() {
        p.push(("state", state));
    }
    HttpResponse::Found()
        .insert_header(("Location", with_query(redirect_uri, &p)))
        .finish()
}
