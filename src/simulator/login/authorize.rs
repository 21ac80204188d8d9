//! `GET /{tenant}/oauth2/v2.0/authorize`: authorization-code flow with state, nonce and PKCE.
//!
//! The account picker is plain HTML: each account is an `<a class="account">` whose link is the
//! same authorize URL plus `login_hint`, so browser tests click it and HTTP tests can skip the
//! picker by sending `login_hint` directly.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde_json::{Map, Value};

use super::page::{self, Back};
use super::{error_page, esc, is_multi, with_query};
use crate::simulator::state::{AuthCode, SharedRef, SimState, Tenant};

/// Finds a live user by UPN or mail (case-insensitive).
pub fn find_user(t: &Tenant, hint: &str) -> Option<Map<String, Value>> {
    let c = &t.users;
    let mut p = 0;
    while let Some(pos) = c.next_pos(p) {
        if pos >= c.end() {
            break;
        }
        if let Some((_, u)) = c.at(&t.tg, pos) {
            let m = |k: &str| {
                u.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(hint))
            };
            if m("userPrincipalName") || m("mail") {
                return Some(u);
            }
        }
        p = pos + 1;
    }
    None
}

fn redirect(uri: &str, mode: &str, params: &[(&str, &str)]) -> HttpResponse {
    if mode == "form_post" {
        let inputs: String = params
            .iter()
            .map(|(k, v)| {
                format!(
                    "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                    esc(k),
                    esc(v)
                )
            })
            .collect();
        let body = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Working...</title></head><body onload=\"document.forms[0].submit()\">\
             <p>{}</p>\
             <form method=\"POST\" name=\"hiddenform\" action=\"{}\">{inputs}<noscript><input type=\"submit\" value=\"Continue\"></noscript></form></body></html>",
            page::SIMULATED,
            esc(uri)
        );
        return HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(body);
    }
    HttpResponse::Found()
        .insert_header(("Location", with_query(uri, params)))
        .finish()
}

fn picker(
    st: &SimState,
    segment: &str,
    req: &HttpRequest,
    tenants: &[&Tenant],
    note: &str,
) -> HttpResponse {
    let base = format!("{}{}", st.login_url, req.path());
    let qs = req.query_string();
    let mut rows = String::new();
    for t in tenants {
        let c = &t.users;
        let mut shown = 0;
        let mut p = 0;
        let limit = if tenants.len() > 1 { 10 } else { 50 };
        while shown < limit {
            let Some(pos) = c.next_pos(p) else { break };
            if pos >= c.end() {
                break;
            }
            p = pos + 1;
            let Some((id, u)) = c.at(&t.tg, pos) else {
                continue;
            };
            let upn = u
                .get("userPrincipalName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let name = u
                .get("displayName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let href = format!(
                "{base}?{qs}&{}",
                serde_urlencoded::to_string([("login_hint", upn)]).unwrap_or_default()
            );
            rows.push_str(&format!(
                "<li><a class=\"account\" id=\"user-{id}\" data-upn=\"{}\" href=\"{}\">{} <small>{}</small></a></li>",
                esc(upn),
                esc(&href),
                esc(name),
                esc(upn)
            ));
            shown += 1;
        }
    }
    let cancel = format!("{base}?{qs}&sim_cancel=1");
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("<p class=\"note error\">{}</p>", esc(note))
    };
    let body = format!(
        "<h1>Pick an account</h1><p class=\"tenant muted\">{}</p>{note}<ul id=\"accounts\" class=\"accounts\">{rows}</ul>\
         <div class=\"buttons\"><p><a id=\"cancel\" class=\"button\" href=\"{}\">Cancel</a></p></div>\
         <p><small>Simulator: add <code>login_hint=&lt;upn&gt;</code> to skip this page.</small></p>",
        esc(segment),
        esc(&cancel)
    );
    page::ok("Sign in to your account", &body)
}

