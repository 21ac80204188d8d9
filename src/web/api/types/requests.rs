//! Support requests raised in the client portals, and the bodies staff answer them with.

use crate::model;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A request in a list: no description or replies (`reply_count` instead).
#[derive(Debug, Serialize)]
pub struct RequestSummary {
    /// The request's id (`/companies/{company_id}/requests/{id}`).
    pub id: u64,
    /// The company whose portal it was raised in.
    pub company_id: u64,
    /// The contact who raised it.
    pub contact_id: u64,
    /// Their name when they raised it.
    pub contact_name: String,
    /// One-line subject.
    pub subject: String,
    /// Where it stands.
    pub status: RequestStatus,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// The last reply or status change.
    pub updated_at: DateTime<Utc>,
    /// Replies on the thread.
    pub reply_count: usize,
}

impl From<model::SupportRequest> for RequestSummary {
    fn from(r: model::SupportRequest) -> Self {
        Self {
            id: r.id,
            company_id: r.company_id,
            contact_id: r.contact_id,
            contact_name: r.contact_name,
            subject: r.subject,
            status: r.status.into(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            reply_count: r.replies.len(),
        }
    }
}

/// One request with its whole thread.
#[derive(Debug, Serialize)]
pub struct SupportRequest {
    /// The request's id.
    pub id: u64,
    /// The company whose portal it was raised in.
    pub company_id: u64,
    /// The contact who raised it.
    pub contact_id: u64,
    /// Their name when they raised it (kept if the contact is renamed or removed later).
    pub contact_name: String,
    /// One-line subject.
    pub subject: String,
    /// What the contact wrote.
    pub description: String,
    /// Where it stands.
    pub status: RequestStatus,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// The last reply or status change.
    pub updated_at: DateTime<Utc>,
    /// The replies, oldest first.
    pub replies: Vec<Reply>,
    /// The staff member working on it; null when unassigned.
    pub assignee: Option<Assignee>,
    /// Staff-only notes, oldest first (never shown in the client portal).
    pub internal_notes: Vec<InternalNote>,
}

/// Who a request is assigned to.
#[derive(Debug, Serialize)]
pub struct Assignee {
    /// The staff user's id (as in `/users`).
    pub staff_id: u64,
    /// Their name when assigned.
    pub name: String,
}

/// A staff-only note on a request.
#[derive(Debug, Serialize)]
pub struct InternalNote {
    /// When it was written.
    pub at: DateTime<Utc>,
    /// The author's name; for an API token, the token's name.
    pub author_name: String,
    /// The text.
    pub body: String,
}

impl From<model::SupportRequest> for SupportRequest {
    fn from(r: model::SupportRequest) -> Self {
        Self {
            id: r.id,
            company_id: r.company_id,
            contact_id: r.contact_id,
            contact_name: r.contact_name,
            subject: r.subject,
            description: r.description,
            status: r.status.into(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            replies: r.replies.into_iter().map(Reply::from).collect(),
            assignee: r.assignee.map(|a| Assignee {
                staff_id: a.staff_id,
                name: a.name,
            }),
            internal_notes: r
                .internal_notes
                .into_iter()
                .map(|n| InternalNote {
                    at: n.at,
                    author_name: n.author_name,
                    body: n.body,
                })
                .collect(),
        }
    }
}

/// `PUT /companies/{id}/requests/{rid}/assignee`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssigneeBody {
    /// A staff user's id, or null to unassign.
    pub staff_id: Option<u64>,
}

/// `POST /companies/{id}/requests/{rid}/notes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// The note's text (required).
    pub note: String,
}

/// A reply on a request's thread.
#[derive(Debug, Serialize)]
pub struct Reply {
    /// When it was written.
    pub at: DateTime<Utc>,
    /// `contact` (from the portal) or `staff` (from the PSA or the API).
    pub author_kind: ReplyAuthor,
    /// The author's name; for an API token, the token's name.
    pub author_name: String,
    /// The text.
    pub body: String,
}

impl From<model::Reply> for Reply {
    fn from(r: model::Reply) -> Self {
        Self {
            at: r.at,
            author_kind: r.author_kind.into(),
            author_name: r.author_name,
            body: r.body,
        }
    }
}

