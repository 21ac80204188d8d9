//! Support requests, portal side, over real HTTP: a client's employee raises a request, staff
//! answer it, the employee reads the answer; and the walls between contacts and companies.
//!
//! The portal session is minted by the domain (`start_portal_session`, what the Microsoft
//! callback calls once the sign-in is accepted), so these tests exercise the request pages
//! and the session checks on every request without driving the Microsoft sign-in itself; the
//! last test goes through the real sign-in against the simulator (`sso_helpers::portal_sign_in`).

use crate::helpers::*;
use crate::sync_helpers::s;
use tenantry::model::{
    Actor, CompanyInput, Contact, ContactGroup, Membership, PortalSettings, RequestStatus,
    TenantLink,
};
use tenantry::store::StoreError;

/// A connected company whose portal is on; contact group 1 is its portal-admins group.
/// Returns (company id, slug).
pub(crate) async fn portal_company(app: &TestApp, name: &str) -> (u64, String) {
    let c = app
        .services()
        .create_company(
            Actor::system(),
            CompanyInput::parse(name, "", "").expect("input"),
        )
        .await
        .expect("company");
    let now = app.services().now();
    let mut settings = PortalSettings::default_for(c.id, &c.name);
    settings.sso_enabled = true;
    settings.admin_group_id = Some(1);
    let slug = settings.slug.clone();
    let id = c.id;
    app.services()
        .store_handle()
        .write(move |w| {
            let mut c = c;
            c.tenant = Some(TenantLink {
                tenant_id: format!("00000000-0000-0000-0000-00000000000{id}"),
                tenant_name: c.name.clone(),
                connected_at: now,
                connected: true,
            });
            w.put_company(&c)?;
            w.put_group(&ContactGroup {
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
            w.put_portal_settings(&settings)
        })
        .await
        .expect("portal setup");
    (id, slug)
}

/// A client employee's browser: its own cookie, signed in to one company's portal.
pub(crate) struct PortalBrowser {
    client: reqwest::Client,
    base: String,
    slug: String,
}

/// Sign `name` (contact `contact_id` of `company_id`) in to the portal at `slug`; `admin`
/// makes them a member of the portal-admins group.
pub(crate) async fn portal_sign_in(
    app: &TestApp,
    company_id: u64,
    slug: &str,
    contact_id: u64,
    name: &str,
    admin: bool,
) -> PortalBrowser {
    let now = app.services().now();
    let contact = Contact {
        id: contact_id,
        company_id,
        display_name: name.into(),
        email: format!("{}@client{company_id}.example", name.to_lowercase()),
        department: String::new(),
        job_title: String::new(),
        upn: format!("{}@client{company_id}.example", name.to_lowercase()),
        account_enabled: true,
        active: true,
        is_guest: false,
        entra_object_id: None,
        created_at: now,
        updated_at: now,
    };
    let stored = contact.clone();
    app.services()
        .store_handle()
        .write(move |w| {
            w.put_contact(&stored)?;
            if admin {
                w.put_membership(
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
    let company = app.services().company(company_id).await.expect("company");
    let cookie = app
        .services()
        .start_portal_session(&company, &contact, "127.0.0.1")
        .await
        .expect("portal session");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        format!("tenantry_portal={cookie}").parse().expect("header"),
    );
    PortalBrowser {
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .expect("client"),
        base: app.url.clone(),
        slug: slug.to_string(),
    }
}

impl PortalBrowser {
    /// A path under this user's portal: `p("/requests")` → `/portal/{slug}/requests`.
    pub(crate) fn p(&self, rest: &str) -> String {
        format!("/portal/{}{rest}", self.slug)
    }
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }
    pub(crate) async fn text(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.text().await.expect("body")
    }
    /// POST a form with the portal CSRF token taken from `from`.
    async fn post(&self, from: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let token = csrf_in(&self.text(from).await);
        assert!(!token.is_empty(), "{from} has a CSRF token");
        let mut fields = form.to_vec();
        fields.push(("csrf", &token));
        self.client
            .post(format!("{}{path}", self.base))
            .form(&fields)
            .send()
            .await
            .expect("POST")
    }
    /// Raise a request through the form; returns its id.
    pub(crate) async fn raise(&self, subject: &str, description: &str) -> u64 {
        let r = self
            .post(
                &self.p("/requests/new"),
                &self.p("/requests/new"),
                &[("subject", subject), ("description", description)],
            )
            .await;
        assert_eq!(r.status(), 303);
        let to = location(&r);
        assert!(to.ends_with("?notice=request_created"), "{to}");
        to.trim_start_matches(&self.p("/requests/"))
            .split('?')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("request id in the redirect")
    }
}

#[tokio::test]
async fn portal_user_raises_staff_answers_user_reads_the_reply() {
    let app = spawn_app().await;
    let (a, slug) = portal_company(&app, "Alpha Dental").await;
    let ann = portal_sign_in(&app, a, &slug, 10, "Ann", false).await;

    let form = ann.text(&ann.p("/requests/new")).await;
    assert!(form.contains("New support request"));
    let id = ann
        .raise("Printer offline", "The 2nd floor printer shows error 79.")
        .await;
    let thread = ann
        .text(&ann.p(&format!("/requests/{id}?notice=request_created")))
        .await;
    assert!(thread.contains("Your request was sent to your IT provider."));
    assert!(thread.contains("The 2nd floor printer shows error 79."));
    assert!(thread.contains("Close this request"));
    let mine = ann.text(&ann.p("/requests")).await;
    assert!(mine.contains("Printer offline") && mine.contains("Open"));

    // Staff see it in PSA → Requests and answer.
    app.login().await;
    let psa = app.get_text("/requests").await;
    assert!(psa.contains("Printer offline") && psa.contains("Ann") && psa.contains("Alpha Dental"));
    let page = format!("/companies/{a}/requests/{id}");
    let r = app
        .post_form(
            &page,
            &format!("{page}/reply"),
            &[("body", "Replaced the toner, please try again.")],
        )
        .await;
    assert_eq!(r.status(), 303);

    // Ann reads the answer, replies (it goes back to open), then closes it.
    let thread = ann.text(&ann.p(&format!("/requests/{id}"))).await;
    assert!(thread.contains("Replaced the toner, please try again."));
    assert!(thread.contains("Waiting for your reply"));
    let r = ann
        .post(
            &ann.p(&format!("/requests/{id}")),
            &ann.p(&format!("/requests/{id}/reply")),
            &[("body", "Works now, thanks!")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).ends_with("?notice=reply_sent"));
    let stored = app.services().request(a, id).await.expect("stored");
    assert_eq!(stored.status, RequestStatus::Open);
    assert_eq!(stored.replies.len(), 2);
    assert!(
        app.get_text(&page).await.contains("Works now, thanks!"),
        "staff see the customer's reply"
    );
    let r = ann
        .post(
            &ann.p(&format!("/requests/{id}")),
            &ann.p(&format!("/requests/{id}/close")),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    let closed = ann.text(&location(&r)).await;
    assert!(closed.contains("Request closed.") && closed.contains("This request is closed."));
    assert!(!closed.contains("Send reply"), "no reply form once closed");
}

#[tokio::test]
async fn refused_input_is_shown_again_with_the_reason_and_the_text() {
    let app = spawn_app().await;
    let (a, slug) = portal_company(&app, "Alpha Dental").await;
    let ann = portal_sign_in(&app, a, &slug, 10, "Ann", false).await;
    let r = ann
        .post(
            &ann.p("/requests/new"),
            &ann.p("/requests/new"),
            &[("subject", " "), ("description", "Keep this text")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.expect("body");
    assert!(body.contains("subject: is required") && body.contains("Keep this text"));
    let long = "x".repeat(201);
    let r = ann
        .post(
            &ann.p("/requests/new"),
            &ann.p("/requests/new"),
            &[("subject", &long), ("description", "d")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let none = app
        .services()
        .requests(Default::default(), Default::default())
        .await
        .expect("list");
    assert_eq!(none.total, 0, "nothing stored");

    let id = ann.raise("VPN", "Drops every hour").await;
    let r = ann
        .post(
            &ann.p(&format!("/requests/{id}")),
            &ann.p(&format!("/requests/{id}/reply")),
            &[("body", "   ")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("body").contains("reply: is required"));
    // Without the CSRF token nothing happens.
    let r = ann
        .client
        .post(format!(
            "{}{}",
            ann.base,
            ann.p(&format!("/requests/{id}/close"))
        ))
        .form(&[("x", "y")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.services().request(a, id).await.expect("r").status,
        RequestStatus::Open
    );
}

#[tokio::test]
async fn another_companys_request_is_not_found_and_its_portal_asks_for_sign_in() {
    let app = spawn_app().await;
    let (a, a_slug) = portal_company(&app, "Alpha Dental").await;
    let (b, b_slug) = portal_company(&app, "Beta Legal").await;
    let ann = portal_sign_in(&app, a, &a_slug, 10, "Ann", true).await;
    let bea = portal_sign_in(&app, b, &b_slug, 20, "Bea", false).await;
    let theirs = bea
        .raise("Beta merger files", "Only Beta may read this")
        .await;

    // Even A's portal admin gets 404 for B's request id under A's portal.
    let r = ann.get(&ann.p(&format!("/requests/{theirs}"))).await;
    assert_eq!(r.status(), 404);
    assert!(!r.text().await.expect("body").contains("Beta merger files"));
    for action in ["reply", "close"] {
        let r = ann
            .post(
                &ann.p("/requests"),
                &ann.p(&format!("/requests/{theirs}/{action}")),
                &[("body", "hello")],
            )
            .await;
        assert_eq!(r.status(), 404, "{action}");
    }
    assert!(
        !ann.text(&ann.p("/requests"))
            .await
            .contains("Beta merger files")
    );
    let untouched = app.services().request(b, theirs).await.expect("b");
    assert!(untouched.replies.is_empty());
    assert_eq!(untouched.status, RequestStatus::Open);

    // A's session on B's portal is sent to B's sign-in page.
    for path in [
        format!("/portal/{b_slug}/requests"),
        format!("/portal/{b_slug}/requests/{theirs}"),
        format!("/portal/{b_slug}/requests/new"),
    ] {
        let r = ann.get(&path).await;
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(location(&r), format!("/portal/{b_slug}"), "{path}");
    }
    // And without any session the same.
    let r = app.get(&format!("/portal/{a_slug}/requests")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("/portal/{a_slug}"));
}

#[tokio::test]
async fn a_colleagues_request_is_hidden_unless_portal_admin() {
    let app = spawn_app().await;
    let (a, slug) = portal_company(&app, "Alpha Dental").await;
    let ann = portal_sign_in(&app, a, &slug, 10, "Ann", false).await;
    let bob = portal_sign_in(&app, a, &slug, 11, "Bob", false).await;
    let boss = portal_sign_in(&app, a, &slug, 12, "Boss", true).await;
    let id = ann.raise("Laptop fan noise", "Fan is loud").await;

    assert_eq!(
        bob.get(&bob.p(&format!("/requests/{id}"))).await.status(),
        404
    );
    let bobs = bob.text(&bob.p("/requests")).await;
    assert!(bobs.contains("My requests") && !bobs.contains("Laptop fan noise"));

    let all = boss.text(&boss.p("/requests")).await;
    assert!(all.contains("All requests") && all.contains("Laptop fan noise"));
    assert!(all.contains("Raised by") && all.contains(">Ann<"));
    let thread = boss.text(&boss.p(&format!("/requests/{id}"))).await;
    assert!(thread.contains("Fan is loud") && thread.contains("Send reply"));
    assert!(
        !thread.contains("Close this request"),
        "only its author closes it"
    );
    let r = boss
        .post(
            &boss.p(&format!("/requests/{id}")),
            &boss.p(&format!("/requests/{id}/close")),
            &[],
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = boss
        .post(
            &boss.p(&format!("/requests/{id}")),
            &boss.p(&format!("/requests/{id}/reply")),
            &[("body", "Approved, go ahead")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let thread = ann.text(&ann.p(&format!("/requests/{id}"))).await;
    assert!(thread.contains("Approved, go ahead") && thread.contains("Boss"));
}

/// The whole path with the real sign-in: Microsoft (the simulator) signs a client employee in
/// to their company's portal, they raise a request, staff answer, they read the answer.
#[tokio::test]
async fn signed_in_with_microsoft_an_employee_raises_a_request_and_reads_the_answer() {
    use crate::sso_helpers::*;
    let sso = sso_env().await;
    let app = sso.app();
    let t = sso.env.tenant("Alpha Dental", 3, 0, false);
    let (a, _) = sso.env.connect("Alpha Dental", &t.id).await;
    let slug = app
        .services()
        .portal_settings(a)
        .await
        .expect("settings")
        .slug;
    app.services()
        .update_portal_settings(
            tenantry::domain::authority::AdminActor::system(),
            a,
            tenantry::domain::portal::PortalInput {
                slug: slug.clone(),
                sso_enabled: true,
                allowed_group_ids: Vec::new(),
                admin_group_id: None,
            },
        )
        .await
        .expect("portal on");
    let employee = sso.user(&t.id, 0);
    let r = portal_sign_in(app, &slug, &upn(&employee)).await;
    assert_eq!(r.status(), 303, "signed in");

    let new = format!("/portal/{slug}/requests/new");
    let r = app
        .post_form(
            &new,
            &new,
            &[
                ("subject", "Outlook keeps asking for my password"),
                ("description", "Since Monday."),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let thread_path = location(&r);
    let id: u64 = thread_path
        .trim_start_matches(&format!("/portal/{slug}/requests/"))
        .split('?')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let stored = app.services().request(a, id).await.expect("stored");
    assert_eq!(stored.contact_name, s(&employee, "displayName"));

    app.login().await;
    let page = format!("/companies/{a}/requests/{id}");
    let r = app
        .post_form(
            &page,
            &format!("{page}/reply"),
            &[("body", "Reset your MFA, try now.")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let thread = app.get_text(&format!("/portal/{slug}/requests/{id}")).await;
    assert!(
        thread.contains("Reset your MFA, try now.") && thread.contains("Waiting for your reply")
    );
}

/// Staff assign a request and keep an internal note; the nav's badge counts the requests that
/// still need the MSP; the portal user never sees the note (page, list, after a reply).
#[tokio::test]
async fn internal_notes_stay_staff_only_and_the_nav_counts_unfinished_requests() {
    let app = spawn_app().await;
    let (a, slug) = portal_company(&app, "Alpha Dental").await;
    let ann = portal_sign_in(&app, a, &slug, 10, "Ann", false).await;
    let id = ann.raise("Printer offline", "Error 79 again.").await;
    let second = ann.raise("New laptop", "For our new hire.").await;
    app.login().await;
    let nav = app.get_text("/companies").await;
    assert!(
        nav.contains("Requests <span class=\"badge count\""),
        "badge in the staff nav"
    );
    assert!(nav.contains(">2</span></a>"), "two requests need the MSP");

    let page = format!("/companies/{a}/requests/{id}");
    let secret = "Customer owes us for the last two call-outs";
    let r = app
        .post_form(&page, &format!("{page}/notes"), &[("note", secret)])
        .await;
    assert_eq!(r.status(), 303);
    let me = app
        .services()
        .staff_users()
        .await
        .expect("staff")
        .into_iter()
        .next()
        .expect("the admin");
    let r = app
        .post_form(
            &page,
            &format!("{page}/assignee"),
            &[("assignee", &me.id.to_string())],
        )
        .await;
    assert_eq!(r.status(), 303);
    let staff_view = app.get_text(&page).await;
    assert!(staff_view.contains(secret), "staff see the note");
    let title = staff_view
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next())
        .expect("a title");
    assert!(
        !title.contains("<form"),
        "the title is the request's number and subject, not its forms: {title}"
    );
    assert_eq!(
        staff_view.matches("Internal notes").count(),
        1,
        "the notes section once"
    );
    assert!(
        staff_view.contains(&format!("<option value=\"{}\" selected>", me.id)),
        "assignee chosen"
    );
    // A form without the CSRF token is refused.
    let r = app
        .post_raw(&format!("{page}/notes"), &[("note", "no token")])
        .await;
    assert_eq!(r.status(), 403);

    // Staff reply, so the portal user has something new to read on that request.
    let r = app
        .post_form(
            &page,
            &format!("{page}/reply"),
            &[("body", "On our way."), ("status", "in_progress")],
        )
        .await;
    assert_eq!(r.status(), 303);
    for path in [
        ann.p(&format!("/requests/{id}")),
        ann.p("/requests"),
        ann.p(""),
    ] {
        let seen = ann.text(&path).await;
        assert!(!seen.contains(secret), "{path} shows the internal note");
        assert!(!seen.contains("Internal note"), "{path}");
    }
    assert!(
        ann.text(&ann.p(&format!("/requests/{id}")))
            .await
            .contains("On our way.")
    );
    let held = app
        .services()
        .portal_request(
            &tenantry::domain::requests::Requester {
                company_id: a,
                contact_id: 10,
                display_name: "Ann".into(),
                audit_name: "ann@client.example".into(),
                is_portal_admin: false,
            },
            id,
        )
        .await
        .expect("portal read");
    assert!(
        held.internal_notes.is_empty(),
        "the portal's read drops the notes"
    );

    // Resolving one leaves one that needs the MSP.
    let other = format!("/companies/{a}/requests/{second}");
    let r = app
        .post_form(
            &other,
            &format!("{other}/status"),
            &[("status", "resolved")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let nav = app.get_text("/companies").await;
    assert!(nav.contains(">1</span></a>"), "badge follows the status");
}
