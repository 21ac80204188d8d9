//! Support requests: raised and answered by a client's employees in their portal, worked by
//! MSP staff in the PSA and the API.
//!
//! WHY a portal lookup of someone else's request is "not found", never "forbidden": request
//! ids are one sequence across every company, so a 403 would confirm that id N exists
//! elsewhere. The portal only ever reads under the session's own company key, and a
//! non-admin only sees requests they raised.

use super::portal::{PortalSignedIn, portal_name};
use super::{DomainError, DomainResult, Services};
use crate::model::{
    Actor, Company, ListQuery, NewAuditEvent, NewRequest, Page, ReplyAuthor, ReplyBody,
    RequestSort, RequestStatus, SupportRequest,
};
use crate::store::{StoreError, Writer, keys};

/// Who is asking in the portal: what the request rules need from a portal session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    pub company_id: u64,
    pub contact_id: u64,
    /// Shown on requests and replies.
    pub display_name: String,
    /// How the audit log names them (e-mail, else UPN).
    pub audit_name: String,
    /// Member of the company's portal-admins group: sees every request of the company.
    pub is_portal_admin: bool,
}

impl From<&PortalSignedIn> for Requester {
    fn from(s: &PortalSignedIn) -> Self {
        Self {
            company_id: s.company.id,
            contact_id: s.contact.id,
            display_name: if s.contact.display_name.is_empty() {
                portal_name(&s.contact)
            } else {
                s.contact.display_name.clone()
            },
            audit_name: portal_name(&s.contact),
            is_portal_admin: s.is_portal_admin,
        }
    }
}

impl Requester {
    fn actor(&self) -> Actor {
        Actor::portal(&self.audit_name)
    }

    /// May this portal user see `r`? Same company, and their own unless a portal admin.
    pub fn may_see(&self, r: &SupportRequest) -> bool {
        r.company_id == self.company_id && (self.is_portal_admin || r.contact_id == self.contact_id)
    }
}

/// MSP staff (or an API token) working a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAuthor {
    pub actor: Actor,
    /// Shown to the customer on the reply.
    pub name: String,
}

/// PSA → Requests filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestFilter {
    pub status: Option<RequestStatus>,
    pub company_id: Option<u64>,
}

/// One page of requests through the store's request index (newest activity first unless
/// another column is asked for).
fn page_of(
    r: &crate::store::Reader,
    company: Option<u64>,
    status: Option<RequestStatus>,
    raised_by: Option<u64>,
    q: &ListQuery,
) -> Result<Page<SupportRequest>, StoreError> {
    let search = q.search_query();
    let listed = r.request_page(
        company,
        status,
        raised_by,
        RequestSort::parse(&q.sort),
        super::directory::window(q, search.as_ref()),
    )?;
    Ok(super::directory::page(q, listed))
}

/// The company, refusing portal writes while it is archived.
fn writable_company(w: &Writer, company_id: u64) -> DomainResult<Company> {
    let c = w
        .company(company_id)?
        .ok_or(DomainError::NotFound("request"))?;
    if c.is_archived() {
        return Err(DomainError::Conflict(format!(
            "{} is archived, so its support portal is read-only. Contact your IT provider directly.",
            c.name
        )));
    }
    Ok(c)
}

/// A request the portal user may see, read inside a write transaction.
fn portal_lookup(w: &Writer, who: &Requester, id: u64) -> Result<SupportRequest, DomainError> {
    w.support_request(who.company_id, id)?
        .filter(|r| who.may_see(r))
        .ok_or(DomainError::NotFound("request"))
}

/// A reply's audit event: who, on which request, and the status it moved between.
fn reply_event(
    now: chrono::DateTime<chrono::Utc>,
    actor: Actor,
    r: &SupportRequest,
    before: RequestStatus,
    summary: String,
) -> NewAuditEvent {
    NewAuditEvent::new(now, actor, "request.reply", summary)
        .company(r.company_id)
        .details(serde_json::json!({
            "request_id": r.id,
            "status_before": before.as_str(),
            "status": r.status.as_str(),
        }))
}

