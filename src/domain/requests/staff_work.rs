//! The MSP's side of working a request: who it is assigned to, the notes staff keep for each
//! other (never shown in the portal), and how many requests still need the MSP (the nav's
//! badge, from the status counters: no request is read).

use super::StaffAuthor;
use crate::domain::{DomainError, DomainResult, Services};
use crate::model::{
    Actor, Assignee, InternalNote, NewAuditEvent, SupportRequest, ValidationError, clean_text,
};

/// The longest internal note.
const NOTE_MAX: usize = 10_000;

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
        let now = self.now();
        self.store
            .write(move |w| {
                let mut r = w
                    .support_request(company_id, id)?
                    .ok_or(DomainError::NotFound("request"))?;
                let assignee = match staff_id {
                    None => None,
                    Some(sid) => {
                        let s = w.staff(sid)?.filter(|s| !s.disabled).ok_or_else(|| {
                            ValidationError::new("assignee", "is not an active staff member")
                        })?;
                        let name = if s.display_name.trim().is_empty() {
                            s.email.as_str().to_string()
                        } else {
                            s.display_name.clone()
                        };
                        Some(Assignee {
                            staff_id: s.id,
                            name,
                        })
                    }
                };
                if r.assignee.as_ref().map(|a| a.staff_id) == assignee.as_ref().map(|a| a.staff_id)
                {
                    return Ok(r);
                }
                r.assignee = assignee;
                r.updated_at = now;
                w.put_request(&r)?;
                let to = r
                    .assignee
                    .as_ref()
                    .map_or("nobody".to_string(), |a| a.name.clone());
                w.append_audit(
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
                    })),
                )?;
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
