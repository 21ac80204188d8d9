//! Support requests raised by a client's employees in their portal, and the replies on them.

use super::{ValidationError, clean_text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a request stands. Staff may set any status; the portal reopens and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Open,
    InProgress,
    WaitingOnCustomer,
    Resolved,
    Closed,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 5] = [
        RequestStatus::Open,
        RequestStatus::InProgress,
        RequestStatus::WaitingOnCustomer,
        RequestStatus::Resolved,
        RequestStatus::Closed,
    ];

    /// The wire and form value (`waiting_on_customer`).
    pub fn as_str(&self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::InProgress => "in_progress",
            RequestStatus::WaitingOnCustomer => "waiting_on_customer",
            RequestStatus::Resolved => "resolved",
            RequestStatus::Closed => "closed",
        }
    }

    /// What staff read.
    pub fn label(&self) -> &'static str {
        match self {
            RequestStatus::Open => "Open",
            RequestStatus::InProgress => "In progress",
            RequestStatus::WaitingOnCustomer => "Waiting on customer",
            RequestStatus::Resolved => "Resolved",
            RequestStatus::Closed => "Closed",
        }
    }

    /// What the client's employee reads in the portal.
    pub fn portal_label(&self) -> &'static str {
        match self {
            RequestStatus::WaitingOnCustomer => "Waiting for your reply",
            other => other.label(),
        }
    }

    /// Resolved and closed requests need no more work from the MSP.
    pub fn is_done(&self) -> bool {
        matches!(self, RequestStatus::Resolved | RequestStatus::Closed)
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let v = s.trim();
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == v)
            .ok_or_else(|| {
                ValidationError::new(
                    "status",
                    format!(
                        "{v:?} is not a status (open, in_progress, waiting_on_customer, resolved, closed)"
                    ),
                )
            })
    }

    /// The status after the customer replies from the portal: a reply on a resolved request
    /// (or one waiting on them) hands it back to the MSP. A closed request takes no replies.
    pub fn after_customer_reply(self) -> Result<Self, &'static str> {
        match self {
            RequestStatus::Closed => {
                Err("This request is closed. Raise a new request if you still need help.")
            }
            RequestStatus::Resolved | RequestStatus::WaitingOnCustomer => Ok(RequestStatus::Open),
            other => Ok(other),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyAuthor {
    /// The client's employee, from the portal.
    Contact,
    /// MSP staff, from the PSA or the API.
    Staff,
}

impl ReplyAuthor {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReplyAuthor::Contact => "contact",
            ReplyAuthor::Staff => "staff",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub at: DateTime<Utc>,
    pub author_kind: ReplyAuthor,
    pub author_name: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportRequest {
    pub id: u64,
    pub company_id: u64,
    /// The contact who raised it.
    pub contact_id: u64,
    /// Their name when they raised it (kept if the contact is renamed or removed later).
    pub contact_name: String,
    pub subject: String,
    pub description: String,
    pub status: RequestStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Oldest first.
    #[serde(default)]
    pub replies: Vec<Reply>,
    /// The staff member working it, if any.
    #[serde(default)]
    pub assignee: Option<Assignee>,
    /// Staff-only notes, oldest first. Never shown in the portal: the portal's reads drop
    /// them (`SupportRequest::for_portal`).
    #[serde(default)]
    pub internal_notes: Vec<InternalNote>,
}

/// Who works a request: the staff member's id and their name when assigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    pub staff_id: u64,
    pub name: String,
}

/// A note staff keep on a request for each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternalNote {
    pub at: DateTime<Utc>,
    pub author_name: String,
    pub body: String,
}

impl SupportRequest {
    /// The request as the client's employee may see it: without the staff-only notes.
    pub fn for_portal(mut self) -> Self {
        self.internal_notes.clear();
        self
    }

    /// Append a reply to the thread; the request counts as updated then.
    pub fn add_reply(
        &mut self,
        at: DateTime<Utc>,
        author_kind: ReplyAuthor,
        author_name: String,
        body: ReplyBody,
    ) {
        self.replies.push(Reply {
            at,
            author_kind,
            author_name,
            body: body.into_string(),
        });
        self.updated_at = at;
    }
}

pub const SUBJECT_MAX: usize = 200;
pub const TEXT_MAX: usize = 10_000;

/// Validated input for a new request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    pub subject: String,
    pub description: String,
}

impl NewRequest {
    pub fn parse(subject: &str, description: &str) -> Result<Self, ValidationError> {
        let subject = clean_text("subject", subject, SUBJECT_MAX, true)?;
        if subject.contains(['\n', '\r', '\t']) {
            return Err(ValidationError::new("subject", "must be a single line"));
        }
        Ok(Self {
            subject,
            description: clean_text("description", description, TEXT_MAX, true)?,
        })
    }
}

/// A validated reply text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyBody(String);

impl ReplyBody {
    pub fn parse(body: &str) -> Result<Self, ValidationError> {
        clean_text("reply", body, TEXT_MAX, true).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_requests_are_checked() {
        let r = NewRequest::parse("  Printer jammed ", " It beeps.\nTwice. ").expect("ok");
        assert_eq!(r.subject, "Printer jammed");
        assert_eq!(r.description, "It beeps.\nTwice.");
        assert_eq!(NewRequest::parse(" ", "x").unwrap_err().field, "subject");
        assert_eq!(
            NewRequest::parse("x", " \n ").unwrap_err().field,
            "description"
        );
        assert_eq!(
            NewRequest::parse(&"s".repeat(201), "x").unwrap_err().field,
            "subject"
        );
        assert!(NewRequest::parse(&"s".repeat(200), "x").is_ok());
        assert_eq!(
            NewRequest::parse("x", &"d".repeat(10_001))
                .unwrap_err()
                .field,
            "description"
        );
        assert!(NewRequest::parse("x", &"d".repeat(10_000)).is_ok());
        assert_eq!(
            NewRequest::parse("a\u{7}b", "x").unwrap_err().field,
            "subject"
        );
        assert_eq!(NewRequest::parse("a\nb", "x").unwrap_err().field, "subject");
        assert_eq!(
            NewRequest::parse("x", "nul \u{0} here").unwrap_err().field,
            "description"
        );
    }

    #[test]
    fn replies_are_validated_before_they_are_kept() {
        assert_eq!(ReplyBody::parse(" thanks ").expect("ok").as_str(), "thanks");
        assert!(ReplyBody::parse("   ").is_err());
        assert!(ReplyBody::parse(&"r".repeat(10_001)).is_err());
        assert!(ReplyBody::parse(&"r".repeat(10_000)).is_ok());
        assert!(ReplyBody::parse("esc \u{1b}[31m").is_err());
    }

    #[test]
    fn statuses_round_trip_and_refuse_unknown_values() {
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(s.as_str()), Ok(s));
            let json = serde_json::to_string(&s).expect("json");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(RequestStatus::parse("pending").unwrap_err().field, "status");
        assert!(RequestStatus::parse("Open").is_err());
        assert_eq!(
            RequestStatus::WaitingOnCustomer.label(),
            "Waiting on customer"
        );
    }

    #[test]
    fn a_customer_reply_hands_the_request_back() {
        use RequestStatus::*;
        assert_eq!(Resolved.after_customer_reply(), Ok(Open));
        assert_eq!(WaitingOnCustomer.after_customer_reply(), Ok(Open));
        assert_eq!(InProgress.after_customer_reply(), Ok(InProgress));
        assert_eq!(Open.after_customer_reply(), Ok(Open));
        assert!(Closed.after_customer_reply().is_err());
    }
}
