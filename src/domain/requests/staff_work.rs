//! The MSP's side of working a request: who it is assigned to, the notes staff keep for each
//! other (never shown in the portal), and how many requests still need the MSP (the nav's
//! badge, from the status counters: no request is read).

use super::StaffAuthor;
use crate::domain::{DomainError, DomainResult, Services};
use crate::model::{
    Actor, Assignee, InternalNote, NewAuditEvent, RequestStatus, SupportRequest, ValidationError,
    clean_text,
};
use crate::store::Writer;
use chrono::{DateTime, Utc};

/// The longest internal note.
const NOTE_MAX: usize = 10_000;

/// What a staff update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct RequestChange {
    pub status: Option<RequestStatus>,
    /// `Some(None)`: unassign.
    pub assignee: Option<Option<u64>>,
}

/// The assignee a staff id names (None: nobody). A disabled or unknown staff member is refused.
fn assignee_of(w: &Writer, staff_id: Option<u64>) -> DomainResult<Option<Assignee>> {
    let Some(sid) = staff_id else {
        return Ok(None);
    };
    let s = w
        .staff(sid)?
        .filter(|s| !s.disabled)
        .ok_or_else(|| ValidationError::new("assignee", "is not an active staff member"))?;
    let name = if s.display_name.trim().is_empty() {
        s.email.as_str().to_string()
    } else {
        s.display_name.clone()
    };
    Ok(Some(Assignee {
        staff_id: s.id,
        name,
    }))
}

fn assign_event(now: DateTime<Utc>, actor: Actor, r: &SupportRequest) -> NewAuditEvent {
    let to = r
        .assignee
        .as_ref()
        .map_or("nobody".to_string(), |a| a.name.clone());
    NewAuditEvent::new(
        now,
        actor,
        "request.assign",
        format!("Request #{} ({}) assigned to {to}", r.id, r.subject),
    )
    .company(r.company_id)
    .details(serde_json::json!({
        "request_id": r.id,
        "assignee": r.assignee.as_ref().map(|a| a.staff_id),
    }))
}

impl Services {
    /// Assign a request to a staff member (None: unassigned). A disabled or unknown staff
    /// member is refused.
    pub async fn assign_request(
        &self,
        actor: Actor,
        company_id: u64,
        id: u64,
        staff_id: Option<u64>,
    ) -> DomainResult<SupportRequest> {
        let change = RequestChange {
            status: None,
            assignee: Some(staff_id),
        };
        self.update_request(actor, company_id, id, change).await
    }

    /// Change a request's status and/or assignee in one transaction (the API's PATCH): both
    /// are checked before anything is written, and each change that happens has its audit
    /// entry. Setting what is already there changes nothing and logs nothing.
    pub async fn update_request(
        &self,
        actor: Actor,
        company_id: u64,
        id: u64,
        change: RequestChange,
    ) -> DomainResult<SupportRequest> {
        let now = self.now();
        self.store
            .write(move |w| {
                let mut r = w
                    .support_request(company_id, id)?
                    .ok_or(DomainError::NotFound("request"))?;
                let assignee = match change.assignee {
                    Some(staff_id) => Some(assignee_of(w, staff_id)?),
                    None => None,
                };
                let mut events = Vec::new();
                if let Some(status) = change.status.filter(|s| *s != r.status) {
                    let before = r.status;
                    r.status = status;
                    r.updated_at = now;
                    events.push(super::status_event(now, actor.clone(), &r, before));
                }
                if let Some(assignee) = assignee.filter(|a| {
                    a.as_ref().map(|a| a.staff_id) != r.assignee.as_ref().map(|a| a.staff_id)
                }) {
                    r.assignee = assignee;
                    r.updated_at = now;
                    events.push(assign_event(now, actor.clone(), &r));
                }
                if events.is_empty() {
                    return Ok(r);
                }
                w.put_request(&r)?;
                for e in events {
                    w.append_audit(e)?;
                }
                Ok::<_, DomainError>(r)
            })
            .await
    }

    /// Add a staff-only note. The request's activity time does not move: the customer sees
    /// nothing new.
    pub async fn add_internal_note(
        &self,
        author: StaffAuthor,
        company_id: u64,
        id: u64,
        body: &str,
    ) -> DomainResult<SupportRequest> {
        let body = clean_text("note", body, NOTE_MAX, true)?;
        let now = self.now();
        self.store
            .write(move |w| {
                let mut r = w
                    .support_request(company_id, id)?
                    .ok_or(DomainError::NotFound("request"))?;
                r.internal_notes.push(InternalNote {
                    at: now,
                    author_name: author.name.clone(),
                    body,
                });
                w.put_request(&r)?;
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        author.actor,
                        "request.note",
                        format!("Internal note on request #{} ({})", r.id, r.subject),
                    )
                    .company(r.company_id)
                    .details(serde_json::json!({ "request_id": r.id })),
                )?;
                Ok::<_, DomainError>(r)
            })
            .await
    }

    /// Requests across every company that still need the MSP: open, in progress, or waiting
    /// on the customer. Three counter reads.
    pub async fn unfinished_request_count(&self) -> DomainResult<u64> {
        Ok(self.store.read(|r| r.unfinished_request_count()).await?)
    }
}