fn status_event(
    now: chrono::DateTime<chrono::Utc>,
    actor: Actor,
    r: &SupportRequest,
    before: RequestStatus,
) -> NewAuditEvent {
    NewAuditEvent::new(
        now,
        actor,
        "request.status",
        format!(
            "Request #{} ({}): {} → {}",
            r.id,
            r.subject,
            before.label(),
            r.status.label()
        ),
    )
    .company(r.company_id)
    .details(serde_json::json!({
        "request_id": r.id,
        "before": before.as_str(),
        "after": r.status.as_str(),
    }))
}

// The portal side.
impl Services {
    /// Raise a request as the signed-in portal user.
    pub async fn create_request(
        &self,
        who: &Requester,
        input: NewRequest,
    ) -> DomainResult<SupportRequest> {
        let now = self.now();
        let who = who.clone();
        self.store
            .write(move |w| {
                writable_company(w, who.company_id)?;
                let r = SupportRequest {
                    id: w.next_id(keys::seq::SUPPORT_REQUEST)?,
                    company_id: who.company_id,
                    contact_id: who.contact_id,
                    contact_name: who.display_name.clone(),
                    subject: input.subject,
                    description: input.description,
                    status: RequestStatus::Open,
                    created_at: now,
                    updated_at: now,
                    replies: Vec::new(),
                    assignee: None,
                    internal_notes: Vec::new(),
                };
                w.put_request(&r)?;
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        who.actor(),
                        "request.create",
                        format!("{} raised request #{}: {}", who.audit_name, r.id, r.subject),
                    )
                    .company(r.company_id)
                    .details(serde_json::json!({ "request_id": r.id })),
                )?;
                Ok::<_, DomainError>(r)
            })
            .await
            .map(SupportRequest::for_portal)
    }

    /// The portal user's requests; every request of the company for a portal admin.
    pub async fn portal_requests(
        &self,
        who: &Requester,
        q: ListQuery,
    ) -> DomainResult<Page<SupportRequest>> {
        let who = who.clone();
        let raised_by = (!who.is_portal_admin).then_some(who.contact_id);
        let _turn = super::search_turns::ranking_turn(super::search_turns::searches(&q)).await?;
        let mut page = self
            .store
            .read(move |r| page_of(r, Some(who.company_id), None, raised_by, &q))
            .await?;
        page.items = page
            .items
            .into_iter()
            .map(SupportRequest::for_portal)
            .collect();
        Ok(page)
    }

    /// One request the portal user may see; `NotFound` for anything else.
    pub async fn portal_request(&self, who: &Requester, id: u64) -> DomainResult<SupportRequest> {
        let who = who.clone();
        self.store
            .read(move |r| {
                r.support_request(who.company_id, id)?
                    .filter(|x| who.may_see(x))
                    .ok_or(DomainError::NotFound("request"))
            })
            .await
            .map(SupportRequest::for_portal)
    }

    /// Reply from the portal. A resolved request (or one waiting on the customer) goes back
    /// to open; a closed one takes no replies.
    pub async fn portal_reply(
        &self,
        who: &Requester,
        id: u64,
        body: ReplyBody,
    ) -> DomainResult<SupportRequest> {
        let now = self.now();
        let who = who.clone();
        self.store
            .write(move |w| {
                writable_company(w, who.company_id)?;
                let mut r = portal_lookup(w, &who, id)?;
                let before = r.status;
                r.status = before
                    .after_customer_reply()
                    .map_err(|m| DomainError::Conflict(m.into()))?;
                r.add_reply(now, ReplyAuthor::Contact, who.display_name.clone(), body);
                w.put_request(&r)?;
                let summary = format!(
                    "{} replied on request #{}: {}",
                    who.audit_name, r.id, r.subject
                );
                w.append_audit(reply_event(now, who.actor(), &r, before, summary))?;
                Ok::<_, DomainError>(r)
            })
            .await
            .map(SupportRequest::for_portal)
    }

    /// Close a request from the portal: only the person who raised it may.
    pub async fn portal_close(&self, who: &Requester, id: u64) -> DomainResult<SupportRequest> {
        let now = self.now();
        let who = who.clone();
        self.store
            .write(move |w| {
                writable_company(w, who.company_id)?;
                let mut r = portal_lookup(w, &who, id)?;
                if r.contact_id != who.contact_id {
                    return Err(DomainError::Forbidden(
                        "Only the person who raised a request can close it.".into(),
                    ));
                }
                if r.status == RequestStatus::Closed {
                    return Ok(r);
                }
                let before = r.status;
                r.status = RequestStatus::Closed;
                r.updated_at = now;
                w.put_request(&r)?;
                w.append_audit(status_event(now, who.actor(), &r, before))?;
                Ok(r)
            })
            .await
            .map(SupportRequest::for_portal)
    }
}

