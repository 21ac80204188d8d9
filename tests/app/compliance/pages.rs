//! Company → Compliance, the snapshots, and the MSP-wide overview, as staff see them.

use super::*;
use tenantry::simulator::Kind;

#[tokio::test]
async fn the_tab_shows_every_control_with_its_status_facts_and_links() {
    let c = collected().await;
    let (env, company) = (&c.env, c.company);
    let a = env
        .services()
        .compliance(company, None)
        .await
        .expect("assessment")
        .expect("collected");
    assert!(!a.controls.is_empty());
    let r = env
        .app
        .get(&format!("/companies/{company}/compliance"))
        .await;
    assert_eq!(r.status(), 200);
    let raw = r.text().await.expect("page");
    let page = unescape(&raw);
    for ctl in &a.controls {
        let section = control_section(&page, &ctl.id);
        assert!(section.contains(&ctl.title), "{} titled", ctl.id);
        assert!(
            section.contains(&format!(
                "class=\"badge {}\">{}</span>",
                tenantry_status_class(ctl.status.as_str()),
                ctl.status.label()
            )),
            "{} has its status in colour and words: {section}",
            ctl.id
        );
        assert!(section.contains(&ctl.summary), "{} summary", ctl.id);
        assert!(section.contains("Evidence collected "), "evidence date");
        for f in &ctl.facts {
            assert!(section.contains(&f.label), "{}: fact {}", ctl.id, f.label);
            for i in &f.items {
                assert!(section.contains(&i.text), "{}: {}", ctl.id, i.text);
                if let Some(cid) = i.contact_id {
                    assert!(
                        section.contains(&format!("href=\"/companies/{company}/contacts/{cid}\"")),
                        "{} links the contact",
                        i.text
                    );
                }
            }
        }
        for fr in &ctl.frameworks {
            assert!(
                section.contains(&fr.control_id),
                "{}: {}",
                ctl.id,
                fr.control_id
            );
        }
    }
    assert!(page.contains(&format!(
        "href=\"/companies/{company}/evidence/{}\"",
        a.snapshot_id
    )));
    // The audit entries of this collection: the link filters the log to them.
    let at = raw
        .find(&format!("href=\"/audit?company={company}&"))
        .expect("audit link");
    let href = unescape(&raw[at + 6..]);
    let href = &href[..href.find('"').expect("link end")];
    assert!(href.contains("kind=sync.evidence"), "{href}");
    let audit = env.app.get(href).await;
    assert_eq!(audit.status(), 200, "{href}");
    let audit = unescape(&audit.text().await.expect("audit page"));
    assert!(
        audit.contains(&format!("snapshot #{}", a.snapshot_id)),
        "the collection's entry is listed under {href}"
    );
    assert!(page.contains(&format!("href=\"/companies/{company}/evidence/collect\"")));
    assert!(page.contains("<svg class=\"history-chart\""), "the chart");
    assert!(page.contains("The history as a table"), "text fallback");
    assert!(
        page.contains("<dt>Security defaults</dt><dd>Off</dd>"),
        "security defaults line"
    );
    assert!(page.contains("Entra ID P1: yes"), "licence line");
    // Reached from the company page's tabs.
    let detail = env.app.get_text(&format!("/companies/{company}")).await;
    assert!(detail.contains(&format!("href=\"/companies/{company}/compliance\"")));
    c.env.stop().await;
}

/// `s` as it appears in a page's HTML (only `&` among the framework names needs it).
fn html_text(s: &str) -> String {
    s.replace('&', "&#38;")
}

/// The class the page gives a status (the views' mapping, restated: the test must fail if
/// the page stops colouring a status).
fn tenantry_status_class(status: &str) -> &'static str {
    match status {
        "pass" => "pass",
        "fail" => "fail",
        "not_licensed" => "not-licensed",
        "not_collected" => "not-collected",
        _ => "manual",
    }
}