pub async fn authorize(
    shared: web::Data<SharedRef>,
    path: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let segment = path.into_inner();
    let q: HashMap<String, String> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let mut st = shared.lock();
    let client_id = get("client_id");
    let Some(app) = st.apps.get(client_id).cloned() else {
        return error_page(
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{segment}'."
            ),
            &Back::Unverified(get("redirect_uri").to_string()),
        );
    };
    let redirect_uri = get("redirect_uri");
    if !app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return error_page(
            50011,
            &format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."
            ),
            // The registered address, not the one that failed the check.
            &Back::app(
                &app.name,
                app.redirect_uris.first().map(String::as_str).unwrap_or(""),
            ),
        );
    }
    let multi = is_multi(&segment);
    let tenant_id = if multi { None } else { st.resolve_id(&segment) };
    if !multi && tenant_id.is_none() {
        return error_page(
            90002,
            &format!(
                "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
            &Back::app(&app.name, redirect_uri),
        );
    }
    let mode = match get("response_mode") {
        "" => "query",
        m => m,
    };
    let state = get("state");
    let fail = |error: &str, desc: &str| {
        let mut p = vec![("error", error), ("error_description", desc)];
        if !state.is_empty() {
            p.push(("state", state));
        }
        redirect(redirect_uri, mode, &p)
    };
    if get("sim_cancel") == "1" {
        let mut p = vec![
            ("error", "access_denied"),
            ("error_subcode", "cancel"),
            (
                "error_description",
                "AADSTS65004: User declined to consent to access the app.",
            ),
        ];
        if !state.is_empty() {
            p.push(("state", state));
        }
        return redirect(redirect_uri, mode, &p);
    }
    if get("response_type") != "code" {
        return fail(
            "unsupported_response_type",
            "AADSTS700054: response_type 'code' is required by this simulator.",
        );
    }
    let challenge = get("code_challenge");
    if challenge.is_empty() || get("code_challenge_method") != "S256" {
        return fail(
            "invalid_request",
            "AADSTS9002325: Proof Key for Code Exchange (S256) is required.",
        );
    }
    let hint = get("login_hint");
    let candidates: Vec<&Tenant> = match &tenant_id {
        Some(t) => st.tenants.get(t).into_iter().collect(),
        None => st
            .tenants
            .values()
            .filter(|t| t.consents.contains(client_id))
            .collect(),
    };
    let found = if hint.is_empty() {
        None
    } else {
        candidates
            .iter()
            .find_map(|t| find_user(t, hint).map(|u| (t.id().to_string(), u)))
    };
    let Some((tid, user)) = found else {
        if get("prompt") == "none" {
            return fail(
                "login_required",
                "AADSTS50058: A silent sign-in request was sent but no user is signed in.",
            );
        }
        let note = if hint.is_empty() {
            String::new()
        } else {
            format!("No account matches '{hint}'.")
        };
        return picker(&st, &segment, &req, &candidates, &note);
    };
    if user.get("accountEnabled") == Some(&Value::Bool(false)) {
        return error_page(
            50057,
            "The user account is disabled.",
            &Back::app(&app.name, redirect_uri),
        );
    }
    let consented = st
        .tenants
        .get(&tid)
        .is_some_and(|t| t.consents.contains(client_id));
    if !consented {
        return fail(
            "consent_required",
            &format!(
                "AADSTS65001: The user or administrator has not consented to use the application with ID '{client_id}' named '{}'.",
                app.name
            ),
        );
    }
    if st.codes.len() > 10_000 {
        let now = crate::simulator::clock::now();
        st.codes.retain(|_, c| c.expires > now && !c.redeemed);
    }
    let code = format!(
        "1.{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    st.codes.insert(
        code.clone(),
        AuthCode {
            client_id: client_id.into(),
            tenant_id: tid.clone(),
            segment: segment.to_ascii_lowercase(),
            user_id: user
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into(),
            redirect_uri: redirect_uri.into(),
            challenge: challenge.into(),
            nonce: q.get("nonce").cloned(),
            scope: get("scope").into(),
            expires: crate::simulator::clock::now() + Duration::minutes(10),
            redeemed: false,
        },
    );
    if let Some(t) = st.tenants.get_mut(&tid) {
        t.record("authorize", 302, None, None, "");
    }
    let session = uuid::Uuid::new_v4().to_string();
    let mut p = vec![("code", code.as_str())];
    if !state.is_empty() {
        p.push(("state", state));
    }
    p.push(("session_state", session.as_str()));
    redirect(redirect_uri, mode, &p)
}
