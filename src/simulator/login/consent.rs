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
        )));
    };
    let redirect_uri = get("redirect_uri");
    if !app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(Box::new(error_page(
            50011,
            &format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."
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
                    &format!("Tenant '{segment}' not found."),
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
    let mut buttons = String::new();
    for tid in &tenants {
        let name = st
            .tenants
            .get(tid)
            .map(|t| t.tg.name.clone())
            .unwrap_or_default();
        let id = if tenants.len() == 1 {
            "accept".to_string()
        } else {
            format!("accept-{tid}")
        };
        buttons.push_str(&format!(
            "<p><a class=\"accept\" id=\"{id}\" data-tenant=\"{tid}\" href=\"{}\">Accept for {}</a></p>",
            esc(&link(tid, true)),
            esc(&name)
        ));
    }
    let cancel_tid = tenants.first().cloned().unwrap_or_default();
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Permissions requested</title></head><body>\
         <h1>Permissions requested</h1><p class=\"app\">{} ({})</p>\
         <p>Accept for your organization: read directory data, devices, policies and reports.</p>{buttons}\
         <p><a id=\"cancel\" href=\"{}\">Cancel</a></p></body></html>",
        esc(&app.name),
        esc(&app.client_id),
        esc(&link(&cancel_tid, false))
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
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
    if !tenants.iter().any(|t| t == tid) {
        return error_page(90002, &format!("Tenant '{tid}' not found."));
    }
    let redirect_uri = get("redirect_uri");
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
