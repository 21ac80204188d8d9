//! The portal's request rules against a real temporary store, with portal users signed in
//! through the real session path (so the portal-admin flag comes from group membership).

use super::*;
use crate::clock::ManualClock;
use crate::crypto::SecretBox;
use crate::domain::DomainConfig;
use crate::model::{
    AuditFilter, CompanyInput, Contact, ContactGroup, Membership, PortalSettings, TenantLink,
};
use crate::store::Store;
use chrono::{Duration, TimeZone, Utc};
use std::sync::Arc;

struct World {
    _dir: tempfile::TempDir,
    s: Services,
    clock: ManualClock,
}

fn world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let store =
        Store::open(&dir.path().join("t.redb"), SecretBox::from_key([5; 32])).expect("open");
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0)
            .single()
            .expect("time"),
    );
    let s = Services::new(
        store,
        Arc::new(clock.clone()),
        DomainConfig {
            session_hours: 12,
            job_max_attempts: 3,
            job_backoff_seconds: 1,
        },
    );
    World {
        _dir: dir,
        s,
        clock,
    }
}

/// A connected company with an SSO-enabled portal whose admin group is group 1.
async fn company(w: &World, name: &str) -> u64 {
    let c =
        w.s.create_company(
            Actor::system(),
            CompanyInput::parse(name, "", "").expect("input"),
        )
        .await
        .expect("company");
    let now = w.s.now();
    let id = c.id;
    w.s.store
        .write(move |wr| {
            let mut c = c;
            c.tenant = Some(TenantLink {
                tenant_id: format!("tenant-{id}"),
                tenant_name: c.name.clone(),
                connected_at: now,
                connected: true,
            });
            wr.put_company(&c)?;
            wr.put_group(&ContactGroup {
                id: 1,
                company_id: id,
                display_name: "Portal admins".into(),
                description: String::new(),
                mail_enabled: false,
                active: true,
                entra_object_id: None,
                member_count: 0,
                updated_at: now,
            })?;
            let mut settings = PortalSettings::default_for(id, &c.name);
            settings.sso_enabled = true;
            settings.admin_group_id = Some(1);
            wr.put_portal_settings(&settings)
        })
        .await
        .expect("setup");
    id
}