#[tokio::test]
async fn the_framework_selector_keeps_that_framework_s_controls() {
    let c = collected().await;
    let (env, company) = (&c.env, c.company);
    let page = env
        .app
        .get_text(&format!("/companies/{company}/compliance?framework=cis8"))
        .await;
    let name = tenantry::domain::evidence::frameworks()
        .into_iter()
        .find(|f| f.id == "cis8")
        .expect("CIS Controls")
        .name;
    assert!(
        page.contains(&format!("aria-current=\"page\">{}", html_text(&name))),
        "CIS Controls picked"
    );
    let a = env
        .services()
        .compliance(company, Some("cis8"))
        .await
        .expect("assessment")
        .expect("collected");
    let all = env
        .services()
        .compliance(company, None)
        .await
        .expect("assessment")
        .expect("collected");
    assert!(
        a.controls.len() < all.controls.len(),
        "HIPAA maps fewer controls"
    );
    for ctl in &all.controls {
        let shown = page.contains(&format!("id=\"control-{}\"", ctl.id));
        let mapped = ctl.frameworks.iter().any(|f| f.framework == "cis8");
        assert_eq!(shown, mapped, "{} shown only when mapped to CIS", ctl.id);
    }
    let export_at = page.find("format=csv").map(|i| &page[i..i + 60]);
    assert!(
        unescape(&page).contains("format=csv&framework=cis8"),
        "{export_at:?}"
    );
    let r = env
        .app
        .get(&format!("/companies/{company}/compliance?framework=sox"))
        .await;
    assert_eq!(r.status(), 400, "an unknown framework is refused");
    c.env.stop().await;
}

