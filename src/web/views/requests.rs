//! Support request pages: the portal's (list, new, thread) and the PSA's (list, company tab,
//! thread with reply and status forms).

use super::Chrome;
use super::portal::PortalChrome;
use crate::model::{Company, RequestStatus, SupportRequest};
use crate::web::pager::Pager;
use askama::Template;
use askama_web::WebTemplate;

const TIME: &str = "%Y-%m-%d %H:%M UTC";

/// A badge class the stylesheet colours.
pub fn badge(s: RequestStatus) -> &'static str {
    match s {
        RequestStatus::Open => "queued",
        RequestStatus::InProgress => "running",
        RequestStatus::WaitingOnCustomer => "muted",
        RequestStatus::Resolved => "ok",
        RequestStatus::Closed => "muted",
    }
}

/// One line of a request list.
pub struct RequestRow {
    pub id: u64,
    pub company_id: u64,
    pub company: String,
    pub subject: String,
    pub contact_name: String,
    pub status_label: &'static str,
    pub badge: &'static str,
    pub updated: String,
    pub replies: usize,
}

impl RequestRow {
    /// `portal` picks the wording the client's employee reads.
    pub fn new(r: &SupportRequest, company: String, portal: bool) -> Self {
        Self {
            id: r.id,
            company_id: r.company_id,
            company,
            subject: r.subject.clone(),
            contact_name: r.contact_name.clone(),
            status_label: if portal {
                r.status.portal_label()
            } else {
                r.status.label()
            },
            badge: badge(r.status),
            updated: r.updated_at.format(TIME).to_string(),
            replies: r.replies.len(),
        }
    }
}

/// One message of a thread (the description first, then the replies).
pub struct Message {
    pub author: String,
    /// Written by MSP staff (styled apart from the customer's).
    pub from_staff: bool,
    pub at: String,
    pub body: String,
}

pub fn thread(r: &SupportRequest) -> Vec<Message> {
    let mut out = vec![Message {
        author: r.contact_name.clone(),
        from_staff: false,
        at: r.created_at.format(TIME).to_string(),
        body: r.description.clone(),
    }];
    out.extend(r.replies.iter().map(|x| Message {
        author: x.author_name.clone(),
        from_staff: x.author_kind == crate::model::ReplyAuthor::Staff,
        at: x.at.format(TIME).to_string(),
        body: x.body.clone(),
    }));
    out
}

/// A status choice in a select.
pub struct StatusOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub fn status_options(selected: Option<RequestStatus>) -> Vec<StatusOption> {
    RequestStatus::ALL
        .into_iter()
        .map(|s| StatusOption {
            value: s.as_str(),
            label: s.label(),
            selected: Some(s) == selected,
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/requests/list.html")]
pub struct PortalRequestsPage {
    pub portal: PortalChrome,
    pub rows: Vec<RequestRow>,
    pub pager: Pager,
    /// Portal admins see everyone's requests, so the list names who raised each.
    pub show_contact: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/requests/new.html")]
pub struct PortalNewRequestPage {
    pub portal: PortalChrome,
    pub subject: String,
    pub description: String,
    pub error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/requests/detail.html")]
pub struct PortalRequestPage {
    pub portal: PortalChrome,
    pub id: u64,
    pub subject: String,
    pub contact_name: String,
    pub status_label: &'static str,
    pub badge: &'static str,
    pub messages: Vec<Message>,
    pub can_reply: bool,
    pub can_close: bool,
    /// A refused reply is shown again with its reason.
    pub body: String,
    pub error: String,
}

impl RequestPage {
    pub fn assigned_to(&self, id: &u64) -> bool {
        self.request
            .assignee
            .as_ref()
            .is_some_and(|a| a.staff_id == *id)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "requests/list.html")]
pub struct RequestsPage {
    pub chrome: Chrome,
    pub rows: Vec<RequestRow>,
    pub pager: Pager,
    pub statuses: Vec<StatusOption>,
    pub show_company: bool,
}

/// The company page's Requests tab.
#[derive(Template, WebTemplate)]
#[template(path = "requests/company.html")]
pub struct CompanyRequestsPage {
    pub chrome: Chrome,
    pub company: Company,
    pub tab: &'static str,
    pub rows: Vec<RequestRow>,
    pub pager: Pager,
    pub statuses: Vec<StatusOption>,
    pub show_company: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "requests/detail.html")]
pub struct RequestPage {
    pub chrome: Chrome,
    pub company: Company,
    pub request: SupportRequest,
    pub status_label: &'static str,
    pub badge: &'static str,
    pub messages: Vec<Message>,
    /// For the status form (current selected).
    pub statuses: Vec<StatusOption>,
    /// For the reply form: what the request becomes after the reply.
    pub reply_statuses: Vec<StatusOption>,
    pub body: String,
    pub error: String,
    /// Who it may be assigned to: (staff id, name), active staff only.
    pub staff: Vec<(u64, String)>,
}