/// A contact of `company_id`, signed in to its portal; `admin` puts them in the admin group.
async fn portal_user(w: &World, company_id: u64, contact_id: u64, admin: bool) -> Requester {
    let now = w.s.now();
    let contact = Contact {
        id: contact_id,
        company_id,
        display_name: format!("Person {contact_id}"),
        email: format!("p{contact_id}@c{company_id}.example"),
        department: String::new(),
        job_title: String::new(),
        upn: format!("p{contact_id}@c{company_id}.example"),
        account_enabled: true,
        active: true,
        is_guest: false,
        entra_object_id: None,
        created_at: now,
        updated_at: now,
    };
    let c2 = contact.clone();
    w.s.store
        .write(move |wr| {
            wr.put_contact(&c2)?;
            if admin {
                wr.put_membership(
                    Membership {
                        company_id,
                        group_id: 1,
                        contact_id,
                    },
                    1,
                )?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .expect("contact");
    let company = w.s.company(company_id).await.expect("company");
    let settings = w.s.portal_settings(company_id).await.expect("settings");
    let cookie =
        w.s.start_portal_session(&company, &contact, "127.0.0.1")
            .await
            .expect("session");
    let signed =
        w.s.portal_session(&settings.slug, &cookie)
            .await
            .expect("load")
            .expect("signed in");
    assert_eq!(signed.is_portal_admin, admin);
    Requester::from(&signed)
}

fn input(subject: &str) -> NewRequest {
    NewRequest::parse(subject, "Details").expect("input")
}

fn body(s: &str) -> ReplyBody {
    ReplyBody::parse(s).expect("body")
}

fn staff() -> StaffAuthor {
    StaffAuthor {
        actor: Actor::staff("tech@msp.example"),
        name: "Tess Tech".into(),
    }
}

fn is_not_found<T: std::fmt::Debug>(r: DomainResult<T>) -> bool {
    matches!(r, Err(DomainError::NotFound("request")))
}

#[tokio::test]
async fn own_requests_only_unless_portal_admin() {
    let w = world();
    let a = company(&w, "Alpha Dental").await;
    let ann = portal_user(&w, a, 10, false).await;
    let bob = portal_user(&w, a, 11, false).await;
    let boss = portal_user(&w, a, 12, true).await;

    let r1 =
        w.s.create_request(&ann, input("Printer"))
            .await
            .expect("r1");
    w.clock.advance(Duration::minutes(1));
    let r2 = w.s.create_request(&bob, input("VPN")).await.expect("r2");
    assert_eq!(r1.status, RequestStatus::Open);
    assert_eq!(r1.contact_name, "Person 10");

    let q = ListQuery::default;
    let subjects =
        |p: Page<SupportRequest>| p.items.into_iter().map(|r| r.subject).collect::<Vec<_>>();
    assert_eq!(
        subjects(w.s.portal_requests(&ann, q()).await.expect("list")),
        ["Printer"]
    );
    assert_eq!(
        subjects(w.s.portal_requests(&bob, q()).await.expect("list")),
        ["VPN"]
    );
    assert_eq!(
        subjects(w.s.portal_requests(&boss, q()).await.expect("list")),
        ["VPN", "Printer"],
        "an admin sees the whole company's, newest first"
    );

    // A colleague's request is "not found" for a non-admin, readable for the admin.
    assert!(is_not_found(w.s.portal_request(&ann, r2.id).await));
    assert!(is_not_found(
        w.s.portal_reply(&ann, r2.id, body("me too")).await
    ));
    assert!(is_not_found(w.s.portal_close(&ann, r2.id).await));
    assert_eq!(
        w.s.portal_request(&boss, r2.id).await.expect("admin").id,
        r2.id
    );
    // The admin may reply on it but only its author closes it.
    w.s.portal_reply(&boss, r2.id, body("Please prioritise"))
        .await
        .expect("admin reply");
    assert!(matches!(
        w.s.portal_close(&boss, r2.id).await,
        Err(DomainError::Forbidden(_))
    ));
    let closed = w.s.portal_close(&bob, r2.id).await.expect("close own");
    assert_eq!(closed.status, RequestStatus::Closed);
}

#[tokio::test]
async fn another_companys_request_is_not_found_even_for_its_admin() {
    let w = world();
    let a = company(&w, "Alpha Dental").await;
    let b = company(&w, "Beta Legal").await;
    let a_admin = portal_user(&w, a, 10, true).await;
    let b_user = portal_user(&w, b, 20, false).await;
    let theirs =
        w.s.create_request(&b_user, input("B's secret"))
            .await
            .expect("b");

    assert!(is_not_found(w.s.portal_request(&a_admin, theirs.id).await));
    assert!(is_not_found(
        w.s.portal_reply(&a_admin, theirs.id, body("hi")).await
    ));
    assert!(is_not_found(w.s.portal_close(&a_admin, theirs.id).await));
    assert_eq!(
        w.s.portal_requests(&a_admin, ListQuery::default())
            .await
            .expect("list")
            .total,
        0
    );
    // Staff lookups are keyed by company too: B's id under A is not found.
    assert!(is_not_found(w.s.request(a, theirs.id).await));
    assert!(is_not_found(
        w.s.staff_reply(staff(), a, theirs.id, body("x"), None)
            .await
    ));
    assert!(is_not_found(
        w.s.set_request_status(Actor::system(), a, theirs.id, RequestStatus::Closed)
            .await
    ));
    let unchanged = w.s.request(b, theirs.id).await.expect("b's");
    assert_eq!(unchanged.status, RequestStatus::Open);
    assert!(unchanged.replies.is_empty());
}

#[tokio::test]
async fn the_conversation_moves_the_status_and_is_audited() {
    let w = world();
    let a = company(&w, "Alpha Dental").await;
    let ann = portal_user(&w, a, 10, false).await;
    let r =
        w.s.create_request(&ann, input("Laptop slow"))
            .await
            .expect("r");

    w.clock.advance(Duration::minutes(5));
    let r1 =
        w.s.staff_reply(staff(), a, r.id, body("Try a restart?"), None)
            .await
            .expect("staff reply");
    assert_eq!(r1.status, RequestStatus::WaitingOnCustomer);
    assert_eq!(r1.replies[0].author_kind, ReplyAuthor::Staff);
    assert_eq!(r1.replies[0].author_name, "Tess Tech");
    assert!(r1.updated_at > r.updated_at);

    let r2 =
        w.s.portal_reply(&ann, r.id, body("Still slow"))
            .await
            .expect("reply");
    assert_eq!(r2.status, RequestStatus::Open, "waiting → open");

    let r3 =
        w.s.staff_reply(
            staff(),
            a,
            r.id,
            body("Replaced the disk"),
            Some(RequestStatus::Resolved),
        )
        .await
        .expect("resolve");
    assert_eq!(r3.status, RequestStatus::Resolved);
    let r4 =
        w.s.portal_reply(&ann, r.id, body("It came back"))
            .await
            .expect("reopen");
    assert_eq!(r4.status, RequestStatus::Open, "resolved → open");
    assert_eq!(r4.replies.len(), 4);

    let r5 =
        w.s.set_request_status(Actor::staff("t@msp"), a, r.id, RequestStatus::InProgress)
            .await
            .expect("status");
    assert_eq!(r5.status, RequestStatus::InProgress);
    w.s.portal_close(&ann, r.id).await.expect("close");
    assert!(matches!(
        w.s.portal_reply(&ann, r.id, body("one more thing")).await,
        Err(DomainError::Conflict(_))
    ));

    let log =
        w.s.audit_page(
            AuditFilter {
                company_id: Some(a),
                kind: Some("request".into()),
                ..Default::default()
            },
            1,
            50,
        )
        .await
        .expect("audit");
    let mut kinds: Vec<&str> = log.items.iter().map(|e| e.kind.as_str()).collect();
    kinds.reverse();
    assert_eq!(
        kinds,
        [
            "request.create",
            "request.reply",
            "request.reply",
            "request.reply",
            "request.reply",
            "request.status",
            "request.status",
        ]
    );
    assert!(log.items.iter().all(|e| e.company_id == Some(a)));
}

#[tokio::test]
async fn archived_companies_refuse_portal_writes() {
    let w = world();
    let a = company(&w, "Alpha Dental").await;
    let ann = portal_user(&w, a, 10, false).await;
    let r = w.s.create_request(&ann, input("Before")).await.expect("r");
    w.s.archive_company(Actor::system(), a)
        .await
        .expect("archive");
    for res in [
        w.s.create_request(&ann, input("After")).await.map(|_| ()),
        w.s.portal_reply(&ann, r.id, body("hi")).await.map(|_| ()),
        w.s.portal_close(&ann, r.id).await.map(|_| ()),
    ] {
        match res {
            Err(DomainError::Conflict(m)) => assert!(m.contains("archived"), "{m}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(
        w.s.requests(RequestFilter::default(), ListQuery::default())
            .await
            .expect("list")
            .total,
        1
    );
}

#[tokio::test]
async fn staff_lists_filter_by_status_and_company_newest_first() {
    let w = world();
    let a = company(&w, "Alpha Dental").await;
    let b = company(&w, "Beta Legal").await;
    let ann = portal_user(&w, a, 10, false).await;
    let bea = portal_user(&w, b, 20, false).await;
    let r1 = w.s.create_request(&ann, input("One")).await.expect("1");
    w.clock.advance(Duration::minutes(1));
    w.s.create_request(&bea, input("Two")).await.expect("2");
    w.clock.advance(Duration::minutes(1));
    w.s.create_request(&ann, input("Three")).await.expect("3");
    w.clock.advance(Duration::minutes(1));
    w.s.set_request_status(Actor::system(), a, r1.id, RequestStatus::Resolved)
        .await
        .expect("resolve");

    let subjects =
        |p: Page<SupportRequest>| p.items.into_iter().map(|r| r.subject).collect::<Vec<_>>();
    let all =
        w.s.requests(RequestFilter::default(), ListQuery::default())
            .await
            .expect("all");
    assert_eq!(subjects(all), ["One", "Three", "Two"], "by last update");
    let open = RequestFilter {
        status: Some(RequestStatus::Open),
        company_id: None,
    };
    assert_eq!(
        subjects(
            w.s.requests(open, ListQuery::default())
                .await
                .expect("open")
        ),
        ["Three", "Two"]
    );
    let a_open = RequestFilter {
        status: Some(RequestStatus::Open),
        company_id: Some(a),
    };
    assert_eq!(
        subjects(w.s.requests(a_open, ListQuery::default()).await.expect("a")),
        ["Three"]
    );
    let paged =
        w.s.requests(
            RequestFilter::default(),
            ListQuery::new(Some(2), Some(2), None, None, None),
        )
        .await
        .expect("page 2");
    assert_eq!((paged.total, subjects(paged)), (3, vec!["Two".to_string()]));
    assert!(matches!(
        w.s.requests(
            RequestFilter {
                status: None,
                company_id: Some(999)
            },
            ListQuery::default()
        )
        .await,
        Err(DomainError::NotFound("company"))
    ));
}