#[tokio::test]
async fn collect_now_asks_first_and_a_second_collection_draws_the_line_and_marks_drift() {
    let c = collected().await;
    let (env, company) = (&c.env, c.company);
    let confirm = env
        .app
        .get_text(&format!("/companies/{company}/evidence/collect"))
        .await;
    assert!(confirm.contains("data-confirm-page"));
    assert!(confirm.contains(&format!("action=\"/companies/{company}/evidence/collect\"")));
    // A Conditional Access policy changes in the tenant between the two collections.
    let policies = env
        .ctl
        .list_objects(&c.tenant, Kind::Policy, 0, 100)
        .expect("policies");
    let p = policies.first().expect("the tenant has CA policies");
    let pid = p["id"].as_str().expect("id").to_string();
    let new_state = if p["state"] == "disabled" {
        "enabled"
    } else {
        "disabled"
    };
    env.ctl
        .update_object(
            &c.tenant,
            Kind::Policy,
            &pid,
            serde_json::json!({ "state": new_state })
                .as_object()
                .cloned()
                .expect("object"),
        )
        .expect("policy changed");
    let r = env
        .app
        .post_form(
            &format!("/companies/{company}/evidence/collect"),
            &format!("/companies/{company}/evidence/collect"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("/companies/{company}/compliance?notice=evidence_queued")
    );
    let jobs = env
        .services()
        .jobs(Some(company), 1, 10)
        .await
        .expect("jobs");
    let job = jobs
        .items
        .iter()
        .find(|j| j.kind.0 == "evidence_sync" && j.id != c.job.id)
        .expect("a second collection queued");
    assert_eq!(job.requester().actor, Actor::staff(ADMIN_EMAIL));
    env.wait_job(job.id).await;
    let page = env
        .app
        .get_text(&format!(
            "/companies/{company}/compliance?notice=evidence_queued"
        ))
        .await;
    assert!(
        page.contains("Evidence collection finished."),
        "once done, the notice says so"
    );
    assert!(page.contains("<polyline"), "two points make a line");
    assert!(
        page.contains("<g class=\"drift\">"),
        "drift marked on the chart"
    );
    assert!(page.contains("Policies changed"), "and in the table");
    let policy_name = p["displayName"].as_str().unwrap_or_default();
    assert!(
        unescape(control_section(&page, "policy_drift")).contains(policy_name),
        "the drift control names the changed policy"
    );
    // Snapshots: two, newest first, each with its page.
    let list = env
        .app
        .get_text(&format!("/companies/{company}/evidence"))
        .await;
    let snaps = env
        .services()
        .evidence_snapshots(
            company,
            tenantry::model::ListQuery::new(None, None, None, None, None),
        )
        .await
        .expect("snapshots");
    assert_eq!(snaps.total, 2);
    for s in &snaps.items {
        assert!(list.contains(&format!("href=\"/companies/{company}/evidence/{}\"", s.id)));
    }
    // Paged: one per page, the newest first, a link to the next.
    let first = env
        .app
        .get_text(&format!("/companies/{company}/evidence?per_page=1"))
        .await;
    assert!(first.contains(&format!(
        "/companies/{company}/evidence/{}\"",
        snaps.items[0].id
    )));
    assert!(!first.contains(&format!(
        "/companies/{company}/evidence/{}\"",
        snaps.items[1].id
    )));
    assert!(
        unescape(&first).contains(&format!("/companies/{company}/evidence?page=2&per_page=1")),
        "a link to the next page"
    );
    let newest = &snaps.items[0];
    let detail = env
        .app
        .get_text(&format!("/companies/{company}/evidence/{}", newest.id))
        .await;
    let snap = env
        .services()
        .evidence_snapshot(company, newest.id)
        .await
        .expect("snapshot");
    assert!(!snap.payloads.is_empty(), "payload hashes recorded");
    for h in &snap.payloads {
        assert!(detail.contains(&h.sha256), "hash of {} shown", h.source);
    }
    assert!(
        detail.contains(&format!("snapshot #{}", snaps.items[1].id)),
        "compared with the previous"
    );
    assert!(detail.contains(&format!("href=\"/jobs/{}\"", job.id)));
    // Another company's snapshot id is not found under this company.
    let other = env.company("Other").await;
    let r = env
        .app
        .get(&format!("/companies/{other}/evidence/{}", newest.id))
        .await;
    assert_eq!(r.status(), 404);
    c.env.stop().await;
}

#[tokio::test]
async fn before_the_first_collection_the_tab_says_so_and_when_the_next_run_is() {
    let env = sync_env().await;
    let t = env.tenant("Fabrikam Bakery", 5, 0, false);
    let (company, _) = env.connect("Fabrikam Bakery", &t.id).await;
    env.app.login().await;
    let page = env
        .app
        .get_text(&format!("/companies/{company}/compliance"))
        .await;
    assert!(page.contains("No evidence collected yet"));
    assert!(page.contains("Next scheduled run"));
    assert!(page.contains(&format!("href=\"/companies/{company}/evidence/collect\"")));
    assert!(!page.contains("<svg class=\"history-chart\""));
    let list = env
        .app
        .get_text(&format!("/companies/{company}/evidence"))
        .await;
    assert!(list.contains("No evidence collected yet."));
    env.stop().await;
}

#[tokio::test]
async fn settings_are_saved_and_bad_input_is_refused_with_the_reason() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 5, 2, true);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    env.app.login().await;
    let tab = format!("/companies/{company}/compliance");
    let action = format!("/companies/{company}/compliance/settings");
    let r = env
        .app
        .post_form(
            &tab,
            &action,
            &[
                ("framework_soc2", "on"),
                ("mfa_registration_pct", "101"),
                ("device_compliance_pct", "80"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.expect("body");
    assert!(
        body.contains("must be a whole percentage from 1 to 100"),
        "{body}"
    );
    let r = env
        .app
        .post_form(
            &tab,
            &action,
            &[
                ("mfa_registration_pct", "90"),
                ("device_compliance_pct", "80"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422, "no framework ticked");
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("Choose at least one framework.")
    );
    let before = env
        .services()
        .evidence_settings(company)
        .await
        .expect("settings");
    assert_eq!(
        before,
        tenantry::model::EvidenceSettings::default(),
        "nothing saved"
    );
    let r = env
        .app
        .post_form(
            &tab,
            &action,
            &[
                ("framework_soc2", "on"),
                ("framework_cyber_essentials", "on"),
                ("mfa_registration_pct", "90"),
                ("device_compliance_pct", "75"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let saved = env
        .services()
        .evidence_settings(company)
        .await
        .expect("settings");
    let mut fw = saved.frameworks.clone();
    fw.sort();
    assert_eq!(fw, ["cyber_essentials", "soc2"]);
    assert_eq!(saved.thresholds.mfa_registration_pct, 90);
    assert_eq!(saved.thresholds.device_compliance_pct, 75);
    let page = env.app.get_text(&tab).await;
    assert!(page.contains("name=\"framework_soc2\" value=\"on\" checked"));
    assert!(!page.contains("name=\"framework_hipaa\" value=\"on\" checked"));
    assert!(page.contains("value=\"75\""));
    env.stop().await;
}

#[tokio::test]
async fn the_overview_grid_has_every_company_and_control_worst_first_or_by_name() {
    let env = sync_env().await;
    let a = env.tenant("Alpha Dental", 20, 8, true);
    let z = env.tenant("Zulu Bakery", 6, 0, false);
    let (alpha, _) = env.connect("Alpha Dental", &a.id).await;
    let (zulu, _) = env.connect("Zulu Bakery", &z.id).await;
    collect(&env, alpha).await;
    collect(&env, zulu).await;
    env.app.login().await;
    let rows = env
        .services()
        .compliance_overview()
        .await
        .expect("overview");
    let page = env.app.get_text("/compliance").await;
    assert!(
        page.contains("href=\"/compliance\"") && page.contains(">Compliance</a>"),
        "in the nav"
    );
    assert!(
        page.contains("href=\"/compliance/collect\""),
        "collect for all"
    );
    // Worst first: the page lists companies in the domain's order.
    let pos = |html: &str, id: u64| {
        html.find(&format!("href=\"/companies/{id}/compliance\""))
            .expect("company row")
    };
    let order: Vec<u64> = rows.iter().map(|r| r.company_id).collect();
    let mut by_page = order.clone();
    by_page.sort_by_key(|id| pos(&page, *id));
    assert_eq!(by_page, order, "worst first");
    for r in &rows {
        for status in r.statuses.values() {
            assert!(page.contains(&format!(">{}</span>", status.label())));
        }
    }
    let by_name = env.app.get_text("/compliance?sort=name").await;
    assert!(pos(&by_name, alpha) < pos(&by_name, zulu));
    // Collect for all asks first.
    let confirm = env.app.get_text("/compliance/collect").await;
    assert!(
        confirm.contains("data-confirm-page") && confirm.contains("action=\"/compliance/collect\"")
    );
    let r = env
        .app
        .post_form("/compliance/collect", "/compliance/collect", &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/compliance?notice=evidence_all_queued");
    env.stop().await;
}

#[tokio::test]
async fn a_permission_missing_from_the_consent_shows_as_grant_and_consent_again_never_a_fail() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 20, 5, true);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    crate::evidence::helpers::deny_role_assignments(&env, &t.id);
    collect(&env, company).await;
    env.app.login().await;
    let page = unescape(
        &env.app
            .get_text(&format!("/companies/{company}/compliance"))
            .await,
    );
    let alert = page
        .find("<p class=\"error\" role=\"alert\">")
        .map(|i| &page[i..i + page[i..].find("</p>").unwrap_or(0)])
        .expect("a problem shown on the company");
    assert!(
        alert.contains("RoleManagement.Read.Directory") && alert.contains("consent again"),
        "{alert}"
    );
    let section = control_section(&page, "admins_mfa_registered");
    assert!(
        section.contains(">Not collected</span>"),
        "not a failed control: {section}"
    );
    let snapshot = env
        .services()
        .evidence_snapshots(
            company,
            tenantry::model::ListQuery::new(None, None, None, None, None),
        )
        .await
        .expect("snapshots")
        .items[0]
        .id;
    let detail = env
        .app
        .get_text(&format!("/companies/{company}/evidence/{snapshot}"))
        .await;
    assert!(detail.contains("Permission missing"));
    assert!(detail.contains("Grant RoleManagement.Read.Directory to Tenantry"));
    env.stop().await;
}