// The staff side (PSA pages and the API).
impl Services {
    /// Requests across companies, filtered, newest activity first, paged. A company filter
    /// naming no company is `NotFound("company")`.
    pub async fn requests(
        &self,
        filter: RequestFilter,
        q: ListQuery,
    ) -> DomainResult<Page<SupportRequest>> {
        let _turn = super::search_turns::ranking_turn(super::search_turns::searches(&q)).await?;
        self.store
            .read(move |r| {
                if let Some(id) = filter.company_id {
                    r.company(id)?.ok_or(DomainError::NotFound("company"))?;
                }
                Ok::<_, DomainError>(page_of(r, filter.company_id, filter.status, None, &q)?)
            })
            .await
    }

    /// One request of one company (`NotFound` if the id is another company's).
    pub async fn request(&self, company_id: u64, id: u64) -> DomainResult<SupportRequest> {
        self.store
            .read(move |r| {
                r.support_request(company_id, id)?
                    .ok_or(DomainError::NotFound("request"))
            })
            .await
    }

    /// Staff reply. The request then waits on the customer unless `status` says otherwise.
    pub async fn staff_reply(
        &self,
        author: StaffAuthor,
        company_id: u64,
        id: u64,
        body: ReplyBody,
        status: Option<RequestStatus>,
    ) -> DomainResult<SupportRequest> {
        let now = self.now();
        self.store
            .write(move |w| {
                let mut r = w
                    .support_request(company_id, id)?
                    .ok_or(DomainError::NotFound("request"))?;
                let before = r.status;
                r.status = status.unwrap_or(RequestStatus::WaitingOnCustomer);
                r.add_reply(now, ReplyAuthor::Staff, author.name.clone(), body);
                w.put_request(&r)?;
                let summary = format!(
                    "Replied on request #{} ({}); now {}",
                    r.id,
                    r.subject,
                    r.status.label()
                );
                w.append_audit(reply_event(now, author.actor, &r, before, summary))?;
                Ok::<_, DomainError>(r)
            })
            .await
    }

    /// Set a request's status (no change, no event).
    pub async fn set_request_status(
        &self,
        actor: Actor,
        company_id: u64,
        id: u64,
        status: RequestStatus,
    ) -> DomainResult<SupportRequest> {
        let now = self.now();
        self.store
            .write(move |w| {
                let mut r = w
                    .support_request(company_id, id)?
                    .ok_or(DomainError::NotFound("request"))?;
                if r.status == status {
                    return Ok(r);
                }
                let before = r.status;
                r.status = status;
                r.updated_at = now;
                w.put_request(&r)?;
                w.append_audit(status_event(now, actor, &r, before))?;
                Ok::<_, DomainError>(r)
            })
            .await
    }
}

mod staff_work;

pub use staff_work::RequestChange;

#[cfg(test)]
mod tests;