/// Who wrote a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyAuthor {
    /// The client's employee, from the portal.
    Contact,
    /// MSP staff, from the PSA or the API.
    Staff,
}

impl From<model::ReplyAuthor> for ReplyAuthor {
    fn from(a: model::ReplyAuthor) -> Self {
        match a {
            model::ReplyAuthor::Contact => Self::Contact,
            model::ReplyAuthor::Staff => Self::Staff,
        }
    }
}

/// Where a request stands. Staff may set any status; the portal reopens and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// New, or handed back to the MSP by the contact.
    Open,
    /// Someone at the MSP is on it.
    InProgress,
    /// The MSP asked the contact something (the default after a staff reply).
    WaitingOnCustomer,
    /// Done; a reply from the contact reopens it.
    Resolved,
    /// Done; takes no more replies from the portal.
    Closed,
}

impl From<model::RequestStatus> for RequestStatus {
    fn from(s: model::RequestStatus) -> Self {
        match s {
            model::RequestStatus::Open => Self::Open,
            model::RequestStatus::InProgress => Self::InProgress,
            model::RequestStatus::WaitingOnCustomer => Self::WaitingOnCustomer,
            model::RequestStatus::Resolved => Self::Resolved,
            model::RequestStatus::Closed => Self::Closed,
        }
    }
}

/// `POST /companies/{id}/requests/{rid}/replies`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyBodyJson {
    /// The reply's text (required, at most 10,000 characters).
    pub body: String,
    /// The status after the reply; `waiting_on_customer` when left out.
    #[serde(default)]
    pub status: Option<String>,
}

/// `PATCH /companies/{id}/requests/{rid}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestPatch {
    /// The new status: `open`, `in_progress`, `waiting_on_customer`, `resolved` or `closed`.
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::super::golden::{assert_json, at};
    use super::*;

    fn request() -> model::SupportRequest {
        model::SupportRequest {
            id: 3,
            company_id: 1,
            contact_id: 4,
            contact_name: "Ann".into(),
            subject: "Printer offline".into(),
            description: "It stopped working this morning.".into(),
            status: model::RequestStatus::WaitingOnCustomer,
            created_at: at(0),
            updated_at: at(2),
            assignee: None,
            internal_notes: Vec::new(),
            replies: vec![
                model::Reply {
                    at: at(1),
                    author_kind: model::ReplyAuthor::Contact,
                    author_name: "Ann".into(),
                    body: "Still broken".into(),
                },
                model::Reply {
                    at: at(2),
                    author_kind: model::ReplyAuthor::Staff,
                    author_name: "ci".into(),
                    body: "Is it plugged in?".into(),
                },
            ],
        }
    }

    #[test]
    fn a_request_has_a_fixed_shape() {
        let golden = r#"
{
  "id": 3,
  "company_id": 1,
  "contact_id": 4,
  "contact_name": "Ann",
  "subject": "Printer offline",
  "description": "It stopped working this morning.",
  "status": "waiting_on_customer",
  "created_at": "2026-01-31T08:00:00Z",
  "updated_at": "2026-01-31T08:02:00Z",
  "replies": [
    {
      "at": "2026-01-31T08:01:00Z",
      "author_kind": "contact",
      "author_name": "Ann",
      "body": "Still broken"
    },
    {
      "at": "2026-01-31T08:02:00Z",
      "author_kind": "staff",
      "author_name": "ci",
      "body": "Is it plugged in?"
    }
  ],
  "assignee": null,
  "internal_notes": []
}"#;
        assert_json(&SupportRequest::from(request()), golden);
    }

    #[test]
    fn a_request_in_a_list_counts_its_replies() {
        assert_json(
            &RequestSummary::from(request()),
            r#"
{
  "id": 3,
  "company_id": 1,
  "contact_id": 4,
  "contact_name": "Ann",
  "subject": "Printer offline",
  "status": "waiting_on_customer",
  "created_at": "2026-01-31T08:00:00Z",
  "updated_at": "2026-01-31T08:02:00Z",
  "reply_count": 2
}"#,
        );
    }

    #[test]
    fn every_status_has_its_wire_name() {
        for s in model::RequestStatus::ALL {
            let json = serde_json::to_value(RequestStatus::from(s)).unwrap();
            assert_eq!(json, s.as_str(), "the API names {s:?} as the forms do");
        }
    }
}
